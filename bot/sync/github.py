"""GitHub as a direct source: webhook deliveries and REST polls become posts.

Every item is written as the mail GitHub mirrors to a list (``bot.core.github``)
and stored through the import path, keyed by that mail's Message-ID: a comment
read here and the same comment mirrored to dev@ are one post, whichever came
first: the store knows the two renderings of one Message-ID for one mail
(:meth:`~bot.store.Store.copies_from`).

A poll reads, per repository, issues and pull requests, then conversation
comments, then comments on diff lines, each listing sorted by update time from
its own cursor; each page is stored before the cursor moves past it, so a poll
stopped by a failure or by its request budget continues where it stopped. A
pull request's reviews are read with its page of the issue listing. First pages
are conditional (ETag): a poll that finds nothing new costs no API quota.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

from bot.adapters.archives import RawMessage
from bot.adapters.discourse import RetryPolicy
from bot.adapters.github import CODEOWNERS_PATHS, GitHubClient, GitHubWebhooks, api_headers
from bot.adapters.http_fetch import (
    BudgetSpent,
    FetchFailed,
    HttpFetcher,
    RateLimit,
    RequestBudget,
)
from bot.adapters.webhooks import WebhookServer, start_webhook_server
from bot.config import GitHubConfig, secret
from bot.core.github import (
    Delivery,
    Issue,
    Item,
    comment_item,
    issue_of,
    items_from_event,
    mirror_mail,
    number_from_url,
    review_comment_item,
    review_item,
    root_item,
)
from bot.errors import ConfigError
from bot.ingest import ImportReport, import_messages
from bot.store import IngestCounts, Store
from bot.store import sources as source_store
from bot.sync import DbCall

logger = logging.getLogger(__name__)

ORIGIN = "github"


# -- storing items -------------------------------------------------------------------------


def store_items(store: Store, items: Iterable[Item], *, now: datetime) -> IngestCounts:
    """Store items as their mirror mails; a mail already held (by either copy) is known."""
    chosen = {item.message_id: item for item in items}
    if not chosen:
        return IngestCounts()
    raws = [RawMessage(mirror_mail(item), "github") for item in chosen.values()]
    # GitHub's ids are its keys: one Message-ID is one comment, whatever the bytes.
    with store.copies_from(ORIGIN, authoritative=True):
        return import_messages(store, raws, ImportReport(), bulk=False).counts


def process_deliveries(store: Store, *, now: datetime, limit: int = 200) -> IngestCounts:
    """Turn stored webhook deliveries into posts; each is processed once."""
    total = IngestCounts()
    while pending := source_store.pending_deliveries(store, limit):
        items: list[Item] = []
        outcomes: dict[str, str] = {}
        for delivery in pending:
            found, outcome = _delivery_items(delivery)
            items.extend(found)
            outcomes[delivery.delivery_id] = outcome
        with store.db.atomic():
            total += store_items(store, items, now=now)
            source_store.finish_deliveries(store, outcomes, now=now)
    return total


def _delivery_items(delivery: Delivery) -> tuple[list[Item], str]:
    try:
        payload = json.loads(delivery.body)
        items = items_from_event(delivery.event, payload)
    except (ValueError, KeyError, TypeError) as error:
        logger.warning("GitHub delivery %s is not a %s event: %s", delivery.delivery_id,
                       delivery.event, error)  # fmt: skip
        return [], f"unreadable: {type(error).__name__}"
    return items, f"{len(items)} item(s)"


# -- polling -------------------------------------------------------------------------------


@dataclass
class GitHubReport:
    """What one fetch or poll of the followed repositories did."""

    repos: list[str]
    counts: IngestCounts = field(default_factory=IngestCounts)
    pages: int = 0
    unchanged: int = 0  # listings answered 304
    requests: int = 0
    error: str | None = None

    def summary(self) -> str:
        c = self.counts
        line = (
            f"github {', '.join(self.repos)}: {self.pages} page(s) read, {self.unchanged}"
            f" unchanged; read {c.read}, new {c.new}, already known {c.known};"
            f" {self.requests} request(s)"
        )
        return line if self.error is None else f"{line}; stopped: {self.error}"


@dataclass
class _Poll:
    db: DbCall
    client: GitHubClient
    repo: str
    since: str | None
    now: datetime
    reviews: bool
    report: GitHubReport
    issues: dict[int, Issue] = field(default_factory=dict)


async def poll_github(
    db: DbCall,
    client: GitHubClient,
    repos: list[str],
    *,
    since: datetime | None,
    now: datetime,
    reviews: bool = True,
    requests_used: Callable[[], int] = lambda: 0,
    on_page: Callable[[str, int], None] | None = None,
) -> GitHubReport:
    """Read what changed in each repository since its cursors (or ``since``) and store it."""
    report = GitHubReport(list(repos))
    start = _iso(since) if since else None
    try:
        for repo in repos:
            poll = _Poll(db, client, repo, start, now, reviews, report)
            await _poll_issues(poll, on_page)
            await _poll_comments(poll, "comments", f"/repos/{repo}/issues/comments", on_page)
            await _poll_comments(poll, "review_comments", f"/repos/{repo}/pulls/comments", on_page)
            await _store_codeowners(poll)
    except (FetchFailed, BudgetSpent) as error:
        report.error = str(error)  # the caller says it, once
        logger.info("%s", error)
    report.requests = requests_used()
    return report


async def _listing(
    poll: _Poll, resource: str, path: str, params: dict[str, str], what: str
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of a listing from the resource's cursor, conditional on the first page's ETag."""
    cursor = await poll.db(lambda s: source_store.github_cursor(s, poll.repo, resource))
    since = max(filter(None, (cursor, poll.since)), default=None)
    query = {**params, **({"since": since} if since else {})}
    key = f"{poll.client.api_url}{path}?{urlencode(sorted({**query, 'per_page': '100'}.items()))}"
    etag = await poll.db(lambda s: source_store.etag(s, key))
    seen = False
    async for page in poll.client.listing(path, query, etag=etag, what=what):
        seen = True
        poll.report.pages += 1
        await _remember_etag(poll, key, page.etag)
        yield page.items
    if not seen:
        poll.report.unchanged += 1


async def _poll_issues(poll: _Poll, on_page: Callable[[str, int], None] | None) -> None:
    params = {"state": "all", "sort": "updated", "direction": "asc"}
    what = f"GitHub {poll.repo} issues"
    async for page in _listing(poll, "issues", f"/repos/{poll.repo}/issues", params, what):
        items = []
        for data in page:
            issue = issue_of(poll.repo, data)
            poll.issues[issue.number] = issue
            items.append(root_item(issue, data))
            if issue.is_pull and poll.reviews:
                items.extend(await _reviews(poll, issue))
        await _store_page(poll, "issues", items, [d.get("updated_at") for d in page], on_page)


async def _reviews(poll: _Poll, issue: Issue) -> list[Item]:
    found: list[Item] = []
    path = f"/repos/{poll.repo}/pulls/{issue.number}/reviews"
    what = f"GitHub {poll.repo} #{issue.number} reviews"
    key = f"{poll.client.api_url}{path}?per_page=100"
    etag = await poll.db(lambda s: source_store.etag(s, key))
    async for page in poll.client.listing(path, {}, etag=etag, what=what):
        await _remember_etag(poll, key, page.etag)
        found.extend(i for i in (review_item(issue, r) for r in page.items) if i is not None)
    return found


async def _remember_etag(poll: _Poll, key: str, value: str | None) -> None:
    if value:
        await poll.db(partial(source_store.record_etag, url=key, value=value, now=poll.now))


async def _poll_comments(
    poll: _Poll, resource: str, path: str, on_page: Callable[[str, int], None] | None
) -> None:
    params = {"sort": "updated", "direction": "asc"}
    what = f"GitHub {poll.repo} {resource.replace('_', ' ')}"
    on_diff = resource == "review_comments"
    async for page in _listing(poll, resource, path, params, what):
        items = []
        for data in page:
            url = str(data.get("pull_request_url" if on_diff else "issue_url") or "")
            number = number_from_url(url)
            if number is None:
                continue
            issue = await _issue(poll, number)
            items.append(review_comment_item(issue, data) if on_diff else comment_item(issue, data))
        await _store_page(poll, resource, items, [d.get("updated_at") for d in page], on_page)


async def _issue(poll: _Poll, number: int) -> Issue:
    """The issue or pull request a comment belongs to, asked for (and stored) when this
    poll has not listed it: a comment can outlive the issue listing's cursor."""
    known = poll.issues.get(number)
    if known is not None:
        return known
    answer = await poll.client.http.request(
        "GET",
        f"{poll.client.api_url}/repos/{poll.repo}/issues/{number}",
        what=f"GitHub {poll.repo} #{number}",
    )
    data = json.loads(answer.body)
    issue = issue_of(poll.repo, data)
    await poll.db(lambda s: store_items(s, [root_item(issue, data)], now=poll.now))
    poll.issues[number] = issue
    return issue


async def _store_page(
    poll: _Poll,
    resource: str,
    items: list[Item],
    updated: list[Any],
    on_page: Callable[[str, int], None] | None,
) -> None:
    """Store a page's items, then move the cursor past them (in that order: resumable)."""
    counts = await poll.db(lambda s: store_items(s, items, now=poll.now))
    poll.report.counts += counts
    latest = max((u for u in updated if isinstance(u, str)), default=None)
    if latest is not None:
        await poll.db(
            lambda s: source_store.advance_github_cursor(
                s, poll.repo, resource, latest, now=poll.now
            )
        )
    if on_page is not None:
        on_page(f"{poll.repo} {resource}", counts.new)


async def _store_codeowners(poll: _Poll) -> None:
    """The repository's CODEOWNERS, from where GitHub looks for it (where it was last found
    first); conditional, so an unchanged file costs no quota."""
    found = await poll.db(lambda s: source_store.github_cursor(s, poll.repo, "codeowners"))
    for path in sorted(CODEOWNERS_PATHS, key=lambda p: p != found):
        if await _codeowners_at(poll, path):
            return


async def _codeowners_at(poll: _Poll, path: str) -> bool:
    """Read (and store) the CODEOWNERS at ``path``; False when there is none there."""
    key = poll.client.file_url(poll.repo, path)
    etag = await poll.db(lambda s: source_store.etag(s, key))
    answer = await poll.client.file(poll.repo, path, etag=etag, what=f"GitHub {poll.repo} {path}")
    if answer.status == 404:
        return False
    if answer.status == 200:
        keep = partial(source_store.store_file, repo=poll.repo, path="CODEOWNERS")
        await poll.db(partial(keep, content=answer.body.decode("utf-8", "replace"), now=poll.now))
        await _remember_etag(poll, key, answer.headers.get("ETag"))
        where = partial(source_store.advance_github_cursor, now=poll.now, forward=False)
        await poll.db(lambda s: where(s, poll.repo, "codeowners", path))
    return True


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- configuration and the running service -------------------------------------------------


def github_fetcher(config: GitHubConfig, *, max_requests: int | None = None) -> HttpFetcher:
    """An HTTP fetcher with the token from the environment (never logged) and the budget."""
    token = secret(config.token_env)
    if token is None:
        logger.warning(
            "no GitHub token in %s: GitHub allows 60 unauthenticated requests an hour",
            config.token_env,
        )
    return HttpFetcher(
        budget=RequestBudget(max_requests or config.max_requests),
        retry=RetryPolicy(max_attempts=4, max_wait_seconds=config.max_wait_seconds),
        timeout_seconds=config.timeout_seconds,
        headers=api_headers(token),
    )


class GitHubService:
    """In ``quorum run``: the webhook endpoint, processing its deliveries, and the poll job."""

    def __init__(self, config: GitHubConfig, db: DbCall, wake: Callable[[], None]) -> None:
        self.config = config
        self._db = db
        self._wake = wake
        self._server: WebhookServer | None = None
        self._lock = asyncio.Lock()
        webhook_secret = secret(config.webhook.secret_env) if config.webhook.enabled else ""
        if config.webhook.enabled and webhook_secret is None:
            raise ConfigError(
                f"github.webhook: set the webhook secret in the environment variable"
                f" {config.webhook.secret_env} (see README, GitHub)"
            )
        self._secret = (webhook_secret or "").encode()
        # What /metrics reports of the polls. The token's quota as GitHub last stated it
        # (None until an answer did); failed attempts by kind since start; the requests
        # the last poll made (None before one); when a poll last ended without an error.
        self.rate_limit: RateLimit | None = None
        self.errors: Counter[str] = Counter()
        self.last_poll_requests: int | None = None
        self.last_poll_ok: float | None = None

    async def start(self) -> tuple[str, int] | None:
        if not self.config.webhook.enabled:
            return None
        settings = self.config.webhook
        handler = GitHubWebhooks(
            self._secret, self._persist, self._wake, repos=frozenset(self.config.repos)
        )
        self._server = await start_webhook_server(
            handler,
            host=settings.host,
            port=settings.port,
            path=settings.path,
            max_body_bytes=settings.max_body_bytes,
        )
        return self._server.host, self._server.port

    async def _persist(self, delivery: Delivery) -> bool:
        return await self._db(lambda store: source_store.store_delivery(store, delivery))

    def process(self, store: Store) -> IngestCounts:
        return process_deliveries(store, now=datetime.now(UTC))

    async def poll(self, now: datetime) -> GitHubReport:
        """One poll of every followed repository (never two at once)."""
        async with self._lock, github_fetcher(self.config) as http:
            client = GitHubClient(http, self.config.api_url)
            try:
                report = await poll_github(
                    self._db,
                    client,
                    self.config.repos,
                    since=None,
                    now=now,
                    reviews=self.config.reviews,
                    requests_used=lambda: http.budget.used,
                )
            finally:  # a poll that raised spent quota and met errors all the same
                self._take_in(http)
        if report.error is None:
            self.last_poll_ok = time.time()
        log = logger.warning if report.error else logger.info
        log("%s", report.summary())
        return report

    def _take_in(self, http: HttpFetcher) -> None:
        """Keep what a poll's fetcher saw: each poll has a fetcher of its own."""
        # A poll whose answers stated no quota (it stopped before any came) changes nothing.
        self.rate_limit = http.rate_limit or self.rate_limit
        self.errors.update(http.errors)
        self.last_poll_requests = http.budget.used

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None
