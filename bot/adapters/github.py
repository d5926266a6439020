"""GitHub: the REST API for backfill and polling, and the ``/hooks/github`` webhook endpoint.

REST (``https://api.github.com``, ``Accept: application/vnd.github+json``, API
version 2022-11-28), read-only, with a token from the environment:

- ``GET /repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&since=T&per_page=100``
  issues and pull requests (these carry ``pull_request``) updated at or after T;
- ``GET /repos/{o}/{r}/issues/comments?sort=updated&direction=asc&since=T&per_page=100``
  conversation comments of both (``issue_url`` names the number);
- ``GET /repos/{o}/{r}/pulls/comments?sort=updated&direction=asc&since=T&per_page=100``
  comments on diff lines (``pull_request_url``, ``pull_request_review_id``);
- ``GET /repos/{o}/{r}/pulls/{n}/reviews?per_page=100`` a pull request's reviews;
- ``GET /repos/{o}/{r}/contents/{path}`` with ``Accept: application/vnd.github.raw``
  for CODEOWNERS.

Pages follow the ``Link: <...>; rel="next"`` header. A first page is asked with
``If-None-Match`` and the ETag of its last answer: a ``304 Not Modified`` costs no
quota. Rate limits are honoured by :class:`~bot.adapters.http_fetch.HttpFetcher`
(``X-RateLimit-Remaining``/``-Reset``, and ``Retry-After`` on a secondary limit).

The webhook endpoint checks ``X-Hub-Signature-256`` (``sha256=`` and the HMAC-SHA256
of the raw body keyed with the webhook secret) in constant time: without a valid
signature the answer is 401 and nothing is stored. A valid delivery of an event
Quorum reads is committed (``persist``) before the 200; ``X-GitHub-Delivery`` makes a
redelivery a duplicate, stored once and answered 200 again.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.adapters.http_fetch import Answer, HttpFetcher
from bot.adapters.webhooks import signature
from bot.core.github import EVENTS, Delivery

logger = logging.getLogger(__name__)

API_URL = "https://api.github.com"
SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_HINTS = {
    401: "the token was refused: check the variable named by github.token_env",
    403: "access refused: the token needs read access to the repository",
    404: "no such repository, or it is private and the token cannot read it",
    422: "GitHub refused the query's parameters",
}

Etags = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing: its items, and the ETag to send next time (first pages)."""

    url: str
    items: list[dict[str, Any]]
    etag: str | None


class GitHubClient:
    """Read-only access to the repositories Quorum follows."""

    def __init__(self, http: HttpFetcher, api_url: str = API_URL) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/")

    async def listing(
        self, path: str, params: dict[str, str], *, etag: str | None, what: str
    ) -> AsyncIterator[Page]:
        """Every page of a listing; nothing at all when the first page is unchanged (304)."""
        url: str | None = f"{self.api_url}{path}"
        query: dict[str, str] | None = {**params, "per_page": "100"}
        first = True
        while url is not None:
            headers = {"If-None-Match": etag} if first and etag else {}
            answer = await self.http.request(
                "GET",
                url,
                params=query,
                headers=headers,
                accept=frozenset({200, 304}),
                what=what,
                hints=_HINTS,
            )
            if answer.status == 304:
                return
            yield Page(
                answer.url, _json_list(answer), answer.headers.get("ETag") if first else None
            )
            url, query, first = _next_link(answer), None, False

    def file_url(self, repo: str, path: str) -> str:
        return f"{self.api_url}/repos/{repo}/contents/{path}"

    async def file(self, repo: str, path: str, *, etag: str | None, what: str) -> Answer:
        """A file of the default branch: 200 with its bytes, 304 unchanged, or 404."""
        headers = {"Accept": "application/vnd.github.raw"}
        if etag:
            headers["If-None-Match"] = etag
        return await self.http.request(
            "GET",
            self.file_url(repo, path),
            headers=headers,
            accept=frozenset({200, 304, 404}),
            what=what,
            hints=_HINTS,
        )


def api_headers(token: str | None) -> dict[str, str]:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _json_list(answer: Answer) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(answer.body)
    except ValueError:
        return []
    return [item for item in parsed if isinstance(item, dict)] if isinstance(parsed, list) else []


def _next_link(answer: Answer) -> str | None:
    match = _NEXT.search(answer.headers.get("Link", ""))
    return match.group(1) if match else None


# -- the webhook endpoint ------------------------------------------------------------------


def verify(secret: bytes, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is ``sha256=`` and the HMAC of ``body``, compared in constant time."""
    if not secret or not given:
        return False
    try:
        given_bytes = given.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(signature(secret, body).encode("ascii"), given_bytes)


Persist = Callable[[Delivery], Awaitable[bool]]


class GitHubWebhooks:
    """``POST /hooks/github``: verify, store the events Quorum reads, then answer."""

    def __init__(
        self,
        secret: bytes,
        persist: Persist,
        notify: Callable[[], None],
        *,
        repos: frozenset[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._secret = secret
        self._persist = persist
        self._notify = notify
        self._repos = frozenset(repo.casefold() for repo in repos)
        self._clock = clock

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(self._secret, body, request.headers.get(SIGNATURE_HEADER)):
            # The body is never logged: it is not ours until it is signed.
            logger.warning(
                "GitHub webhook refused: missing or wrong signature (%s)", request.remote
            )
            return web.json_response({"error": "invalid signature"}, status=401)
        event = request.headers.get(EVENT_HEADER, "")
        delivery_id = request.headers.get(DELIVERY_HEADER, "")
        if event == "ping":
            return web.json_response({"pong": True})
        if event not in EVENTS:
            return web.json_response({"ignored": event or "no event"})
        repo = _repo_of(body)
        if repo is None or repo.casefold() not in self._repos:
            return web.json_response({"ignored": f"repository {repo or '?'} is not followed"})
        if not delivery_id:
            return web.json_response({"error": f"no {DELIVERY_HEADER} header"}, status=400)
        delivery = Delivery(delivery_id, event, body, self._clock())
        try:
            stored = await self._persist(delivery)
        except Exception:
            # Not stored, so not acknowledged: GitHub shows the failure and it can be redelivered.
            logger.exception("storing GitHub delivery %s (%s) failed", delivery_id, event)
            return web.json_response({"error": "not stored"}, status=503)
        self._notify()
        return web.json_response({"stored": stored, "duplicate": not stored})


def _repo_of(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    repository = payload.get("repository") if isinstance(payload, dict) else None
    name = repository.get("full_name") if isinstance(repository, dict) else None
    return name if isinstance(name, str) else None
