"""The forum's paths into the store: backfill, polling and webhooks; and posting back.

Like ``bot/ingest.py`` for mail, this module only orchestrates: the client
(``bot.adapters.discourse``) does the HTTP, ``bot.core.discourse`` turns JSON into
posts, and ``bot.store.forum`` keeps cursors and deliveries. Store calls go
through ``db`` (``App.db``), so SQLite stays on the single writer thread.

- **Backfill** lists the configured categories' topics, reads each topic once
  and fetches the posts beyond its first chunk in batches by id. Topics whose
  marker has not changed since the last backfill are skipped, and posts already
  held are not fetched again, so an interrupted backfill resumes cheaply.
- **Polling** reads ``/posts.json`` newest first down to the cursor (the
  highest post id seen). Posts are stored page by page, and the cursor moves
  only after the last page, in the same transaction as that page, so a fault
  never skips a post and a replay never duplicates one. The newest posts are
  read again on every poll, so their edits are seen; webhooks bring the others.
  A topic we hold posts of but never read whole (moved into a followed
  category, or bumped across pages while the backfill listed them) is then
  read whole.
- **Webhooks** are stored by the endpoint and processed here, after the 200.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bot.adapters import webhooks
from bot.adapters.discourse import (
    DiscourseClient,
    DiscourseRequestError,
    DiscourseUnavailable,
    RequestBudget,
    RetryPolicy,
)
from bot.config import MIN_POST_BATCH, DiscourseConfig, ForumConfig
from bot.core import discourse as forum_core
from bot.core.discourse import ForumPost, ForumSite
from bot.dispatch import DeliveryRefused, PointOfNoReturn, Rendered
from bot.errors import ConfigError, QuorumError
from bot.features.status_posts import STATUS_KIND
from bot.logs import event as log_event
from bot.model import Action, Post, Source
from bot.render import render
from bot.store import IngestCounts, Store
from bot.store import forum as forum_store
from bot.sync import DbCall

logger = logging.getLogger(__name__)
T = TypeVar("T")


# -- configuration -----------------------------------------------------------------------


def secret(name: str) -> str | None:
    """A secret from the environment; callers never log it."""
    value = os.environ.get(name, "").strip()
    return value or None


def make_client(
    name: str, forum: ForumConfig, *, budget: RequestBudget | None = None
) -> DiscourseClient:
    """The forum's client, authenticated from the environment."""
    api_key = secret(forum.api_key_env)
    if api_key is None:
        raise ConfigError(
            f"discourse.forums.{name}: set the forum's API key in the environment"
            f" variable {forum.api_key_env} (see README, Discourse)"
        )
    return DiscourseClient(
        forum.base_url,
        api_key=api_key,
        api_username=forum.api_username,
        budget=budget or RequestBudget(forum.requests_per_minute, 60.0),
        retry=RetryPolicy(
            max_attempts=forum.max_attempts,
            backoff_seconds=forum.backoff_seconds,
            max_backoff_seconds=forum.max_backoff_seconds,
            max_wait_seconds=forum.max_wait_seconds,
        ),
        timeout_seconds=forum.timeout_seconds,
    )


# -- store access ------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SyncReport:
    """What one backfill or poll did."""

    counts: IngestCounts = field(default_factory=IngestCounts)
    topics_read: int = 0
    topics_skipped: int = 0
    pages: int = 0
    skipped_posts: int = 0  # small actions, whispers, other categories
    # Topics that could not be read in full this time (recorded, retried later).
    topics_unread: int = 0
    # The highest post id seen in a topic's stream (the cursor without /posts.json).
    newest_post_id: int = 0
    # Posts of the topic being read that could not be read, and why (see sync_topic).
    unread: dict[int, str] = field(default_factory=dict)

    def summary(self) -> str:
        c = self.counts
        line = (
            f"{c.read} post(s) read, {c.new} new, {c.edited} edited; {self.topics_read} topic(s)"
            f" read, {self.topics_skipped} unchanged; {self.skipped_posts} skipped"
        )
        if self.topics_unread:
            line += f"; {self.topics_unread} topic(s) could not be read, tried again later"
        return line


# -- backfill and polling ----------------------------------------------------------------

# What says "this endpoint is not there for us" (a proxy, the API key's scope, an old
# or trimmed forum) rather than "this topic is gone": time to read another way.
_REFUSED = frozenset({403, 404, 405, 410})
# Unread topics tried again per poll, the longest waiting first: retries share the budget.
UNREAD_RETRIES_PER_POLL = 5


async def sync_forum(
    client: DiscourseClient, db: DbCall, site: ForumSite, forum: ForumConfig
) -> SyncReport:
    """Backfill on first run (or until a backfill completes), else poll for new posts."""
    state = await db(lambda store: forum_store.cursor(store, site.name))
    if state.last_post_id is None:
        if forum.backfill:
            return await backfill(client, db, site, forum)
        return await _start_from_newest(client, db, site, forum)
    return await poll(client, db, site, forum, state.last_post_id)


async def backfill(
    client: DiscourseClient, db: DbCall, site: ForumSite, forum: ForumConfig
) -> SyncReport:
    """Read every topic of the configured categories; then set the cursor.

    The cursor is the newest post id *before* reading history, so whatever is
    posted while the backfill runs is picked up by the first poll. A forum that
    does not let us read ``/posts.json`` is backfilled all the same, from its
    topic lists, and the cursor is then the newest post id the topics showed.
    """
    report = SyncReport()
    newest = await _newest_post_id(client, site)
    await _read_topic_lists(client, db, site, forum, report, until_unchanged=False)
    cursor = newest if newest is not None else report.newest_post_id
    await db(
        lambda store: forum_store.advance_cursor(
            store, site.name, cursor, now=_now(), backfilled=True
        )
    )
    logger.info("backfilled forum %s: %s", site.name, report.summary())
    return report


async def _read_topic_lists(
    client: DiscourseClient,
    db: DbCall,
    site: ForumSite,
    forum: ForumConfig,
    report: SyncReport,
    *,
    until_unchanged: bool,
) -> None:
    """Read the followed categories' topic lists, page by page, and each topic whose
    entry changed; ``until_unchanged`` stops a category at a page where none did (the
    lists come most recently bumped first)."""
    categories: list[tuple[str, int] | None] = [(c.slug, c.id) for c in forum.categories]
    for category in categories or [None]:
        page = 0
        while True:
            listing = forum_core.parse_topic_list(await client.topic_list(category, page))
            report.pages += 1
            read_before = report.topics_read + report.topics_unread
            for topic in listing.topics:
                if forum.wants(topic.category_id):
                    await _sync_listed_topic(client, db, site, forum, topic, report)
            changed = report.topics_read + report.topics_unread > read_before
            if not listing.has_more or not listing.topics or (until_unchanged and not changed):
                break
            page += 1


async def _newest_post_id(client: DiscourseClient, site: ForumSite) -> int | None:
    """The newest post id from ``/posts.json``; None when the forum refuses it."""
    try:
        return _newest_id(forum_core.parse_latest_posts(await client.latest_posts()))
    except DiscourseRequestError as error:
        if error.status not in _REFUSED:
            raise
        logger.info("forum %s: %s; reading its topic lists instead", site.name, error)
        return None


async def _sync_listed_topic(
    client: DiscourseClient,
    db: DbCall,
    site: ForumSite,
    forum: ForumConfig,
    topic: forum_core.TopicSummary,
    report: SyncReport,
) -> None:
    marker = await db(lambda store: forum_store.topic_marker(store, site.name, topic.id))
    if marker == topic.marker:
        report.topics_skipped += 1
        return
    await _sync_and_mark(client, db, site, forum, topic.id, topic.marker, report)


async def _sync_and_mark(
    client: DiscourseClient,
    db: DbCall,
    site: ForumSite,
    forum: ForumConfig,
    topic_id: int,
    marker: str,
    report: SyncReport,
) -> None:
    """Read a topic; mark it synced only when every post of it was read.

    Anything less (the topic refused, posts that neither the batch endpoint nor the
    topic's pages gave) is recorded as unread, shown in /healthz and `quorum stats`,
    and tried again later: an error is never taken for "nothing to read".
    """
    try:
        await sync_topic(client, db, site, forum, topic_id, report)
    except DiscourseRequestError as error:
        await _record_unread(db, site, topic_id, str(error), report)
        return
    except DiscourseUnavailable as error:
        await _record_unread(db, site, topic_id, str(error), report)
        raise
    reason = report.unread.pop(topic_id, None)
    if reason is not None:
        await _record_unread(db, site, topic_id, reason, report)
        return
    await db(
        lambda store: forum_store.mark_topic_synced(store, site.name, topic_id, marker, now=_now())
    )


async def _record_unread(
    db: DbCall, site: ForumSite, topic_id: int, error: str, report: SyncReport
) -> None:
    report.topics_unread += 1
    logger.warning(
        "forum %s: topic %d could not be read in full (%s); it is tried again later",
        site.name,
        topic_id,
        error,
    )
    await db(lambda store: forum_store.record_unread(store, site.name, topic_id, error, now=_now()))


async def sync_topic(
    client: DiscourseClient,
    db: DbCall,
    site: ForumSite,
    forum: ForumConfig,
    topic_id: int,
    report: SyncReport | None = None,
) -> SyncReport:
    """One topic: its view (1 request), then the posts we lack in batches by id.

    A topic of N posts costs 1 + ceil((N - 20) / batch) requests the first time,
    and only the view plus the new posts' batches afterwards. Where the batch
    endpoint fails (a proxy or an API key's scope may refuse it), the topic's pages
    (``/t/{id}.json?page=N``, 20 posts each) are read instead; posts that neither
    gives are noted in ``report.unread`` under the topic's id.
    """
    report = report if report is not None else SyncReport()
    view = forum_core.parse_topic_view(await client.topic(topic_id))
    report.topics_read += 1
    report.newest_post_id = max(report.newest_post_id, *view.stream, 0)
    await _store_posts(db, site, forum, view.posts, report)
    in_view = {post.id for post in view.posts}
    known = await db(lambda store: forum_store.known_post_ids(store, site, view.stream))
    missing = [pid for pid in view.stream if pid not in in_view and pid not in known]
    missing = await _fetch_by_id(client, db, site, forum, view, missing, report)
    if missing:
        unread, error = await _fetch_by_page(client, db, site, forum, view, missing, report)
        if unread:
            report.unread[topic_id] = f"{len(unread)} post(s) could not be read: {error}"
    return report


async def _fetch_by_id(
    client: DiscourseClient,
    db: DbCall,
    site: ForumSite,
    forum: ForumConfig,
    view: forum_core.TopicView,
    missing: list[int],
    report: SyncReport,
) -> list[int]:
    """Fetch ``missing`` in batches by id; what is left when the endpoint fails."""
    batch_size = forum.post_batch_size
    while missing:
        batch, rest = missing[:batch_size], missing[batch_size:]
        try:
            answer = await client.topic_posts(view.topic.id, batch)
        except DiscourseRequestError as error:
            if error.status == 400 and batch_size > MIN_POST_BATCH:
                # A forum that caps post_ids (some proxies and plugins do): ask for fewer.
                batch_size = max(MIN_POST_BATCH, batch_size // 2)
                logger.info("forum %s caps post_ids; batches of %d", site.name, batch_size)
                continue
            return _read_by_pages(site, view, error, missing)
        except DiscourseUnavailable as error:
            return _read_by_pages(site, view, error, missing)
        posts = forum_core.parse_topic_posts(answer, view.topic)
        await _store_posts(db, site, forum, posts, report)
        missing = rest
    return []


def _read_by_pages(
    site: ForumSite, view: forum_core.TopicView, error: QuorumError, missing: list[int]
) -> list[int]:
    logger.warning(
        "forum %s: %s; reading topic %d page by page instead", site.name, error, view.topic.id
    )
    return missing


async def _fetch_by_page(
    client: DiscourseClient,
    db: DbCall,
    site: ForumSite,
    forum: ForumConfig,
    view: forum_core.TopicView,
    missing: list[int],
    report: SyncReport,
) -> tuple[list[int], str]:
    """Read the topic pages that hold ``missing``; the ids no page gave, and why."""
    position = {post_id: index for index, post_id in enumerate(view.stream)}

    def page_of(post_id: int) -> int:
        return position[post_id] // forum_core.TOPIC_CHUNK_SIZE + 1

    unread: list[int] = []
    error = ""
    for page in sorted({page_of(post_id) for post_id in missing}):
        try:
            data = await client.topic(view.topic.id, page=page)
        except DiscourseRequestError as refused:
            unread += [post_id for post_id in missing if page_of(post_id) == page]
            error = str(refused)
            continue
        report.pages += 1
        await _store_posts(db, site, forum, forum_core.parse_topic_view(data).posts, report)
    return unread, error


async def poll(
    client: DiscourseClient, db: DbCall, site: ForumSite, forum: ForumConfig, cursor: int
) -> SyncReport:
    """New posts since the cursor, newest page first, down to the cursor.

    A topic created since the cursor arrives whole in these pages. Any other topic
    we hold posts of but never read in full (it moved into a followed category, or
    was bumped past the page the backfill was reading) is then read in full, and
    topics that could not be read are tried again. A forum that refuses
    ``/posts.json`` is polled through its topic lists instead (:func:`poll_topics`).
    """
    try:
        first = await client.latest_posts()
    except DiscourseRequestError as error:
        if error.status not in _REFUSED:
            raise
        return await poll_topics(client, db, site, forum)
    report = SyncReport()
    newest = cursor
    created: set[int] = set()
    answer = first
    while True:
        page = forum_core.parse_latest_posts(answer)
        report.pages += 1
        newest = max(newest, _newest_id(page))
        created |= {p.topic_id for p in page if p.post_number == 1 and p.id > cursor}
        oldest = min((post.id for post in page), default=0)
        last = oldest <= cursor + 1 or len(page) < forum_core.LATEST_POSTS_PAGE_SIZE
        if not last:
            await _store_posts(db, site, forum, page, report)
            answer = await client.latest_posts(oldest)
            continue
        # The last page goes in one transaction with the cursor: both or neither.
        await _store_posts(db, site, forum, page, report, cursor_to=newest, complete=created)
        break
    if forum.backfill:
        for topic_id in await db(lambda store: forum_store.unsynced_topics(store, site)):
            await _sync_and_mark(client, db, site, forum, topic_id, "", report)
    await _retry_unread(client, db, site, forum, report)
    return report


async def poll_topics(
    client: DiscourseClient, db: DbCall, site: ForumSite, forum: ForumConfig
) -> SyncReport:
    """Poll without ``/posts.json``: read the topics whose list entry changed.

    Topic lists come most recently bumped first, so the pages are read until one
    where nothing changed. Each changed topic is read as the backfill reads it.
    """
    report = SyncReport()
    await _read_topic_lists(client, db, site, forum, report, until_unchanged=True)
    newest = report.newest_post_id
    await db(lambda store: forum_store.advance_cursor(store, site.name, newest, now=_now()))
    await _retry_unread(client, db, site, forum, report)
    return report


async def _retry_unread(
    client: DiscourseClient, db: DbCall, site: ForumSite, forum: ForumConfig, report: SyncReport
) -> None:
    due = await db(
        lambda store: forum_store.unread_due(
            store, site.name, now=_now(), limit=UNREAD_RETRIES_PER_POLL
        )
    )
    for topic_id in due:
        await _sync_and_mark(client, db, site, forum, topic_id, "", report)


async def _start_from_newest(
    client: DiscourseClient, db: DbCall, site: ForumSite, forum: ForumConfig
) -> SyncReport:
    newest = await _newest_post_id(client, site)
    if newest is None:
        # Polled by topic lists: what is listed now counts as read, only changes are new.
        await _mark_listed_as_read(client, db, site, forum)
    await db(
        lambda store: forum_store.advance_cursor(
            store, site.name, newest or 0, now=_now(), backfilled=True
        )
    )
    return SyncReport(pages=1)


async def _mark_listed_as_read(
    client: DiscourseClient, db: DbCall, site: ForumSite, forum: ForumConfig
) -> None:
    categories: list[tuple[str, int] | None] = [(c.slug, c.id) for c in forum.categories]
    for category in categories or [None]:
        listing = forum_core.parse_topic_list(await client.topic_list(category, 0))
        for topic in listing.topics:
            if forum.wants(topic.category_id):
                await db(_mark_synced(site, topic))


def _mark_synced(site: ForumSite, topic: forum_core.TopicSummary) -> Callable[[Store], None]:
    """Mark one listed topic read, at the time the writer thread gets to it."""
    return lambda store: forum_store.mark_topic_synced(
        store, site.name, topic.id, topic.marker, now=_now()
    )


async def _store_posts(
    db: DbCall,
    site: ForumSite,
    forum: ForumConfig,
    posts: tuple[ForumPost, ...],
    report: SyncReport,
    *,
    cursor_to: int | None = None,
    complete: set[int] | None = None,
) -> None:
    items = []
    for forum_post in posts:
        post = forum_core.to_post(site, forum_post)
        if post is None or not forum.wants(forum_post.category_id):
            report.skipped_posts += 1
            continue
        items.append((post, forum_post.source_bytes()))
    if not items and cursor_to is None:
        return
    counts = await db(
        lambda store: forum_store.ingest_forum_posts(
            store,
            items,
            forum=site.name,
            cursor_to=cursor_to,
            complete_topics=complete or (),
            now=_now(),
        )
    )
    report.counts += counts


def _newest_id(posts: tuple[ForumPost, ...]) -> int:
    return max((post.id for post in posts), default=0)


# -- webhooks ----------------------------------------------------------------------------

# Post events that carry a post to store; post_destroyed is kept as delivered, not applied.
_POST_EVENTS = frozenset({"post_created", "post_edited", "post_recovered"})


def process_webhooks(
    store: Store, forums: Mapping[str, ForumConfig], *, limit: int = 200
) -> IngestCounts:
    """Turn stored deliveries into posts; each is processed once, in the same transaction."""
    total = IngestCounts()
    while pending := forum_store.pending_webhooks(store, limit):
        items: list[tuple[Post, bytes]] = []
        outcomes: dict[int, str] = {}
        for event in pending:
            outcome, item = _webhook_item(event, forums)
            outcomes[event.id] = outcome
            if item is not None:
                items.append(item)
        total += forum_store.ingest_forum_posts(
            store, items, finished_webhooks=outcomes, now=_now()
        )
    return total


def _webhook_item(
    event: forum_store.WebhookEvent, forums: Mapping[str, ForumConfig]
) -> tuple[str, tuple[Post, bytes] | None]:
    forum = forums.get(event.forum)
    if forum is None:
        return "unknown-forum", None
    if event.event_type != "post" or event.event not in _POST_EVENTS:
        return "ignored", None
    try:
        payload = json.loads(event.body)
        forum_post = forum_core.webhook_post(payload) if isinstance(payload, dict) else None
    except (ValueError, forum_core.ForumDataError):
        logger.warning("webhook %d from %s is not a post payload", event.id, event.forum)
        return "invalid", None
    if forum_post is None:
        return "invalid", None
    post = forum_core.to_post(ForumSite(event.forum, forum.base_url), forum_post)
    if post is None or not forum.wants(forum_post.category_id):
        return "skipped", None
    return "stored", (post, forum_post.source_bytes())


# -- posting -----------------------------------------------------------------------------


async def post_reply(
    client: DiscourseClient, topic_id: int, raw: str, reply_to_post_number: int | None = None
) -> forum_core.CreatedPost:
    """Reply in a topic; the client repeats a create only while Discourse would know it."""
    answer = await client.create_post(topic_id, raw, reply_to_post_number)
    return forum_core.parse_created_post(answer)


@dataclass(frozen=True, slots=True)
class StatusResult:
    post_id: int
    action: str  # "created", "edited" or "unchanged"


async def publish_status(
    client: DiscourseClient, db: DbCall, forum: str, topic_id: int, raw: str
) -> StatusResult:
    """Keep one status post per RFC topic: edit it in place, create it only the first time.

    An unchanged status costs no request. A status post a moderator deleted is
    posted again rather than lost.
    """
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    known = await db(lambda store: forum_store.status_post(store, forum, topic_id))
    if known is not None and known.raw_sha256 == digest:
        return StatusResult(known.post_id, "unchanged")
    if known is not None:
        try:
            edited = forum_core.parse_created_post(await client.update_post(known.post_id, raw))
        except DiscourseRequestError as error:
            if error.status not in (404, 410):
                raise
        else:
            await _save_status(db, forum, topic_id, edited.id, digest)
            return StatusResult(edited.id, "edited")
    created = await post_reply(client, topic_id, raw)
    await _save_status(db, forum, topic_id, created.id, digest)
    return StatusResult(created.id, "created")


async def _save_status(db: DbCall, forum: str, topic_id: int, post_id: int, digest: str) -> None:
    await db(
        lambda store: forum_store.save_status_post(
            store, forum, topic_id, post_id, digest, now=_now()
        )
    )


# -- the running service -----------------------------------------------------------------


class ForumService:
    """Every configured forum: its client, its poller, and the shared webhook endpoint."""

    def __init__(
        self,
        config: DiscourseConfig,
        db: DbCall,
        wake: Callable[[], None],
        *,
        clients: Mapping[str, DiscourseClient] | None = None,
    ) -> None:
        """Reads the API keys from the environment now, so a missing one fails at start."""
        self.config = config
        self._db = db
        self._wake = wake
        self.clients: dict[str, DiscourseClient] = dict(clients or {})
        for name, forum in config.forums.items():
            if name not in self.clients:
                self.clients[name] = make_client(name, forum)
        self._server: webhooks.WebhookServer | None = None
        # Why each forum's last poll failed, until one succeeds.
        self._failed: dict[str, str] = {}
        # When each forum was last polled without an error (Unix time), for /metrics.
        self.last_poll_ok: dict[str, float] = {}
        # What each forum's last sync left unread (see forum_store.unread_topics).
        self._unread: dict[str, list[forum_store.UnreadTopic]] = {}

    @property
    def db(self) -> DbCall:
        return self._db

    def site(self, name: str) -> ForumSite:
        return ForumSite(name, self.config.forums[name].base_url)

    async def start(self) -> tuple[str, int] | None:
        """Start the webhook endpoint, if enabled, and return its address. Polling is
        the app's scheduled job (:meth:`poll`, one per forum)."""
        if not self.config.webhooks.enabled:
            return None
        settings = self.config.webhooks
        handler = webhooks.DiscourseWebhooks(self._webhook_forums(), self._persist, self._wake)
        self._server = await webhooks.start_webhook_server(
            handler,
            host=settings.host,
            port=settings.port,
            path=settings.path,
            max_body_bytes=settings.max_body_bytes,
        )
        return self._server.host, self._server.port

    def poller_health(self) -> dict[str, dict[str, object]]:
        """One entry per forum: whether its last poll failed (with why), and the topics
        it could not read in full, which it keeps trying (``unread_topics``)."""
        return {
            name: {
                "ok": name not in self._failed,
                **({"error": self._failed[name]} if name in self._failed else {}),
                "unread_topics": len(self._unread.get(name, [])),
                "unread": [topic.to_dict() for topic in self._unread.get(name, [])[:10]],
            }
            for name in self.config.forums
        }

    def process_webhooks(self, store: Store) -> IngestCounts:
        return process_webhooks(store, self.config.forums)

    async def stop_accepting(self) -> None:
        """Close the webhook endpoint: deliveries already answered 200 are stored."""
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def stop(self) -> None:
        """After the scheduler stopped: no poll runs any more."""
        await self.stop_accepting()
        for client in self.clients.values():
            await client.close()

    def _webhook_forums(self) -> dict[str, webhooks.WebhookForum]:
        forums = {}
        for name, forum in self.config.forums.items():
            value = secret(forum.webhook_secret_env)
            if value is None:
                logger.warning(
                    "forum %s: no webhook secret in %s; its webhooks will be refused",
                    name,
                    forum.webhook_secret_env,
                )
                continue
            forums[name] = webhooks.WebhookForum(name, forum.base_url, value.encode("utf-8"))
        return forums

    async def _persist(self, delivery: webhooks.Delivery) -> bool:
        return await self._db(
            lambda store: forum_store.enqueue_webhook(
                store,
                forum=delivery.forum,
                body=delivery.body,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                event=delivery.event,
                received_at=delivery.received_at,
            )
        )

    def poll_intervals(self) -> dict[str, timedelta]:
        return {
            name: timedelta(seconds=forum.poll_interval_seconds)
            for name, forum in self.config.forums.items()
        }

    async def poll(self, name: str, now: datetime) -> None:
        """One poll of one forum (the first ones backfill). Failures are logged and
        shown on /healthz; the cursor never moves past anything unstored, so the next
        poll retries."""
        client, site = self.clients[name], self.site(name)
        try:
            report = await sync_forum(client, self._db, site, self.config.forums[name])
        except QuorumError as error:
            self._failed[name] = str(error)
            logger.warning(
                "forum %s: %s",
                name,
                error,
                extra=log_event("forum.poll_failed", source=f"discourse:{name}"),
            )
        except Exception as error:
            self._failed[name] = f"polling failed: {type(error).__name__}"
            logger.exception(
                "forum %s: polling failed",
                name,
                extra=log_event("forum.poll_failed", source=f"discourse:{name}"),
            )
        else:
            self._failed.pop(name, None)
            self.last_poll_ok[name] = time.time()
            if report.counts.new or report.counts.edited:
                logger.info(
                    "forum %s: %s",
                    name,
                    report.summary(),
                    extra=log_event(
                        "forum.polled",
                        source=f"discourse:{name}",
                        new=report.counts.new,
                        edited=report.counts.edited,
                    ),
                )
        with contextlib.suppress(Exception):  # only for /healthz; the next poll tries again
            self._unread[name] = await self._db(
                lambda store: forum_store.unread_topics(store, name)
            )


def expected_topic_requests(posts: int, batch: int) -> int:
    """Requests a first backfill spends on a topic of ``posts`` posts (for docs and tests)."""
    beyond_first_chunk = max(0, posts - forum_core.TOPIC_CHUNK_SIZE)
    return 1 + math.ceil(beyond_first_chunk / batch)


# -- the outbox's forum channel ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForumReply:
    forum: str
    topic_id: int
    reply_to_post_number: int | None
    raw: str
    # The topic's one status post (bot.features.status_posts): edited in place after
    # the first time, never posted again.
    status: bool = False


class DiscourseChannel:
    """Replies in forum topics for the outbox: a reminder answers the post that waits."""

    name = "discourse"

    def __init__(self, service: ForumService, *, enabled: bool, bot_name: str, project: str):
        self._service = service
        self._enabled = enabled
        self._bot_name = bot_name
        self._project = project

    @property
    def enabled(self) -> bool:
        return self._enabled

    def render(self, action: Action, target: Post | None, now: datetime) -> Rendered[ForumReply]:
        if target is None or target.source is not Source.DISCOURSE:
            raise DeliveryRefused("the target is not a forum post", permanent=True)
        forum = target.key.split(":")[1]
        if forum not in self._service.clients:
            raise DeliveryRefused(f"forum {forum!r} is not configured", permanent=True)
        number = target.headers.get(forum_core.HEADER_POST_NUMBER)
        status = action.kind == STATUS_KIND
        raw = render(
            "discourse/reply.md.j2",
            text=action.text,
            key=action.key,  # a hidden marker, so a person can find an uncertain post
            bot_name=self._bot_name,
            project=self._project,
            status=status,
        )
        reply = ForumReply(
            forum,
            int(target.headers[forum_core.HEADER_TOPIC_ID]),
            None if status or not number else int(number),
            raw,
            status=status,
        )
        refusal = "the post was written by a machine" if target.auto_submitted else None
        return Rendered(payload=reply, preview=raw, refusal=refusal)

    async def send(
        self, action: Action, rendered: Rendered[ForumReply], point_of_no_return: PointOfNoReturn
    ) -> str:
        reply = rendered.payload
        client = self._service.clients[reply.forum]
        await point_of_no_return()
        if reply.status:
            result = await publish_status(
                client, self._service.db, reply.forum, reply.topic_id, reply.raw
            )
            return str(result.post_id)
        created = await post_reply(client, reply.topic_id, reply.raw, reply.reply_to_post_number)
        return str(created.id)
