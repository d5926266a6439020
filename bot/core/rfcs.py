"""The RFC: one record per proposal across every channel it is discussed in.

An RFC is a group of threads (a dev@ thread, a forum topic, a GitHub pull
request) that :mod:`bot.core.rfc_links` joined, or a single thread. This module
turns such a group, its posts and the votes linked to it into one
:class:`RfcView` that every reader uses: `quorum concerns` and `summary`, the
dashboard, the digest, the bot's replies and its reminders. It decides:

- whether the group *is* an RFC (its subject or repository says so; a users@
  question or a build failure is not one, whatever was said in it);
- its state, which ages: no activity for ``quiet_after`` makes an RFC *quiet*;
  *blocked* means an open concern raised recently by someone other than the
  proposer; *waiting* that every concern has an answer the raisers have not
  accepted yet; a linked vote decides once there is one;
- when the state changes by time alone (``due_at``), so that a scheduled tick
  can look only at the RFCs whose state the clock moves;
- what a chair must act on first (:func:`attention_order`).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.core.concerns import (
    Concern,
    ConcernState,
    Ledger,
    LedgerSettings,
    Proposed,
    build_ledger,
)
from bot.core.threads import PROPOSAL_SERIES, parse_subject
from bot.core.votes import VoteState, forecast
from bot.model import Post, Thread, ThreadKind

# Announcements are not debates; a [VOTE] is a thread of its own kind, read by votes.
NOT_DISCUSSIONS = frozenset({ThreadKind.RESULT, ThreadKind.CANCEL})
TAGGED = frozenset({ThreadKind.RFC, ThreadKind.PRE_RFC, ThreadKind.DISCUSS})
# Proposal names communities use: SPIP-12, FLIP-321, KIP-500, AIP-1, CEP-7, PEP 8, KEP-1a;
# and "Proposal: ...", "RFC: ...", "Design doc: ..." as a subject's lead.
PROPOSAL_NAMES = (
    rf"\[(?:proposal|propose|idea|suggestion)\]|\b(?:{PROPOSAL_SERIES})"
    r"[-\s]?\d+[a-z]?\b|\b(?:design\s+doc|proposal|rfc)\s*(?::|\s[-–—]\s)"
    # "DISCUSS: ..." and "Request for comments: ...", the tags written without brackets;
    # "Idea: ...", "Suggestion: ..." leading the subject.
    r"|(?:^|[\]:]\s*)(?:discuss|request\s+for\s+comments?|idea|suggestion)\s*:"
)
# GitHub repositories that hold proposals: */rfcs, */*-rfcs, tc39/proposal-*, */enhancements.
PROPOSAL_REPOSITORIES = r"(?:^|[-_])rfcs?$|^proposal-|^enhancements$|^fslang-design$|^keps?$"
# Lists that carry no design discussion, known by their name: users@, commits@, issues@ ...
NOT_DEVELOPMENT_LISTS = (
    r"^(?:users?|user-\w+|commits?|issues|notifications|builds?|jira|announce|cvs|svn|scm"
    r"|reviews|gitbox|github|ci|general-announce|security|private)(?:[.@]|$)"
)
_GITHUB_THREAD = re.compile(
    r"^<(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)/(?:pull|issues|repo-discussions)/\d+@github\.com>$"
)


class VoteStanding(Protocol):
    """What an RFC needs to know of a vote linked to it (a VoteReport, or its stored view)."""

    @property
    def thread(self) -> str: ...
    @property
    def state(self) -> VoteState: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def closes_at(self) -> datetime: ...
    @property
    def would_pass_now(self) -> bool | None: ...


@dataclass(frozen=True, slots=True)
class StoredVote:
    """A vote's standing as its stored view keeps it."""

    thread: str
    state: VoteState
    opened_at: datetime
    closes_at: datetime
    would_pass_now: bool | None


class RfcState(StrEnum):
    VOTING = "voting"
    BLOCKED = "blocked"
    WAITING = "waiting"
    ACTIVE = "active"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    QUIET = "quiet"


# What each state means, in the order the dashboard lists them.
STATE_MEANINGS: dict[RfcState, str] = {
    RfcState.VOTING: "a vote on it is open",
    RfcState.BLOCKED: "someone recently raised a concern that nobody has answered yet",
    RfcState.WAITING: "every concern has an answer; waiting for the people who raised them",
    RfcState.ACTIVE: "no unsettled concerns; discussed recently",
    RfcState.ACCEPTED: "the vote on it passed",
    RfcState.REJECTED: "the vote on it failed",
    RfcState.QUIET: "nothing new for a while; what was left open is history until someone writes",
}


@dataclass(frozen=True, slots=True)
class RfcSettings:
    """The ``[rfcs]`` section as the core needs it, and how concerns are read."""

    quiet_after: timedelta = timedelta(days=30)
    # A concern older than this no longer blocks (the RFC is waiting or quiet instead).
    blocking_for: timedelta = timedelta(days=30)
    subject_patterns: tuple[str, ...] = (PROPOSAL_NAMES,)
    repositories: tuple[str, ...] = (PROPOSAL_REPOSITORIES,)
    # The lists whose discussions the dashboard lists besides RFCs (List-Ids or addresses);
    # empty: every list but those NOT_DEVELOPMENT_LISTS names.
    lists: frozenset[str] = frozenset()
    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    _subjects: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _repos: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_subjects", _union(self.subject_patterns))
        object.__setattr__(self, "_repos", _union(self.repositories))

    def names_a_proposal(self, subject: str) -> bool:
        return bool(self._subjects and self._subjects.search(subject))

    def holds_proposals(self, repository: str) -> bool:
        return bool(self._repos and self._repos.search(repository))

    def is_development_list(self, list_id: str | None) -> bool:
        """Mail without a List-Id (sent to the bot, a GitHub mirror) counts as the list's."""
        if not list_id:
            return True
        name = list_id.strip("<> ").casefold()
        if self.lists:
            return name in self.lists or name.replace("@", ".") in self.lists
        return not _NOT_DEVELOPMENT.search(name)


_NOT_DEVELOPMENT = re.compile(NOT_DEVELOPMENT_LISTS)


def _union(patterns: Iterable[str]) -> re.Pattern[str] | None:
    joined = "|".join(f"(?:{p})" for p in patterns if p)
    return re.compile(joined, re.IGNORECASE) if joined else None


# --------------------------------------------------------------------------
# Which groups are RFCs
# --------------------------------------------------------------------------


def channel_of(thread_key: str) -> str:
    """Where a thread lives, read from its key: the forum, a GitHub mirror, or the list."""
    if thread_key.startswith("discourse:"):
        return "forum"
    if thread_key.endswith("@github.com>"):
        return "GitHub"
    return "list"


def discussion_parts(parts: Iterable[Thread]) -> tuple[Thread, ...]:
    return tuple(part for part in parts if part.kind not in NOT_DISCUSSIONS)


def is_rfc(parts: Sequence[Thread], settings: RfcSettings) -> bool:
    """Whether its subject or repository says the group proposes something.

    Tagged threads ([RFC], [pre-RFC], [DISCUSS]), proposal names (FLIP-321,
    KIP-500, "[PROPOSAL]"), pull requests and issues of proposal repositories,
    and a discussion joined across channels (a forum topic and a dev@ thread
    that link each other are one proposal). Not: whatever thread concerns were
    raised in; a users@ question with "I am worried" in it is still a question.
    """
    if len({channel_of(p.key) for p in parts}) > 1:
        return True
    for part in parts:
        if part.kind in TAGGED or settings.names_a_proposal(part.subject):
            return True
        github = _GITHUB_THREAD.match(part.key)
        if github and settings.holds_proposals(github.group("repo")):
            return True
    return False


# --------------------------------------------------------------------------
# The view
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RfcView:
    """One RFC (or a discussion the concern ledger reads) as every reader sees it."""

    key: str
    subject: str
    kind: ThreadKind
    is_rfc: bool
    # Shown with the RFCs: an RFC, or a discussion on a development list that has concerns.
    listed: bool
    state: RfcState
    reason: str
    parts: tuple[Thread, ...]
    participants: tuple[str, ...]
    messages: int
    first_at: datetime
    last_at: datetime
    ledger: Ledger
    blocked_on: tuple[Concern, ...]
    votes: tuple[str, ...]
    # When the clock alone changes what this view says (None: only a new post does).
    due_at: datetime | None

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(channel_of(p.key) for p in self.parts))

    @property
    def concerns(self) -> tuple[Concern, ...]:
        return self.ledger.concerns

    @property
    def concern_counts(self) -> dict[str, int]:
        counts = Counter(concern.state.value for concern in self.ledger.concerns)
        return {state.value: counts.get(state.value, 0) for state in ConcernState}

    def to_dict(self) -> dict[str, Any]:
        return {
            "rfc": self.key,
            "subject": self.subject,
            "kind": self.kind.value,
            "is_rfc": self.is_rfc,
            "listed": self.listed,
            "state": self.state.value,
            "reason": self.reason,
            "channels": list(self.channels),
            "threads": [part.to_dict() for part in self.parts],
            "participants": list(self.participants),
            "messages": self.messages,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "concerns": self.concern_counts,
            "blocked_on": [_concern_ref(c) for c in self.blocked_on],
            "votes": list(self.votes),
            "due_at": self.due_at.isoformat() if self.due_at else None,
        }


def _concern_ref(concern: Concern) -> dict[str, Any]:
    return {
        "id": concern.id,
        "title": concern.title,
        "raised_by": concern.raised_by.display,
        "raised_at": concern.raised_at.isoformat(),
        "post": concern.post,
        "url": concern.url,
    }


def read_rfc(
    key: str,
    parts: Sequence[Thread],
    posts: Sequence[Post],
    votes: Sequence[VoteStanding],
    now: datetime,
    settings: RfcSettings,
    *,
    proposed: Mapping[str, Sequence[Proposed]] | None = None,
) -> RfcView:
    """The RFC ``key`` (its head thread) as of ``now``.

    ``parts`` are its discussion threads; ``posts`` every post of them (a
    mirrored copy once); ``votes`` the votes linked to it; ``proposed`` what
    the optional extractor proposed for its posts (see ``build_ledger``).
    """
    head = next((p for p in parts if p.key == key), parts[0])
    ledger = build_ledger(key, posts, now, settings.ledger, proposed=proposed)
    last_at = max(p.last_at for p in parts)
    participants: dict[str, None] = {}
    for part in parts:
        participants.update(dict.fromkeys(part.participants))
    state, reason, blocked_on = rfc_state(ledger, votes, last_at, now, settings)
    proposal = is_rfc(parts, settings)
    on_list = any(settings.is_development_list(post.list_id) for post in posts)
    return RfcView(
        key=key,
        subject=head.subject,
        kind=head.kind,
        is_rfc=proposal,
        listed=proposal or (on_list and bool(ledger.concerns)),
        state=state,
        reason=reason,
        parts=tuple(parts),
        participants=tuple(participants),
        messages=sum(p.messages for p in parts),
        first_at=min(p.first_at for p in parts),
        last_at=last_at,
        ledger=ledger,
        blocked_on=blocked_on,
        votes=tuple(report.thread for report in votes),
        due_at=due_at(ledger, votes, last_at, now, settings),
    )


def rfc_state(
    ledger: Ledger,
    votes: Sequence[VoteStanding],
    last_at: datetime,
    now: datetime,
    settings: RfcSettings,
) -> tuple[RfcState, str, tuple[Concern, ...]]:
    """The state, a sentence saying why, and the concerns that block it.

    The latest vote decides once there is one. Otherwise an RFC nobody wrote
    to for ``quiet_after`` is quiet, whatever was left open: a nine-year-old
    thread is history, not a blocker. An open concern blocks while it is
    recent; an older one leaves the RFC waiting.
    """
    # A cancelled vote decided nothing, nor did one whose ballots nothing verifies.
    decided = [r for r in votes if r.state not in (VoteState.CANCELLED, VoteState.UNVERIFIED)]
    if decided:
        latest = max(decided, key=lambda r: r.opened_at)
        if latest.state is VoteState.OPEN:
            return RfcState.VOTING, vote_text(latest, now), ()
        verdict = RfcState.ACCEPTED if latest.state is VoteState.PASSED else RfcState.REJECTED
        return verdict, f"vote {latest.state.value} on {day(latest.closes_at)}", ()
    unsettled = ledger.unsettled()
    if now - last_at > settings.quiet_after:
        left = f"; {plural(len(unsettled), 'concern')} left unsettled" if unsettled else ""
        return RfcState.QUIET, f"nothing new since {day(last_at)}{left}", ()
    blocking = tuple(
        c for c in ledger.in_state(ConcernState.OPEN) if now - c.raised_at <= settings.blocking_for
    )
    if blocking:
        return RfcState.BLOCKED, f"{plural(len(blocking), 'concern')} nobody answered", blocking
    if unsettled:
        people = ", ".join(dict.fromkeys(c.raised_by.display for c in unsettled))
        return RfcState.WAITING, f"answered; waiting for {people} to agree", ()
    return RfcState.ACTIVE, f"last post {ago(last_at, now)}", ()


def due_at(
    ledger: Ledger,
    votes: Sequence[VoteStanding],
    last_at: datetime,
    now: datetime,
    settings: RfcSettings,
) -> datetime | None:
    """The next moment the clock alone changes the view: a vote closing, a concern
    ceasing to block, the RFC going quiet."""
    moments: list[datetime] = []
    for report in votes:
        if report.state is VoteState.OPEN:
            moments.append(report.closes_at)
    for concern in ledger.in_state(ConcernState.OPEN):
        moments.append(concern.raised_at + settings.blocking_for)
    moments.append(last_at + settings.quiet_after)
    later = [moment for moment in moments if moment > now]
    return min(later) if later else None


# --------------------------------------------------------------------------
# What needs a person now
# --------------------------------------------------------------------------

_URGENCY = {
    RfcState.VOTING: 0,
    RfcState.BLOCKED: 1,
    RfcState.WAITING: 2,
    RfcState.ACTIVE: 3,
    RfcState.ACCEPTED: 4,
    RfcState.REJECTED: 4,
    RfcState.QUIET: 5,
}


def needs_attention(view: RfcView) -> bool:
    """An open vote, or a recent concern nobody answered: a chair acts on these now."""
    return view.listed and view.state in (RfcState.VOTING, RfcState.BLOCKED)


def attention_order(view: RfcView) -> tuple[int, float]:
    """Sort key: votes first (closing soonest), then blocked RFCs (oldest concern first),
    then the rest by how recently they moved."""
    if view.state is RfcState.VOTING and view.due_at is not None:
        return _URGENCY[view.state], view.due_at.timestamp()
    if view.state is RfcState.BLOCKED and view.blocked_on:
        return _URGENCY[view.state], min(c.raised_at for c in view.blocked_on).timestamp()
    return _URGENCY[view.state], -view.last_at.timestamp()


# --------------------------------------------------------------------------
# Words for people (one rounding rule for the page and the mail)
# --------------------------------------------------------------------------


def plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def day(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else "unknown"


# Each unit is used from twice its size up ("36 hours", not "1 day"), so no figure is tiny.
_UNITS = (
    ("year", timedelta(days=365)),
    ("month", timedelta(days=30)),
    ("day", timedelta(days=1)),
    ("hour", timedelta(hours=1)),
    ("minute", timedelta(minutes=1)),
)


def human_duration(value: timedelta) -> str:
    """A span for people: "3 days", "36 hours", "2 months" (whole units, rounded down)."""
    for unit, size in _UNITS:
        if value >= 2 * size:
            return plural(int(value / size), unit)
    seconds = max(int(value.total_seconds()), 0)
    return "a minute" if seconds >= 60 else plural(seconds, "second")


def ago(moment: datetime, now: datetime) -> str:
    return f"{human_duration(now - moment)} ago" if moment <= now else "just now"


def vote_text(report: VoteStanding, now: datetime) -> str:
    """ "open, would pass now, closes in 2 days" and the like."""
    if report.state is not VoteState.OPEN:
        return f"{report.state.value} on {day(report.closes_at)}"
    verdict = f"would {forecast(report.would_pass_now)}"
    verdict = verdict if report.would_pass_now is None else f"{verdict} now"
    if report.closes_at <= now:
        return f"open, {verdict}, past its end ({day(report.closes_at)}), no RESULT yet"
    return f"open, {verdict}, closes in {human_duration(report.closes_at - now)}"


def topic_of(subject: str) -> str:
    """The subject without tags and Re:, folded: "[RFC] X" and "[VOTE] X" share it."""
    return " ".join(parse_subject(subject).topic.casefold().split())
