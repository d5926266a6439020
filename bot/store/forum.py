"""SQL for the forum and for RFCs that span channels.

Forum cursors and backfill progress, webhook deliveries (durable before the 200),
edits of forum posts, the one status post per RFC topic, and the tokens and
thread -> RFC map that join a forum topic, a dev@ thread and a GitHub pull
request into one RFC. Everything here runs on the store's single writer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core import discourse as forum_core
from bot.core import threads as threading
from bot.model import Post
from bot.store import compress
from bot.store import rfc_links as rfc_store
from bot.store.values import IngestCounts, from_text, thread_subject_key, to_text

if TYPE_CHECKING:
    from bot.store import Store

logger = logging.getLogger(__name__)


# -- cursors and backfill progress -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForumCursor:
    """Where polling a forum resumes: the highest post id seen, once the backfill is done."""

    last_post_id: int | None
    backfilled: bool


def cursor(store: Store, forum: str) -> ForumCursor:
    row = store.db.execute(
        "SELECT last_post_id, backfilled_at FROM forum_cursors WHERE forum = ?", [forum]
    ).fetchone()
    if row is None:
        return ForumCursor(None, False)
    return ForumCursor(row[0], row[1] is not None)


def advance_cursor(
    store: Store, forum: str, last_post_id: int, *, now: datetime, backfilled: bool = False
) -> None:
    """Move the cursor forward (never back: a late, older answer must not rewind it)."""
    store.db.execute(
        "INSERT INTO forum_cursors (forum, last_post_id, backfilled_at, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT(forum) DO UPDATE SET"
        " last_post_id = max(coalesce(last_post_id, 0), excluded.last_post_id),"
        " backfilled_at = coalesce(backfilled_at, excluded.backfilled_at),"
        " updated_at = excluded.updated_at",
        [forum, last_post_id, to_text(now) if backfilled else None, to_text(now)],
    )


def topic_marker(store: Store, forum: str, topic_id: int) -> str | None:
    row = store.db.execute(
        "SELECT marker FROM forum_topics WHERE forum = ? AND topic_id = ?", [forum, topic_id]
    ).fetchone()
    return row[0] if row else None


def mark_topic_synced(
    store: Store, forum: str, topic_id: int, marker: str, *, now: datetime
) -> None:
    """Every post of the topic is held: it is read, and no longer unread."""
    with store.db.atomic():
        store.db.execute(
            "INSERT OR REPLACE INTO forum_topics (forum, topic_id, marker, synced_at)"
            " VALUES (?, ?, ?, ?)",
            [forum, topic_id, marker, to_text(now)],
        )
        store.db.execute(
            "DELETE FROM forum_unread WHERE forum = ? AND topic_id = ?", [forum, topic_id]
        )


# -- what could not be read --------------------------------------------------------------

# Pauses before an unread topic is tried again: doubling from a minute, at most six hours.
UNREAD_FIRST_RETRY = timedelta(minutes=1)
UNREAD_LONGEST_RETRY = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class UnreadTopic:
    """A topic a sync could not read in full, and why; tried again from ``retry_at``."""

    forum: str
    topic_id: int
    error: str
    attempts: int
    first_at: datetime
    last_at: datetime
    retry_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "forum": self.forum,
            "topic_id": self.topic_id,
            "error": self.error,
            "attempts": self.attempts,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "retry_at": self.retry_at.isoformat(),
        }


def record_unread(store: Store, forum: str, topic_id: int, error: str, *, now: datetime) -> None:
    """Note a topic that could not be read (again): never synced, retried later."""
    row = store.db.execute(
        "SELECT attempts FROM forum_unread WHERE forum = ? AND topic_id = ?", [forum, topic_id]
    ).fetchone()
    attempts = (int(row[0]) if row else 0) + 1
    pause = min(UNREAD_FIRST_RETRY * 2 ** (attempts - 1), UNREAD_LONGEST_RETRY)
    with store.db.atomic():
        store.db.execute(
            "INSERT INTO forum_unread (forum, topic_id, error, attempts, first_at, last_at,"
            " retry_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) ON CONFLICT (forum, topic_id)"
            " DO UPDATE SET error = ?3, attempts = ?4, last_at = ?5, retry_at = ?6",
            [forum, topic_id, error[:500], attempts, to_text(now), to_text(now + pause)],
        )


def unread_topics(store: Store, forum: str | None = None) -> list[UnreadTopic]:
    """What could not be read, oldest first (every forum's, or one's)."""
    rows = store.db.execute(
        "SELECT forum, topic_id, error, attempts, first_at, last_at, retry_at FROM forum_unread"
        " WHERE ?1 IS NULL OR forum = ?1 ORDER BY first_at, forum, topic_id",
        [forum],
    ).fetchall()
    return [
        UnreadTopic(row[0], row[1], row[2], row[3], *(from_text(v) for v in row[4:]))
        for row in rows
    ]


def stats_report(store: Store) -> dict[str, Any]:
    """What `quorum stats --json` and /api/stats show: the store's counts, its defects by
    kind, and the forum topics a sync could not read in full (retried until read)."""
    unread = unread_topics(store)
    return {
        **store.stats(),
        "defect_kinds": store.defect_counts(),
        "forum_unread_topics": len(unread),
        "forum_unread": [topic.to_dict() for topic in unread],
    }


def unread_due(store: Store, forum: str, *, now: datetime, limit: int) -> list[int]:
    """Unread topics whose pause has passed, the longest waiting first."""
    rows = store.db.execute(
        "SELECT topic_id FROM forum_unread WHERE forum = ? AND retry_at <= ?"
        " ORDER BY retry_at LIMIT ?",
        [forum, to_text(now), limit],
    ).fetchall()
    return [int(row[0]) for row in rows]


def unsynced_topics(store: Store, site: forum_core.ForumSite) -> list[int]:
    """Topics we hold posts of but never read in full (new to a followed category, say).

    Those recorded as unread are left to their own retry schedule (unread_due).
    """
    prefix = site.topic_key(0).removesuffix("0")
    # ";" sorts right after ":", so this range is exactly the keys with the prefix.
    keys = store.db.execute(
        "SELECT key FROM threads WHERE key >= ? AND key < ?", [prefix, prefix[:-1] + ";"]
    ).fetchall()
    synced = {
        row[0]
        for row in store.db.execute(
            "SELECT topic_id FROM forum_topics WHERE forum = ?1"
            " UNION SELECT topic_id FROM forum_unread WHERE forum = ?1",
            [site.name],
        ).fetchall()
    }
    topics = [int(key.removeprefix(prefix)) for (key,) in keys if key[len(prefix) :].isdigit()]
    return sorted(topic for topic in topics if topic not in synced)


def known_post_ids(store: Store, site: forum_core.ForumSite, post_ids: Iterable[int]) -> set[int]:
    """Which of these forum posts the store holds already, so a re-sync fetches only the rest."""
    wanted = {site.post_key(post_id): post_id for post_id in post_ids}
    known: set[int] = set()
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        rows = store.db.execute(
            "SELECT key FROM posts WHERE key IN (SELECT value FROM json_each(?))",
            [json.dumps(keys[start : start + 500])],
        ).fetchall()
        known.update(wanted[row[0]] for row in rows)
    return known


def ingest_forum_posts(
    store: Store,
    items: list[tuple[Post, bytes]],
    *,
    forum: str | None = None,
    cursor_to: int | None = None,
    backfilled: bool = False,
    finished_webhooks: Mapping[int, str] | None = None,
    complete_topics: Iterable[int] = (),
    now: datetime,
) -> IngestCounts:
    """Store posts and, in the same transaction, move the cursor and close webhook events.

    One transaction is what makes a crash harmless: either the posts and the
    bookkeeping are both durable, or neither is and the work is simply redone.
    """
    with store.db.atomic():
        counts = store.ingest(items)
        if forum is not None and cursor_to is not None:
            advance_cursor(store, forum, cursor_to, now=now, backfilled=backfilled)
        if forum is not None:
            for topic_id in complete_topics:
                mark_topic_synced(store, forum, topic_id, "", now=now)
        for event_id, outcome in (finished_webhooks or {}).items():
            store.db.execute(
                "UPDATE webhook_events SET processed_at = ?, outcome = ? WHERE id = ?",
                [to_text(now), outcome, event_id],
            )
    return counts


# -- webhook deliveries ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified delivery, stored before its 200 and processed after."""

    id: int
    forum: str
    event_type: str
    event: str
    body: bytes
    received_at: datetime


def enqueue_webhook(
    store: Store,
    *,
    forum: str,
    body: bytes,
    event_id: str | None,
    event_type: str,
    event: str,
    received_at: datetime,
) -> bool:
    """Commit a delivery; False when the same body from the same forum is stored already."""
    digest = hashlib.sha256(body).hexdigest()
    with store.db.atomic():
        inserted = store.db.execute(
            "INSERT OR IGNORE INTO webhook_events (forum, body_sha256, event_id, event_type,"
            " event, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [forum, digest, event_id, event_type, event, body, to_text(received_at)],
        )
    return inserted.rowcount == 1


def pending_webhooks(store: Store, limit: int = 200) -> list[WebhookEvent]:
    rows = store.db.execute(
        "SELECT id, forum, event_type, event, body, received_at FROM webhook_events"
        " WHERE processed_at IS NULL ORDER BY id LIMIT ?",
        [limit],
    ).fetchall()
    return [
        WebhookEvent(row[0], row[1], row[2] or "", row[3] or "", bytes(row[4]), from_text(row[5]))
        for row in rows
    ]


def webhook_counts(store: Store) -> dict[str, int]:
    """Stored deliveries by outcome ("pending" for those not processed yet)."""
    rows = store.db.execute(
        "SELECT coalesce(outcome, 'pending'), count(*) FROM webhook_events GROUP BY 1"
    ).fetchall()
    return {row[0]: int(row[1]) for row in rows}


# -- edits -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostEdit:
    post_key: str
    old_revision: str
    new_revision: str
    old_text: str
    edited_at: str


def revise_post(store: Store, post: Post, raw: bytes, now: str) -> bool:
    """Apply a newer revision of a stored forum post; False when ours is as new or newer.

    Comparing revisions rather than texts makes replays harmless and keeps a late
    webhook retry (Discourse retries for hours) from undoing a newer edit.
    """
    old = store.post(post.key)
    if old is None:
        return False
    old_thread, old_text, old_headers = old.thread_key, old.text, old.headers
    old_revision = forum_core.revision_of(old_headers)
    new_revision = forum_core.revision_of(post.headers)
    if new_revision <= old_revision:
        return False
    post = replace(post, thread_key=post.thread_key or old_thread)
    _update_post(store, post, raw)
    store.db.execute(
        "INSERT OR IGNORE INTO post_edits (post_key, old_revision, new_revision, old_text,"
        " edited_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            post.key,
            _revision_text(old_revision),
            _revision_text(new_revision),
            old_text,
            post.headers.get(forum_core.HEADER_UPDATED_AT, ""),
            now,
        ],
    )
    if post.thread_key != old_thread:
        _move_post(store, post, old_thread)
    elif post.headers.get(forum_core.HEADER_POST_NUMBER) == "1":
        _retitle_thread(store, post)
    rfc_store.record_links(store, post)
    return True


def edits_of(store: Store, post_key: str) -> list[PostEdit]:
    rows = store.db.execute(
        "SELECT post_key, old_revision, new_revision, old_text, edited_at FROM post_edits"
        " WHERE post_key = ? ORDER BY recorded_at, new_revision",
        [post_key],
    ).fetchall()
    return [PostEdit(*row) for row in rows]


def _update_post(store: Store, post: Post, raw: bytes) -> None:
    content = compress.pack_content(
        store.codec, post.text, json.dumps(post.quoted), json.dumps(post.headers), post.quote_at
    )
    store.db.execute(
        "UPDATE posts SET thread_key = ?, author_name = ?, author_address = ?, subject = ?,"
        " text = NULL, quoted = NULL, headers = NULL, content = ?, content_dict = ?,"
        " mentions = ?, url = ?, auto_submitted = ?, body_hash = ? WHERE key = ?",
        [
            post.thread_key,
            post.author.name,
            post.author.address,
            post.subject,
            *content,
            json.dumps(post.mentions),
            post.url,
            int(post.auto_submitted),
            post.body_hash,
            post.key,
        ],
    )
    store.db.execute(
        "INSERT OR REPLACE INTO raw_messages (key, raw, raw_parts, zraw, dict_id)"
        " VALUES (?, NULL, ?, ?, ?)",
        store.raw_row(post.key, raw, None),
    )


def _move_post(store: Store, post: Post, old_thread: str) -> None:
    """A moderator moved the post to another topic: it belongs to that thread now."""
    at = to_text(post.created_at)
    store.db.execute(
        "INSERT OR IGNORE INTO threads (key, subject, subject_key, kind, first_at, last_at,"
        " post_count) VALUES (?, ?, ?, ?, ?, ?, 0)",
        [
            post.thread_key,
            post.subject,
            thread_subject_key(post),
            threading.classify(post.subject).value,
            at,
            at,
        ],
    )
    for key in (post.thread_key, old_thread):
        store.db.execute(
            "UPDATE threads SET (post_count, first_at, last_at) = (SELECT count(*),"
            " min(created_at), max(created_at) FROM posts WHERE thread_key = ?) WHERE key = ?",
            [key, key],
        )
    store.db.execute("DELETE FROM threads WHERE key = ? AND post_count = 0", [old_thread])


def _retitle_thread(store: Store, post: Post) -> None:
    """The topic's title lives on its first post: follow a new title."""
    store.db.execute(
        "UPDATE threads SET subject = ?, subject_key = ?, kind = ? WHERE key = ? AND subject != ?",
        [
            post.subject,
            thread_subject_key(post),
            threading.classify(post.subject).value,
            post.thread_key,
            post.subject,
        ],
    )


def _revision_text(revision: tuple[int, str]) -> str:
    return f"v{revision[0]}@{revision[1]}"


# -- status posts ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusPost:
    post_id: int
    raw_sha256: str


def status_post(store: Store, forum: str, topic_id: int) -> StatusPost | None:
    row = store.db.execute(
        "SELECT post_id, raw_sha256 FROM forum_status_posts WHERE forum = ? AND topic_id = ?",
        [forum, topic_id],
    ).fetchone()
    return StatusPost(row[0], row[1]) if row else None


def save_status_post(
    store: Store, forum: str, topic_id: int, post_id: int, raw_sha256: str, *, now: datetime
) -> None:
    with store.db.atomic():
        store.db.execute(
            "INSERT OR REPLACE INTO forum_status_posts (forum, topic_id, post_id, raw_sha256,"
            " updated_at) VALUES (?, ?, ?, ?, ?)",
            [forum, topic_id, post_id, raw_sha256, to_text(now)],
        )


# -- one RFC across channels -------------------------------------------------------------
