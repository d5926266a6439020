"""HTTP for fetching from archives and GitHub: a request budget, retries, one clear error.

Every request, retries included, takes one unit of a :class:`RequestBudget`; when
it is spent the fetch stops with :class:`BudgetSpent` and what was stored stays
(a second run continues). Waits the server asks for are honoured: ``Retry-After``
(seconds or an HTTP date) on a 429 or a 403, and GitHub's ``X-RateLimit-Remaining:
0`` until ``X-RateLimit-Reset``; a wait longer than ``max_wait_seconds`` ends the
fetch with an error that says when to come back. 5xx answers, dropped connections
and timeouts are retried with exponential backoff. Any other status is a
:class:`FetchFailed` naming the status, the request and what to check.

For /metrics the fetcher remembers the quota the last answer stated (:class:`RateLimit`)
and counts failed attempts by kind, in the Discourse client's words.

Answers are read whole before they are returned: a stream cut in the middle is
a failure to retry, never half an archive to store.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from bot.adapters.discourse import RetryPolicy, error_kind
from bot.errors import QuorumError

logger = logging.getLogger(__name__)

USER_AGENT = "quorum-bot/0.1 (archive fetch; +https://github.com/)"
Sleep = Callable[[float], Awaitable[None]]

# What to check, by status, when a source has nothing more specific to say.
DEFAULT_HINTS: Mapping[int, str] = {
    400: "the server refused the request's parameters",
    401: "authentication failed: check the token in the environment",
    403: "access refused: is the archive public, and does the token allow reading it?",
    404: "not found: check the URL and the list or repository name",
    410: "gone: the archive no longer serves this",
}
_SERVER_HINT = "the server failed; run the same command again later (what was stored stays)"
_LIMIT_HINT = "the server kept rate limiting; run the same command again later"


class FetchFailed(QuorumError):
    """A request failed for good: the message names the status, the request and what to check."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BudgetSpent(QuorumError):
    """The run's request budget is used up; the next run continues where this one stopped."""


class RequestBudget:
    """At most ``limit`` requests in one run (retries count too)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a request budget needs a limit of at least 1")
        self.limit = limit
        self.used = 0

    def take(self) -> None:
        if self.used >= self.limit:
            raise BudgetSpent(
                f"the request budget of {self.limit} is used up; run again to continue"
                " (raise it with --max-requests)"
            )
        self.used += 1


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The API quota as one answer stated it (GitHub's ``X-RateLimit-*`` headers)."""

    remaining: int
    limit: int
    reset_at: float  # Unix time the quota is whole again


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer: status, headers and body."""

    status: int
    body: bytes
    headers: CIMultiDictProxy[str] = field(default_factory=lambda: CIMultiDictProxy(CIMultiDict()))
    url: str = ""


class HttpFetcher:
    """GET/POST with the budget, retries and rate limits. Use ``async with``."""

    def __init__(
        self,
        *,
        budget: RequestBudget,
        retry: RetryPolicy | None = None,
        timeout_seconds: float = 120.0,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.budget = budget
        self.retry = retry or RetryPolicy(max_attempts=4)
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._sleep = sleep
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        # GitHub said the quota is spent until then (epoch seconds).
        self._quota_back_at = 0.0
        # The quota as the last answer that stated it said (None until one did), and
        # failed attempts by kind ("429", "5xx", "4xx", "connection"): both for /metrics.
        self.rate_limit: RateLimit | None = None
        self.errors: Counter[str] = Counter()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        accept: frozenset[int] = frozenset({200}),
        what: str = "",
        hints: Mapping[int, str] | None = None,
    ) -> Answer:
        """One request, retried as needed; an answer whose status is in ``accept``."""
        target = URL(url).with_query(params) if params else URL(url)
        label = f"{what}: " if what else ""
        attempts = 0
        while True:
            await self._wait_for_quota(label, method, target)
            self.budget.take()
            attempts += 1
            outcome = await self._send(method, target, data, headers)
            if isinstance(outcome, Answer):
                self._note_quota(outcome)
                if outcome.status in accept:
                    return outcome
            wait = self._wait_before_retry(label, method, target, outcome, attempts, hints)
            # Info, not a warning: a retry that works is no news; one that fails is the error.
            logger.info("%s%s %s: retrying in %.1f s", label, method, target, wait)
            await self._sleep(wait)

    def _wait_before_retry(
        self,
        label: str,
        method: str,
        url: URL,
        outcome: Answer | BaseException,
        attempts: int,
        hints: Mapping[int, str] | None,
    ) -> float:
        where = f"{label}{method} {url}"
        self.errors[self._error_kind(outcome)] += 1
        if isinstance(outcome, Answer):
            asked = self._asked_wait(outcome)
            if asked is not None:
                if asked > self.retry.max_wait_seconds:
                    raise FetchFailed(
                        f"{where}: HTTP {outcome.status}, rate limited for {asked:.0f} s;"
                        f" run again after {_clock_time(self._clock() + asked)}",
                        outcome.status,
                    )
                if attempts < self.retry.max_attempts:
                    return asked
            if outcome.status < 500 and asked is None:
                hint = {**DEFAULT_HINTS, **(hints or {})}.get(outcome.status, "unexpected answer")
                raise FetchFailed(f"{where}: HTTP {outcome.status}: {hint}", outcome.status)
            why = f"HTTP {outcome.status}"
        else:
            why = f"no answer ({_describe(outcome)})"
        if attempts >= self.retry.max_attempts:
            limited = isinstance(outcome, Answer) and outcome.status in (403, 429)
            raise FetchFailed(
                f"{where}: {why} {attempts} times; {_LIMIT_HINT if limited else _SERVER_HINT}",
                outcome.status if isinstance(outcome, Answer) else None,
            )
        return self.retry.backoff(attempts)

    def _asked_wait(self, answer: Answer) -> float | None:
        """Seconds a 429 or 403 asks us to wait (Retry-After, or an exhausted quota)."""
        if answer.status not in (403, 429):
            return None
        retry_after = _retry_after(answer.headers.get("Retry-After"), self._clock())
        if retry_after is not None:
            return retry_after
        if answer.headers.get("X-RateLimit-Remaining") == "0":
            reset = _number(answer.headers.get("X-RateLimit-Reset"))
            if reset is not None:
                return max(0.0, reset - self._clock())
        return self.retry.backoff(1) if answer.status == 429 else None

    def _error_kind(self, outcome: Answer | BaseException) -> str:
        if not isinstance(outcome, Answer):
            return error_kind(None)
        if outcome.status == 403 and self._asked_wait(outcome) is not None:
            # GitHub's rate limits (primary and secondary) mostly come as 403: counted
            # as "429", so one kind says "rate limited" whatever the status.
            return error_kind(429)
        return error_kind(outcome.status)

    def _note_quota(self, answer: Answer) -> None:
        self.rate_limit = _rate_limit(answer.headers) or self.rate_limit
        if answer.headers.get("X-RateLimit-Remaining") == "0":
            reset = _number(answer.headers.get("X-RateLimit-Reset"))
            if reset is not None:
                self._quota_back_at = max(self._quota_back_at, reset)

    async def _wait_for_quota(self, label: str, method: str, url: URL) -> None:
        """Before a request: if the last answer spent the quota, wait for its reset."""
        wait = self._quota_back_at - self._clock()
        if wait <= 0:
            return
        if wait > self.retry.max_wait_seconds:
            raise FetchFailed(
                f"{label}{method} {url}: the API quota is spent;"
                f" run again after {_clock_time(self._quota_back_at)}"
            )
        await self._sleep(wait)
        self._quota_back_at = 0.0  # waited out; the next answer says how much is left

    async def _send(
        self, method: str, url: URL, data: bytes | None, headers: Mapping[str, str] | None
    ) -> Answer | BaseException:
        session = self._open_session()
        try:
            async with session.request(
                method,
                url,
                data=data,
                headers=dict(headers or {}),
                timeout=self._timeout,
                allow_redirects=True,
            ) as response:
                body = await response.read()
                logger.debug("%s %s -> %d (%d bytes)", method, url, response.status, len(body))
                return Answer(response.status, body, response.headers, str(response.url))
        except (aiohttp.ClientError, TimeoutError) as error:
            return error

    def _open_session(self) -> aiohttp.ClientSession:
        # Created on first use: a ClientSession belongs to the loop that is running then.
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers)
            # aiohttp re-sends an idempotent request once when the connection drops,
            # unseen by the budget; we retry anyway.
            if "_retry_connection" in getattr(aiohttp.ClientSession, "ATTRS", ()):
                self._session._retry_connection = False
        return self._session


def _rate_limit(headers: Mapping[str, str]) -> RateLimit | None:
    """The quota an answer states, if it states all of it (a 429 from a proxy does not)."""
    try:
        return RateLimit(
            remaining=int(headers["X-RateLimit-Remaining"]),
            limit=int(headers["X-RateLimit-Limit"]),
            reset_at=float(headers["X-RateLimit-Reset"]),
        )
    except (KeyError, ValueError):
        return None


def _retry_after(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}".rstrip(": ")


def _clock_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
