"""The Discourse HTTP API over aiohttp: requests, rate limits and retries, nothing else.

Every request passes through a :class:`RequestBudget`, retries included, so the
forum never sees more than the configured number of requests per window. Both
forms of Discourse's 429 are honoured: the global limiter's ``Retry-After``
header (its body is plain text) and the controller limiter's JSON body with
``extras.wait_seconds`` (no header). 5xx answers, dropped connections and
timeouts are retried with exponential backoff; other 4xx are not retried.

Retrying ``POST /posts.json`` after a timeout does not post twice: Discourse
memoizes API creates, so the same request by the same user within two minutes
returns the first post instead of a new one. Past that window a repeat could
post twice, so a create that may have gone through (a timeout, a dropped
connection, a 5xx) is only repeated within ``RetryPolicy.create_retry_window``
of that attempt; after it the client raises, and the outbox records the post as
uncertain instead of guessing. A refusal (429) or a connection that never opened
took nothing, and is retried as any other request.

Answers are returned as parsed JSON; turning them into posts is ``bot.core.discourse``'s job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from yarl import URL

from bot.errors import QuorumError, TransientError

logger = logging.getLogger(__name__)

JsonObject = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 3
USER_AGENT = "quorum-bot/0.1 (Discourse API client)"


class DiscourseUnavailable(TransientError):
    """The forum kept failing (5xx, timeouts, long rate limits); a later cycle may succeed."""


class DiscourseRequestError(QuorumError):
    """The forum refused a request (4xx other than 429); repeating it will not help."""

    def __init__(self, method: str, path: str, status: int, body: object) -> None:
        self.method, self.path, self.status = method, path, status
        self.error_type = body.get("error_type") if isinstance(body, dict) else None
        errors = body.get("errors") if isinstance(body, dict) else None
        detail = "; ".join(str(e) for e in errors) if isinstance(errors, list) else ""
        super().__init__(f"Discourse answered {status} to {method} {path}: {detail}".rstrip(": "))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try before giving up until the next poll."""

    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    # A 429 asking for a longer wait than this ends the cycle instead of blocking it.
    max_wait_seconds: float = 300.0
    # Discourse memoizes an API create for 120 s (PostsController#create); a create
    # that may have gone through is repeated only this long after it was sent.
    create_retry_window: float = 90.0

    def backoff(self, failures: int) -> float:
        # int ** int is typed Any (a negative power gives a float); either result is a float.
        growth: float = 2 ** (failures - 1)
        return min(self.max_backoff_seconds, self.backoff_seconds * growth)


class RequestBudget:
    """At most ``limit`` requests in any ``window`` seconds, as the server will count them.

    A request occupies the budget from the moment it is sent until ``window``
    seconds after its answer arrived. The server records an arrival somewhere in
    between, so counting from the answer keeps any window of the server's log
    within the limit, whatever the network delay.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a request budget needs a limit >= 1 and a positive window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._finished: deque[float] = deque()
        self._in_flight = 0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    def remaining(self) -> int:
        """Requests that could be sent right now (0 while paused), for /metrics."""
        now = self._clock()
        if self._paused_until > now:
            return 0
        recent = sum(1 for finished in self._finished if finished + self.window > now)
        return max(0, self.limit - recent - self._in_flight)

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the server asked us to wait, or is failing)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._lock:  # first come, first served
            await self._wait_for_room()
            self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._finished.append(self._clock())
            self._released.set()

    async def _wait_for_room(self) -> None:
        while True:
            now = self._clock()
            while self._finished and self._finished[0] + self.window <= now:
                self._finished.popleft()
            if self._paused_until > now:
                await self._sleep(self._paused_until - now)
            elif len(self._finished) + self._in_flight < self.limit:
                return
            elif self._finished:
                await self._sleep(self._finished[0] + self.window - now)
            else:  # every slot is taken by a request still in flight
                self._released.clear()
                await self._released.wait()


def _error_kind(outcome: _Answer | BaseException) -> str:
    return error_kind(outcome.status if isinstance(outcome, _Answer) else None)


def error_kind(status: int | None) -> str:
    """How an attempt failed, in the few words /metrics labels it with (None: no answer).

    Shared with GitHub's fetcher, so an alert on a kind means the same for every source.
    """
    if status is None:
        return "connection"
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    return "not-json" if 200 <= status < 300 else "4xx"


class DiscourseClient:
    """One forum's API, authenticated as one user. Use ``async with`` or call ``close``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str,
        api_username: str,
        budget: RequestBudget,
        retry: RetryPolicy | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.base_url = URL(base_url.rstrip("/") + "/")
        self.budget = budget
        self.retry = retry or RetryPolicy()
        self._headers = {
            "Api-Key": api_key,
            "Api-Username": api_username,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        # Failed attempts by kind ("429", "5xx", "4xx", "not-json", "connection"), for /metrics.
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

    # -- reading ---------------------------------------------------------------------

    async def topic_list(self, category: tuple[str, int] | None, page: int) -> JsonObject:
        """A page of topics (30 a page, counted from 0) of a category, or of the whole forum."""
        path = f"c/{category[0]}/{category[1]}.json" if category else "latest.json"
        return await self.get(path, {"page": str(page)} if page else None)

    async def topic(self, topic_id: int, page: int | None = None) -> JsonObject:
        """A topic with every post id (``post_stream.stream``) and its first 20 posts;
        with ``page`` (from 1), the 20 posts of that page instead."""
        return await self.get(f"t/{topic_id}.json", {"page": str(page)} if page else None)

    async def topic_posts(self, topic_id: int, post_ids: Sequence[int]) -> JsonObject:
        """Those posts of a topic, in one request, with their ``raw`` Markdown."""
        query = [("post_ids[]", str(post_id)) for post_id in post_ids]
        return await self.get(f"t/{topic_id}/posts.json", [*query, ("include_raw", "true")])

    async def latest_posts(self, before: int | None = None) -> JsonObject:
        """The 50 newest posts of the forum (with ``raw``), or those with an id below ``before``."""
        return await self.get("posts.json", {"before": str(before)} if before else None)

    # -- writing ---------------------------------------------------------------------

    async def create_post(
        self, topic_id: int, raw: str, reply_to_post_number: int | None = None
    ) -> JsonObject:
        body = reply_body(topic_id, raw, reply_to_post_number)
        return await self.request("POST", "posts.json", json_body=body)

    async def update_post(
        self, post_id: int, raw: str, edit_reason: str | None = None
    ) -> JsonObject:
        body = edit_body(raw, edit_reason)
        return await self.request("PUT", f"posts/{post_id}.json", json_body=body)

    # -- plumbing --------------------------------------------------------------------

    async def get(
        self, path: str, query: Mapping[str, str] | Sequence[tuple[str, str]] | None = None
    ) -> JsonObject:
        return await self.request("GET", path, query=query)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        json_body: JsonObject | None = None,
    ) -> JsonObject:
        """One API call, with the budget, retries and redirects; the parsed JSON answer."""
        url = self.base_url.join(URL(path))
        if query:
            url = url.with_query(query)
        attempts = 0
        redirects = 0
        # Set once a create was sent that may have gone through: repeats must start by then.
        deadline: float | None = None
        while True:
            attempts += 1
            sent_at = time.monotonic()
            outcome = await self._send(method, url, json_body, deadline)
            if isinstance(outcome, _TooLate):
                raise self._too_late(method, url)
            if method == "POST" and deadline is None and _may_have_been_applied(outcome):
                deadline = sent_at + self.retry.create_retry_window
            if isinstance(outcome, _Answer) and outcome.status in _REDIRECTS and method == "GET":
                redirects += 1
                target = url.join(URL(outcome.location or ""))
                # The API key goes with every request: never follow it to another host.
                if redirects > _MAX_REDIRECTS or target.origin() != url.origin():
                    raise DiscourseRequestError(method, url.path, outcome.status, None)
                url = target
                attempts -= 1  # following a redirect is not a failure
                continue
            if isinstance(outcome, _Answer) and 200 <= outcome.status < 300:
                parsed = _json(outcome.body)
                if parsed is not None:
                    return parsed
            wait = self._wait_before_retry(method, url, outcome, attempts)
            if deadline is not None and time.monotonic() + wait > deadline:
                raise self._too_late(method, url)
            self.budget.pause(wait)

    def _too_late(self, method: str, url: URL) -> DiscourseUnavailable:
        return DiscourseUnavailable(
            f"{method} {url.path} may have been applied already, and Discourse only"
            f" recognises a repeat within {_CREATE_MEMO_SECONDS:.0f} s; not repeated"
        )

    def _wait_before_retry(
        self, method: str, url: URL, outcome: _Answer | BaseException, attempts: int
    ) -> float:
        """How long to wait before the next attempt, or raise when retrying is pointless."""
        where = f"{method} {url.path}"
        self.errors[_error_kind(outcome)] += 1
        if isinstance(outcome, _Answer) and outcome.status == 429:
            asked = _rate_limit_wait(outcome)
            wait = self.retry.backoff(attempts) if asked is None else asked
            if wait > self.retry.max_wait_seconds:
                raise DiscourseUnavailable(f"{where}: rate limited for {wait:.0f} s")
            why = f"rate limited; waiting {wait:.1f} s as asked"
        elif isinstance(outcome, _Answer) and outcome.status >= 500:
            wait, why = self.retry.backoff(attempts), f"answered {outcome.status}"
        elif isinstance(outcome, _Answer) and 200 <= outcome.status < 300:
            wait, why = self.retry.backoff(attempts), "answered something that is not JSON"
        elif isinstance(outcome, _Answer):
            raise DiscourseRequestError(method, url.path, outcome.status, _json(outcome.body))
        else:
            wait, why = self.retry.backoff(attempts), f"failed ({type(outcome).__name__})"
        if attempts >= self.retry.max_attempts:
            raise DiscourseUnavailable(f"{where} {why}; gave up after {attempts} attempts")
        logger.warning("Discourse %s %s; attempt %d, retrying", where, why, attempts)
        return wait

    async def _send(
        self, method: str, url: URL, json_body: JsonObject | None, deadline: float | None = None
    ) -> _Answer | _TooLate | BaseException:
        """One attempt; :class:`_TooLate`, unsent, when the budget let it go after ``deadline``."""
        session = self._open_session()
        async with self.budget.slot():
            if deadline is not None and time.monotonic() > deadline:
                return _TooLate()
            try:
                async with session.request(
                    method, url, json=json_body, allow_redirects=False, timeout=self._timeout
                ) as response:
                    body = await response.read()
                    logger.debug("Discourse %s %s -> %d", method, url.path, response.status)
                    return _Answer(
                        status=response.status,
                        body=body,
                        retry_after=response.headers.get("Retry-After"),
                        location=response.headers.get("Location"),
                    )
            except (aiohttp.ClientError, TimeoutError) as error:
                return error

    def _open_session(self) -> aiohttp.ClientSession:
        # Created on first use: a ClientSession belongs to the loop that is running then.
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers)
            # aiohttp silently re-sends an idempotent request once when the connection
            # drops. That request would pass the budget unseen, and we retry anyway.
            if "_retry_connection" in getattr(aiohttp.ClientSession, "ATTRS", ()):
                self._session._retry_connection = False
        return self._session


def reply_body(topic_id: int, raw: str, reply_to_post_number: int | None = None) -> JsonObject:
    """The JSON of ``POST /posts.json`` for a reply (createTopicPostPM in the spec)."""
    body: JsonObject = {"topic_id": topic_id, "raw": raw}
    if reply_to_post_number is not None:
        body["reply_to_post_number"] = reply_to_post_number
    return body


def edit_body(raw: str, edit_reason: str | None = None) -> JsonObject:
    """The JSON of ``PUT /posts/{id}.json`` (updatePost in the spec)."""
    post: JsonObject = {"raw": raw}
    if edit_reason:
        post["edit_reason"] = edit_reason
    return {"post": post}


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    retry_after: str | None
    location: str | None


class _TooLate:
    """An attempt not made: a repeat of a create would have come too late to be safe."""


_CREATE_MEMO_SECONDS = 120.0


def _may_have_been_applied(outcome: _Answer | BaseException) -> bool:
    """Whether a request that failed may still have done its work on the forum.

    A 429 or a 4xx refused it, and a connection that never opened never carried it;
    a 5xx, a timeout, a dropped connection or an unreadable 2xx answer say nothing.
    """
    if isinstance(outcome, _Answer):
        return outcome.status >= 500 or 200 <= outcome.status < 300
    return not isinstance(outcome, aiohttp.ClientConnectorError)


def _json(body: bytes) -> JsonObject | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _rate_limit_wait(answer: _Answer) -> float | None:
    """Seconds the forum asked us to wait: Retry-After, else the JSON extras.wait_seconds."""
    if answer.retry_after is not None:
        try:
            return max(0.0, float(answer.retry_after))
        except ValueError:
            pass  # an HTTP date: Discourse sends seconds, so fall through to the body
    body = _json(answer.body)
    extras = body.get("extras") if body else None
    wait = extras.get("wait_seconds") if isinstance(extras, dict) else None
    if isinstance(wait, int | float) and not isinstance(wait, bool):
        return max(0.0, float(wait))
    return None
