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
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.core import forum as forum_core
from bot.core import threads as threading
from bot.model import Post, Source
from bot.store import (
    IngestCounts,
    Store,
    ThreadSummary,
    compress,
    from_text,
    thread_subject_key,
    to_text,
)

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
        for topic_id in complete_topics if forum is not None else ():
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
    record_links(store, post)
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
        store.codec, post.text, json.dumps(post.quoted), json.dumps(post.headers)
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


@dataclass(frozen=True, slots=True)
class RfcSummary:
    """An RFC whose discussion spans several threads (forum topic, dev@ thread, PR)."""

    id: str
    parts: tuple[ThreadSummary, ...]

    @property
    def subject(self) -> str:
        return next((p.subject for p in self.parts if p.key == self.id), self.parts[0].subject)

    @property
    def messages(self) -> int:
        return sum(part.messages for part in self.parts)

    @property
    def participants(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for part in self.parts:
            seen.update(dict.fromkeys(part.participants))
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rfc": self.id,
            "subject": self.subject,
            "messages": self.messages,
            "participants": list(self.participants),
            "first_at": min(p.first_at for p in self.parts).isoformat(),
            "last_at": max(p.last_at for p in self.parts).isoformat(),
            "parts": [part.to_dict() for part in self.parts],
        }


def record_links(store: Store, post: Post) -> bool:
    """Store the post's RFC tokens (replacing older ones); True when it has any."""
    tokens = threading.post_tokens(post)
    rows = [(post.key, token, "identity") for token in tokens.identity]
    rows += [(post.key, token, "mention") for token in tokens.mentions]
    store.db.execute("DELETE FROM post_links WHERE post_key = ?", [post.key])
    store.db.conn.executemany(
        "INSERT OR IGNORE INTO post_links (post_key, token, role) VALUES (?, ?, ?)", rows
    )
    return bool(rows)


def refresh_rfc_links(store: Store, touched: Collection[str] | None = None) -> None:
    """Recompute which threads form one RFC; rewrite the map only where it changed.

    With ``touched`` (threads whose links changed, or that were merged away),
    only the threads those can affect are recomputed, which is exact: see
    :func:`_reachable_threads`. A full recomputation reads every link, which a
    single new message must not cost once the archive is large.
    """
    scope = None if touched is None else _reachable_threads(store.db, touched)
    joined = threading.join_rfcs(_rfc_parts(store.db, scope))
    # NULL for every thread, else a JSON array of the threads in scope.
    in_scope = None if scope is None else json.dumps(sorted(scope))
    current = dict(
        store.db.execute(
            "SELECT thread_key, rfc FROM rfc_links WHERE ?1 IS NULL"
            " OR thread_key IN (SELECT value FROM json_each(?1))",
            [in_scope],
        ).fetchall()
    )
    if current == joined:
        return
    store.db.execute(
        "DELETE FROM rfc_links WHERE ?1 IS NULL OR thread_key IN (SELECT value FROM json_each(?1))",
        [in_scope],
    )
    store.db.conn.executemany(
        "INSERT INTO rfc_links (thread_key, rfc) VALUES (?, ?)", sorted(joined.items())
    )


def _reachable_threads(db: Database, touched: Collection[str]) -> set[str]:
    """The threads whose RFC grouping a change to ``touched`` can alter.

    Two threads can only be joined when they share a link token, so the threads
    reachable from ``touched`` over shared tokens are closed under joining: the
    groups within them come out the same as over all threads, and no group
    outside them changes. The groups ``touched`` were in before are added first,
    since a link that went away (an edited forum post) can split one.
    """
    scope = set(touched)
    scope |= _column(
        db,
        "SELECT thread_key FROM rfc_links WHERE rfc IN"
        " (SELECT rfc FROM rfc_links WHERE thread_key IN (SELECT value FROM json_each(?)))",
        scope,
    )
    seen_tokens: set[str] = set()
    frontier = set(scope)
    while frontier:
        tokens = (
            _column(
                db,
                "SELECT DISTINCT l.token FROM posts p JOIN post_links l ON l.post_key = p.key"
                " WHERE p.thread_key IN (SELECT value FROM json_each(?))",
                frontier,
            )
            - seen_tokens
        )
        seen_tokens |= tokens
        frontier = (
            _column(
                db,
                "SELECT DISTINCT p.thread_key FROM post_links l JOIN posts p ON p.key = l.post_key"
                " WHERE l.token IN (SELECT value FROM json_each(?))",
                tokens,
            )
            - scope
        )
        scope |= frontier
    return scope


def _column(db: Database, sql: str, values: Collection[str]) -> set[str]:
    if not values:
        return set()
    return {row[0] for row in db.execute(sql, [json.dumps(sorted(values))]).fetchall()}


def rebuild_post_links(db: Database) -> None:
    """Tokens for posts stored before RFC joining existed (run once, by a migration)."""
    store = Store(db)
    rows = db.execute(
        "SELECT key FROM posts WHERE key NOT IN (SELECT post_key FROM post_links)"
    ).fetchall()
    for (key,) in rows:
        post = store.post(key)
        if post is not None:
            record_links(store, post)
    if rows:
        refresh_rfc_links(store)


def rfcs(store: Store) -> list[RfcSummary]:
    """Every RFC made of several threads, with its parts oldest first."""
    summaries = {thread.key: thread for thread in store.threads()}
    members: dict[str, list[ThreadSummary]] = {}
    for thread_key, rfc in store.db.execute("SELECT thread_key, rfc FROM rfc_links"):
        if thread_key in summaries:
            members.setdefault(rfc, []).append(summaries[thread_key])
    found = [
        RfcSummary(rfc, tuple(sorted(parts, key=lambda p: (p.first_at, p.key))))
        for rfc, parts in members.items()
    ]
    return sorted(found, key=lambda rfc: (rfc.parts[0].first_at, rfc.id))


def rfc_thread_keys(store: Store, key: str) -> list[str]:
    """The threads of the RFC that ``key`` (an RFC id or any of its threads) belongs to."""
    row = store.db.execute(
        "SELECT rfc FROM rfc_links WHERE thread_key = ? OR rfc = ? LIMIT 1", [key, key]
    ).fetchone()
    if row is None:
        return [key]
    return [r[0] for r in store.db.execute("SELECT thread_key FROM rfc_links WHERE rfc = ?", row)]


def posts_in_rfc(store: Store, key: str) -> list[Post]:
    """Every post of the RFC across its threads, oldest first, a mirrored copy counted once.

    Votes and concerns read these, so a forum post that Discourse also mailed to
    the list is one ballot, not two.
    """
    threads = rfc_thread_keys(store, key)
    posts = [post for thread in threads for post in store.posts_in_thread(thread)]
    posts.sort(key=lambda post: (post.created_at, post.source != Source.DISCOURSE, post.key))
    seen: set[str] = set()
    unique: list[Post] = []
    for post in posts:
        identity = forum_core.mirror_identity(post)
        if identity not in seen:
            seen.add(identity)
            unique.append(post)
    return unique


def _rfc_parts(db: Database, scope: set[str] | None = None) -> list[threading.RfcPart]:
    """The RFC-joining view of every thread with links, or of those in ``scope``."""
    identity: dict[str, set[str]] = {}
    mentions: dict[str, set[str]] = {}
    if scope is None:
        rows = db.execute(
            "SELECT p.thread_key, l.token, l.role FROM post_links l"
            " JOIN posts p ON p.key = l.post_key"
        ).fetchall()
    else:
        rows = db.execute(
            "SELECT p.thread_key, l.token, l.role FROM posts p"
            " JOIN post_links l ON l.post_key = p.key"
            " WHERE p.thread_key IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted(scope))],
        ).fetchall()
    for thread_key, token, role in rows:
        (identity if role == "identity" else mentions).setdefault(thread_key, set()).add(token)
    keys = sorted(set(identity) | set(mentions))
    first_at = dict(
        db.execute(
            "SELECT key, first_at FROM threads WHERE key IN (SELECT value FROM json_each(?))",
            [json.dumps(keys)],
        ).fetchall()
    )
    return [
        threading.RfcPart(
            key=key,
            first_at=from_text(first_at[key]),
            identity=frozenset(identity.get(key, ())),
            mentions=frozenset(mentions.get(key, set()) - identity.get(key, set())),
        )
        for key in keys
        if key in first_at
    ]
