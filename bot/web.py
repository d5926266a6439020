"""The dashboard: read-only pages and a JSON API over the store, served by `quorum run`.

Pages are rendered on the server from ``templates/web/`` (auto-escaped Jinja2)
and work without JavaScript; ``/api/`` returns the shapes of the ``--json``
commands, its lists a page at a time (``?page=``, ``?limit=``, and the URL of
the next page in the answer); ``/healthz`` reports the database, the SMTP
endpoint and each poller. Reading needs no login; the one state-changing route
(``POST /api/refresh``) needs ``Authorization: Bearer`` with the token from the
environment variable that ``[web] token_env`` names.

What the pages show is read from the stored views (:mod:`bot.store.views`: one
row per RFC and per vote, kept up to date by :mod:`bot.features.views` as mail
arrives and as the clock moves), through their indexes and with a LIMIT: a
page costs what it shows, however long the list's history. Only two things
are computed on a request, each for the one item a page shows: the summary of
an RFC and the ballots of a vote. The modules section is their stored evaluations
(:func:`bot.features.module_views.stored_evaluation`), read in one place
(:class:`ModulesMemo`). A URL names an RFC or a vote by a key (an indexed
lookup) or by a piece of its subject (a LIKE over the views, with a LIMIT); no
URL starts a scan of posts or threads.

Every store read goes through ``WebContext.db``: in ``quorum run`` that is the
app's reader thread, with a read-only connection of its own and one read
transaction per call, so the dashboard never holds up the writer (SMTP
deliveries wait for its commits) and each page sees one state of the store.
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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypedDict, TypeVar
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.config import Config, IPNetwork, WebConfig
from bot.core.attention import Attention, AttentionItem, AttentionKind
from bot.core.links import Archive, PostRef, link_for
from bot.core.modules import ModuleState
from bot.core.reminders import (
    Evaluation,
    ModuleFigures,
    Stage,
    StagePolicy,
    format_duration,
)
from bot.core.rfcs import (
    STATE_MEANINGS,
    StoredVote,
    ago,
    channel_of,
    day,
    human_duration,
    topic_of,
    vote_text,
)
from bot.core.summary import Summary
from bot.core.votes import Rule, VoteReport, VoteState
from bot.core.votes.trust import VIA_WORDS, provenance
from bot.errors import UserError
from bot.features.attention import attention
from bot.features.concerns import summary_of
from bot.features.links import archive_of
from bot.features.module_views import StoredModules
from bot.features.reminders import (
    DEFAULT_RESPONSIVENESS,
    escalation_policy,
    modules_payload,
)
from bot.features.roster import people_for, roster_for
from bot.features.votes import report_of
from bot.model import Thread, ThreadKind
from bot.render import TEMPLATES, compile_pages, render
from bot.store import Store
from bot.store import forum as forum_store
from bot.store import modules as stored_modules
from bot.store import views as stored

logger = logging.getLogger(__name__)
T = TypeVar("T")

RFCS_PER_PAGE = 100
VOTES_PER_PAGE = 50
# The /api lists: ?limit= is this unless given, and at most MAX_LIMIT.
API_LIMIT = 100
MAX_LIMIT = 500
_VOTE_ITEMS = frozenset({AttentionKind.VOTE_CLOSING, AttentionKind.RESULT_DISAGREES})
# Blocked RFCs whose concerns "Needs attention" lists (the longest waiting); the rest
# are counted, with a link to them all.
BLOCKED_SHOWN = 10
# The badge of each kind of "Needs attention" item (bot.core.attention.AttentionKind).
ATTENTION_LABELS = {
    "flag": "unresponsive",
    "escalation": "escalated",
    "reminder": "reminded",
    "catch-up": "catch-up",
    "vote-closing": "vote closing",
    "result-disagrees": "RESULT disagrees",
    "concern": "unanswered concern",
}
RECENT_RFCS_SHOWN = 10
RECENT_VOTES_SHOWN = 8
# The modules' figures are computed again at least this often when nothing changed.
MODULES_STEP = timedelta(minutes=5)
# A piece of a subject that names more than this lists the first ones and asks for one.
SELECTOR_MATCHES = 20
DB_HEALTH_TIMEOUT_S = 5.0
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
# What each RFC state means, in the order the dashboard lists them.
STATES: dict[str, str] = {state.value: meaning for state, meaning in STATE_MEANINGS.items()}
_CLOSERS = frozenset({ThreadKind.RESULT, ThreadKind.CANCEL})


# -- configuration and context ------------------------------------------------------------


class DbCall(Protocol):
    """``App.read``: runs ``call(store)`` on the app's reader thread, in one read transaction."""

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
    # Recomputes the stored views now (bot.features.views.refresh, on the app's writer)
    # and says what it did; None: POST /api/refresh answers 503.
    refresh: Callable[[], Awaitable[Mapping[str, Any]]] | None = None


# -- what the pages read ------------------------------------------------------------------
#
# Each function below runs on the store's thread (``WebContext.db``) and reads what one
# page shows from the stored views: rows through an index, with a LIMIT.

View = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Paging:
    """The page of a list a request asks for: ``?page=`` (from 1) and ``?limit=``."""

    page: int = 1
    limit: int = API_LIMIT

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    @classmethod
    def strict(cls, query: Mapping[str, str], default: int = API_LIMIT) -> Paging:
        """For the API: a page or limit that is not a whole number in range is a 400."""
        return cls(_whole(query, "page", 1, None), _whole(query, "limit", default, MAX_LIMIT))

    @classmethod
    def lenient(cls, query: Mapping[str, str], default: int) -> Paging:
        """For pages a person types into: nonsense gets the first page of the usual size."""
        return cls(
            _number(query.get("page"), 1), min(_number(query.get("limit"), default), MAX_LIMIT)
        )

    def last(self, total: int) -> int:
        """The last page there is for ``total`` rows (1 when there are none)."""
        return max(1, math.ceil(total / self.limit))


def _whole(query: Mapping[str, str], name: str, default: int, most: int | None) -> int:
    raw = query.get(name, "")
    if raw == "":
        return default
    value = _number(raw, 0)
    if value < 1 or (most is not None and value > most):
        bounds = f"from 1 to {most}" if most is not None else "from 1 up"
        raise web.HTTPBadRequest(text=f"{name} must be a whole number {bounds} (got {raw!r})")
    return value


def _number(raw: str | None, default: int) -> int:
    try:
        value = int(raw or "")
    except ValueError:
        return default
    return value if value >= 1 else default


@dataclass(frozen=True, slots=True)
class Overview:
    """What `/` shows: counts, what needs attention, the latest votes and RFCs, the modules."""

    rfc_counts: dict[str, int]
    vote_counts: dict[str, int]
    attention: Attention
    recent_rfcs: list[View]
    recent_votes: list[View]
    evaluation: Evaluation

    @property
    def rfcs(self) -> int:
        return sum(self.rfc_counts.values())

    @property
    def votes(self) -> int:
        return sum(self.vote_counts.values())


def read_overview(
    store: Store,
    config: Config,
    now: datetime,
    modules: Callable[[Store, datetime], Evaluation],
) -> Overview:
    evaluation = modules(store, now)
    return Overview(
        rfc_counts=state_counts(stored.count_rfcs(store)),
        vote_counts=stored.count_votes(store),
        # The same list, with the same numbers, as the digest and `quorum attention`.
        attention=attention(store, config, now, evaluation=evaluation, blocked_rfcs=BLOCKED_SHOWN),
        recent_rfcs=stored.rfc_payloads(store, listed=True, limit=RECENT_RFCS_SHOWN),
        recent_votes=stored.newest_votes(store, limit=RECENT_VOTES_SHOWN),
        evaluation=evaluation,
    )


class ModulesMemo:
    """The modules' obligations, figures and flags, as the store keeps them a module at a
    time (:func:`bot.features.module_views.stored_evaluation`, kept current by the views
    job): read again only when a stored module changed (its stamp: fingerprint and
    revision) or the clock moved on by MODULES_STEP (the open
    obligations' waiting grows). Called on the store's one thread only.
    """

    def __init__(self, config: Config, *, front: bool = False) -> None:
        self.config = config
        self._stored = StoredModules(config, front=front)
        self._last: tuple[tuple[Any, ...], Evaluation] | None = None

    def __call__(self, store: Store, now: datetime) -> Evaluation:
        step = int(now.timestamp() // MODULES_STEP.total_seconds())
        key = (tuple(stored_modules.stamps(store)), step)
        if self._last is None or self._last[0] != key:
            self._last = (key, self._stored.read(store, now))
        return self._last[1]


def state_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Every state, in the legend's order, with how many listed RFCs are in it."""
    return {state: counts.get(state, 0) for state in STATES}


@dataclass(frozen=True, slots=True)
class RfcQuery:
    """The RFC list's filters and page, from the query string."""

    text: str = ""
    state: str = ""
    paging: Paging = field(default_factory=lambda: Paging(1, RFCS_PER_PAGE))
    prefix: str = ""  # web.root_path, for the links it makes

    @classmethod
    def of(cls, request: web.Request, strict: bool = False) -> RfcQuery:
        state = request.query.get("state", "")
        if state and state not in STATES:
            if strict:
                raise web.HTTPBadRequest(
                    text=f"unknown state {state!r}; one of {', '.join(STATES)}"
                )
            state = ""
        return cls(
            text=request.query.get("q", "").strip()[:200],
            state=state,
            paging=(
                Paging.strict(request.query)
                if strict
                else Paging.lenient(request.query, RFCS_PER_PAGE)
            ),
            prefix=_dashboard(request).ctx.settings.prefix,
        )

    def url(self, **changes: Any) -> str:
        values = {
            "q": self.text,
            "state": self.state,
            "page": self.paging.page,
            "limit": self.paging.limit,
            **changes,
        }
        defaults = {"page": 1, "limit": RFCS_PER_PAGE}
        query = {k: v for k, v in values.items() if v and defaults.get(k) != v}
        return self.prefix + "/rfcs" + ("?" + urlencode(query) if query else "")


@dataclass(frozen=True, slots=True)
class RfcList:
    rows: list[View]
    counts: dict[str, int]
    matching: int
    paging: Paging


def read_rfc_list(store: Store, query: RfcQuery) -> RfcList:
    """One page of the listed RFCs in a state and with a piece of their subject.

    The counts by state come from the index; only a title filter counts its matches
    with a LIKE over the views.
    """
    counts = state_counts(stored.count_rfcs(store))
    if query.text:
        matching = stored.count_listed(store, state=query.state or None, text=query.text)
    else:
        matching = counts[query.state] if query.state else sum(counts.values())
    paging = query.paging
    paging = Paging(min(paging.page, paging.last(matching)), paging.limit)
    rows = stored.listed_rfcs(
        store,
        state=query.state or None,
        text=query.text,
        limit=paging.limit,
        offset=paging.offset,
    )
    return RfcList(rows, counts, matching, paging)


@dataclass(frozen=True, slots=True)
class Found:
    """What a selector in a URL names: an RFC's stored view, and/or a vote.

    ``vote`` is set for a vote thread (which has a view of its own, as a discussion)
    and for the RESULT or CANCEL that closes one (which has none).
    """

    view: View | None = None
    vote: str | None = None


def find_rfc(store: Store, selector: str) -> Found:
    """The RFC ``selector`` names: the key of the RFC or of any of its threads, else a
    piece of a subject (one RFC's, or one vote's)."""
    view = stored.rfc_payload(store, selector)
    if view is not None:
        return _found(view)
    thread = store.thread(selector)
    if thread is not None:
        vote = _vote_of(thread)
        if vote is None:
            raise UserError(f"thread {selector!r} is not counted yet; reload in a moment")
        return Found(vote=vote)
    if _is_key(selector):
        raise UserError(f"no thread matches {selector!r}")
    views = stored.rfcs_named(store, selector, SELECTOR_MATCHES + 1)
    if len(views) == 1:
        return _found(views[0])
    if views:
        raise UserError(_ambiguous(selector, [(v["rfc"], v["subject"]) for v in views]))
    votes = stored.votes_named(store, selector, 2)
    if len(votes) == 1:
        return Found(vote=votes[0]["thread"])
    raise UserError(f"no thread matches {selector!r}")


def _found(view: View) -> Found:
    return Found(view, view["rfc"] if view["kind"] == ThreadKind.VOTE.value else None)


def find_vote(store: Store, selector: str) -> Thread:
    """The vote thread ``selector`` names: its key (or the key of the RESULT that closes
    it), else a piece of its subject. Its stored view is not needed: its page counts it."""
    thread = store.thread(selector)
    if thread is None:
        if _is_key(selector):
            raise UserError(f"no vote thread matches {selector!r}")
        views = stored.votes_named(store, selector, SELECTOR_MATCHES + 1)
        if len(views) > 1:
            raise UserError(_ambiguous(selector, [(v["thread"], v["subject"]) for v in views]))
        thread = store.thread(views[0]["thread"]) if views else None
        if thread is None:
            raise UserError(f"no vote thread matches {selector!r}")
    vote = _vote_of(thread)
    if vote is None:
        raise UserError(f"{selector!r} is not a vote thread")
    found = thread if vote == thread.key else store.thread(vote)
    if found is None:
        raise UserError(f"no vote thread matches {selector!r}")
    return found


def _is_key(selector: str) -> bool:
    """A Message-ID (or a mirrored one): looked up by key only, never in subjects."""
    return selector.startswith("<") and selector.endswith(">") and "@" in selector


def _vote_of(thread: Thread) -> str | None:
    """The vote a thread is, or closes (a RESULT or CANCEL); None for a discussion."""
    if thread.kind is ThreadKind.VOTE:
        return thread.key
    return thread.closes if thread.kind in _CLOSERS else None


def _ambiguous(selector: str, matches: Sequence[tuple[str, str]]) -> str:
    shown = "\n".join(f"  {key}  {subject}" for key, subject in matches[:SELECTOR_MATCHES])
    more = " or more" if len(matches) > SELECTOR_MATCHES else ""
    return f"{selector!r} matches {len(matches)}{more} threads; name one:\n{shown}"


@dataclass(frozen=True, slots=True)
class RfcDetail:
    """One RFC: its stored view, its summary computed now, and the views of its votes."""

    view: View
    summary: Summary
    votes: list[View]

    @property
    def concerns(self) -> list[dict[str, Any]]:
        return list(self.view.get("concern_list", []))


def read_rfc(store: Store, config: Config, view: View, now: datetime) -> RfcDetail:
    """The summary of the one RFC ``view`` is (the cost of that RFC's posts)."""

    head = store.thread(view["rfc"])
    if head is None:  # adopted into another thread since the view was stored
        raise UserError(f"thread {view['rfc']!r} is not counted yet; reload in a moment")
    votes = [found for key in view["votes"] if (found := stored.vote_payload(store, key))]
    return RfcDetail(view, summary_of(store, config, head, now), votes)


@dataclass(frozen=True, slots=True)
class VoteDetail:
    """One vote, counted now with every ballot, and the RFCs it decides."""

    report: VoteReport
    rfcs: list[View]


def vote_report(store: Store, config: Config, thread: Thread, now: datetime) -> VoteReport:
    """The one vote ``thread`` is, counted now with every ballot (the cost of its thread)."""

    return report_of(
        store, config, thread, now, roster_for(store, config), people_for(store, config)
    )


def read_vote(store: Store, config: Config, thread: Thread, now: datetime) -> VoteDetail:
    """The vote's report, and the stored views of the RFCs it decides."""
    report = vote_report(store, config, thread, now)
    heads = stored.rfc_heads_on_topic(
        store, topic_of(thread.subject), stored.group_of(store, thread.key)
    )
    rfcs = [
        found
        for key in heads[:SELECTOR_MATCHES]
        if key != thread.key
        and (found := stored.rfc_payload(store, key)) is not None
        and found["kind"] != ThreadKind.VOTE.value
    ]
    return VoteDetail(report, rfcs)


def listed(view: View) -> View:
    """An RFC's view as a list shows it: without its concerns (one RFC's page has them)."""
    return {key: value for key, value in view.items() if key != "concern_list"}


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def standing(view: Mapping[str, Any]) -> StoredVote:
    """A stored vote as the core's words for votes need it."""
    return StoredVote(
        thread=view["thread"],
        state=VoteState(view["state"]),
        opened_at=_moment(view["opened_at"]),
        closes_at=_moment(view["closes_at"]),
        would_pass_now=view.get("would_pass_now"),
    )


# -- words and numbers for people ---------------------------------------------------------


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
    archive: Archive = field(default_factory=Archive)
    # web.root_path without its final slash ("" at the root): every URL we print starts here.
    prefix: str = ""

    def url(self, path: str) -> str:
        """A path of the dashboard ("/rfcs") as the browser must ask for it, under root_path."""
        return self.prefix + path

    def ago(self, moment: datetime | str | None) -> str:
        """ "3 days ago", or "in 2 days" for a moment still to come (a vote's end)."""
        if not moment:
            return "never"
        at = _moment(moment)
        if at > self.now:
            return f"in {human_duration(at - self.now)}"
        return ago(at, self.now)

    def day(self, moment: datetime | str | None) -> str:
        return day(_moment(moment) if moment else None)

    def time(self, moment: datetime | str | None) -> str:
        if not moment:
            return "unknown"
        return _moment(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

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

    def rfc_href(self, view: Mapping[str, Any]) -> str:
        """Where an RFC list's row leads: its RFC page, or the vote page of a vote thread."""
        if view.get("kind") == ThreadKind.VOTE.value:
            return self.vote_url(view["rfc"])
        return self.rfc_url(view["rfc"])

    def vote_state(self, report: VoteReport | Mapping[str, Any]) -> str:
        """ "open, would pass now, closes in 2 days", counted from this request's clock."""
        return vote_text(report if isinstance(report, VoteReport) else standing(report), self.now)

    def rule(self, report: VoteReport) -> str:
        return rule_text(report)

    def stage(self, stage: Stage) -> str:
        return _STAGE_WORDS[stage]

    def binding(self, value: bool | None) -> str:
        return {True: "binding", False: "non-binding", None: "binding unknown"}[value]

    def link(self, url: str | None = None, message_id: str | None = None) -> str | None:
        """An http(s) link to a post (bot.core.links, as in mail), or None; never a
        ``javascript:`` or other scheme."""
        found = link_for(PostRef(url=url, message_id=message_id), self.archive)
        return found if found and found.startswith(("https://", "http://")) else None

    def attention_href(self, item: AttentionItem) -> str | None:
        """Where an item of "Needs attention" leads: the vote's or RFC's own page, else
        the post it is about."""
        if item.thread and item.kind in _VOTE_ITEMS:
            return self.vote_url(item.thread)
        if item.thread:
            return self.rfc_url(item.thread)
        return item.link if item.link.startswith(("https://", "http://")) else None


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


# -- the dashboard ------------------------------------------------------------------------


class Dashboard:
    """The running dashboard: its context, and the clock and links its pages use.

    Pages read the stored views, which the app keeps up to date; only the modules'
    figures are kept between requests (:class:`ModulesMemo`).
    """

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.modules = ModulesMemo(ctx.config)
        # What "Needs attention" and the front page read: the figures, the flags and the
        # obligations that are an item, not every obligation of the window.
        self.front = ModulesMemo(ctx.config, front=True)

    async def read(self, call: Callable[[Store, datetime], T]) -> tuple[T, datetime]:
        """``call(store, now)`` in one read of the store, and the ``now`` it used."""
        now = self.ctx.clock()
        return await self.ctx.db(lambda store: call(store, now)), now

    def formatter(self, now: datetime) -> Formatter:
        return Formatter(now, archive_of(self.ctx.config), self.ctx.settings.prefix)


DASHBOARD = web.AppKey("dashboard", Dashboard)
TOKEN = web.AppKey("token", bytes)
METRICS_TOKEN = web.AppKey("metrics_token", bytes)
PROXIES = web.AppKey("proxies", tuple)


def _dashboard(request: web.Request) -> Dashboard:
    return request.app[DASHBOARD]


def _selector(request: web.Request) -> str:
    return request.match_info["key"]


# -- pages --------------------------------------------------------------------------------


def page(
    request: web.Request, template: str, as_of: datetime | None = None, **context: Any
) -> web.Response:
    """A page from ``templates/web/``; ``as_of`` is the clock its figures were read at."""
    dashboard = _dashboard(request)
    config = dashboard.ctx.config
    now = as_of or dashboard.ctx.clock()
    html = render(
        f"web/{template}",
        project=config.project.name,
        bot_name=config.bot.name,
        f=dashboard.formatter(now),
        as_of=now,
        path=local_path(request),
        **context,
    )
    return web.Response(text=html, content_type="text/html")


async def dashboard_page(request: web.Request) -> web.Response:
    dashboard = _dashboard(request)
    config = dashboard.ctx.config
    overview, now = await dashboard.read(
        lambda store, now: read_overview(store, config, now, dashboard.front)
    )
    return page(
        request,
        "dashboard.html",
        now,
        o=overview,
        states=STATES,
        attention_days=round(overview.attention.max_age / timedelta(days=1)),
        attention_labels=ATTENTION_LABELS,
        chart=response_chart(overview.evaluation.modules, state_policies(config)),
    )


async def rfcs_page(request: web.Request) -> web.Response:
    query = RfcQuery.of(request)
    found, now = await _dashboard(request).read(lambda store, _: read_rfc_list(store, query))
    query = RfcQuery(query.text, query.state, found.paging, query.prefix)
    return page(
        request,
        "rfcs.html",
        now,
        rows=found.rows,
        total=sum(found.counts.values()),
        matching=found.matching,
        query=query,
        page_number=found.paging.page,
        pages=found.paging.last(found.matching),
        page_url=lambda number: query.url(page=number),
        states=STATES,
        rfc_counts=found.counts,
    )


async def rfc_page(request: web.Request) -> web.Response:
    dashboard = _dashboard(request)
    config, selector = dashboard.ctx.config, _selector(request)

    def read(store: Store, now: datetime) -> RfcDetail | str:
        found = find_rfc(store, selector)
        if found.vote is not None or found.view is None:
            return found.vote or ""
        return read_rfc(store, config, found.view, now)

    detail, now = await dashboard.read(read)
    if isinstance(detail, str):  # a vote, or the RESULT that closed one: its page is the vote's
        raise web.HTTPFound(dashboard.formatter(now).vote_url(detail))
    return page(
        request,
        "rfc.html",
        now,
        row=detail.view,
        concerns=detail.concerns,
        summary=detail.summary,
        votes=detail.votes,
        states=STATES,
    )


async def votes_page(request: web.Request) -> web.Response:
    paging = Paging.lenient(request.query, VOTES_PER_PAGE)

    def read(store: Store, _: datetime) -> tuple[list[View], dict[str, int], Paging]:
        counts = stored.count_votes(store)
        at = Paging(min(paging.page, paging.last(sum(counts.values()))), paging.limit)
        return stored.newest_votes(store, limit=at.limit, offset=at.offset), counts, at

    (reports, counts, at), now = await _dashboard(request).read(read)
    prefix = _dashboard(request).ctx.settings.prefix
    return page(
        request,
        "votes.html",
        now,
        reports=reports,
        counts=counts,
        total=sum(counts.values()),
        page_number=at.page,
        pages=at.last(sum(counts.values())),
        page_url=lambda number: _list_url(prefix + "/votes", number, at.limit, VOTES_PER_PAGE),
    )


def _list_url(path: str, number: int, limit: int, default: int) -> str:
    query = {"page": number} if number != 1 else {}
    if limit != default:
        query["limit"] = limit
    return path + ("?" + urlencode(query) if query else "")


async def vote_page(request: web.Request) -> web.Response:
    dashboard = _dashboard(request)
    config, selector = dashboard.ctx.config, _selector(request)
    detail, now = await dashboard.read(
        lambda store, now: read_vote(store, config, find_vote(store, selector), now)
    )
    report = detail.report
    return page(
        request,
        "vote.html",
        now,
        report=report,
        rfcs=detail.rfcs,
        provenance=provenance(report.tally),
        via_words={via.value or "unknown": words for via, words in VIA_WORDS.items()},
    )


async def modules_page(request: web.Request) -> web.Response:
    dashboard = _dashboard(request)
    config = dashboard.ctx.config
    evaluation, now = await dashboard.read(dashboard.modules)
    policies = state_policies(config)
    waiting = sorted(
        (o for o in evaluation.obligations if o.is_open), key=lambda o: o.waiting, reverse=True
    )
    return page(
        request,
        "modules.html",
        now,
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
    base = _public_base(request)
    pages = f"page=N&limit=N (default {API_LIMIT}, at most {MAX_LIMIT})"
    return json_response(
        {
            "pagination": (
                f"every list takes ?{pages} and answers {{items, page, limit, next}}:"
                " next is the URL of the following page, null on the last"
            ),
            "threads": f"{base}/api/threads[?kind=KIND]  (quorum threads --json, oldest first)",
            "rfcs": f"{base}/api/rfcs[?q=TEXT&state=STATE]  (the RFC list, latest activity first)",
            "rfc": f"{base}/api/rfcs/{{thread}}  (one RFC: its view, summary and concerns)",
            "votes": f"{base}/api/votes  (quorum votes --json, oldest first)",
            "vote": f"{base}/api/votes/{{thread}}  (quorum votes --json THREAD)",
            "concerns": (
                f"{base}/api/concerns  (quorum concerns --json; limit counts discussions,"
                " whose concerns are never split across pages)"
            ),
            "thread_concerns": f"{base}/api/concerns/{{thread}}  (quorum concerns --json THREAD)",
            "summary": f"{base}/api/summary/{{thread}}  (quorum summary THREAD --json)",
            "modules": (
                f"{base}/api/modules  (quorum modules --json plus flags; the obligations"
                " a page at a time)"
            ),
            "attention": f"{base}/api/attention  (quorum attention --json)",
            "stats": f"{base}/api/stats  (quorum stats --json)",
            "refresh": f"POST {base}/api/refresh  (bearer token: recompute the views now)",
            "health": f"{base}/healthz",
        }
    )


def _public_base(request: web.Request) -> str:
    """Absolute URLs as the reader reached us: through a trusted proxy, its scheme and host."""
    return f"{request.scheme}://{request.host}{_dashboard(request).ctx.settings.prefix}"


def listing(request: web.Request, paging: Paging, more: bool, **fields: Any) -> web.Response:
    """One page of an /api list: ``fields`` (the page's rows under "items", or several
    lists cut at the same page), the page and limit, and the URL of the next page when
    ``more`` (also in a Link header), with the rest of the request's query kept."""
    following = None
    if more:
        query = {**request.query, "page": str(paging.page + 1), "limit": str(paging.limit)}
        following = f"{_public_base(request)}{local_path(request)}?{urlencode(query)}"
    body = {**fields, "page": paging.page, "limit": paging.limit, "next": following}
    response = json_response(body)
    if following:
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


def _split(rows: Sequence[T], paging: Paging) -> tuple[Sequence[T], bool]:
    """Rows read with ``limit + 1``: the page, and whether a row lies beyond it."""
    return rows[: paging.limit], len(rows) > paging.limit


async def api_threads(request: web.Request) -> web.Response:
    kind = request.query.get("kind")
    if kind is not None and kind not in {k.value for k in ThreadKind}:
        raise web.HTTPBadRequest(text=f"unknown kind {kind!r}")
    wanted = ThreadKind(kind) if kind else None
    paging = Paging.strict(request.query)
    threads, _ = await _dashboard(request).read(
        lambda store, _: store.threads(wanted, limit=paging.limit + 1, offset=paging.offset)
    )
    shown, more = _split(threads, paging)
    return listing(request, paging, more, items=[t.to_dict() for t in shown])


async def api_rfcs(request: web.Request) -> web.Response:
    query = RfcQuery.of(request, strict=True)
    paging = query.paging
    rows, _ = await _dashboard(request).read(
        lambda store, _: stored.listed_rfcs(
            store,
            state=query.state or None,
            text=query.text,
            limit=paging.limit + 1,
            offset=paging.offset,
        )
    )
    shown, more = _split(rows, paging)
    return listing(request, paging, more, items=[listed(row) for row in shown])


async def api_rfc(request: web.Request) -> web.Response:
    detail = await _rfc_detail(request)
    return json_response(
        {
            "rfc": listed(detail.view),
            "summary": detail.summary.to_dict(),
            "concerns": detail.concerns,
        }
    )


async def _rfc_detail(request: web.Request) -> RfcDetail:
    """The RFC a URL names, with its summary; a vote (or its RESULT) leads to /api/votes."""
    dashboard = _dashboard(request)
    config, selector = dashboard.ctx.config, _selector(request)

    def read(store: Store, now: datetime) -> RfcDetail | str:
        found = find_rfc(store, selector)
        if found.view is None:
            return found.vote or ""
        return read_rfc(store, config, found.view, now)

    detail, now = await dashboard.read(read)
    if isinstance(detail, str):
        raise web.HTTPFound(dashboard.formatter(now).url("/api/votes/" + quote(detail, safe="")))
    return detail


async def api_votes(request: web.Request) -> web.Response:
    paging = Paging.strict(request.query)
    rows, _ = await _dashboard(request).read(
        lambda store, _: stored.vote_payloads(store, limit=paging.limit + 1, offset=paging.offset)
    )
    shown, more = _split(rows, paging)
    return listing(request, paging, more, items=list(shown))


async def api_vote(request: web.Request) -> web.Response:
    dashboard = _dashboard(request)
    config, selector = dashboard.ctx.config, _selector(request)
    report, _ = await dashboard.read(
        lambda store, now: vote_report(store, config, find_vote(store, selector), now)
    )
    # `quorum votes --json THREAD` prints a list of one report; so does this.
    return json_response([report.to_dict()])


async def api_concerns(request: web.Request) -> web.Response:
    paging = Paging.strict(request.query)
    views, _ = await _dashboard(request).read(
        lambda store, _: stored.concern_pages(store, limit=paging.limit + 1, offset=paging.offset)
    )
    # A page holds every concern of ``limit`` discussions (the oldest first, as
    # `quorum concerns --json` lists them): one discussion's are never split.
    shown, more = _split(views, paging)
    concerns = [concern for view in shown for concern in view["concern_list"]]
    return listing(request, paging, more, items=concerns, limit_counts="discussions")


async def api_thread_concerns(request: web.Request) -> web.Response:
    detail = await _rfc_detail(request)
    return json_response(detail.concerns)


async def api_summary(request: web.Request) -> web.Response:
    detail = await _rfc_detail(request)
    return json_response(detail.summary.to_dict())


async def api_attention(request: web.Request) -> web.Response:
    """`quorum attention --json`: what the front page's "Needs attention" lists, whole."""
    dashboard = _dashboard(request)
    config = dashboard.ctx.config
    found, _ = await dashboard.read(
        lambda store, now: attention(store, config, now, evaluation=dashboard.front(store, now))
    )
    return json_response(found.to_dict())


async def api_modules(request: web.Request) -> web.Response:
    """`quorum modules --json` and the flags; its two long lists (obligations, and the
    decisions due) a page at a time, cut at the same page and limit."""
    dashboard = _dashboard(request)
    paging = Paging.strict(request.query)
    evaluation, _ = await dashboard.read(dashboard.modules)
    window = slice(paging.offset, paging.offset + paging.limit + 1)
    obligations, more = _split(evaluation.obligations[window], paging)
    decisions, beyond = _split(evaluation.decisions[window], paging)
    shown = replace(evaluation, obligations=tuple(obligations), decisions=tuple(decisions))
    return listing(request, paging, more or beyond, **modules_payload(shown))


async def api_stats(request: web.Request) -> web.Response:
    stats, _ = await _dashboard(request).read(lambda store, _: forum_store.stats_report(store))
    return json_response(stats)


async def api_refresh(request: web.Request) -> web.Response:
    require_token(request)
    refresh = _dashboard(request).ctx.refresh
    if refresh is None:
        raise web.HTTPServiceUnavailable(
            text=_dumps({"error": "this process does not keep the views; quorum run does"}),
            content_type="application/json",
        )
    started = time.perf_counter()
    done = await refresh()
    return json_response({**done, "seconds": round(time.perf_counter() - started, 3)})


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
    ctx = _dashboard(request).ctx
    database, views = await database_health(ctx)
    report: dict[str, Any] = {"database": database, "views": views}
    try:
        report.update(ctx.health())
    except Exception as error:  # a broken probe is itself a health problem, not a 500
        logger.exception("health probe failed")
        report["app"] = {"ok": False, "error": f"health probe failed: {error}"}
    healthy = all(_component_ok(value) for value in report.values())
    report = {"status": "ok" if healthy else "degraded", **report}
    return json_response(report, status=200 if healthy else 503)


async def database_health(ctx: WebContext) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The database's counts and latency, and how much the stored views have yet to take
    in (changed threads not read, views due): what the pages may lag behind by."""
    started = time.perf_counter()
    try:
        stats, backlog = await asyncio.wait_for(
            ctx.db(lambda store: (store.stats(), stored.backlog(store))), DB_HEALTH_TIMEOUT_S
        )
    except TimeoutError:
        error = f"no answer within {DB_HEALTH_TIMEOUT_S:g} s (busy writer?)"
        return {"ok": False, "error": error}, None
    except Exception as error:
        return {"ok": False, "error": str(error) or type(error).__name__}, None
    database = {
        "ok": True,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "messages": stats["messages"],
        "threads": stats["threads"],
        "pending": stats["pending"],
    }
    return database, {"ok": True, **backlog}


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


class Forwarded(TypedDict, total=False):
    """What a trusted proxy says of the client, as ``Request.clone()`` takes it."""

    remote: str
    scheme: str
    host: str


def forwarded_values(headers: Mapping[str, str], networks: Sequence[IPNetwork]) -> Forwarded:
    """What a trusted proxy's headers say about the client: ``remote``, ``scheme``, ``host``.

    Of X-Forwarded-For the client is the rightmost address that is not a trusted
    proxy (every proxy appends the address it was reached from; the leftmost ones
    are whatever the client wrote). Of -Proto and -Host the last value counts.
    """
    changes: Forwarded = {}
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
    app[DASHBOARD] = Dashboard(ctx)
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
        web.get("/api/attention", api_attention),
        web.get("/api/stats", api_stats),
        web.post("/api/refresh", api_refresh),
        *extra,
    ]


async def start_web(ctx: WebContext, host: str, port: int) -> tuple[web.AppRunner, tuple[str, int]]:
    """Serve the dashboard; returns the runner (``await runner.cleanup()`` stops it).

    Its pages' templates are compiled first, on a thread: the first visitor does not
    wait for it, and neither does the event loop.
    """
    await asyncio.to_thread(compile_pages, "web/")
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
