"""The weekly digest: what needs attention, gathered from every feature.

Open RFCs and their open concerns, votes closing soon and how they stand,
overdue obligations by module, and flagged modules with their evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.config import Config
from bot.core.concerns import Ledger
from bot.core.responsiveness import Evaluation, Obligation, Stage
from bot.core.votes import VoteReport, VoteState
from bot.features.concerns import ledgers
from bot.features.modules import evaluate_modules
from bot.features.votes import vote_reports
from bot.model import Action
from bot.render import render
from bot.store import Store

RECENT = timedelta(days=30)
CLOSING_SOON = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Digest:
    now: datetime
    discussions: tuple[Ledger, ...]
    open_votes: tuple[VoteReport, ...]
    recent_results: tuple[VoteReport, ...]
    overdue: tuple[Obligation, ...]
    evaluation: Evaluation
    subjects: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """`quorum digest --json`: the digest's sections, in the shapes of the other --json
        commands (concerns, votes, obligations; modules and flags as `quorum modules --json`)."""
        from bot.web import modules_payload  # bot.web imports the features lazily too

        modules = modules_payload(self.evaluation)
        return {
            "now": self.now.isoformat(),
            "discussions": [
                {
                    "thread": ledger.thread,
                    "subject": self.subjects.get(ledger.thread, ""),
                    "concerns": [concern.to_dict() for concern in ledger.unsettled()],
                }
                for ledger in self.discussions
            ],
            "open_votes": [report.to_dict() for report in self.open_votes],
            "recent_results": [report.to_dict() for report in self.recent_results],
            "overdue": [obligation.to_dict() for obligation in self.overdue],
            "modules": modules["modules"],
            "flags": modules["flags"],
        }


def build_digest(store: Store, config: Config, now: datetime) -> Digest:
    """Everything the digest shows, as of ``now``."""
    subjects = {t.key: t for t in store.threads()}
    active = [
        ledger
        for ledger in ledgers(store, config, now)
        if ledger.unsettled() and now - subjects[ledger.thread].last_at <= RECENT
    ]
    votes = vote_reports(store, config, now)
    evaluation = evaluate_modules(store, config, now)
    return Digest(
        now=now,
        discussions=tuple(active),
        open_votes=tuple(v for v in votes if v.state is VoteState.OPEN),
        recent_results=tuple(
            v for v in votes if v.state is not VoteState.OPEN and now - v.closes_at <= RECENT
        ),
        overdue=tuple(o for o in evaluation.open_obligations() if o.stage is not Stage.NONE),
        evaluation=evaluation,
        subjects={key: thread.subject for key, thread in subjects.items()},
    )


def render_digest(digest: Digest, config: Config) -> str:
    return render(
        "email/digest.txt.j2",
        digest=digest,
        closing_soon=CLOSING_SOON,
        bot_name=config.bot.name,
        project=config.project.name,
    )


def digest_action(store: Store, config: Config, now: datetime) -> Action:
    """This week's digest as a note to the list, once per ISO week."""
    text = render_digest(build_digest(store, config, now), config)
    year, week, _ = now.isocalendar()
    return Action(
        kind="digest",
        target="digest",
        # The list channel takes a note's subject from its first line.
        text=text.removeprefix("Subject: "),
        key=f"digest:list:{year}-W{week:02d}",
        channel="list",
        reason="weekly digest",
    )
