"""The dispatcher: takes recorded actions out of the outbox and delivers each at most once.

A run recovers what a previous process left half-done (once per dispatcher),
confirms uncertain mail our own ingest has seen since, claims what is due
under the per-run cap, and for each claimed action renders it, then either
records a dry run or sends it through its channel and records the outcome.

Channels are small classes (mail, Slack, later Discourse) with a pure
``render`` and an async ``send``. ``send`` must await the point of no return
it is handed immediately before the first byte that could make the message
visible; everything before that (connecting, authenticating, MAIL/RCPT) is
safe to repeat, so a failure there is retried, while a failure after it is
``uncertain`` and never resent automatically.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from bot.config import DispatchConfig
from bot.core.links import Archive, link_for
from bot.logs import event
from bot.model import Action, Post
from bot.store.outbox import Claimed, Due, EchoCheck, Outbox, Recovery, Status

if TYPE_CHECKING:
    from bot.store import Store

logger = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P")

# Retries back off from one minute, doubling, to at most an hour between attempts.
_FIRST_RETRY = timedelta(minutes=1)
_LONGEST_RETRY = timedelta(hours=1)


# -- what channels implement ----------------------------------------------------------


class DeliveryRefused(Exception):
    """The remote side answered and did not take the message: nothing was posted.

    ``permanent`` failures (5xx, invalid token, unknown channel) are not retried.
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class DeliveryUncertain(Exception):
    """The remote side may have taken the message (a 5xx after the request, a timeout)."""


@dataclass(frozen=True, slots=True)
class Rendered(Generic[P]):
    """A message ready for one channel.

    ``preview`` is what a person reads in a dry run and in `quorum log`;
    ``remote_id`` is set when the id is known before sending (mail's Message-ID),
    which lets our own ingest confirm an uncertain delivery later; ``refusal``
    says why a rule forbids sending it at all (loop safety).
    """

    payload: P
    preview: str
    remote_id: str | None = None
    refusal: str | None = None


PointOfNoReturn = Callable[[], Awaitable[None]]


class Channel(Protocol[P]):
    """One way out: mail to the list, a Slack message, a Discourse post."""

    @property
    def name(self) -> str: ...

    @property
    def enabled(self) -> bool: ...

    def render(self, action: Action, target: Post | None, now: datetime) -> Rendered[P]:
        """Pure. Raise DeliveryRefused when the action cannot be made into a message."""
        ...

    async def send(
        self, action: Action, rendered: Rendered[P], point_of_no_return: PointOfNoReturn
    ) -> str:
        """Deliver and return the remote id. Await ``point_of_no_return()`` last before
        the irreversible step; raise DeliveryRefused when the remote side said no."""
        ...


class StoreCall(Protocol):
    """``App.db``: runs a function with the store on the single writer thread."""

    def __call__(self, call: Callable[[Store], T], /) -> Awaitable[T]: ...


# -- what a run reports ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    kind: str
    channel: str
    status: Status
    detail: str = ""
    rendered: str | None = None


@dataclass(frozen=True, slots=True)
class DispatchReport:
    outcomes: tuple[Outcome, ...] = ()
    # Held back by max_per_run, by action kind; they go out in later runs.
    held: Mapping[str, int] = field(default_factory=dict)
    # Queued for channels this dispatcher does not have, by channel name.
    waiting: Mapping[str, int] = field(default_factory=dict)
    recovery: Recovery | None = None
    confirmed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def count(self, status: Status) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def sent(self) -> int:
        return self.count(Status.SENT)


# -- pure decisions -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CapDecision:
    take: tuple[str, ...]
    hold: tuple[Due, ...]
    waiting: tuple[Due, ...]


def decide_cap(due: Sequence[Due], max_per_run: int, channels: set[str]) -> CapDecision:
    """Oldest first, at most ``max_per_run`` of those a channel exists for."""
    deliverable = [item for item in due if item.route in channels]
    waiting = tuple(item for item in due if item.route not in channels)
    take = tuple(item.key for item in deliverable[:max_per_run])
    return CapDecision(take, tuple(deliverable[max_per_run:]), waiting)


def cap_note(max_per_run: int) -> str:
    return f"held back by dispatch.max_per_run = {max_per_run}; queued for the next run"


def cap_warning(held: Sequence[Due], max_per_run: int) -> str | None:
    """Name the kinds that overflowed: a rule emitting far too much shows up here first."""
    if not held:
        return None
    by_kind = Counter(item.kind for item in held)
    kinds = ", ".join(f"{kind}: {n}" for kind, n in by_kind.most_common())
    return (
        f"dispatch.max_per_run = {max_per_run} reached: {len(held)} action(s) held back"
        f" for the next run ({kinds}). If that is more than expected, check the rule"
        f" that produced them before enabling more (quorum log --status capped)."
    )


def waiting_warning(waiting: Sequence[Due]) -> str | None:
    if not waiting:
        return None
    by_route = Counter(item.route or "(unknown target)" for item in waiting)
    names = ", ".join(f"{route}: {n}" for route, n in sorted(by_route.items()))
    return f"{len(waiting)} action(s) wait for a channel that is not configured ({names})"


def retry_time(attempts: int, now: datetime, max_attempts: int) -> datetime | None:
    """When to try again after ``attempts`` tries, or None when it is time to give up."""
    if attempts >= max_attempts:
        return None
    # int ** int is typed Any (a negative power gives a float); this power is never negative.
    doubling: int = 2 ** max(attempts - 1, 0)
    delay = _FIRST_RETRY * doubling
    return now + min(delay, _LONGEST_RETRY)


def is_live(dispatch: DispatchConfig, channel: Channel[Any]) -> bool:
    """Sending needs both switches: dispatch.dry_run off and the channel enabled."""
    return not dispatch.dry_run and channel.enabled


def post_link(post: Post, archive: Archive | str) -> str | None:
    """A link a person can click to see the post: its own URL, else the list archive
    (``archive`` as `project.archive_url` gives it, or the :class:`Archive` of the config)."""
    links = archive if isinstance(archive, Archive) else Archive.of(archive)
    return link_for(post, links, subject=post.subject, at=post.created_at)


def describe(error: BaseException) -> str:
    """For the log. Exceptions here carry server answers, never our credentials."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# -- the dispatcher -------------------------------------------------------------------


class _Marker:
    """The point of no return for one delivery: commits ``in_flight_at``, then remembers."""

    def __init__(
        self,
        store: StoreCall,
        claimed: Claimed,
        rendered: Rendered[Any],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._claimed = claimed
        self._rendered = rendered
        self._clock = clock
        self.reached = False

    async def __call__(self) -> None:
        key, rendered, now = self._claimed.action.key, self._rendered, self._clock()
        await self._store(
            lambda store: Outbox(store).mark_in_flight(
                key, now, remote_id=rendered.remote_id, rendered=rendered.preview
            )
        )
        # Only once the marker is durable: if writing it failed, nothing was sent.
        self.reached = True


class Dispatcher:
    """Delivers the outbox. One per database: its first run settles what a crash left."""

    def __init__(
        self,
        store_call: StoreCall,
        channels: Mapping[str, Channel[Any]],
        config: DispatchConfig,
        clock: Callable[[], datetime],
        *,
        echo_proof: EchoCheck | None = None,
    ) -> None:
        """``echo_proof`` says whether a stored mail is the delivered copy of an uncertain
        action (the list's copy, with our signed Message-ID); without it none is settled."""
        self._store = store_call
        self._echo_proof = echo_proof
        self._channels = dict(channels)
        self._config = config
        self._clock = clock
        self._recovered = False
        # Runs never overlap: a scheduler tick that fires during a slow run waits.
        self._lock = asyncio.Lock()

    async def run_once(self, now: datetime) -> DispatchReport:
        async with self._lock:
            recovery = await self._recover(now)
            confirmed = await self._store(
                lambda store: Outbox(store).confirm_echoes(now, self._echo_proof)
            )
            decision, claimed = await self._store(lambda store: self._claim(store, now))
            outcomes = [await self._deliver(item, now) for item in claimed]
        report = DispatchReport(
            outcomes=tuple(outcomes),
            held=dict(Counter(item.kind for item in decision.hold)),
            waiting=dict(Counter(item.route for item in decision.waiting)),
            recovery=recovery,
            confirmed=tuple(confirmed),
            warnings=self._warnings(decision, recovery, outcomes),
        )
        for warning in report.warnings:
            logger.warning("%s", warning, extra=event("outbox.warning"))
        return report

    async def _recover(self, now: datetime) -> Recovery | None:
        # Only the first run: later, rows in "sending" are this dispatcher's own.
        if self._recovered:
            return None
        recovery = await self._store(lambda store: Outbox(store).recover(now))
        self._recovered = True
        return recovery

    def _claim(self, store: Store, now: datetime) -> tuple[CapDecision, list[Claimed]]:
        outbox = Outbox(store)
        decision = decide_cap(outbox.due(now), self._config.max_per_run, set(self._channels))
        claimed = outbox.claim(decision.take, now)
        outbox.hold([item.key for item in decision.hold], cap_note(self._config.max_per_run), now)
        return decision, claimed

    def _warnings(
        self, decision: CapDecision, recovery: Recovery | None, outcomes: Sequence[Outcome]
    ) -> tuple[str, ...]:
        found = [
            cap_warning(decision.hold, self._config.max_per_run),
            waiting_warning(decision.waiting),
        ]
        uncertain = [o.key for o in outcomes if o.status == Status.UNCERTAIN]
        if recovery is not None:
            uncertain = [*recovery.uncertain, *uncertain]
        if uncertain:
            found.append(
                f"{len(uncertain)} action(s) may or may not have been delivered and will not"
                f" be resent automatically; check and resolve them: {', '.join(uncertain)}"
            )
        return tuple(warning for warning in found if warning)

    async def _deliver(self, claimed: Claimed, now: datetime) -> Outcome:
        action = claimed.action
        channel = self._channels[claimed.route]
        try:
            rendered = channel.render(action, claimed.target, now)
        except DeliveryRefused as refused:
            return await self._failed(claimed, refused.reason, None)
        except Exception as error:
            # Rendering is pure: trying again would fail the same way.
            logger.exception(
                "rendering action %s failed",
                action.key,
                extra=event("outbox.render_failed", action_key=action.key, kind=action.kind),
            )
            return await self._failed(claimed, f"rendering failed: {describe(error)}", None)
        if rendered.refusal is not None:
            return await self._skipped(claimed, rendered)
        if not is_live(self._config, channel):
            return await self._dry_run(claimed, rendered)
        return await self._send(claimed, channel, rendered, now)

    async def _send(
        self, claimed: Claimed, channel: Channel[Any], rendered: Rendered[Any], now: datetime
    ) -> Outcome:
        action = claimed.action
        marker = _Marker(self._store, claimed, rendered, self._clock)
        try:
            remote_id = await channel.send(action, rendered, marker)
        except DeliveryRefused as refused:
            retry = None if refused.permanent else self._retry_time(claimed, now)
            return await self._failed(claimed, refused.reason, retry)
        except DeliveryUncertain as unclear:
            return await self._uncertain(claimed, describe(unclear))
        except Exception as error:
            if not marker.reached:
                # Nothing irreversible happened yet (no connection, TLS, AUTH ...).
                return await self._failed(claimed, describe(error), self._retry_time(claimed, now))
            return await self._uncertain(claimed, describe(error))
        if not marker.reached:
            logger.error(
                "channel %s sent %s without a point of no return", channel.name, action.key
            )
        sent_at = self._clock()
        await self._store(lambda store: Outbox(store).mark_sent(action.key, remote_id, sent_at))
        logger.info(
            "sent %s %s via %s as %s",
            action.kind,
            action.key,
            channel.name,
            remote_id,
            extra=event(
                "outbox.sent",
                action_key=action.key,
                kind=action.kind,
                channel=channel.name,
                remote_id=remote_id,
            ),
        )
        return Outcome(
            action.key, action.kind, claimed.route, Status.SENT, remote_id, rendered.preview
        )

    def _retry_time(self, claimed: Claimed, now: datetime) -> datetime | None:
        return retry_time(claimed.attempts, now, self._config.max_attempts)

    async def _failed(self, claimed: Claimed, reason: str, retry_at: datetime | None) -> Outcome:
        key = claimed.action.key
        when = f"; retry at {retry_at.isoformat()}" if retry_at else "; not retried"
        logger.warning(
            "action %s failed (attempt %d): %s%s",
            key,
            claimed.attempts,
            reason,
            when,
            extra=event(
                "outbox.failed",
                action_key=key,
                kind=claimed.action.kind,
                channel=claimed.route,
                attempt=claimed.attempts,
                retry_at=retry_at.isoformat() if retry_at else None,
            ),
        )
        at = self._clock()
        await self._store(lambda store: Outbox(store).mark_failed(key, reason, retry_at, at))
        return Outcome(key, claimed.action.kind, claimed.route, Status.FAILED, reason + when)

    async def _uncertain(self, claimed: Claimed, reason: str) -> Outcome:
        key = claimed.action.key
        detail = f"outcome unknown after the point of no return ({reason}); not resent"
        at = self._clock()
        await self._store(lambda store: Outbox(store).mark_uncertain(key, detail, at))
        return Outcome(key, claimed.action.kind, claimed.route, Status.UNCERTAIN, detail)

    async def _skipped(self, claimed: Claimed, rendered: Rendered[Any]) -> Outcome:
        key, reason = claimed.action.key, rendered.refusal or ""
        logger.info(
            "not sending %s: %s",
            key,
            reason,
            extra=event("outbox.skipped", action_key=key, kind=claimed.action.kind, reason=reason),
        )
        at = self._clock()
        await self._store(
            lambda store: Outbox(store).mark_skipped(key, reason, rendered.preview, at)
        )
        return Outcome(key, claimed.action.kind, claimed.route, Status.SKIPPED, reason)

    async def _dry_run(self, claimed: Claimed, rendered: Rendered[Any]) -> Outcome:
        key = claimed.action.key
        # The message itself only at debug level: a log line never carries a mail body at info.
        logger.info(
            "dry run, not sent (%s via %s); `quorum log` shows it",
            key,
            claimed.route,
            extra=event(
                "outbox.dry_run", action_key=key, kind=claimed.action.kind, channel=claimed.route
            ),
        )
        logger.debug("dry run of %s:\n%s", key, rendered.preview)
        at = self._clock()
        await self._store(lambda store: Outbox(store).mark_dry_run(key, rendered.preview, at))
        return Outcome(
            key, claimed.action.kind, claimed.route, Status.DRY_RUN, "", rendered.preview
        )
