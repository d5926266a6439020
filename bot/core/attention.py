"""What needs a person now: the first thing a chair reads, on the dashboard and in the digest.

From the ladder (:mod:`bot.core.reminders`), the votes and the RFCs:

1. modules flagged "maintainers unresponsive", with every unanswered post as evidence;
2. escalations, delivered (sent, or recorded in dry-run) or due now, still unanswered;
3. reminders delivered and still unanswered;
4. a backlog listed in a catch-up summary (or about to be), waiting for its reminder;
5. votes closing within 48 hours, or past their end without a RESULT;
6. votes whose announced RESULT disagrees with the thread;
7. RFCs with a recent concern nobody answered.

Each item says what happened, when and where, and links the post it is about.
Nothing older than the catch-up age (``responsiveness.max_age_days``) appears:
that is history. Ages use the one rounding rule of :func:`bot.core.rfcs.human_duration`,
so the page and the mail say the same number.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from bot.core.links import Archive, PostRef, message_id_of_key, reference
from bot.core.reminders import (
    CATCH_UP_KIND,
    Evaluation,
    Obligation,
    PostLink,
    Stage,
    history_words,
)
from bot.core.rfcs import human_duration
from bot.core.votes import VoteReport, VoteState, forecast

CLOSING_WITHIN = timedelta(hours=48)


class AttentionKind(StrEnum):
    FLAG = "flag"
    ESCALATION = "escalation"
    REMINDER = "reminder"
    CATCH_UP = "catch-up"
    VOTE_CLOSING = "vote-closing"
    RESULT_DISAGREES = "result-disagrees"
    CONCERN = "concern"


# The order a chair reads them in.
_ORDER = tuple(AttentionKind)


@dataclass(frozen=True, slots=True)
class AttentionItem:
    """One thing that needs a person: what, the evidence, and where to look."""

    kind: AttentionKind
    title: str
    detail: str
    link: str
    since: datetime
    age: str
    module: str | None = None
    evidence: tuple[str, ...] = ()
    # The vote thread or the RFC the item is about (the dashboard links its own page).
    thread: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "title": self.title,
            "detail": self.detail,
            "link": self.link,
            "since": self.since.isoformat(),
            "age": self.age,
            "module": self.module,
            "evidence": list(self.evidence),
            "thread": self.thread,
        }


@dataclass(frozen=True, slots=True)
class Attention:
    """Everything that needs a person as of ``now``, most urgent first."""

    now: datetime
    items: tuple[AttentionItem, ...]
    max_age: timedelta

    def of_kind(self, kind: AttentionKind) -> tuple[AttentionItem, ...]:
        return tuple(item for item in self.items if item.kind is kind)

    def to_dict(self) -> dict[str, Any]:
        """`quorum attention --json` and the dashboard's first section: the same data."""
        return {
            "now": self.now.isoformat(),
            "max_age_days": self.max_age / timedelta(days=1),
            "count": len(self.items),
            "items": [item.to_dict() for item in self.items],
        }


@dataclass(frozen=True, slots=True)
class BlockedConcern:
    """A recent concern nobody answered, on an RFC (as the RFC view names it)."""

    rfc: str
    subject: str
    concern: str
    title: str
    raised_by: str
    raised_at: datetime
    post: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class VoteGlance:
    """What the list reads of a vote: from its report, or from the report as its stored
    view keeps it (the page, the digest: a vote is not counted again to be listed)."""

    thread: str
    subject: str
    state: VoteState
    opened_at: datetime
    closes_at: datetime
    would_pass_now: bool | None
    binding_unknown: bool
    plus: int
    zero: int
    minus: int
    binding_plus: int | None
    agrees_with_announced: bool | None
    differences: tuple[str, ...]
    # Whether the thread's count passes it, and the post that announced how it ended.
    passes: bool
    result_post: str | None

    @classmethod
    def of(cls, report: VoteReport) -> VoteGlance:
        tally = report.tally
        return cls(
            thread=report.thread,
            subject=report.subject,
            state=report.state,
            opened_at=report.opened_at,
            closes_at=report.closes_at,
            would_pass_now=report.would_pass_now,
            binding_unknown=report.binding_unknown,
            plus=tally.plus,
            zero=tally.zero,
            minus=tally.minus,
            binding_plus=tally.binding_plus,
            agrees_with_announced=report.agrees_with_announced,
            differences=tuple(_difference(d.voters, d.detail) for d in report.discrepancies),
            passes=report.outcome.passes,
            result_post=report.result_post,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VoteGlance:
        """From :meth:`bot.core.votes.VoteReport.to_dict`."""
        tally = data["tally"]
        return cls(
            thread=data["thread"],
            subject=data["subject"],
            state=VoteState(data["state"]),
            opened_at=datetime.fromisoformat(data["opened_at"]),
            closes_at=datetime.fromisoformat(data["closes_at"]),
            would_pass_now=data["would_pass_now"],
            binding_unknown=data["binding_unknown"],
            plus=tally["plus"],
            zero=tally["zero"],
            minus=tally["minus"],
            binding_plus=tally["binding_plus"],
            agrees_with_announced=data["agrees_with_announced"],
            differences=tuple(
                _difference(d.get("voters", ()), d["detail"]) for d in data["discrepancies"]
            ),
            passes=data["outcome"]["passes"],
            result_post=data["result_post"],
        )

    @property
    def awaits_result(self) -> bool:
        """Not cancelled, and nobody announced how it ended (it may not have yet)."""
        return self.state is not VoteState.CANCELLED and self.result_post is None


def needs_attention(
    now: datetime,
    *,
    evaluation: Evaluation | None = None,
    votes: Sequence[VoteGlance] = (),
    concerns: Sequence[BlockedConcern] = (),
    archive: Archive | None = None,
    max_age: timedelta = timedelta(days=90),
    zone: tzinfo = UTC,
) -> Attention:
    """What needs a person now; ``zone`` is the time zone dates are shown in."""
    archive = archive or Archive()
    words = _Words(now, archive, zone)
    items: list[AttentionItem] = []
    if evaluation is not None:
        items += _ladder_items(evaluation, words, max_age)
    items += _vote_items(votes, words, max_age)
    items += [
        words.concern(c) for c in concerns if now - c.raised_at <= max_age and c.raised_at <= now
    ]
    items.sort(key=lambda item: (_ORDER.index(item.kind), item.since))
    return Attention(now, tuple(items), max_age)


@dataclass(frozen=True, slots=True)
class _Words:
    """How items read: dates in the community's zone, ages by the one rounding rule."""

    now: datetime
    archive: Archive
    zone: tzinfo

    def day(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d")

    def age(self, since: datetime) -> str:
        return human_duration(max(self.now - since, timedelta(0)))

    def link(self, post: PostLink) -> str:
        return reference(post, self.archive, author=post.author, subject=post.subject, at=post.at)

    def obligation(
        self, kind: AttentionKind, obligation: Obligation, headline: str
    ) -> AttentionItem:
        post = obligation.post
        history = "; ".join(history_words(obligation.history, self.day))
        owed = ", ".join(obligation.owed_by) or "no maintainers listed"
        detail = (
            f"{post.author}'s {obligation.kind.value.replace('-', ' ')} of {self.day(post.at)}"
            f" has waited {human_duration(obligation.waiting)} for {owed}"
            + (f"; {history}" if history else "")
        )
        return AttentionItem(
            kind=kind,
            title=f"{obligation.module}: {headline} “{post.subject}”",
            detail=detail,
            link=self.link(post),
            since=post.at,
            age=self.age(post.at),
            module=obligation.module,
        )

    def concern(self, item: BlockedConcern) -> AttentionItem:
        ref = PostRef(url=item.url, message_id=message_id_of_key(item.post))
        return AttentionItem(
            kind=AttentionKind.CONCERN,
            title=f"“{item.subject}”: concern “{item.title}” unanswered",
            detail=f"raised by {item.raised_by} on {self.day(item.raised_at)}; nobody answered",
            link=reference(ref, self.archive, author=item.raised_by, at=item.raised_at),
            since=item.raised_at,
            age=self.age(item.raised_at),
            thread=item.rfc,
        )


def _ladder_items(evaluation: Evaluation, words: _Words, max_age: timedelta) -> list[AttentionItem]:
    items: list[AttentionItem] = []
    flagged: set[str] = set()
    for flag in evaluation.flags:
        flagged.add(flag.module)
        evidence = tuple(
            f"{e.post.author}, {words.day(e.post.at)}, waiting {human_duration(e.waiting)}:"
            f" {words.link(e.post)}"
            for e in flag.evidence
            if words.now - e.post.at <= max_age
        )
        items.append(
            AttentionItem(
                kind=AttentionKind.FLAG,
                title=f"{flag.module}: flagged “maintainers unresponsive”",
                detail=f"{flag.rule}; since {words.day(flag.since)}, after an escalation",
                link=words.link(flag.evidence[0].post) if flag.evidence else "",
                since=flag.since,
                age=words.age(flag.since),
                module=flag.module,
                evidence=evidence,
            )
        )
    for obligation in evaluation.obligations:
        # An obligation older than max_age is expired (history) by the ladder itself.
        if not obligation.is_open or obligation.expired or obligation.module in flagged:
            continue
        item = _ladder_item(obligation, words)
        if item is not None:
            items.append(item)
    return items


def for_attention(evaluation: Evaluation) -> Evaluation:
    """The part of an evaluation "Needs attention" reads: the figures, the flags, and the
    open obligations that are an item, or become one as the clock alone moves (a due
    escalation); not the thousands a busy window holds that wait below the ladder. Read
    as of a later moment (:func:`bot.core.reminders.as_of`) before that evaluation's
    next change, it gives the same items as the whole."""
    return replace(
        evaluation,
        obligations=tuple(o for o in evaluation.obligations if _may_be_an_item(o)),
        decisions=(),
    )


def _may_be_an_item(obligation: Obligation) -> bool:
    if not obligation.is_open or obligation.expired:
        return False
    return bool(obligation.history) or obligation.backlog or obligation.next_stage is Stage.ESCALATE


def _ladder_item(obligation: Obligation, words: _Words) -> AttentionItem | None:
    due_now = obligation.next_due is not None and obligation.next_due <= words.now
    if obligation.delivered(Stage.ESCALATE.verb):
        return words.obligation(AttentionKind.ESCALATION, obligation, "escalated, unanswered:")
    if obligation.next_stage is Stage.ESCALATE and due_now:
        return words.obligation(AttentionKind.ESCALATION, obligation, "escalation due:")
    if obligation.delivered(Stage.REMIND.verb):
        return words.obligation(AttentionKind.REMINDER, obligation, "reminded, unanswered:")
    if obligation.backlog or obligation.delivered(CATCH_UP_KIND):
        return words.obligation(AttentionKind.CATCH_UP, obligation, "waiting since before Quorum:")
    return None


def _vote_items(
    votes: Sequence[VoteGlance], words: _Words, max_age: timedelta
) -> list[AttentionItem]:
    items: list[AttentionItem] = []
    for vote in votes:
        if words.now - vote.closes_at > max_age:
            continue
        standing = f"+1 {vote.plus}, 0 {vote.zero}, -1 {vote.minus}" + (
            "" if vote.binding_unknown else f" (binding +1 {vote.binding_plus})"
        )
        if vote.awaits_result and vote.closes_at <= words.now:
            # Someone has to announce it: the count alone ends nothing on the list.
            when = f"ended {words.day(vote.closes_at)}, no RESULT yet"
            verdict = "passes" if vote.passes else "fails"
            detail = f"{verdict} by the thread's count: {standing}"
            items.append(_vote_item(vote, words, AttentionKind.VOTE_CLOSING, when, detail))
        elif vote.state is VoteState.OPEN and vote.closes_at - words.now <= CLOSING_WITHIN:
            verdict = f"would {forecast(vote.would_pass_now)}"
            when = f"closes in {human_duration(vote.closes_at - words.now)}"
            detail = f"{verdict} now: {standing}"
            items.append(_vote_item(vote, words, AttentionKind.VOTE_CLOSING, when, detail))
        if vote.agrees_with_announced is False:
            differences = "; ".join(vote.differences) or "see quorum votes"
            detail = f"the thread says {standing}; {differences}"
            title = "the announced RESULT disagrees"
            items.append(_vote_item(vote, words, AttentionKind.RESULT_DISAGREES, title, detail))
    return items


def _difference(voters: Sequence[str], detail: str) -> str:
    """ "Alice Archer: announced as +1; no ballot found in the thread": a RESULT that
    disagrees with its thread names whom each difference is about."""
    return f"{', '.join(voters)}: {detail}" if voters else detail


def _vote_item(
    report: VoteGlance, words: _Words, kind: AttentionKind, title: str, detail: str
) -> AttentionItem:
    """A vote that needs a person; its age runs from its opening while it is open."""
    opened = report.opened_at if kind is AttentionKind.VOTE_CLOSING else report.closes_at
    return AttentionItem(
        kind=kind,
        title=f"vote “{report.subject}”: {title}",
        detail=detail,
        link=reference(PostRef(message_id=message_id_of_key(report.thread)), words.archive),
        since=report.closes_at,
        age=words.age(opened),
        thread=report.thread,
    )
