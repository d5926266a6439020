"""The dashboard: read-only pages and a JSON API over the store, served by `quorum run`.

Pages are rendered on the server from ``templates/web/`` (auto-escaped Jinja2)
and work without JavaScript; ``/api/`` returns the same shapes as the
``--json`` commands; ``/healthz`` reports the database, the SMTP endpoint and
each poller. Reading needs no login; the one state-changing route
(``POST /api/refresh``) needs ``Authorization: Bearer`` with the token from the
environment variable that ``[web] token_env`` names.

Every store read goes through ``WebContext.db``: in ``quorum run`` that is the
app's reader thread, with a read-only connection of its own, so the dashboard
never holds up the writer (SMTP deliveries wait for its commits). Computing
every ledger, vote and module figure takes seconds on a
large store, so a :class:`Dashboard` keeps one snapshot per store revision and
clock step (five minutes), reuses each RFC's ledger until that RFC gets a new
post, and lets pages read the previous snapshot while the next is computed.

``bot.config`` imports :class:`WebConfig` from here, so this module must not
import ``bot.config`` or ``bot.features`` (which do) at import time: those are
imported inside the functions that use them.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import math
import os
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.config import IPNetwork, WebConfig
from bot.core.concerns import Concern, ConcernState, Ledger, LedgerSettings, build_ledger
from bot.core.modules import ModuleState
from bot.core.reminders import (
    Evaluation,
    ModuleFigures,
    Stage,
    StagePolicy,
    format_duration,
)
from bot.core.summary import Summary, summarize
from bot.core.threads import parse_subject
from bot.core.votes import Rule, VoteReport, VoteState
from bot.core.votes.trust import VIA_WORDS, provenance
from bot.errors import UserError
from bot.features.reminders import modules_payload
from bot.model import Post, Thread, ThreadKind
from bot.render import TEMPLATES, render
from bot.store import Store
from bot.store import forum as forum_store

if TYPE_CHECKING:
    from bot.config import Config

logger = logging.getLogger(__name__)
T = TypeVar("T")

RFCS_PER_PAGE = 100
# An RFC with no post for this long and nothing unsettled is "quiet" rather than "active".
QUIET_AFTER = timedelta(days=30)
DB_HEALTH_TIMEOUT_S = 5.0
# How long a request waits for a snapshot with new posts before it gets the previous one.
FRESH_WAIT_S = 0.5
# Module figures and vote states are recomputed at least this often without new posts.
CLOCK_STEP = timedelta(minutes=5)
# Long lists on the modules page; the API has them all.
OBLIGATIONS_SHOWN = 50
EVIDENCE_SHOWN = 10
STATIC = TEMPLATES / "web" / "static"
# No inline script or style anywhere: the pages need neither, and this forbids both.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_DISCUSSION_KINDS = frozenset({ThreadKind.RFC, ThreadKind.PRE_RFC, ThreadKind.DISCUSS})
_NOT_DISCUSSIONS = frozenset({ThreadKind.VOTE, ThreadKind.RESULT, ThreadKind.CANCEL})


# -- configuration and context ------------------------------------------------------------


class DbCall(Protocol):
    """``App.db``: runs ``call(store)`` on the app's single writer thread."""

    def __call__(self, call: Callable[[Store], T], /) -> Awaitable[T]: ...


@dataclass(frozen=True, slots=True)
class WebContext:
    """What the web app needs from the running app.

    ``health`` returns the app's own components, each a dict with an ``ok``
    flag: ``{"smtp": {"ok": True, "address": "127.0.0.1:8025"} | None,
    "pollers": {"forum-name": {"ok": True, ...}}}``; the database is checked here.
    """

    db: DbCall
    config: Config
    clock: Callable[[], datetime]
    health: Callable[[], Mapping[str, Any]]
    settings: WebConfig = field(default_factory=WebConfig)
    # The app's metrics: the body and Content-Type of one Prometheus scrape (bot.metrics).
    metrics: Callable[[], Awaitable[tuple[bytes, str]]] | None = None


# -- what the pages show ------------------------------------------------------------------

# What each RFC state means, in the order the dashboard lists them.
RFC_STATES: dict[str, str] = {
    "voting": "a vote on it is open",
    "blocked": "someone raised a concern that nobody has answered yet",
    "waiting": "every concern has an answer; waiting for the people who raised them to agree",
    "active": "no unsettled concerns; discussed in the last 30 days",
    "accepted": "the vote on it passed",
    "rejected": "the vote on it failed",
    "quiet": "no unsettled concerns and nothing new for 30 days",
}


@dataclass(frozen=True, slots=True)
class RfcRow:
    """One RFC as the list shows it: one thread, or every thread of a cross-channel RFC."""

    key: str
    subject: str
    kind: ThreadKind
    state: str
    reason: str
    channels: tuple[str, ...]
    parts: tuple[Thread, ...]
    participants: tuple[str, ...]
    messages: int
    first_at: datetime
    last_at: datetime
    concerns: Mapping[str, int]
    blocked_on: tuple[Concern, ...]
    votes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rfc": self.key,
            "subject": self.subject,
            "kind": self.kind.value,
            "state": self.state,
            "reason": self.reason,
            "channels": list(self.channels),
            "threads": [part.to_dict() for part in self.parts],
            "participants": list(self.participants),
            "messages": self.messages,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "concerns": dict(self.concerns),
            "blocked_on": [
                {
                    "id": c.id,
                    "title": c.title,
                    "raised_by": c.raised_by.display,
                    "raised_at": c.raised_at.isoformat(),
                    "post": c.post,
                }
                for c in self.blocked_on
            ],
            "votes": list(self.votes),
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the list pages show, computed in one read of the store."""

    key: tuple[Any, ...]
    now: datetime
    computed_seconds: float
    threads: tuple[Thread, ...]
    rfcs: tuple[RfcRow, ...]
    ledgers: Mapping[str, Ledger]
    votes: tuple[VoteReport, ...]
    evaluation: Evaluation
    stats: Mapping[str, Any]

    def rfc(self, key: str) -> RfcRow | None:
        """An RFC by its id or by the key of any of its threads."""
        for row in self.rfcs:
            if row.key == key or any(part.key == key for part in row.parts):
                return row
        return None

    def vote(self, key: str) -> VoteReport | None:
        return next((report for report in self.votes if report.thread == key), None)

    def thread(self, key: str) -> Thread | None:
        return next((thread for thread in self.threads if thread.key == key), None)


def store_revision(store: Store) -> tuple[int, ...]:
    """Changes whenever the store does.

    ``total_changes`` counts every row this connection wrote (posts, edits,
    links); the counts catch what another process (`quorum import` beside
    `quorum run`) added through its own connection.
    """
    stats = store.stats()
    return (store.db.conn.total_changes, stats["messages"], stats["threads"], stats["defects"])


def channel_of(thread_key: str) -> str:
    """Where a thread lives, read from its key: the forum, a GitHub mirror, or the list."""
    if thread_key.startswith("discourse:"):
        return "forum"
    if thread_key.endswith("@github.com>"):
        return "GitHub"
    return "list"


def _topic(subject: str) -> str:
    return " ".join(parse_subject(subject).topic.casefold().split())


def rfc_groups(threads: Sequence[Thread]) -> list[tuple[str, tuple[Thread, ...]]]:
    """Discussion threads grouped into RFCs: by ``rfc`` when set, else one thread each."""
    groups: dict[str, list[Thread]] = {}
    for thread in threads:
        if thread.kind in _NOT_DISCUSSIONS:
            continue
        groups.setdefault(thread.rfc or thread.key, []).append(thread)
    return [(key, tuple(parts)) for key, parts in groups.items()]


def _group_signature(parts: Sequence[Thread]) -> tuple[Any, ...]:
    """What a cached ledger depends on: a new post changes a part's count or last date."""
    return tuple((p.key, p.messages, p.last_at) for p in parts)


class LedgerCache:
    """Ledgers by RFC, reused until one of the RFC's threads gets a new post.

    Forum edits do not move a thread's count or date; ``POST /api/refresh``
    (or a restart) clears the cache for those.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[Any, ...], Ledger]] = {}

    def ledger(
        self, store: Store, config: Config, key: str, parts: Sequence[Thread], now: datetime
    ) -> Ledger:
        signature = _group_signature(parts)
        cached = self._entries.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        ledger = build_ledger(key, rfc_posts(store, key, parts), now, _ledger_settings(config))
        # A post dated after `now` is not seen yet; that ledger must be built again later.
        if all(part.last_at <= now for part in parts):
            self._entries[key] = (signature, ledger)
        return ledger

    def clear(self) -> None:
        self._entries.clear()


def rfc_posts(store: Store, key: str, parts: Sequence[Thread]) -> list[Post]:
    """The posts of an RFC's discussion threads (a forum post mirrored to the list once)."""
    if len(parts) == 1:
        return store.posts_in_thread(parts[0].key)
    wanted = {part.key for part in parts}
    return [post for post in store.posts_in_rfc(key) if post.thread_key in wanted]


def _ledger_settings(config: Config) -> LedgerSettings:
    from bot.features.concerns import ledger_settings

    return ledger_settings(config)


def gather(store: Store, config: Config, now: datetime, cache: LedgerCache) -> Snapshot:
    """One consistent read of everything the list pages show (runs on the writer thread)."""
    from bot.features.reminders import evaluate_modules
    from bot.features.votes import vote_reports

    started = time.perf_counter()
    revision = store_revision(store)
    threads = store.threads()
    votes = vote_reports(store, config, now)
    index = VoteIndex.of(votes, threads)
    # Oldest first, like `quorum concerns`; the RFC list sorts its own rows.
    ledgers: dict[str, Ledger] = {}
    rows: list[RfcRow] = []
    for key, parts in rfc_groups(threads):
        ledger = cache.ledger(store, config, key, parts, now)
        if _is_rfc(parts, ledger):
            ledgers[key] = ledger
            rows.append(rfc_row(key, parts, ledger, index, now))
    rows.sort(key=lambda row: row.last_at, reverse=True)
    evaluation = evaluate_modules(store, config, now)
    stats: dict[str, Any] = forum_store.stats_report(store)
    return Snapshot(
        key=(revision, _step(now)),
        now=now,
        computed_seconds=time.perf_counter() - started,
        threads=tuple(threads),
        rfcs=tuple(rows),
        ledgers=ledgers,
        votes=tuple(votes),
        evaluation=evaluation,
        stats=stats,
    )


def _is_rfc(parts: Sequence[Thread], ledger: Ledger) -> bool:
    """Tagged discussions, cross-channel RFCs, and any other thread where concerns were raised."""
    return (
        len(parts) > 1 or any(p.kind in _DISCUSSION_KINDS for p in parts) or bool(ledger.concerns)
    )


def _step(now: datetime) -> datetime:
    """The clock step a snapshot stands for: module figures are recomputed once per step."""
    seconds = CLOCK_STEP.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=UTC)


@dataclass(frozen=True, slots=True)
class VoteIndex:
    """Votes by the cross-channel RFC they belong to and by their subject's topic."""

    by_rfc: Mapping[str, tuple[VoteReport, ...]]
    by_topic: Mapping[str, tuple[VoteReport, ...]]

    @classmethod
    def of(cls, votes: Sequence[VoteReport], threads: Sequence[Thread]) -> VoteIndex:
        rfc_of = {t.key: t.rfc for t in threads if t.rfc}
        by_rfc: dict[str, list[VoteReport]] = {}
        by_topic: dict[str, list[VoteReport]] = {}
        for report in votes:
            if report.thread in rfc_of:
                by_rfc.setdefault(rfc_of[report.thread], []).append(report)
            by_topic.setdefault(_topic(report.subject), []).append(report)
        return cls(
            {k: tuple(v) for k, v in by_rfc.items()}, {k: tuple(v) for k, v in by_topic.items()}
        )

    def linked(self, key: str, subject: str) -> list[VoteReport]:
        """Votes in the same RFC, or on the same topic ("[VOTE] X" for "[RFC] X")."""
        found = {r.thread: r for r in self.by_rfc.get(key, ())}
        topic = _topic(subject)
        if topic:
            found.update({r.thread: r for r in self.by_topic.get(topic, ())})
        return list(found.values())


def rfc_row(
    key: str, parts: Sequence[Thread], ledger: Ledger, votes: VoteIndex, now: datetime
) -> RfcRow:
    head = next((p for p in parts if p.key == key), parts[0])
    participants: dict[str, None] = {}
    for part in parts:
        participants.update(dict.fromkeys(part.participants))
    linked = votes.linked(key, head.subject)
    counts = Counter(concern.state.value for concern in ledger.concerns)
    last_at = max(p.last_at for p in parts)
    state, reason = rfc_state(ledger, linked, last_at, now)
    return RfcRow(
        key=key,
        subject=head.subject,
        kind=head.kind,
        state=state,
        reason=reason,
        channels=tuple(dict.fromkeys(channel_of(p.key) for p in parts)),
        parts=tuple(parts),
        participants=tuple(participants),
        messages=sum(p.messages for p in parts),
        first_at=min(p.first_at for p in parts),
        last_at=last_at,
        concerns={s.value: counts.get(s.value, 0) for s in ConcernState},
        blocked_on=ledger.in_state(ConcernState.OPEN),
        votes=tuple(report.thread for report in linked),
    )


def rfc_state(
    ledger: Ledger, votes: Sequence[VoteReport], last_at: datetime, now: datetime
) -> tuple[str, str]:
    """The RFC's state and a sentence saying why; the latest vote decides once there is one."""
    decided = [r for r in votes if r.state is not VoteState.CANCELLED]
    if decided:
        latest = max(decided, key=lambda r: r.opened_at)
        if latest.state is VoteState.OPEN:
            return "voting", vote_state_text(latest, now)
        verdict = "accepted" if latest.state is VoteState.PASSED else "rejected"
        return verdict, f"vote {latest.state.value} on {_day(latest.closes_at)}"
    unanswered = ledger.in_state(ConcernState.OPEN)
    if unanswered:
        return "blocked", f"{_plural(len(unanswered), 'concern')} nobody answered"
    answered = ledger.in_state(ConcernState.ANSWERED)
    if answered:
        people = ", ".join(dict.fromkeys(c.raised_by.display for c in answered))
        return "waiting", f"answered; waiting for {people} to agree"
    if now - last_at > QUIET_AFTER:
        return "quiet", f"nothing new since {_day(last_at)}"
    return "active", f"last post {ago(last_at, now)}"


# -- words and numbers for people ---------------------------------------------------------


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _day(moment: datetime | None) -> str:
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
    """ "45 minutes", "36 hours", "12 days", "9 years": one whole unit, as people say it."""
    span = abs(value)
    for unit, size in _UNITS:
        if span >= 2 * size:
            return _plural(round(span / size), unit)
    if span >= timedelta(minutes=1):
        return _plural(round(span / timedelta(minutes=1)), "minute")
    return "under a minute"


def ago(moment: datetime, now: datetime) -> str:
    """ "5 minutes ago", "3 days ago", "in 2 hours"."""
    text = human_duration(now - moment)
    return f"in {text}" if moment > now else f"{text} ago"


def vote_state_text(report: VoteReport, now: datetime) -> str:
    """ "open: would pass now, 20 hours left", or how it ended; time left as of ``now``."""
    if report.state is not VoteState.OPEN:
        return report.state.value
    verdict = "would pass now" if report.would_pass_now else "would fail now"
    left = report.closes_at - now
    if left <= timedelta(0):
        return f"open: {verdict}; the period is over, waiting for the RESULT"
    return f"open: {verdict}, {human_duration(left)} left"


def rule_text(report: VoteReport) -> str:
    """The rule in one sentence a newcomer can check the tally against."""
    policy = report.policy
    basis = "binding votes" if policy.majority_basis.value == "binding" else "all votes"
    needed = policy.min_binding_plus
    return {
        Rule.SIMPLE_MAJORITY: f"passes with more +1 than -1 ({basis})",
        Rule.MAJORITY_APPROVAL: (
            f"passes with at least {needed} binding +1 and more +1 than -1 ({basis});"
            " a -1 is not a veto"
        ),
        Rule.CONSENSUS_APPROVAL: (
            f"passes with at least {needed} binding +1 and no binding -1;"
            " a -1 counts as a veto only with a reason"
        ),
        Rule.LAZY_TWO_THIRDS: (
            f"passes with at least {policy.min_binding_votes} binding votes"
            " and at least twice as many +1 as -1"
        ),
        Rule.LAZY_CONSENSUS: "passes unless someone objects before it closes",
    }[report.rule]


_STAGE_WORDS = {
    Stage.NONE: "not due yet",
    Stage.REMIND: "reminder due",
    Stage.ESCALATE: "escalation due",
    Stage.FLAG: "flagged",
}


@dataclass(frozen=True, slots=True)
class Formatter:
    """Helpers the templates call: URLs, times and links, all relative to one ``now``."""

    now: datetime
    archive_url: str = ""
    # web.root_path without its final slash ("" at the root): every URL we print starts here.
    prefix: str = ""

    def url(self, path: str) -> str:
        """A path of the dashboard ("/rfcs") as the browser must ask for it, under root_path."""
        return self.prefix + path

    def ago(self, moment: datetime | None) -> str:
        return ago(moment, self.now) if moment else "never"

    def day(self, moment: datetime | None) -> str:
        return _day(moment)

    def time(self, moment: datetime | None) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"

    def duration(self, value: timedelta | None) -> str:
        return "–" if value is None else human_duration(value)

    def exact(self, value: timedelta) -> str:
        """A policy's threshold as configured: "60 days", not "2 months"."""
        return format_duration(value)

    def rfc_url(self, key: str) -> str:
        return self.url("/rfcs/" + quote(key, safe=""))

    def vote_url(self, key: str) -> str:
        return self.url("/votes/" + quote(key, safe=""))

    def quoted(self, key: str) -> str:
        return quote(key, safe="")

    def channel(self, thread_key: str) -> str:
        return channel_of(thread_key)

    def vote_state(self, report: VoteReport) -> str:
        return vote_state_text(report, self.now)

    def rule(self, report: VoteReport) -> str:
        return rule_text(report)

    def stage(self, stage: Stage) -> str:
        return _STAGE_WORDS[stage]

    def binding(self, value: bool | None) -> str:
        return {True: "binding", False: "non-binding", None: "binding unknown"}[value]

    def link(self, url: str | None = None, message_id: str | None = None) -> str | None:
        """An http(s) link to a post, or None; never a ``javascript:`` or other scheme."""
        if url and url.startswith(("https://", "http://")):
            return url
        if message_id and self.archive_url:
            target = self.archive_url.format(message_id=quote(message_id.strip("<>"), safe="@"))
            return target if target.startswith(("https://", "http://")) else None
        return None


# -- the response-time chart --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChartBar:
    module: str
    state: str
    y: int
    median_width: float
    p90_width: float
    median_text: str
    p90_text: str
    threshold_x: float | None
    flagged: bool


@dataclass(frozen=True, slots=True)
class ResponseChart:
    """Median and 90th-percentile first response per module, against its reminder threshold.

    Geometry is computed here so the template only places numbers (no inline style).
    """

    bars: tuple[ChartBar, ...]
    width: int
    height: int
    label_width: int
    plot_width: int
    scale_text: str

    @property
    def text_x(self) -> int:
        """Where the figures are written: right of the plot, so no bar or line runs into them."""
        return self.label_width + self.plot_width + 12


def response_chart(
    modules: Sequence[ModuleFigures], policies: Mapping[ModuleState, StagePolicy]
) -> ResponseChart:
    label_width, plot_width, row_height = 170, 420, 34
    thresholds = {state: policy.remind_after for state, policy in policies.items()}
    spans = [
        value
        for figures in modules
        for value in (
            figures.p90_response,
            figures.median_response,
            thresholds.get(figures.state),
        )
        if value is not None
    ]
    longest = max(spans, default=timedelta(days=1))
    scale = plot_width / max(longest.total_seconds(), 1.0)

    def width(value: timedelta | None) -> float:
        return 0.0 if value is None else round(value.total_seconds() * scale, 1)

    bars = []
    for index, figures in enumerate(modules):
        threshold = thresholds.get(figures.state)
        bars.append(
            ChartBar(
                module=figures.module,
                state=figures.state.value,
                y=index * row_height,
                median_width=width(figures.median_response),
                p90_width=width(figures.p90_response),
                median_text=_duration_or_none(figures.median_response),
                p90_text=_duration_or_none(figures.p90_response),
                threshold_x=None if threshold is None else label_width + width(threshold),
                flagged=figures.flagged,
            )
        )
    return ResponseChart(
        bars=tuple(bars),
        width=label_width + plot_width + 250,
        height=max(1, len(bars)) * row_height + 30,
        label_width=label_width,
        plot_width=plot_width,
        scale_text=human_duration(longest),
    )


def _duration_or_none(value: timedelta | None) -> str:
    return "no answers yet" if value is None else human_duration(value)


def state_policies(config: Config) -> dict[ModuleState, StagePolicy]:
    """How long each state's maintainers may take before a reminder, an escalation, a flag."""
    from bot.features.reminders import DEFAULT_RESPONSIVENESS, escalation_policy

    policy = escalation_policy(config.responsiveness or DEFAULT_RESPONSIVENESS)
    return {
        ModuleState.S0: policy.s0,
        ModuleState.S1: policy.s1,
        ModuleState.S2: policy.s2,
        ModuleState.DEPRECATED: policy.deprecated,
    }


# -- JSON shapes (those of the --json commands) -------------------------------------------


def _dumps(value: Any) -> str:
    # default=str: the modules payload holds durations, as `quorum modules --json` does.
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.Response(text=_dumps(value), status=status, content_type="application/json")


# -- the snapshot cache -------------------------------------------------------------------


class Dashboard:
    """Snapshots of the store for the pages, one per store revision and clock step.

    The clock step is part of the key because votes close and obligations age
    with the clock alone; ledgers do not, and are reused across snapshots. Pages
    count time left and "3 days ago" from the request's own clock.

    A snapshot of a thousand RFCs takes seconds (``bench/web.py``), so once there
    is one no page waits long for the next: a request that finds new posts waits
    up to ``fresh_wait`` seconds for the new snapshot and otherwise gets the
    previous one while the computation finishes; a request that finds only the
    clock step changed gets the previous one at once. One computation runs at a
    time, and while it runs (it holds the reader thread) requests get the
    previous snapshot without asking the store anything.
    """

    def __init__(self, ctx: WebContext, fresh_wait: float = FRESH_WAIT_S) -> None:
        self.ctx = ctx
        self.ledgers = LedgerCache()
        # Tests raise this so that every change is visible on the next request.
        self.fresh_wait = fresh_wait
        self._snapshot: Snapshot | None = None
        self._computing: asyncio.Task[Snapshot] | None = None

    async def snapshot(self) -> Snapshot:
        current = self._snapshot
        if current is not None and self._computing is not None and not self._computing.done():
            # The computation holds the reader thread: asking it anything would wait.
            return current
        now = self.ctx.clock()
        revision = await self.ctx.db(store_revision)
        current = self._snapshot
        if current is not None and current.key == (revision, _step(now)):
            return current
        computing = self._compute(now)
        if current is None:
            return await asyncio.shield(computing)
        if current.key[0] == revision:
            return current  # only the clock moved; the next request gets the new step
        try:
            return await asyncio.wait_for(asyncio.shield(computing), self.fresh_wait)
        except TimeoutError:
            return current

    async def refresh(self) -> Snapshot:
        """Forget every cached ledger (forum edits, for one) and read the whole store again."""
        await self._settle()
        self.ledgers.clear()
        return await asyncio.shield(self._compute(self.ctx.clock()))

    async def close(self) -> None:
        if self._computing is not None:
            self._computing.cancel()
            await self._settle()

    async def _settle(self) -> None:
        """Wait for the computation under way, whatever its outcome (its callback logs it)."""
        if self._computing is not None:
            await asyncio.gather(self._computing, return_exceptions=True)

    def health(self) -> dict[str, Any]:
        """For /healthz: how old the figures are, what they cost, whether the last try failed."""
        current, computing = self._snapshot, self._computing
        failed = (
            computing is not None
            and computing.done()
            and not computing.cancelled()
            and computing.exception() is not None
        )
        report: dict[str, Any] = {
            "ok": not failed,
            "computing": computing is not None and not computing.done(),
            "computed_at": current.now.isoformat() if current else None,
            "seconds": round(current.computed_seconds, 3) if current else None,
        }
        if failed and computing is not None:
            report["error"] = str(computing.exception()) or type(computing.exception()).__name__
        return report

    def _compute(self, now: datetime) -> asyncio.Task[Snapshot]:
        """The computation under way, or a new one reading the store as of ``now``."""
        if self._computing is None or self._computing.done():
            task = asyncio.create_task(self._gather(now), name="dashboard-snapshot")
            task.add_done_callback(_log_failure)
            self._computing = task
        return self._computing

    async def _gather(self, now: datetime) -> Snapshot:
        config, cache = self.ctx.config, self.ledgers
        snapshot = await self.ctx.db(lambda store: gather(store, config, now, cache))
        logger.debug("dashboard snapshot in %.3f s", snapshot.computed_seconds)
        self._snapshot = snapshot
        return snapshot

    def formatter(self, now: datetime) -> Formatter:
        return Formatter(now, self.ctx.config.project.archive_url, self.ctx.settings.prefix)


def _log_failure(task: asyncio.Task[Snapshot]) -> None:
    """A computation nobody waited for must still say why it failed."""
    if not task.cancelled() and task.exception() is not None:
        logger.error("computing the dashboard failed", exc_info=task.exception())


DASHBOARD = web.AppKey("dashboard", Dashboard)
TOKEN = web.AppKey("token", bytes)
METRICS_TOKEN = web.AppKey("metrics_token", bytes)
PROXIES = web.AppKey("proxies", tuple)


def _dashboard(request: web.Request) -> Dashboard:
    return request.app[DASHBOARD]


# -- pages --------------------------------------------------------------------------------


def page(
    request: web.Request, template: str, as_of: datetime | None = None, **context: Any
) -> web.Response:
    """A page from ``templates/web/``; ``as_of`` is when its figures were computed."""
    dashboard = _dashboard(request)
    config = dashboard.ctx.config
    now = dashboard.ctx.clock()
    html = render(
        f"web/{template}",
        project=config.project.name,
        bot_name=config.bot.name,
        f=dashboard.formatter(now),
        as_of=as_of or now,
        path=local_path(request),
        **context,
    )
    return web.Response(text=html, content_type="text/html")


async def dashboard_page(request: web.Request) -> web.Response:
    snapshot = await _dashboard(request).snapshot()
    open_votes = [r for r in snapshot.votes if r.state is VoteState.OPEN]
    recent_votes = sorted(snapshot.votes, key=lambda r: r.opened_at, reverse=True)
    return page(
        request,
        "dashboard.html",
        snapshot.now,
        snap=snapshot,
        rfc_counts=_state_counts(snapshot.rfcs),
        states=RFC_STATES,
        blocked=[row for row in snapshot.rfcs if row.state == "blocked"][:5],
        recent_rfcs=snapshot.rfcs[:10],
        open_votes=open_votes,
        recent_votes=recent_votes[:8],
        disagreeing=[r for r in snapshot.votes if r.agrees_with_announced is False],
        concern_counts=_concern_totals(snapshot.rfcs),
        modules=snapshot.evaluation.modules,
        flags=snapshot.evaluation.flags,
        chart=response_chart(
            snapshot.evaluation.modules, state_policies(_dashboard(request).ctx.config)
        ),
    )


def _state_counts(rows: Iterable[RfcRow]) -> dict[str, int]:
    counts = Counter(row.state for row in rows)
    return {state: counts.get(state, 0) for state in RFC_STATES}


def _concern_totals(rows: Iterable[RfcRow]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update(row.concerns)
    return {state.value: totals.get(state.value, 0) for state in ConcernState}


@dataclass(frozen=True, slots=True)
class RfcQuery:
    """The RFC list's filters, from the query string."""

    text: str = ""
    state: str = ""
    page: int = 1
    prefix: str = ""  # web.root_path, for the links it makes

    @classmethod
    def of(cls, request: web.Request) -> RfcQuery:
        state = request.query.get("state", "")
        try:
            number = max(1, int(request.query.get("page", "1")))
        except ValueError:
            number = 1
        return cls(
            text=request.query.get("q", "").strip()[:200],
            state=state if state in RFC_STATES else "",
            page=number,
            prefix=_dashboard(request).ctx.settings.prefix,
        )

    def select(self, rows: Sequence[RfcRow]) -> list[RfcRow]:
        wanted = self.text.casefold()
        return [
            row
            for row in rows
            if (not self.state or row.state == self.state)
            and (not wanted or wanted in row.subject.casefold())
        ]

    def url(self, **changes: Any) -> str:
        values = {"q": self.text, "state": self.state, "page": self.page, **changes}
        query = {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}
        return self.prefix + "/rfcs" + ("?" + urlencode(query) if query else "")


async def rfcs_page(request: web.Request) -> web.Response:
    snapshot = await _dashboard(request).snapshot()
    query = RfcQuery.of(request)
    selected = query.select(snapshot.rfcs)
    pages = max(1, math.ceil(len(selected) / RFCS_PER_PAGE))
    number = min(query.page, pages)
    start = (number - 1) * RFCS_PER_PAGE
    return page(
        request,
        "rfcs.html",
        snapshot.now,
        rows=selected[start : start + RFCS_PER_PAGE],
        total=len(snapshot.rfcs),
        matching=len(selected),
        query=query,
        page_number=number,
        pages=pages,
        states=RFC_STATES,
        rfc_counts=_state_counts(snapshot.rfcs),
    )


async def rfc_page(request: web.Request) -> web.Response:
    detail = await rfc_detail(request)
    snapshot, row, ledger, summary = detail
    votes = [r for r in snapshot.votes if r.thread in row.votes]
    return page(
        request,
        "rfc.html",
        snapshot.now,
        row=row,
        ledger=ledger,
        summary=summary,
        votes=votes,
        states=RFC_STATES,
    )


RfcDetail = tuple[Snapshot, RfcRow, Ledger, Summary]


async def rfc_detail(request: web.Request) -> RfcDetail:
    """The RFC a URL names (its id, any of its threads, or a unique piece of its subject)."""
    dashboard = _dashboard(request)
    snapshot = await dashboard.snapshot()
    selector = request.match_info["key"]
    row = snapshot.rfc(selector)
    if row is None:
        thread = await _find_thread(dashboard.ctx, selector)
        vote = thread.key if thread.kind is ThreadKind.VOTE else thread.closes
        if vote is not None and thread.kind in _NOT_DISCUSSIONS:
            # A vote, or the RESULT/CANCEL that closes one: its page is the vote's.
            raise web.HTTPFound(dashboard.formatter(snapshot.now).vote_url(vote))
        row = snapshot.rfc(thread.key) or await _unlisted_row(dashboard, snapshot, thread)
    ledger = snapshot.ledgers.get(row.key) or await _ledger_for(dashboard, row.key, row.parts)
    posts = await dashboard.ctx.db(lambda store: rfc_posts(store, row.key, row.parts))
    return snapshot, row, ledger, summarize(row.subject, posts, ledger, snapshot.now)


async def _find_thread(ctx: WebContext, selector: str) -> Thread:
    from bot.features.concerns import find_thread

    return await ctx.db(lambda store: find_thread(store, selector))


async def _ledger_for(dashboard: Dashboard, key: str, parts: tuple[Thread, ...]) -> Ledger:
    config, now, cache = dashboard.ctx.config, dashboard.ctx.clock(), dashboard.ledgers
    return await dashboard.ctx.db(lambda store: cache.ledger(store, config, key, parts, now))


async def _unlisted_row(dashboard: Dashboard, snapshot: Snapshot, thread: Thread) -> RfcRow:
    """A discussion the list leaves out (no tag, no concern) still gets its page."""
    key = thread.rfc or thread.key
    parts = tuple(t for t in snapshot.threads if (t.rfc or t.key) == key) or (thread,)
    ledger = await _ledger_for(dashboard, key, parts)
    index = VoteIndex.of(snapshot.votes, snapshot.threads)
    return rfc_row(key, parts, ledger, index, snapshot.now)


async def votes_page(request: web.Request) -> web.Response:
    snapshot = await _dashboard(request).snapshot()
    reports = sorted(snapshot.votes, key=_vote_order, reverse=True)
    return page(request, "votes.html", snapshot.now, reports=reports)


def _vote_order(report: VoteReport) -> tuple[bool, datetime]:
    """Open votes first, then the most recent."""
    return (report.state is VoteState.OPEN, report.opened_at)


async def vote_page(request: web.Request) -> web.Response:
    snapshot, report = await vote_detail(request)
    rfcs = [row for row in snapshot.rfcs if report.thread in row.votes]
    return page(
        request,
        "vote.html",
        snapshot.now,
        report=report,
        rfcs=rfcs,
        provenance=provenance(report.tally),
        via_words={via.value or "unknown": words for via, words in VIA_WORDS.items()},
    )


async def vote_detail(request: web.Request) -> tuple[Snapshot, VoteReport]:
    from bot.features.votes import find_vote

    dashboard = _dashboard(request)
    snapshot = await dashboard.snapshot()
    selector = request.match_info["key"]
    report = snapshot.vote(selector)
    if report is None:
        thread = await dashboard.ctx.db(lambda store: find_vote(store, selector))
        report = snapshot.vote(thread.key)
    if report is None:  # the vote arrived after this snapshot was taken
        raise web.HTTPNotFound(text=f"vote {selector!r} is not counted yet; reload in a moment")
    return snapshot, report


async def modules_page(request: web.Request) -> web.Response:
    dashboard = _dashboard(request)
    snapshot = await dashboard.snapshot()
    evaluation = snapshot.evaluation
    policies = state_policies(dashboard.ctx.config)
    waiting = sorted(
        (o for o in evaluation.obligations if o.is_open), key=lambda o: o.waiting, reverse=True
    )
    return page(
        request,
        "modules.html",
        snapshot.now,
        modules=evaluation.modules,
        open_obligations=waiting[:OBLIGATIONS_SHOWN],
        open_total=len(waiting),
        evidence_shown=EVIDENCE_SHOWN,
        flags=evaluation.flags,
        chart=response_chart(evaluation.modules, policies),
        policies=policies,
    )


async def no_favicon(request: web.Request) -> web.Response:
    """Browsers ask for one; answering "nothing" keeps their consoles (and the tests) clean."""
    return web.Response(status=204)


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(body=(STATIC / "dashboard.css").read_bytes(), content_type="text/css")


# -- JSON API -----------------------------------------------------------------------------


async def api_index(request: web.Request) -> web.Response:
    # Absolute URLs as the reader reached us: through a trusted proxy, its scheme and host.
    base = f"{request.scheme}://{request.host}{_dashboard(request).ctx.settings.prefix}"
    return json_response(
        {
            "threads": f"{base}/api/threads[?kind=KIND]  (quorum threads --json)",
            "rfcs": f"{base}/api/rfcs[?q=TEXT&state=STATE]  (the RFC list)",
            "rfc": f"{base}/api/rfcs/{{thread}}  (one RFC: its row, summary and concerns)",
            "votes": f"{base}/api/votes  (quorum votes --json)",
            "vote": f"{base}/api/votes/{{thread}}  (quorum votes --json THREAD)",
            "concerns": f"{base}/api/concerns[/{{thread}}]  (quorum concerns --json [THREAD])",
            "summary": f"{base}/api/summary/{{thread}}  (quorum summary THREAD --json)",
            "modules": f"{base}/api/modules  (quorum modules --json, plus flags)",
            "stats": f"{base}/api/stats  (quorum stats --json)",
            "refresh": f"POST {base}/api/refresh  (bearer token: recompute everything)",
            "health": f"{base}/healthz",
        }
    )


async def api_threads(request: web.Request) -> web.Response:
    snapshot = await _dashboard(request).snapshot()
    kind = request.query.get("kind")
    if kind is not None and kind not in {k.value for k in ThreadKind}:
        raise web.HTTPBadRequest(text=f"unknown kind {kind!r}")
    rows = [t.to_dict() for t in snapshot.threads if kind is None or t.kind.value == kind]
    return json_response(rows)


async def api_rfcs(request: web.Request) -> web.Response:
    snapshot = await _dashboard(request).snapshot()
    query = RfcQuery.of(request)
    return json_response([row.to_dict() for row in query.select(snapshot.rfcs)])


async def api_rfc(request: web.Request) -> web.Response:
    _, row, ledger, summary = await rfc_detail(request)
    return json_response(
        {
            "rfc": row.to_dict(),
            "summary": summary.to_dict(),
            "concerns": [concern.to_dict() for concern in ledger.concerns],
        }
    )


async def api_votes(request: web.Request) -> web.Response:
    snapshot = await _dashboard(request).snapshot()
    return json_response([report.to_dict() for report in snapshot.votes])


async def api_vote(request: web.Request) -> web.Response:
    _, report = await vote_detail(request)
    # `quorum votes --json THREAD` prints a list of one report; so does this.
    return json_response([report.to_dict()])


async def api_concerns(request: web.Request) -> web.Response:
    snapshot = await _dashboard(request).snapshot()
    ledgers = snapshot.ledgers.values()  # oldest thread first, as `quorum concerns --json`
    return json_response([c.to_dict() for ledger in ledgers for c in ledger.concerns])


async def api_thread_concerns(request: web.Request) -> web.Response:
    from bot.features.concerns import find_thread, ledger_of

    ctx = _dashboard(request).ctx
    selector, now = request.match_info["key"], ctx.clock()
    ledger = await ctx.db(
        lambda store: ledger_of(store, ctx.config, find_thread(store, selector), now)
    )
    return json_response([concern.to_dict() for concern in ledger.concerns])


async def api_summary(request: web.Request) -> web.Response:
    from bot.features.concerns import find_thread, summary_of

    ctx = _dashboard(request).ctx
    selector, now = request.match_info["key"], ctx.clock()
    summary = await ctx.db(
        lambda store: summary_of(store, ctx.config, find_thread(store, selector), now)
    )
    return json_response(summary.to_dict())


async def api_modules(request: web.Request) -> web.Response:
    snapshot = await _dashboard(request).snapshot()
    return json_response(modules_payload(snapshot.evaluation))


async def api_stats(request: web.Request) -> web.Response:
    snapshot = await _dashboard(request).snapshot()
    return json_response(dict(snapshot.stats))


async def api_refresh(request: web.Request) -> web.Response:
    require_token(request)
    snapshot = await _dashboard(request).refresh()
    return json_response(
        {
            "computed_at": snapshot.now.isoformat(),
            "seconds": round(snapshot.computed_seconds, 3),
            "rfcs": len(snapshot.rfcs),
            "votes": len(snapshot.votes),
        }
    )


def require_token(request: web.Request, key: web.AppKey[bytes] | None = None) -> None:
    """401 unless the request carries the configured bearer token (compared in constant time)."""
    expected = request.app[key or TOKEN]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if (
        expected
        and scheme.casefold() == "bearer"
        and hmac.compare_digest(given.strip().encode("utf-8"), expected)
    ):
        return
    raise web.HTTPUnauthorized(
        text=_dumps({"error": "this route changes state: send Authorization: Bearer <token>"}),
        content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="quorum"'},
    )


# -- metrics ------------------------------------------------------------------------------


async def metrics(request: web.Request) -> web.Response:
    """The Prometheus text format; with web.metrics_token_env set, only for its bearer."""
    if request.app[METRICS_TOKEN]:
        require_token(request, METRICS_TOKEN)
    exposition = _dashboard(request).ctx.metrics
    if exposition is None:
        raise web.HTTPNotFound(text="metrics are not collected by this process")
    body, content_type = await exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


# -- health -------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    dashboard = _dashboard(request)
    ctx = dashboard.ctx
    report: dict[str, Any] = {
        "database": await database_health(ctx),
        "dashboard": dashboard.health(),
    }
    try:
        report.update(ctx.health())
    except Exception as error:  # a broken probe is itself a health problem, not a 500
        logger.exception("health probe failed")
        report["app"] = {"ok": False, "error": f"health probe failed: {error}"}
    healthy = all(_component_ok(value) for value in report.values())
    report = {"status": "ok" if healthy else "degraded", **report}
    return json_response(report, status=200 if healthy else 503)


async def database_health(ctx: WebContext) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        stats = await asyncio.wait_for(ctx.db(lambda store: store.stats()), DB_HEALTH_TIMEOUT_S)
    except TimeoutError:
        return {"ok": False, "error": f"no answer within {DB_HEALTH_TIMEOUT_S:g} s (busy writer?)"}
    except Exception as error:
        return {"ok": False, "error": str(error) or type(error).__name__}
    return {
        "ok": True,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "messages": stats["messages"],
        "threads": stats["threads"],
        "pending": stats["pending"],
    }


def _component_ok(value: Any) -> bool:
    """A component is a dict with ``ok``; a dict of them (the pollers) is ok when all are."""
    if not isinstance(value, Mapping):
        return True  # None: not configured
    if "ok" in value:
        return bool(value["ok"])
    return all(_component_ok(item) for item in value.values())


# -- errors and headers -------------------------------------------------------------------


@web.middleware
async def errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Pages answer errors with a page, the API with JSON; a bug is logged, never shown."""
    try:
        return await handler(request)
    except UserError as error:  # no thread matches, or a selector matches several
        status = 400 if "name one" in str(error) else 404
        return _error(request, status, str(error))
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise
        response = _error(request, error.status, _reason(error))
        if "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except Exception:
        logger.exception("web request %s %s failed", request.method, request.path)
        return _error(request, 500, "internal error; the log has the details")


def _reason(error: web.HTTPException) -> str:
    """Our own message, or aiohttp's reason ("Not Found") rather than its "404: Not Found"."""
    text = error.text or ""
    return error.reason if not text or text.startswith(f"{error.status}:") else text


def _error(request: web.Request, status: int, message: str) -> web.Response:
    path = local_path(request)
    if path.startswith("/api/") or path in ("/healthz", "/metrics"):
        return json_response({"error": message}, status=status)
    response = page(request, "error.html", status=status, message=message)
    response.set_status(status)
    return response


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


# -- behind a reverse proxy ---------------------------------------------------------------


def local_path(request: web.Request) -> str:
    """The request's path below web.root_path, whether or not the proxy stripped the prefix."""
    prefix = _dashboard(request).ctx.settings.prefix
    path = request.path
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        return path[len(prefix) :] or "/"
    return path


@web.middleware
async def forwarded(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """X-Forwarded-For/-Proto/-Host, believed only from the proxies web.trusted_proxies names.

    From anyone else they are ignored: a client could otherwise claim any address,
    scheme or host.
    """
    networks: tuple[IPNetwork, ...] = request.app[PROXIES]
    if networks and _trusted(request.remote, networks):
        changes = forwarded_values(request.headers, networks)
        if changes:
            request = request.clone(**changes)
    return await handler(request)


def forwarded_values(headers: Mapping[str, str], networks: Sequence[IPNetwork]) -> dict[str, str]:
    """What a trusted proxy's headers say about the client: ``remote``, ``scheme``, ``host``.

    Of X-Forwarded-For the client is the rightmost address that is not a trusted
    proxy (every proxy appends the address it was reached from; the leftmost ones
    are whatever the client wrote). Of -Proto and -Host the last value counts.
    """
    changes: dict[str, str] = {}
    hops = [hop.strip() for hop in headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_address(hop):
            break  # junk: stop believing the chain here
        changes["remote"] = hop
        if not _trusted(hop, networks):
            break
    proto = _last(headers.get("X-Forwarded-Proto", "")).lower()
    if proto in ("http", "https"):
        changes["scheme"] = proto
    host = _last(headers.get("X-Forwarded-Host", ""))
    if host and _HOST.fullmatch(host):
        changes["host"] = host
    return changes


_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def _last(value: str) -> str:
    return value.rsplit(",", 1)[-1].strip()


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _trusted(address: str | None, networks: Sequence[IPNetwork]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def to_root(request: web.Request) -> web.Response:
    """ "/quorum" without its slash: the dashboard is at "/quorum/"."""
    raise web.HTTPFound(_dashboard(request).ctx.settings.root_path)


# -- building and starting ----------------------------------------------------------------


def build_web_app(ctx: WebContext) -> web.Application:
    app = web.Application(middlewares=[forwarded, errors])
    dashboard = Dashboard(ctx)
    app[DASHBOARD] = dashboard

    async def stop_computing(_: web.Application) -> None:
        await dashboard.close()

    app.on_cleanup.append(stop_computing)
    token = os.environ.get(ctx.settings.token_env, "")
    app[TOKEN] = token.encode("utf-8")
    if not token:
        logger.info("web: %s is not set; state-changing routes answer 401", ctx.settings.token_env)
    app[METRICS_TOKEN] = os.environ.get(ctx.settings.metrics_token_env, "").encode("utf-8")
    app[PROXIES] = ctx.settings.proxy_networks()
    app.on_response_prepare.append(_security_headers)
    app.add_routes(_routes(ctx.settings))
    return app


def _routes(settings: WebConfig) -> list[web.RouteDef]:
    """Every route at its path and, with a web.root_path, under that prefix too.

    A proxy may pass "/quorum/rfcs" on as it is or strip it to "/rfcs"; both work.
    """
    routes = _dashboard_routes(settings)
    if not settings.prefix:
        return routes
    prefixed = [
        web.route(route.method, settings.prefix + route.path, route.handler, **route.kwargs)
        for route in routes
    ]
    return [*routes, *prefixed, web.get(settings.prefix, to_root)]


def _dashboard_routes(settings: WebConfig) -> list[web.RouteDef]:
    key = "{key:.+}"  # thread keys hold "/" (GitHub roots), even once percent-decoded
    extra = [web.get("/metrics", metrics)] if settings.metrics else []
    return [
        web.get("/", dashboard_page),
        web.get("/rfcs", rfcs_page),
        web.get(f"/rfcs/{key}", rfc_page),
        web.get("/votes", votes_page),
        web.get(f"/votes/{key}", vote_page),
        web.get("/modules", modules_page),
        web.get("/static/dashboard.css", stylesheet),
        web.get("/favicon.ico", no_favicon),
        web.get("/healthz", healthz),
        web.get("/api", api_index),
        web.get("/api/threads", api_threads),
        web.get("/api/rfcs", api_rfcs),
        web.get(f"/api/rfcs/{key}", api_rfc),
        web.get("/api/votes", api_votes),
        web.get(f"/api/votes/{key}", api_vote),
        web.get("/api/concerns", api_concerns),
        web.get(f"/api/concerns/{key}", api_thread_concerns),
        web.get(f"/api/summary/{key}", api_summary),
        web.get("/api/modules", api_modules),
        web.get("/api/stats", api_stats),
        web.post("/api/refresh", api_refresh),
        *extra,
    ]


async def start_web(ctx: WebContext, host: str, port: int) -> tuple[web.AppRunner, tuple[str, int]]:
    """Serve the dashboard; returns the runner (``await runner.cleanup()`` stops it)."""
    runner = web.AppRunner(build_web_app(ctx), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0]
    return runner, (str(bound[0]), int(bound[1]))


def web_address(address: tuple[str, int], root_path: str = "/") -> str:
    """The URL `quorum run` prints, which a person can paste into a browser."""
    host, port = address
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{root_path}"


__all__ = [
    "Dashboard",
    "WebConfig",
    "WebContext",
    "build_web_app",
    "start_web",
    "web_address",
]
