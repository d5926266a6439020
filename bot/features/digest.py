"""The weekly digest: what needs attention, gathered from every feature.

First what needs a person now (:mod:`bot.features.attention`, the same list as
the dashboard's front page and `quorum attention`), then open RFCs and their
open concerns, votes closing soon and how they stand, overdue obligations by
module, and flagged modules with their evidence. It is a feature of the
registry with a schedule of its own (`digest.schedule`, in `project.timezone`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.config import Config
from bot.core.attention import Attention
from bot.core.concerns import Ledger
from bot.core.links import reference
from bot.core.reminders import Evaluation, Obligation, PostLink, Stage
from bot.core.votes import VoteReport, VoteState
from bot.features.attention import attention
from bot.features.concerns import discussion_threads, ledger_of
from bot.features.links import archive_of
from bot.features.module_views import modules_as_of
from bot.features.reminders import modules_payload
from bot.features.votes import thread_link, vote_report, vote_reports
from bot.model import Action
from bot.render import render
from bot.store import Store, to_text
from bot.store import views as stored_views

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
    attention: Attention | None = None

    def to_dict(self) -> dict[str, Any]:
        """`quorum digest --json`: the digest's sections, in the shapes of the other --json
        commands (concerns, votes, obligations; modules and flags as `quorum modules --json`)."""
        modules = modules_payload(self.evaluation)
        return {
            "now": self.now.isoformat(),
            "attention": self.attention.to_dict() if self.attention else None,
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


def build_digest(store: Store, config: Config, now: datetime, *, current: bool = True) -> Digest:
    """Everything the digest shows, as of ``now``.

    The stored views say which RFCs moved in the last 30 days and which votes are
    open or recently closed; only those are read in full. A ten-year history costs
    what the last month held. The views must be current (`quorum digest` and
    `quorum run` refresh them first); ``current=False`` (a digest as of another
    time) reads every thread instead.
    """
    since = to_text(now - RECENT)
    subjects: dict[str, str] = {}
    active: list[Ledger] = []
    for key, subject in _active(store, since, current):
        thread = store.thread(key)
        if thread is None:
            continue
        ledger = ledger_of(store, config, thread, now)
        if ledger.unsettled():
            active.append(ledger)
            subjects[key] = subject
    if current:
        keys = stored_views.votes_open_or_closed_since(store, since)
        votes = [vote_report(store, config, key, now) for key in keys]
    else:
        votes = vote_reports(store, config, now)
    votes.sort(key=lambda v: (v.opened_at, v.thread))
    evaluation = modules_as_of(store, config, now, current=current)
    needs = attention(store, config, now, evaluation=evaluation, current=current)
    return Digest(
        now=now,
        discussions=tuple(active),
        open_votes=tuple(v for v in votes if v.state is VoteState.OPEN),
        recent_results=tuple(
            v for v in votes if v.state is not VoteState.OPEN and now - v.closes_at <= RECENT
        ),
        overdue=tuple(o for o in evaluation.open_obligations() if o.stage is not Stage.NONE),
        evaluation=evaluation,
        subjects=subjects,
        attention=needs,
    )


def _active(store: Store, since: str, current: bool) -> list[tuple[str, str]]:
    if current:
        return stored_views.active_rfcs(store, since)
    return [
        (thread.key, thread.subject)
        for thread in discussion_threads(store)
        if to_text(thread.last_at) >= since
    ]


def render_digest(digest: Digest, config: Config) -> str:
    archive = archive_of(config)

    def link(post: PostLink) -> str:
        return reference(post, archive, author=post.author, subject=post.subject, at=post.at)

    return render(
        "email/digest.txt.j2",
        digest=digest,
        closing_soon=CLOSING_SOON,
        bot_name=config.bot.name,
        project=config.project.name,
        link=link,
        thread_link=lambda key: thread_link(config, key),
        timezone=config.project.zone(),
    )


def digest_actions(store: Store, config: Config, now: datetime) -> list[Action]:
    """The digest feature: its schedule (`digest.schedule`) came, so send this week's."""
    return [digest_action(store, config, now)]


def digest_action(store: Store, config: Config, now: datetime) -> Action:
    """This week's digest as a note to the list, once per ISO week (of project.timezone)."""
    text = render_digest(build_digest(store, config, now), config)
    year, week, _ = now.astimezone(config.project.zone()).isocalendar()
    return Action(
        kind="digest",
        target="digest",
        # The list channel takes a note's subject from its first line.
        text=text.removeprefix("Subject: "),
        key=f"digest:list:{year}-W{week:02d}",
        channel="list",
        reason="weekly digest",
    )
