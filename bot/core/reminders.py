"""Who owes an answer, for how long, and what the bot should do about it.

An *obligation* is owed by a module's maintainers, as a group, for one post:

* a post that mentions a maintainer (``@login`` or full name) opens one for
  the modules of theirs the post is about (or, if it is about none of them,
  the first module they maintain, so one mention never nags twice);
* a post about a module that asks a question (a sentence ending in ``?``);
* a concern raised on an RFC the module's maintainers champion (the caller
  pairs concerns with modules, since which RFC belongs to which module is
  the RFC feature's knowledge);
* a CI-failure notice about the module. Failures come in runs (a nightly job
  fails every night until someone fixes it), so a failure while the module
  already has an open CI obligation joins it as a repeat instead of opening a
  new one; every failure is still counted, with its date, in the figures.

Posts by a module's own maintainers open nothing for it: maintainers pinging
each other are coordinating, not waiting.

A later post by *any* maintainer of the module in the same conversation (the
same thread, or any thread of the same RFC, per ``rfc_of``) discharges it. A
concern withdrawn or resolved by its author, or a CI job reported back to
normal, *settles* it: no longer owed, but not counted as an answer.

Neither the bot's own posts nor automated ones (auto-submitted, bounces,
commit and tracker mails; see :mod:`bot.core.rules`) open or discharge
anything, except CI notices, which open and settle CI obligations.

Quiet periods and holds pause the clock: waiting time is elapsed time minus
the time in which the conversation was held or every maintainer of the
module was away (while one of them is around, someone can answer). Stages
come from the module state's :class:`StagePolicy`.

The ladder climbs one rung at a time, on what was *delivered*, never on what
time alone would allow. The caller passes what the outbox recorded about
each obligation (``ladder``: :class:`Delivery` rows, sent or recorded in
dry-run): the reminder falls due ``remind_after`` of waiting after the post;
the escalation ``escalate_after - remind_after`` of waiting after the reminder
was delivered; the flag ``flag_after - escalate_after`` after the escalation.
So one tick never decides two stages of one obligation, and every message can
say truthfully what came before it. :func:`evaluate` returns the one stage due
for each open obligation as :class:`Decision` s whose key names (kind, target,
person, stage, period); the period is the obligation's post, so a rerun yields
the same keys and the outbox, which dedups by key, never sends a stage twice.

A *backlog* is a reminder that fell due while Quorum was not watching: before
its first tick, before an imported post reached it, or during downtime. With a
:class:`CatchUpPolicy` such obligations are listed once in a catch-up summary
(``Evaluation.catch_up``) and their ladder starts from its delivery, reminded
at once, or left alone; an obligation older than ``max_age`` is history.

Pure: no I/O, no clock; ``now`` is passed in.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum, IntEnum, StrEnum
from functools import cache, partial
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from bot.core.commands import Command, Verb
from bot.core.concerns import Concern, ConcernState
from bot.core.modules import Module, ModuleState, maintainer_of, match_modules
from bot.core.people import People, name_key
from bot.core.rfcs import NOT_DEVELOPMENT_LISTS, human_duration
from bot.core.rules import (
    BotIdentity,
    is_automated,
    is_ci_failure,
    is_ci_recovery,
    is_ours,
    may_answer,
)
from bot.core.text import is_attribution, prose_lines
from bot.model import Action, Post, Source

_QUESTION = re.compile(r"\?+(?=[\s\"')\]!]|$)")
_FOREVER = datetime.max.replace(tzinfo=UTC)
Interval = tuple[datetime, datetime]


# --------------------------------------------------------------------------
# Policy
# --------------------------------------------------------------------------


class Stage(IntEnum):
    """How far an unanswered obligation has gone up the ladder."""

    NONE = 0
    REMIND = 1
    ESCALATE = 2
    FLAG = 3

    @property
    def verb(self) -> str:
        return _STAGE_VERBS[self]


_STAGE_VERBS = {
    Stage.NONE: "none",
    Stage.REMIND: "remind",
    Stage.ESCALATE: "escalate",
    Stage.FLAG: "flag",
}
LADDER = (Stage.REMIND, Stage.ESCALATE, Stage.FLAG)


@dataclass(frozen=True, slots=True)
class StagePolicy:
    """When each stage is due, as waiting time (paused time excluded)."""

    name: str
    remind_after: timedelta
    escalate_after: timedelta
    flag_after: timedelta

    def __post_init__(self) -> None:
        if not timedelta(0) < self.remind_after < self.escalate_after < self.flag_after:
            raise ValueError(
                f"{self.name}: thresholds must grow: 0 < remind ({self.remind_after})"
                f" < escalate ({self.escalate_after}) < flag ({self.flag_after})"
            )

    def threshold(self, stage: Stage) -> timedelta:
        return {
            Stage.REMIND: self.remind_after,
            Stage.ESCALATE: self.escalate_after,
            Stage.FLAG: self.flag_after,
        }[stage]

    def stage_for(self, waiting: timedelta) -> Stage:
        reached = [stage for stage in LADDER if waiting >= self.threshold(stage)]
        return reached[-1] if reached else Stage.NONE

    def rule(self, stage: Stage) -> str:
        """What a reminder cites: "S0 policy: remind after 7 days"."""
        return f"{self.name}: {stage.verb} after {format_duration(self.threshold(stage))}"


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """One :class:`StagePolicy` per module state.

    The defaults are Quorum's policy, not the ASF's, and every reminder says so.

    * **S2 — 3 / 7 / 14 days.** A module replacing or evolving an existing
      solution affects every user of the old one; an unanswered question
      stalls migrations. Three days is the ASF's minimum voting period, the
      time in which a list is expected to have read a mail; a week later the
      list hears about it; after two weeks the module is flagged.
    * **S1 — 5 / 10 / 21 days.** Integrated into existing flows, so its
      problems reach other people's work: a working week, two, three.
    * **S0 — 7 / 14 / 30 days.** New and isolated, can be turned off: its
      problems stay contained and its team is small, so a week, two weeks,
      a month.
    * **deprecated — 14 / 28 / 60 days.** Nothing new is expected and most
      questions are "how do I migrate", but they still deserve an answer;
      flagged after two months, which is also a hint that removal is due.

    Each step roughly doubles the last, so maintainers have as long after a
    reminder as before it before anything is said in public.
    """

    s0: StagePolicy = field(default_factory=lambda: _days("S0 policy", 7, 14, 30))
    s1: StagePolicy = field(default_factory=lambda: _days("S1 policy", 5, 10, 21))
    s2: StagePolicy = field(default_factory=lambda: _days("S2 policy", 3, 7, 14))
    deprecated: StagePolicy = field(
        default_factory=lambda: _days("deprecated-module policy", 14, 28, 60)
    )

    def for_state(self, state: ModuleState) -> StagePolicy:
        return {
            ModuleState.S0: self.s0,
            ModuleState.S1: self.s1,
            ModuleState.S2: self.s2,
            ModuleState.DEPRECATED: self.deprecated,
        }[state]


def _days(name: str, remind: float, escalate: float, flag: float) -> StagePolicy:
    return StagePolicy(name, timedelta(days=remind), timedelta(days=escalate), timedelta(days=flag))


DEFAULT_POLICY = EscalationPolicy()


# --------------------------------------------------------------------------
# Inputs besides posts
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuietPeriod:
    """A maintainer's declared absence, from ``start`` up to (not including) ``end``."""

    person: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """``@quorum hold`` in a thread until ``unhold`` (``end`` None: still held)."""

    thread: str
    start: datetime
    end: datetime | None = None


class CatchUp(StrEnum):
    """What to do with a backlog (README: "The ladder and the catch-up")."""

    SUMMARY = "summary"  # list it once for the PMC; the ladder starts from that list
    REMIND = "remind"  # remind at once (one stage, whatever the waiting time)
    IGNORE = "ignore"  # leave it alone: it was history before Quorum came


# A reminder decided later than this after it fell due was not missed by a tick or
# two: Quorum was not watching (first start, an old post imported, downtime).
LATE_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CatchUpPolicy:
    """``responsiveness.catch_up`` and ``max_age_days`` as the core needs them."""

    mode: CatchUp = CatchUp.SUMMARY
    max_age: timedelta = timedelta(days=90)
    late_after: timedelta = LATE_AFTER


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message about an obligation, as the outbox recorded it.

    ``kind`` is ``catch-up``, ``remind`` or ``escalate``; ``channel`` the route
    it took (``mail``/``discourse``: a reply in the thread, ``slack``, ``list``,
    ``pmc``). ``delivered_at`` is when it was sent, or recorded in dry-run
    (``dry_run``); None while it is queued, held back or failed.
    """

    kind: str
    channel: str
    recorded_at: datetime
    delivered_at: datetime | None = None
    dry_run: bool = False

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None

    @property
    def where(self) -> str:
        """ "in the thread", "on Slack", "on the list", "in the PMC channel"."""
        return _WHERE.get(self.channel, f"via {self.channel}")


_WHERE = {
    "mail": "in the thread",
    "discourse": "in the thread",
    "thread": "in the thread",
    "": "in the thread",
    "slack": "on Slack",
    "list": "on the list",
    "pmc": "in the PMC channel",
}
CATCH_UP_KIND = "catch-up"


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a post must be to open an obligation (answers count from anywhere).

    ``lists``: List-Ids or addresses; empty, the development lists (every list but
    users@, commits@, builds@ and the like). ``categories``: forum categories by
    slug or id; empty, every one followed. Mail without a List-Id (sent to the bot,
    a GitHub mirror) counts as the list's.
    """

    lists: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()

    def admits(self, post: Post, categories: Sequence[str]) -> bool:
        if post.source is Source.DISCOURSE:
            if not self.categories:
                return True
            return any(c.casefold() in self.categories for c in categories)
        if not post.list_id:
            return True
        name = post.list_id.strip("<> ").casefold()
        if self.lists:
            # A list is named by its List-Id or its address: dev@x.org is dev.x.org.
            return name in {entry.replace("@", ".") for entry in self.lists}
        return not _NOT_DEVELOPMENT.search(name)


_NOT_DEVELOPMENT = re.compile(NOT_DEVELOPMENT_LISTS)


@dataclass(frozen=True, slots=True)
class ModuleConcern:
    """A concern raised on an RFC, paired with the module whose maintainers champion it."""

    concern: Concern
    module: str


def holds_from_commands(thread: str, commands: Iterable[Command]) -> tuple[Hold, ...]:
    """Hold intervals from a thread's authorised hold/unhold commands (``Ledger.commands``).

    A second hold while held, or an unhold while not, changes nothing: people
    repeat commands when they are unsure the bot heard them.
    """
    ordered = sorted(
        (c for c in commands if c.verb in (Verb.HOLD, Verb.UNHOLD)),
        key=lambda c: (c.at, c.post, c.line),
    )
    holds: list[Hold] = []
    started: datetime | None = None
    for command in ordered:
        if command.verb is Verb.HOLD and started is None:
            started = command.at
        elif command.verb is Verb.UNHOLD and started is not None:
            holds.append(Hold(thread, started, command.at))
            started = None
    if started is not None:
        holds.append(Hold(thread, started))
    return tuple(holds)


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


class ObligationKind(StrEnum):
    MENTION = "mention"
    QUESTION = "question"
    CONCERN = "concern"
    CI_FAILURE = "ci-failure"


class ObligationState(StrEnum):
    OPEN = "open"
    PAUSED = "paused"  # open, but the clock is stopped right now
    DISCHARGED = "discharged"  # a maintainer answered
    SETTLED = "settled"  # no longer owed, without a maintainer's answer


OPEN_STATES = frozenset({ObligationState.OPEN, ObligationState.PAUSED})


class Audience(StrEnum):
    """Who a decision is for; the wiring maps each to a delivery channel of the outbox
    (``bot.dispatch.Channel``: mail, Slack, the forum)."""

    THREAD = "thread"  # a reply to the waiting post, where it was posted
    SLACK = "slack"  # a Slack message mentioning the maintainers
    LIST = "list"  # a note to the development list
    PMC = "pmc"  # the PMC's Slack channel
    DASHBOARD = "dashboard"  # the dashboard and the digest


STAGE_AUDIENCES: dict[Stage, tuple[Audience, ...]] = {
    Stage.REMIND: (Audience.SLACK, Audience.THREAD),
    Stage.ESCALATE: (Audience.LIST, Audience.PMC),
    Stage.FLAG: (Audience.DASHBOARD,),
}


@dataclass(frozen=True, slots=True)
class PostLink:
    """Enough of a post to link to it and say who wrote it when."""

    key: str
    thread: str
    author: str
    at: datetime
    subject: str = ""
    url: str | None = None
    message_id: str | None = None

    @classmethod
    def of(cls, post: Post) -> PostLink:
        return cls(
            key=post.key,
            thread=thread_of(post),
            author=post.author.display,
            at=post.created_at,
            subject=post.subject,
            url=post.url,
            message_id=post.message_id,
        )

    @classmethod
    def of_concern(cls, concern: Concern) -> PostLink:
        return cls(
            key=concern.post,
            thread=concern.thread,
            author=concern.raised_by.display,
            at=concern.raised_at,
            url=concern.url,
            message_id=concern.message_id,
        )


@dataclass(frozen=True, slots=True)
class Obligation:
    """One post a module's maintainers owe an answer to, as of ``now``.

    ``waiting`` runs to the answer (or to ``now``) with paused time taken out;
    ``stage`` is the highest stage due now, NONE once it is no longer open.
    ``repeats`` are later CI failures folded into this one.
    """

    module: str
    kind: ObligationKind
    post: PostLink
    reasons: tuple[str, ...]
    owed_by: tuple[str, ...]
    state: ObligationState
    opened_at: datetime
    waiting: timedelta
    paused: timedelta
    stage: Stage
    policy: str
    addressed: tuple[str, ...] = ()
    closed_by: PostLink | None = None
    closed_at: datetime | None = None
    responder: str | None = None
    repeats: tuple[PostLink, ...] = ()
    due: tuple[tuple[Stage, datetime], ...] = ()
    # The ladder: what the outbox recorded, the next rung and when it falls due (None:
    # waiting for the previous rung's delivery), and whether it is a backlog waiting
    # to be listed in a catch-up summary, or history (older than max_age).
    history: tuple[Delivery, ...] = ()
    next_stage: Stage = Stage.NONE
    next_due: datetime | None = None
    backlog: bool = False
    expired: bool = False

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def key(self) -> str:
        return obligation_key(self.module, self.post.key)

    def delivered(self, kind: str) -> tuple[Delivery, ...]:
        """The delivered messages of one kind (``remind``, ``escalate``, ``catch-up``)."""
        return tuple(d for d in self.history if d.kind == kind and d.delivered)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable_fields(self)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One unanswered obligation, as a flag shows it: link, date, how long."""

    post: PostLink
    kind: ObligationKind
    opened_at: datetime
    waiting: timedelta
    stage: Stage


@dataclass(frozen=True, slots=True)
class Decision:
    """One thing the bot should now say, with everything a message needs to justify itself.

    ``key`` is ``kind:target:person:stage:period``: the stage's verb, the
    channel, the module whose maintainers owe the answer, the stage number,
    and the waiting post's key. Outboxes dedup on it.
    """

    key: str
    stage: Stage
    channel: Audience
    module: str
    persons: tuple[str, ...]
    post: PostLink
    policy: str
    threshold: timedelta
    rule: str
    waiting: timedelta
    due_at: datetime
    reason: str
    kind: ObligationKind
    evidence: tuple[Evidence, ...] = ()
    # What the outbox recorded before this stage, for the message to say so.
    history: tuple[Delivery, ...] = ()

    @property
    def obligation(self) -> str:
        return obligation_key(self.module, self.post.key)

    @property
    def target(self) -> str:
        """The waiting post for a reply in its thread; the module for everything else."""
        return self.post.key if self.channel is Audience.THREAD else self.module

    def action(self, text: str) -> Action:
        """The outbox's shape, once the feature has rendered ``text`` from this decision."""
        channel = "" if self.channel is Audience.THREAD else self.channel.value
        return Action(
            kind=self.stage.verb,
            target=self.target,
            text=text,
            key=self.key,
            channel=channel,
            reason=f"{self.rule}; {self.reason}",
            about=(self.obligation,),
        )

    def to_dict(self) -> dict[str, Any]:
        return _jsonable_fields(self)


@dataclass(frozen=True, slots=True)
class ModuleFlag:
    """A module flagged "maintainers unresponsive", with every unanswered obligation."""

    module: str
    rule: str
    since: datetime
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class ModuleFigures:
    """Responsiveness of one module's maintainers, and how often its CI breaks."""

    module: str
    state: ModuleState
    maintainers: tuple[str, ...]
    open: int
    paused: int
    discharged: int
    settled: int
    median_response: timedelta | None
    p90_response: timedelta | None
    last_activity: datetime | None
    ci_failures: int
    ci_failure_dates: tuple[datetime, ...]
    flagged: bool

    def ci_failures_since(self, since: datetime) -> int:
        return sum(1 for at in self.ci_failure_dates if at >= since)


@dataclass(frozen=True, slots=True)
class MaintainerFigures:
    """One maintainer: what their modules owe, and how fast they answer when they do."""

    person: str
    modules: tuple[str, ...]
    open: int
    answered: int
    median_response: timedelta | None
    p90_response: timedelta | None
    last_activity: datetime | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    now: datetime
    obligations: tuple[Obligation, ...]
    decisions: tuple[Decision, ...]
    modules: tuple[ModuleFigures, ...]
    maintainers: tuple[MaintainerFigures, ...]
    flags: tuple[ModuleFlag, ...]
    # Backlog found by this evaluation, to list in a catch-up summary (README).
    catch_up: tuple[Obligation, ...] = ()

    def open_obligations(self) -> tuple[Obligation, ...]:
        return tuple(o for o in self.obligations if o.is_open)

    def of_module(self, module: str) -> tuple[Obligation, ...]:
        return tuple(o for o in self.obligations if o.module == module)

    def figures(self, module: str) -> ModuleFigures | None:
        return next((f for f in self.modules if f.module == module), None)

    def maintainer(self, person: str) -> MaintainerFigures | None:
        key = name_key(person)
        return next((f for f in self.maintainers if name_key(f.person) == key), None)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable_fields(self)


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------


def thread_of(post: Post) -> str:
    """The post's thread key; a post the store has not threaded yet is its own thread."""
    return post.thread_key or post.key


def asks_question(post: Post) -> bool:
    """A sentence of the new prose ends in "?" (code, URL queries and attributions aside)."""
    return any(
        _QUESTION.search(line) for line in prose_lines(post.text) if not is_attribution(line)
    )


def evaluate(
    posts: Iterable[Post],
    modules: Sequence[Module],
    policy: EscalationPolicy,
    now: datetime,
    *,
    identities: People | None = None,
    bot: BotIdentity | None = None,
    quiet: Iterable[QuietPeriod] = (),
    holds: Iterable[Hold] = (),
    concerns: Iterable[ModuleConcern] = (),
    rfc_of: Mapping[str, str] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    ladder: Mapping[str, Sequence[Delivery]] | None = None,
    catch_up: CatchUpPolicy | None = None,
    scope: Scope | None = None,
    only: Collection[str] | None = None,
) -> Evaluation:
    """Every obligation, the decisions due as of ``now``, and the figures.

    ``rfc_of`` maps thread keys to RFC ids: a maintainer's post in any thread
    of the same RFC answers. ``categories`` maps thread (or post) keys to
    Discourse categories and tags for module matching and ``scope``. Posts dated
    after ``now`` are not seen yet; the same post delivered twice counts once.

    ``ladder`` maps obligation keys (:func:`obligation_key`) to what the outbox
    recorded about them; without it nothing was delivered yet. ``catch_up``:
    how a backlog is handled (None: a late reminder is decided like a timely
    one, and nothing is too old). ``scope``: where a post must be to open an
    obligation (None: anywhere).

    ``only``: the names of the modules to evaluate (None: all of them); the others
    still decide which module a passing mention opens an obligation for. Given the
    posts of every conversation :func:`modules_reached` says reaches those modules,
    the result is theirs in the evaluation of every post (:func:`combine` joins such
    parts again).
    """
    context = _Context.build(
        posts,
        modules,
        policy,
        now,
        identities=identities or People(),
        bot=bot or BotIdentity(),
        quiet=quiet,
        holds=holds,
        rfc_of=rfc_of or {},
        categories=categories or {},
        ladder=ladder or {},
        catch_up=catch_up,
        scope=scope,
    )
    wanted = frozenset(m.name for m in modules) if only is None else frozenset(only)
    openings = _person_openings(context) + _concern_openings(context, concerns)
    openings = [o for o in _merge(openings) if o.module.name in wanted]
    openings += [o for o in _ci_openings(context) if o.module.name in wanted]
    obligations = [context.settle(opening) for opening in openings]
    obligations.sort(key=lambda o: (o.opened_at, o.post.key, context.module_index[o.module]))
    flags = _flags(context, obligations)
    decisions = [d for o in obligations if o.is_open for d in _decisions(context, o, flags)]
    persons = {name_key(p) for m in modules if m.name in wanted for p in m.maintainers}
    return Evaluation(
        now=now,
        obligations=tuple(obligations),
        decisions=tuple(decisions),
        modules=tuple(
            f for f in _module_figures(context, obligations, flags) if f.module in wanted
        ),
        maintainers=tuple(
            f for f in _maintainer_figures(context, obligations) if name_key(f.person) in persons
        ),
        flags=tuple(flags.values()),
        catch_up=tuple(o for o in obligations if o.is_open and o.backlog),
    )


def obligation_key(module: str, post: str) -> str:
    """``module:post``: what the outbox records an obligation's messages under."""
    return f"{module}:{post}"


@dataclass(frozen=True, slots=True)
class _Opening:
    """An obligation before it is settled: what opened it and for whom."""

    module: Module
    kind: ObligationKind
    post: PostLink
    reasons: tuple[str, ...]
    addressed: tuple[str, ...] = ()
    # Concerns only: each concern's settlement (None while it stands). None as a
    # whole when a mention or question is part of it: those only a maintainer closes.
    settled: tuple[PostLink | None, ...] | None = None
    repeats: tuple[PostLink, ...] = ()
    threads: frozenset[str] = frozenset()
    recovery: PostLink | None = None


@dataclass(frozen=True, slots=True)
class _Context:
    """Everything :func:`evaluate` derives once from its inputs, indexed for lookups."""

    now: datetime
    modules: tuple[Module, ...]
    module_index: dict[str, int]
    policy: EscalationPolicy
    identities: People
    bot: BotIdentity
    people: tuple[Post, ...]  # posts by people, in order
    ci_failures: tuple[Post, ...]
    ci_recoveries: tuple[Post, ...]
    ci_modules: dict[str, frozenset[str]]  # CI post key -> names of the modules it is about
    posts_by_key: dict[str, Post]
    rfc_of: Mapping[str, str]
    categories: Mapping[str, Sequence[str]]
    # (module, conversation) -> maintainer posts, in order; and their times for bisecting.
    answers: dict[tuple[str, str], list[tuple[Post, str]]]
    answer_times: dict[tuple[str, str], list[datetime]]
    quiet: dict[str, list[Interval]]
    holds: dict[str, list[Interval]]
    last_seen: dict[str, datetime]  # name key -> their latest post as a person
    ladder: Mapping[str, Sequence[Delivery]]
    catch_up: CatchUpPolicy | None
    scope: Scope | None

    @classmethod
    def build(
        cls,
        posts: Iterable[Post],
        modules: Sequence[Module],
        policy: EscalationPolicy,
        now: datetime,
        *,
        identities: People,
        bot: BotIdentity,
        quiet: Iterable[QuietPeriod],
        holds: Iterable[Hold],
        rfc_of: Mapping[str, str],
        categories: Mapping[str, Sequence[str]],
        ladder: Mapping[str, Sequence[Delivery]],
        catch_up: CatchUpPolicy | None,
        scope: Scope | None,
    ) -> _Context:
        unique = {p.key: p for p in posts if p.created_at <= now}
        ordered = sorted(unique.values(), key=lambda p: (p.created_at, p.key))
        mine = [p for p in ordered if not is_ours(p, bot)]
        people = tuple(p for p in mine if not is_automated(p))
        # Who maintains what, by name key: one identity lookup per post, not per module.
        roles: dict[str, list[tuple[Module, str]]] = {}
        for module in modules:
            for maintainer in module.maintainers:
                roles.setdefault(name_key(maintainer), []).append((module, maintainer))
        answers: dict[tuple[str, str], list[tuple[Post, str]]] = {}
        last_seen: dict[str, datetime] = {}
        for post in people:
            found = identities.author_of(post)
            if not found.verified:
                continue  # a sender the bot cannot verify answers for nobody
            author = name_key(found.name)
            last_seen[author] = post.created_at
            conversation = _conversation(thread_of(post), rfc_of)
            for module, maintainer in roles.get(author, []):
                answers.setdefault((module.name, conversation), []).append((post, maintainer))
        held: dict[str, list[Interval]] = {}
        for hold in holds:
            conversation = _conversation(hold.thread, rfc_of)
            held.setdefault(conversation, []).append((hold.start, hold.end or _FOREVER))
        away: dict[str, list[Interval]] = {}
        for period in quiet:
            away.setdefault(name_key(period.person), []).append((period.start, period.end))
        ci_failures = tuple(p for p in mine if is_ci_failure(p))
        ci_recoveries = tuple(p for p in mine if is_ci_recovery(p))
        ci_modules = {
            p.key: frozenset(m.name for m in _modules_of(p, modules, categories))
            for p in ci_failures + ci_recoveries
        }
        return cls(
            now=now,
            modules=tuple(modules),
            module_index={m.name: i for i, m in enumerate(modules)},
            policy=policy,
            identities=identities,
            bot=bot,
            people=people,
            ci_failures=ci_failures,
            ci_recoveries=ci_recoveries,
            ci_modules=ci_modules,
            posts_by_key=unique,
            rfc_of=rfc_of,
            categories=categories,
            answers=answers,
            answer_times={k: [p.created_at for p, _ in v] for k, v in answers.items()},
            quiet={person: _union(spans) for person, spans in away.items()},
            holds={c: _union(spans) for c, spans in held.items()},
            last_seen=last_seen,
            ladder=ladder,
            catch_up=catch_up,
            scope=scope,
        )

    def in_scope(self, post: Post) -> bool:
        """Whether ``post`` is where obligations open (see :class:`Scope`)."""
        if self.scope is None:
            return True
        found = (*self.categories.get(thread_of(post), ()), *self.categories.get(post.key, ()))
        return self.scope.admits(post, found)

    def modules_of(self, post: Post) -> tuple[Module, ...]:
        return _modules_of(post, self.modules, self.categories)

    def first_answer(
        self, module: Module, threads: Iterable[str], after: datetime
    ) -> tuple[Post, str] | None:
        """The first maintainer post strictly after ``after`` in any of these conversations."""
        found: list[tuple[Post, str]] = []
        for conversation in {_conversation(t, self.rfc_of) for t in threads}:
            key = (module.name, conversation)
            times = self.answer_times.get(key, [])
            index = bisect_right(times, after)
            if index < len(times):
                found.append(self.answers[key][index])
        return min(found, key=lambda item: (item[0].created_at, item[0].key), default=None)

    def pauses(self, module: Module, threads: Iterable[str]) -> list[Interval]:
        """When the clock stood still: the conversation was held, or every maintainer was away."""
        spans: list[Interval] = []
        for conversation in {_conversation(t, self.rfc_of) for t in threads}:
            spans += self.holds.get(conversation, [])
        return _union(spans + _all_away(self.quiet, module.maintainers))

    def settle(self, opening: _Opening) -> Obligation:
        """Close or age an opening as of ``now``."""
        module = opening.module
        stage_policy = self.policy.for_state(module.state)
        threads = opening.threads or frozenset({opening.post.thread})
        answer = self.first_answer(module, threads, opening.post.at)
        closed_by, closed_at, responder, state = None, None, None, ObligationState.OPEN
        if answer is not None:
            closed_by, closed_at = PostLink.of(answer[0]), answer[0].created_at
            responder, state = answer[1], ObligationState.DISCHARGED
        settled = _settled_by(opening)
        if settled is not None and (closed_at is None or settled.at < closed_at):
            closed_by, closed_at, responder = settled, settled.at, None
            state = ObligationState.SETTLED
        end = closed_at or self.now
        unclipped = self.pauses(module, threads)
        pauses = _clip(unclipped, end)
        paused = _overlap(pauses, opening.post.at, end)
        waiting = max(end - opening.post.at - paused, timedelta(0))
        stage = Stage.NONE
        if state is ObligationState.OPEN:
            stage = stage_policy.stage_for(waiting)
            if _covers(unclipped, self.now):
                state = ObligationState.PAUSED
        due = tuple(
            (s, _instant_after(opening.post.at, stage_policy.threshold(s), pauses))
            for s in LADDER
            if s <= stage
        )
        key = obligation_key(module.name, opening.post.key)
        history = tuple(sorted(self.ladder.get(key, ()), key=lambda d: (d.recorded_at, d.kind)))
        step = _Step(Stage.NONE, None)
        if state in OPEN_STATES:
            step = self.next_step(stage_policy, opening.post.at, history, pauses)
        return Obligation(
            module=module.name,
            kind=opening.kind,
            post=opening.post,
            reasons=opening.reasons,
            owed_by=module.maintainers,
            state=state,
            opened_at=opening.post.at,
            waiting=waiting,
            paused=paused,
            stage=stage,
            policy=stage_policy.name,
            addressed=opening.addressed,
            closed_by=closed_by,
            closed_at=closed_at,
            responder=responder,
            repeats=opening.repeats,
            due=due,
            history=history,
            next_stage=step.stage,
            next_due=step.due,
            backlog=step.backlog,
            expired=step.expired,
        )

    def next_step(
        self,
        policy: StagePolicy,
        opened_at: datetime,
        history: Sequence[Delivery],
        pauses: Sequence[Interval],
    ) -> _Step:
        """The next rung of an open obligation's ladder, from what was delivered."""
        catch_up = self.catch_up
        if catch_up is not None and self.now - opened_at > catch_up.max_age:
            return _Step(Stage.NONE, None, expired=True)
        escalated = [d for d in history if d.kind == Stage.ESCALATE.verb]
        reminded = [d for d in history if d.kind == Stage.REMIND.verb]
        listed = [d for d in history if d.kind == CATCH_UP_KIND]
        if escalated:
            return _after(Stage.FLAG, escalated, policy.flag_after - policy.escalate_after, pauses)
        if reminded:
            return _after(
                Stage.ESCALATE, reminded, policy.escalate_after - policy.remind_after, pauses
            )
        if listed:
            # The ladder starts again from the catch-up summary that listed it.
            return _after(Stage.REMIND, listed, policy.remind_after, pauses)
        due = _instant_after(opened_at, policy.remind_after, pauses)
        if catch_up is None or due > self.now - catch_up.late_after:
            return _Step(Stage.REMIND, due)
        # A backlog: it fell due while nobody was watching.
        if catch_up.mode is CatchUp.REMIND:
            return _Step(Stage.REMIND, due)
        if catch_up.mode is CatchUp.IGNORE:
            return _Step(Stage.NONE, None)
        return _Step(Stage.REMIND, None, backlog=True)


@dataclass(frozen=True, slots=True)
class _Step:
    stage: Stage
    due: datetime | None
    backlog: bool = False
    expired: bool = False


def _after(
    stage: Stage, previous: Sequence[Delivery], wait: timedelta, pauses: Sequence[Interval]
) -> _Step:
    """``stage`` falls due ``wait`` of unpaused time after the previous rung was first
    delivered; not at all while it is only queued."""
    delivered = [d.delivered_at for d in previous if d.delivered_at is not None]
    if not delivered:
        return _Step(stage, None)
    return _Step(stage, _instant_after(min(delivered), wait, pauses))


def _modules_of(
    post: Post, modules: Sequence[Module], categories: Mapping[str, Sequence[str]]
) -> tuple[Module, ...]:
    return match_modules(post, modules, categories_of(post, categories))


def _conversation(thread: str, rfc_of: Mapping[str, str]) -> str:
    rfc = rfc_of.get(thread)
    return f"rfc:{rfc}" if rfc is not None else f"thread:{thread}"


def _settled_by(opening: _Opening) -> PostLink | None:
    """The post after which nobody waits any more: a recovery, or the last concern settled."""
    if opening.recovery is not None:
        return opening.recovery
    parts = opening.settled or ()
    links = [part for part in parts if part is not None]
    if not links or len(links) < len(parts):
        return None
    return max(links, key=lambda link: link.at)


# -- openings -------------------------------------------------------------------


def _person_openings(context: _Context) -> list[_Opening]:
    openings: list[_Opening] = []
    for post in context.people:
        if not context.in_scope(post):
            continue
        link = PostLink.of(post)
        about = context.modules_of(post)
        for module, person in _mentioned_modules(context, post, about):
            openings.append(
                _Opening(
                    module=module,
                    kind=ObligationKind.MENTION,
                    post=link,
                    reasons=(f"{post.author.display} mentioned {person}",),
                    addressed=(person,),
                )
            )
        if not asks_question(post):
            continue
        for module in about:
            if maintainer_of(post, module, context.identities) is None:
                reason = f"{post.author.display} asked a question about {module.name}"
                openings.append(_Opening(module, ObligationKind.QUESTION, link, (reason,)))
    return openings


def _mentioned_modules(
    context: _Context, post: Post, about: Sequence[Module]
) -> list[tuple[Module, str]]:
    """(module, maintainer) per mentioned maintainer: their modules the post is about, else
    the first module they maintain, so a passing mention never opens one per module."""
    found: list[tuple[Module, str]] = []
    author = context.identities.person_of(post.author) or post.author.name
    for person in context.identities.mentioned(post):
        if name_key(person) == name_key(author):
            continue
        theirs = [m for m in context.modules if m.is_maintained_by(person)]
        relevant = [m for m in theirs if m in about] or theirs[:1]
        for module in relevant:
            if maintainer_of(post, module, context.identities) is None:
                found.append((module, person))
    return found


def _concern_openings(context: _Context, concerns: Iterable[ModuleConcern]) -> list[_Opening]:
    by_name = {m.name: m for m in context.modules}
    openings: list[_Opening] = []
    for item in concerns:
        module = by_name.get(item.module)
        concern = item.concern
        if module is None or concern.raised_at > context.now:
            continue
        if maintainer_of(concern.raised_by, module, context.identities) is not None:
            continue
        post = context.posts_by_key.get(concern.post)
        if post is not None and not context.in_scope(post):
            continue
        link = PostLink.of(post) if post is not None else PostLink.of_concern(concern)
        reason = f"{concern.raised_by.display} raised concern {concern.id!r} ({concern.title})"
        openings.append(
            _Opening(
                module=module,
                kind=ObligationKind.CONCERN,
                post=link,
                reasons=(reason,),
                settled=(_concern_settlement(concern, context.now),),
            )
        )
    return openings


def _concern_settlement(concern: Concern, now: datetime) -> PostLink | None:
    if concern.state is ConcernState.WITHDRAWN:
        ref = concern.withdrawn_by
    elif concern.state is ConcernState.RESOLVED:
        ref = concern.resolved_by
    else:
        return None
    if ref is None or ref.at > now:
        return None
    return PostLink(key=ref.post, thread=concern.thread, author=ref.author, at=ref.at)


def _merge(openings: list[_Opening]) -> list[_Opening]:
    """One obligation per (post, module): a post that mentions and asks is owed one answer."""
    merged: dict[tuple[str, str], _Opening] = {}
    for opening in openings:
        key = (opening.post.key, opening.module.name)
        earlier = merged.get(key)
        if earlier is None:
            merged[key] = opening
            continue
        merged[key] = _Opening(
            module=earlier.module,
            kind=_primary(earlier.kind, opening.kind),
            post=earlier.post,
            reasons=_unique(earlier.reasons + opening.reasons),
            addressed=_unique(earlier.addressed + opening.addressed),
            settled=_merge_settled(earlier.settled, opening.settled),
        )
    return list(merged.values())


def _primary(one: ObligationKind, other: ObligationKind) -> ObligationKind:
    order = (ObligationKind.CONCERN, ObligationKind.MENTION, ObligationKind.QUESTION)
    return min(one, other, key=order.index)


def _merge_settled(
    one: tuple[PostLink | None, ...] | None, other: tuple[PostLink | None, ...] | None
) -> tuple[PostLink | None, ...] | None:
    if one is None or other is None:
        return None
    return one + other


def _ci_openings(context: _Context) -> list[_Opening]:
    """CI obligations: a run of failures of one module until an answer or a recovery."""
    episodes: dict[str, list[_Opening]] = {}
    for post in context.ci_failures:
        for module in context.modules_of(post):
            runs = episodes.setdefault(module.name, [])
            current = runs[-1] if runs else None
            if current is not None and not _closed_before(context, current, post.created_at):
                runs[-1] = _Opening(
                    module=module,
                    kind=current.kind,
                    post=current.post,
                    reasons=current.reasons,
                    repeats=(*current.repeats, PostLink.of(post)),
                    threads=current.threads | {thread_of(post)},
                )
                continue
            runs.append(
                _Opening(
                    module=module,
                    kind=ObligationKind.CI_FAILURE,
                    post=PostLink.of(post),
                    reasons=(f"CI reported a failure of {module.name}: {post.subject}",),
                    threads=frozenset({thread_of(post)}),
                )
            )
    return [
        _with_recovery(context, opening, context.now)
        for runs in episodes.values()
        for opening in runs
    ]


def _closed_before(context: _Context, opening: _Opening, at: datetime) -> bool:
    answer = context.first_answer(opening.module, opening.threads, opening.post.at)
    if answer is not None and answer[0].created_at < at:
        return True
    return _with_recovery(context, opening, at).recovery is not None


def _with_recovery(context: _Context, opening: _Opening, until: datetime) -> _Opening:
    """The opening with the first "back to normal" notice about its module before ``until``."""
    for post in context.ci_recoveries:
        about = context.ci_modules[post.key]
        if opening.post.at < post.created_at <= until and opening.module.name in about:
            return _Opening(
                module=opening.module,
                kind=opening.kind,
                post=opening.post,
                reasons=opening.reasons,
                repeats=opening.repeats,
                threads=opening.threads,
                recovery=PostLink.of(post),
            )
    return opening


# -- decisions ------------------------------------------------------------------


def _decisions(
    context: _Context, obligation: Obligation, flags: Mapping[str, ModuleFlag]
) -> list[Decision]:
    module = context.modules[context.module_index[obligation.module]]
    stage_policy = context.policy.for_state(module.state)
    post = context.posts_by_key.get(obligation.post.key)
    answerable = post is not None and may_answer(post, context.bot)
    persons = _reachable(context, module)
    decisions: list[Decision] = []
    stage, due_at = obligation.next_stage, obligation.next_due
    if stage is Stage.NONE or due_at is None or due_at > context.now:
        return decisions
    for channel in STAGE_AUDIENCES[stage]:
        if channel is Audience.THREAD and not answerable:
            continue
        flag = flags.get(module.name)
        decisions.append(
            Decision(
                key=decision_key(stage, channel, module.name, obligation.post.key),
                stage=stage,
                channel=channel,
                module=module.name,
                persons=persons,
                post=obligation.post,
                policy=stage_policy.name,
                threshold=stage_policy.threshold(stage),
                rule=stage_policy.rule(stage),
                waiting=obligation.waiting,
                due_at=due_at,
                reason=_reason(obligation),
                kind=obligation.kind,
                # This obligation's own line only: the module's full evidence is in
                # Evaluation.flags once, not copied into every flag decision (O(n²)).
                evidence=_own_evidence(flag, obligation) if stage is Stage.FLAG else (),
                history=obligation.history,
            )
        )
    return decisions


def _own_evidence(flag: ModuleFlag | None, obligation: Obligation) -> tuple[Evidence, ...]:
    if flag is None:
        return ()
    return tuple(item for item in flag.evidence if item.post.key == obligation.post.key)


def decision_key(stage: Stage, channel: Audience, module: str, period: str) -> str:
    """``kind:target:person:stage:period``; the "person" owing it is the module's maintainers."""
    return f"{stage.verb}:{channel.value}:module={module}:{int(stage)}:{period}"


def _reachable(context: _Context, module: Module) -> tuple[str, ...]:
    """Maintainers to address now: those not away, or all of them if everyone is."""
    around = tuple(m for m in module.maintainers if not _is_away(context, m, context.now))
    return around or module.maintainers


def _is_away(context: _Context, person: str, at: datetime) -> bool:
    return _covers(context.quiet.get(name_key(person), []), at)


def _reason(obligation: Obligation) -> str:
    what = "; ".join(obligation.reasons)
    when = obligation.opened_at.strftime("%Y-%m-%d %H:%M UTC")
    repeats = f" ({len(obligation.repeats)} more failures since)" if obligation.repeats else ""
    owed = ", ".join(obligation.owed_by) or "nobody: the module lists no maintainers"
    paused = (
        f", not counting {human_duration(obligation.paused)} paused" if obligation.paused else ""
    )
    return (
        f"{what} on {when}{repeats}; no maintainer of {obligation.module} ({owed}) has"
        f" answered for {human_duration(obligation.waiting)}{paused}{_history_text(obligation)}"
    )


@dataclass(frozen=True, slots=True)
class SaidBefore:
    """One rung already climbed, as a message tells it."""

    kind: str
    at: datetime
    where: tuple[str, ...]
    dry_run: bool


def said_before(history: Iterable[Delivery]) -> list[SaidBefore]:
    """The delivered rungs, in order: what a message states truthfully came before it."""
    found: list[SaidBefore] = []
    for kind in (CATCH_UP_KIND, Stage.REMIND.verb, Stage.ESCALATE.verb):
        done = [d for d in history if d.kind == kind and d.delivered_at is not None]
        if not done:
            continue
        first = min(d.delivered_at for d in done if d.delivered_at is not None)
        where = tuple(dict.fromkeys(d.where for d in done))
        found.append(SaidBefore(kind, first, where, all(d.dry_run for d in done)))
    return found


_VERBS = {CATCH_UP_KIND: "listed in a catch-up summary", "remind": "reminded",
          "escalate": "escalated"}  # fmt: skip


def history_words(
    history: Iterable[Delivery], day: Callable[[datetime], str] = lambda m: f"{m:%Y-%m-%d}"
) -> list[str]:
    """The rungs climbed, as short phrases: "reminded 2026-11-20 in the thread and on Slack"."""
    return [
        f"{_VERBS[step.kind]} {day(step.at)} {' and '.join(step.where)}"
        + (" (dry-run: recorded, not sent)" if step.dry_run else "")
        for step in said_before(history)
    ]


def _history_text(obligation: Obligation) -> str:
    """For the audit log: "; reminded 2026-11-20 in the thread (dry-run: ...)"."""
    return "".join(f"; {words}" for words in history_words(obligation.history))


def _flags(context: _Context, obligations: Sequence[Obligation]) -> dict[str, ModuleFlag]:
    """Modules with an obligation at the flag stage, with all their open obligations as evidence."""
    flags: dict[str, ModuleFlag] = {}
    for module in context.modules:
        mine = [o for o in obligations if o.module == module.name and o.is_open]
        flagged = [
            o.next_due
            for o in mine
            if o.next_stage is Stage.FLAG and o.next_due is not None and o.next_due <= context.now
        ]
        if not flagged:
            continue
        evidence = tuple(Evidence(o.post, o.kind, o.opened_at, o.waiting, o.stage) for o in mine)
        rule = context.policy.for_state(module.state).rule(Stage.FLAG)
        flags[module.name] = ModuleFlag(module.name, rule, min(flagged), evidence)
    return flags


# -- figures --------------------------------------------------------------------


def _module_figures(
    context: _Context, obligations: Sequence[Obligation], flags: Mapping[str, ModuleFlag]
) -> list[ModuleFigures]:
    figures: list[ModuleFigures] = []
    for module in context.modules:
        mine = [o for o in obligations if o.module == module.name]
        answered = [o.waiting for o in mine if o.state is ObligationState.DISCHARGED]
        failures = tuple(
            p.created_at for p in context.ci_failures if module.name in context.ci_modules[p.key]
        )
        figures.append(
            ModuleFigures(
                module=module.name,
                state=module.state,
                maintainers=module.maintainers,
                open=sum(1 for o in mine if o.is_open),
                paused=sum(1 for o in mine if o.state is ObligationState.PAUSED),
                discharged=len(answered),
                settled=sum(1 for o in mine if o.state is ObligationState.SETTLED),
                median_response=median(answered),
                p90_response=percentile(answered, 0.9),
                last_activity=_latest(_last_post(context, m) for m in module.maintainers),
                ci_failures=len(failures),
                ci_failure_dates=failures,
                flagged=module.name in flags,
            )
        )
    return figures


def _maintainer_figures(
    context: _Context, obligations: Sequence[Obligation]
) -> list[MaintainerFigures]:
    return maintainer_figures(context.modules, obligations, context.last_seen)


def maintainer_figures(
    modules: Sequence[Module],
    obligations: Sequence[Obligation],
    last_seen: Mapping[str, datetime],
) -> list[MaintainerFigures]:
    """Each maintainer of ``modules``, in registry order; ``last_seen``: by name key,
    their latest post as a person."""
    people: dict[str, str] = {}
    for module in modules:
        for person in module.maintainers:
            people.setdefault(name_key(person), person)
    figures: list[MaintainerFigures] = []
    for key, person in people.items():
        theirs = tuple(m.name for m in modules if m.is_maintained_by(person))
        answered = [
            o.waiting
            for o in obligations
            if o.state is ObligationState.DISCHARGED and name_key(o.responder or "") == key
        ]
        figures.append(
            MaintainerFigures(
                person=person,
                modules=theirs,
                open=sum(1 for o in obligations if o.is_open and o.module in theirs),
                answered=len(answered),
                median_response=median(answered),
                p90_response=percentile(answered, 0.9),
                last_activity=last_seen.get(key),
            )
        )
    return figures


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def _last_post(context: _Context, person: str) -> datetime | None:
    return context.last_seen.get(name_key(person))


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The middle value; the mean of the two middle ones for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """Nearest-rank percentile: always a value that occurred, easy to check by hand."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


# --------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------


def format_duration(value: timedelta) -> str:
    """ "7 days", "1 day", "36 hours", "45 minutes": the unit a person would use."""
    if value >= timedelta(days=1) and value % timedelta(days=1) == timedelta(0):
        return _plural(value // timedelta(days=1), "day")
    if value >= timedelta(hours=1) and value % timedelta(hours=1) == timedelta(0):
        return _plural(value // timedelta(hours=1), "hour")
    if value >= timedelta(days=2):
        return f"{value / timedelta(days=1):.1f} days"
    if value >= timedelta(hours=1):
        return f"{value / timedelta(hours=1):.1f} hours"
    return _plural(value // timedelta(minutes=1), "minute")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _union(spans: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(one: Sequence[Interval], other: Sequence[Interval]) -> list[Interval]:
    found: list[Interval] = []
    for start_a, end_a in one:
        for start_b, end_b in other:
            start, end = max(start_a, start_b), min(end_a, end_b)
            if start < end:
                found.append((start, end))
    return _union(found)


def _all_away(quiet: Mapping[str, list[Interval]], maintainers: Sequence[str]) -> list[Interval]:
    """When every maintainer was away at once; never, for a module without maintainers."""
    if not maintainers:
        return []
    spans = quiet.get(name_key(maintainers[0]), [])
    for person in maintainers[1:]:
        spans = _intersect(spans, quiet.get(name_key(person), []))
    return spans


def _clip(spans: Sequence[Interval], end: datetime) -> list[Interval]:
    return [(start, min(stop, end)) for start, stop in spans if start < end]


def _overlap(spans: Sequence[Interval], start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    for span_start, span_end in spans:
        lo, hi = max(span_start, start), min(span_end, end)
        if lo < hi:
            total += hi - lo
    return total


def _covers(spans: Sequence[Interval], at: datetime) -> bool:
    return any(start <= at < end for start, end in spans)


def _instant_after(start: datetime, wait: timedelta, pauses: Sequence[Interval]) -> datetime:
    """When ``wait`` of unpaused time has passed since ``start``."""
    at, remaining = start, wait
    for pause_start, pause_end in pauses:
        if pause_end <= at:
            continue
        if pause_start > at:
            if remaining <= pause_start - at:
                return at + remaining
            remaining -= pause_start - at
        at = max(at, pause_end)
    return at + remaining


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes and durations as plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable_fields(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _jsonable_fields(record: Any) -> dict[str, Any]:
    """A dataclass instance's fields, each as a plain JSON value."""
    return {f.name: _jsonable(getattr(record, f.name)) for f in fields(record)}


# --------------------------------------------------------------------------
# One module at a time: what a stored evaluation is computed from, and joined again
# --------------------------------------------------------------------------

# Stored times have whole seconds: a moment "strictly after" one is a second later.
_AFTER = timedelta(seconds=1)


def modules_reached(
    posts: Iterable[Post],
    modules: Sequence[Module],
    identities: People,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> frozenset[str]:
    """The modules whose evaluation these posts (one conversation's) can change.

    A post reaches a module it is about (its match rules, a CI notice of it), whose
    maintainer it mentions, or whose maintainer wrote it (an answer, and their last
    activity). Everything :func:`evaluate` reads for one module comes from the
    conversations such posts are in, so a module is evaluated from those alone.
    """
    roles = maintainer_roles(modules)
    found: set[str] = set()
    for post in posts:
        found |= post_reach(post, modules, identities, categories_of(post, categories), roles)
    return frozenset(found)


def maintainer_roles(modules: Sequence[Module]) -> dict[str, frozenset[str]]:
    """A maintainer's name key -> the modules they maintain."""
    roles: dict[str, set[str]] = {}
    for module in modules:
        for maintainer in module.maintainers:
            roles.setdefault(name_key(maintainer), set()).add(module.name)
    return {key: frozenset(names) for key, names in roles.items()}


def categories_of(post: Post, categories: Mapping[str, Sequence[str]] | None) -> tuple[str, ...]:
    """The forum category names of the post and of its thread (none for mail)."""
    if not categories:
        return ()
    return (*categories.get(thread_of(post), ()), *categories.get(post.key, ()))


def post_reach(
    post: Post,
    modules: Sequence[Module],
    identities: People,
    categories: Sequence[str],
    roles: Mapping[str, frozenset[str]],
) -> frozenset[str]:
    """The modules one post reaches (:func:`modules_reached`): ``categories`` are its own
    and its thread's (:func:`categories_of`), ``roles`` :func:`maintainer_roles`."""
    found = {m.name for m in match_modules(post, modules, categories)}
    for person in identities.mentioned(post):
        found.update(roles.get(name_key(person), ()))
    author = identities.author_of(post)
    if author.verified:
        found.update(roles.get(name_key(author.name), ()))
    return frozenset(found)


def combine(parts: Iterable[Evaluation], modules: Sequence[Module], now: datetime) -> Evaluation:
    """One evaluation from each module's own (``evaluate(..., only=[name])``), in the
    order and with the figures :func:`evaluate` gives for all of them at once."""
    index = {m.name: i for i, m in enumerate(modules)}
    found = [p for p in parts]
    obligations = sorted(
        (o for part in found for o in part.obligations if o.module in index),
        key=lambda o: (o.opened_at, o.post.key, index[o.module]),
    )
    owed: dict[str, list[Decision]] = {}
    for part in found:
        for decision in part.decisions:
            owed.setdefault(decision.obligation, []).append(decision)
    decisions = [d for o in obligations if o.is_open for d in owed.pop(o.key, [])]
    figures = {f.module: f for part in found for f in part.modules}
    flags = {f.module: f for part in found for f in part.flags}
    last_seen = {
        name_key(f.person): f.last_activity
        for part in found
        for f in part.maintainers
        if f.last_activity is not None
    }
    return Evaluation(
        now=now,
        obligations=tuple(obligations),
        decisions=tuple(decisions),
        modules=tuple(figures[m.name] for m in modules if m.name in figures),
        maintainers=tuple(maintainer_figures(modules, obligations, last_seen)),
        flags=tuple(flags[m.name] for m in modules if m.name in flags),
        catch_up=tuple(o for o in obligations if o.is_open and o.backlog),
    )


def as_of(evaluation: Evaluation, now: datetime) -> Evaluation:
    """A stored evaluation read at a later ``now``, before its :func:`next_change`: only
    the open obligations' waiting has grown (nothing paused or resumed meanwhile, no
    stage or rung fell due: those moments are in its next change), and with it what
    the decisions and flags say of it."""
    step = now - evaluation.now
    if step <= timedelta(0):
        return evaluation
    obligations = tuple(_obligation_as_of(o, evaluation.now, step) for o in evaluation.obligations)
    by_key = {o.key: o for o in obligations}
    return replace(
        evaluation,
        now=now,
        obligations=obligations,
        decisions=tuple(_decision_as_of(d, by_key) for d in evaluation.decisions),
        flags=tuple(
            replace(flag, evidence=_evidence_as_of(flag.module, flag.evidence, by_key))
            for flag in evaluation.flags
        ),
        catch_up=tuple(o for o in obligations if o.is_open and o.backlog),
    )


def _obligation_as_of(obligation: Obligation, then: datetime, step: timedelta) -> Obligation:
    """Open, it waited ``step`` longer; paused, the pause did, and its next rung (when
    it falls after the pause) moved on with it."""
    if obligation.state is ObligationState.OPEN:
        return replace(obligation, waiting=obligation.waiting + step)
    if obligation.state is not ObligationState.PAUSED:
        return obligation
    due = obligation.next_due
    return replace(
        obligation,
        paused=obligation.paused + step,
        next_due=due + step if due is not None and due > then else due,
    )


def _decision_as_of(decision: Decision, obligations: Mapping[str, Obligation]) -> Decision:
    obligation = obligations.get(decision.obligation)
    if obligation is None:
        return decision
    return replace(
        decision,
        waiting=obligation.waiting,
        reason=_reason(obligation),
        evidence=_evidence_as_of(decision.module, decision.evidence, obligations),
    )


def _evidence_as_of(
    module: str, evidence: tuple[Evidence, ...], obligations: Mapping[str, Obligation]
) -> tuple[Evidence, ...]:
    found: list[Evidence] = []
    for item in evidence:
        obligation = obligations.get(obligation_key(module, item.post.key))
        found.append(item if obligation is None else replace(item, waiting=obligation.waiting))
    return tuple(found)


def next_change(
    evaluation: Evaluation,
    policies: Mapping[str, StagePolicy],
    *,
    window: timedelta,
    catch_up: CatchUpPolicy | None = None,
    quiet: Iterable[QuietPeriod] = (),
    moments: Iterable[datetime] = (),
) -> datetime | None:
    """The first moment after ``evaluation.now`` at which the clock alone may change it:
    a stage or a rung falling due, a backlog or an expiry, a quiet period beginning or
    ending, a delivery leaving the ladder's window. ``moments``: the caller's own (a
    conversation leaving the window, a post dated later). Early is safe (it is
    evaluated again and finds the next); late is not."""
    now = evaluation.now
    found: list[datetime] = list(moments)
    for period in quiet:
        found += [period.start, period.end]
    for obligation in evaluation.obligations:
        found += [d.recorded_at + window + _AFTER for d in obligation.history]
        if not obligation.is_open:
            continue
        policy = policies.get(obligation.module)
        if policy is not None:
            # Waiting grows no faster than the clock: the next threshold is no sooner.
            found += [
                now + (policy.threshold(s) - obligation.waiting)
                for s in LADDER
                if policy.threshold(s) > obligation.waiting
            ][:1]
        if obligation.next_due is not None:
            found.append(obligation.next_due)
            if catch_up is not None:
                found.append(obligation.next_due + catch_up.late_after)
        if catch_up is not None:
            found.append(obligation.opened_at + catch_up.max_age + _AFTER)
    return min((moment for moment in found if moment > now), default=None)


def evaluation_from_dict(data: Mapping[str, Any]) -> Evaluation:
    """An :class:`Evaluation` from its ``to_dict()`` (what the store keeps)."""
    decode = _decoder(Evaluation)
    assert decode is not None
    found: Evaluation = decode(data)
    return found


Decode = Callable[[Any], Any]


@cache
def _decoder(kind: Any) -> Decode | None:
    """The inverse of :func:`_jsonable` for values of type ``kind``, worked out once per
    type (a dashboard decodes thousands of obligations); None: the JSON value is it."""
    origin = get_origin(kind)
    if origin in (Union, UnionType):
        inner = _decoder(next(a for a in get_args(kind) if a is not type(None)))
        return None if inner is None else partial(_optional, inner)
    if origin is tuple:
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return tuple if item is None else partial(_tuple_of, item)
        return partial(_fixed_tuple, tuple(_decoder(a) or _same for a in args))
    if kind is datetime:
        return datetime.fromisoformat
    if kind is timedelta:
        return _seconds
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    if isinstance(kind, type) and is_dataclass(kind):
        hints = get_type_hints(kind)
        plan = tuple((f.name, _decoder(hints[f.name])) for f in fields(kind))
        return partial(_record, kind, plan)
    return None


def _optional(inner: Decode, value: Any) -> Any:
    return None if value is None else inner(value)


def _tuple_of(item: Decode, value: Any) -> tuple[Any, ...]:
    return tuple(map(item, value))


def _fixed_tuple(items: tuple[Decode, ...], value: Any) -> tuple[Any, ...]:
    return tuple(decode(part) for decode, part in zip(items, value, strict=True))


def _same(value: Any) -> Any:
    return value


def _seconds(value: Any) -> timedelta:
    return timedelta(seconds=value)


def _record(kind: type, plan: tuple[tuple[str, Decode | None], ...], value: Any) -> Any:
    return kind(**{name: value[name] if f is None else f(value[name]) for name, f in plan})
