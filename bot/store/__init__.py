"""The only place that speaks SQL. One writer; everything else asks it.

Every write is an idempotent upsert on a natural key, so re-delivery,
re-import and replays after a crash are harmless.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.core import threads as threading
from bot.core.mail import content_key
from bot.model import Defect, Person, Post, Source, ThreadKind
from bot.store.migrations import migrations

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestCounts:
    """What one ingest did: the numbers `quorum import` reports."""

    read: int = 0
    new: int = 0
    known: int = 0
    with_defects: int = 0
    # Forum posts already stored whose newer revision replaced the stored one.
    edited: int = 0

    def __add__(self, other: IngestCounts) -> IngestCounts:
        return IngestCounts(
            self.read + other.read,
            self.new + other.new,
            self.known + other.known,
            self.with_defects + other.with_defects,
            self.edited + other.edited,
        )


@dataclass(frozen=True, slots=True)
class InboundMail:
    """A delivery the SMTP endpoint acknowledged and the worker has yet to process."""

    id: int
    raw: bytes
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """One row of `quorum threads`."""

    key: str
    kind: ThreadKind
    subject: str
    messages: int
    participants: tuple[str, ...]
    first_at: datetime
    last_at: datetime
    closes: str | None
    closed_by: tuple[str, ...]
    # The RFC this thread is part of, when its discussion spans several threads.
    rfc: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind.value,
            "subject": self.subject,
            "messages": self.messages,
            "participants": list(self.participants),
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "closes": self.closes,
            "closed_by": list(self.closed_by),
            "rfc": self.rfc,
        }


def to_text(moment: datetime) -> str:
    """Datetimes are stored as UTC ISO 8601 text, so they sort and compare as strings."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_text(value: str) -> datetime:
    return datetime.fromisoformat(value)


def thread_subject_key(post: Post) -> str:
    """The subject key a thread is found by; forum topics get their own namespace.

    A mail reply without References must never be threaded into a forum topic
    that happens to share its subject: the two are joined as one RFC instead.
    """
    key = threading.subject_key(post.subject)
    return key if post.source == Source.MAIL else f"{post.source.value}:{key}"


class Store:
    """SQLite through sqlite-utils, in WAL mode, with migrations applied on open."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Set when an ingest stored RFC link tokens or re-threaded posts.
        self._rfc_links_stale = False

    @classmethod
    def open(cls, path: Path | str) -> Store:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the app hands the connection to one writer thread.
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        db = Database(conn)
        if str(path) != ":memory:":
            db.enable_wal()
        db.execute("PRAGMA synchronous=NORMAL")
        migrations.apply(db)
        _apply_feature_migrations(db)
        return cls(db)

    def close(self) -> None:
        self.db.close()

    # -- SMTP inbox: durable before 250 ---------------------------------------------------

    def enqueue_inbound(
        self, raw: bytes, *, received_at: datetime, peer: str, mail_from: str, rcpt_to: list[str]
    ) -> int:
        """Commit a delivery. The SMTP endpoint answers 250 only after this returns."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO inbox (raw, received_at, peer, mail_from, rcpt_to)"
                " VALUES (?, ?, ?, ?, ?)",
                [raw, to_text(received_at), peer, mail_from, json.dumps(rcpt_to)],
            )
        return int(cursor.lastrowid or 0)

    def pending_inbound(self, limit: int = 500) -> list[InboundMail]:
        rows = self.db.query("SELECT id, raw, received_at FROM inbox ORDER BY id LIMIT ?", [limit])
        return [InboundMail(r["id"], r["raw"], from_text(r["received_at"])) for r in rows]

    def inbox_size(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM inbox").fetchone()[0])

    # -- ingest ----------------------------------------------------------------------------

    def ingest(
        self, items: Iterable[tuple[Post, bytes]], *, done_inbox_ids: Iterable[int] = ()
    ) -> IngestCounts:
        """Store posts with their raw bytes in one transaction; drop processed inbox rows.

        Removing the inbox rows in the same transaction is what makes SMTP
        processing exactly-once across crashes.
        """
        counts = IngestCounts()
        now = to_text(datetime.now(UTC))
        with self.db.atomic():
            for post, raw in items:
                counts += self._ingest_one(post, raw, now)
            self.db.conn.executemany(
                "DELETE FROM inbox WHERE id = ?", [(inbox_id,) for inbox_id in done_inbox_ids]
            )
            self._link_closing_threads()
            if self._rfc_links_stale:
                self._rfc_links_stale = False
                forum_store.refresh_rfc_links(self)
        return counts

    def known_raw(self, content_keys: list[str]) -> set[str]:
        """Which of these raw messages were ingested before (as new or as duplicates)."""
        known: set[str] = set()
        for start in range(0, len(content_keys), 500):
            chunk = content_keys[start : start + 500]
            rows = self.db.execute(
                "SELECT content_key FROM seen_raw WHERE content_key IN"
                " (SELECT value FROM json_each(?))",
                [json.dumps(chunk)],
            ).fetchall()
            known.update(row[0] for row in rows)
        return known

    def _ingest_one(self, post: Post, raw: bytes, now: str) -> IngestCounts:
        if post.source != Source.MAIL and self._has_post(post.key):
            # Mail is insert-once; a forum post may come back edited.
            if forum_store.revise_post(self, post, raw, now):
                self._rfc_links_stale = True
                return IngestCounts(read=1, edited=1)
            return IngestCounts(read=1, known=1)
        self.db.execute(
            "INSERT OR IGNORE INTO seen_raw (content_key) VALUES (?)", [content_key(raw)]
        )
        keyed = self._natural_key(post, raw)
        if keyed is None:
            return IngestCounts(read=1, known=1)
        post = keyed
        thread_key, closes = threading.decide_thread(
            post, self._parent_thread(post), self._same_subject_thread(post)
        )
        post = replace(post, thread_key=thread_key)
        self._insert_post(post, raw, now)
        self._touch_thread(post, closes)
        if forum_store.record_links(self, post):
            self._rfc_links_stale = True
        if post.message_id:
            self._adopt_orphans(post)
        return IngestCounts(read=1, new=1, with_defects=1 if post.defects else 0)

    def _natural_key(self, post: Post, raw: bytes) -> Post | None:
        """The key this post is stored under, or None when we already hold it.

        Same Message-ID and same body is the same message relayed twice; same
        Message-ID with another body is a different message that gets a
        content-hash key and a recorded defect.
        """
        if post.source != Source.MAIL or post.message_id is None:
            return None if self._has_post(post.key) else post
        rows = list(
            self.db.query(
                "SELECT key, body_hash FROM posts WHERE message_id = ?", [post.message_id]
            )
        )
        if any(row["body_hash"] == post.body_hash for row in rows):
            return None
        if not rows:
            return post
        key = content_key(raw)
        if self._has_post(key):
            return None
        clash = Defect("message-id-clash", f"{post.message_id} is used by another message")
        return replace(post, key=key, defects=(*post.defects, clash))

    def _has_post(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM posts WHERE key = ?", [key]).fetchone() is not None

    def _parent_thread(self, post: Post) -> threading.ThreadRef | None:
        candidates = [post.in_reply_to] if post.in_reply_to else []
        candidates += [ref for ref in reversed(post.references) if ref != post.in_reply_to]
        for ref in candidates:
            row = self.db.execute(
                "SELECT thread_key FROM posts WHERE message_id = ? LIMIT 1", [ref]
            ).fetchone()
            if row is not None:
                return self._thread_ref(row[0])
        return None

    def _same_subject_thread(self, post: Post) -> threading.ThreadRef | None:
        row = self.db.execute(
            "SELECT key FROM threads WHERE subject_key = ? ORDER BY last_at DESC LIMIT 1",
            [threading.subject_key(post.subject)],
        ).fetchone()
        return self._thread_ref(row[0]) if row else None

    def _thread_ref(self, key: str) -> threading.ThreadRef | None:
        row = self.db.execute(
            "SELECT key, kind, subject, first_at, last_at FROM threads WHERE key = ?", [key]
        ).fetchone()
        if row is None:
            return None
        return threading.ThreadRef(
            row[0], ThreadKind(row[1]), row[2], from_text(row[3]), from_text(row[4])
        )

    def _insert_post(self, post: Post, raw: bytes, now: str) -> None:
        self.db.execute(
            "INSERT INTO posts (key, source, message_id, thread_key, author_name, author_address,"
            " created_at, subject, text, quoted, mentions, in_reply_to, refs, url, list_id,"
            " auto_submitted, body_hash, headers, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                post.key,
                post.source.value,
                post.message_id,
                post.thread_key,
                post.author.name,
                post.author.address,
                to_text(post.created_at),
                post.subject,
                post.text,
                json.dumps(post.quoted),
                json.dumps(post.mentions),
                post.in_reply_to,
                json.dumps(post.references),
                post.url,
                post.list_id,
                int(post.auto_submitted),
                post.body_hash,
                json.dumps(post.headers),
                now,
            ],
        )
        self.db.execute(
            "INSERT OR REPLACE INTO raw_messages (key, raw) VALUES (?, ?)", [post.key, raw]
        )
        refs = {*post.references, *([post.in_reply_to] if post.in_reply_to else [])}
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO post_refs (post_key, ref_id) VALUES (?, ?)",
            [(post.key, ref) for ref in refs],
        )
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO defects (post_key, kind, detail) VALUES (?, ?, ?)",
            [(post.key, d.kind, d.detail) for d in post.defects],
        )

    def _touch_thread(self, post: Post, closes: str | None) -> None:
        at = to_text(post.created_at)
        self.db.execute(
            "INSERT INTO threads (key, subject, subject_key, kind, first_at, last_at, post_count,"
            " closes) VALUES (?, ?, ?, ?, ?, ?, 1, ?)"
            " ON CONFLICT(key) DO UPDATE SET post_count = post_count + 1,"
            " first_at = min(first_at, excluded.first_at),"
            " last_at = max(last_at, excluded.last_at)",
            [
                post.thread_key,
                post.subject,
                thread_subject_key(post),
                threading.classify(post.subject).value,
                at,
                at,
                closes,
            ],
        )

    def _adopt_orphans(self, post: Post) -> None:
        """Replies that arrived before this post started threads of their own: fold them in."""
        orphans = [
            row[0]
            for row in self.db.execute(
                "SELECT DISTINCT p.thread_key FROM post_refs r JOIN posts p ON p.key = r.post_key"
                " JOIN threads t ON t.key = p.thread_key"
                " WHERE r.ref_id = ? AND p.thread_key = p.key AND p.thread_key != ?"
                " AND t.kind NOT IN ('result', 'cancel')",
                [post.message_id, post.thread_key],
            ).fetchall()
        ]
        for orphan in orphans:
            self.db.execute(
                "UPDATE posts SET thread_key = ? WHERE thread_key = ?", [post.thread_key, orphan]
            )
            self.db.execute("DELETE FROM threads WHERE key = ?", [orphan])
            self.db.execute(
                "UPDATE threads SET closes = ? WHERE closes = ?", [post.thread_key, orphan]
            )
        if orphans:
            self._recount_thread(post.thread_key)
            self._rfc_links_stale = True

    def _recount_thread(self, key: str) -> None:
        self.db.execute(
            "UPDATE threads SET (post_count, first_at, last_at) ="
            " (SELECT count(*), min(created_at), max(created_at) FROM posts WHERE thread_key = ?)"
            " WHERE key = ?",
            [key, key],
        )

    def _link_closing_threads(self) -> None:
        """Link [RESULT]/[CANCEL] threads that no References tied to their vote."""
        unlinked = list(
            self.db.query(
                "SELECT key, subject, first_at FROM threads"
                " WHERE kind IN ('result', 'cancel') AND closes IS NULL"
            )
        )
        if not unlinked:
            return
        open_votes = [
            threading.ThreadRef(
                r["key"],
                ThreadKind.VOTE,
                r["subject"],
                from_text(r["first_at"]),
                from_text(r["last_at"]),
            )
            for r in self.db.query(
                "SELECT key, subject, first_at, last_at FROM threads v WHERE kind = 'vote'"
                " AND NOT EXISTS (SELECT 1 FROM threads c WHERE c.closes = v.key)"
            )
        ]
        for row in unlinked:
            vote = threading.find_closed_vote(
                row["subject"], from_text(row["first_at"]), open_votes
            )
            if vote is not None:
                self.db.execute("UPDATE threads SET closes = ? WHERE key = ?", [vote, row["key"]])
                open_votes = [v for v in open_votes if v.key != vote]

    # -- reading ---------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        one = self.db.execute
        return {
            "messages": int(one("SELECT count(*) FROM posts").fetchone()[0]),
            "threads": int(one("SELECT count(*) FROM threads").fetchone()[0]),
            "defects": int(one("SELECT count(DISTINCT post_key) FROM defects").fetchone()[0]),
            "pending": self.inbox_size(),
        }

    def defect_counts(self) -> dict[str, int]:
        rows = self.db.query(
            "SELECT kind, count(*) AS n FROM defects GROUP BY kind ORDER BY n DESC"
        )
        return {row["kind"]: row["n"] for row in rows}

    def threads(self, kind: ThreadKind | None = None) -> list[ThreadSummary]:
        wanted = kind.value if kind else None
        rows = self.db.query(
            "SELECT t.*, (SELECT json_group_array(DISTINCT coalesce(nullif(p.author_name, ''),"
            " p.author_address)) FROM posts p WHERE p.thread_key = t.key) AS participants,"
            " (SELECT json_group_array(c.key) FROM threads c WHERE c.closes = t.key) AS closed_by,"
            " (SELECT l.rfc FROM rfc_links l WHERE l.thread_key = t.key) AS rfc"
            " FROM threads t WHERE (? IS NULL OR t.kind = ?) ORDER BY t.first_at",
            [wanted, wanted],
        )
        return [_thread_summary(row) for row in rows]

    def thread(self, key: str) -> ThreadSummary | None:
        found = [t for t in self.threads() if t.key == key]
        return found[0] if found else None

    def posts_in_thread(self, key: str) -> list[Post]:
        rows = self.db.query(
            "SELECT * FROM posts WHERE thread_key = ? ORDER BY created_at, key", [key]
        )
        return [self._post_from_row(row) for row in rows]

    def post(self, key: str) -> Post | None:
        rows = list(self.db.query("SELECT * FROM posts WHERE key = ?", [key]))
        return self._post_from_row(rows[0]) if rows else None

    def rfcs(self) -> list[forum_store.RfcSummary]:
        """RFCs whose discussion spans several threads (forum, dev@, GitHub), with their parts."""
        return forum_store.rfcs(self)

    def posts_in_rfc(self, key: str) -> list[Post]:
        """Posts of every thread of the RFC ``key`` belongs to, a mirrored copy counted once."""
        return forum_store.posts_in_rfc(self, key)

    def iter_posts(self) -> Iterator[Post]:
        for row in self.db.query("SELECT * FROM posts ORDER BY created_at, key"):
            yield self._post_from_row(row)

    def defects_of(self, post_key: str) -> list[Defect]:
        rows = self.db.query("SELECT kind, detail FROM defects WHERE post_key = ?", [post_key])
        return [Defect(row["kind"], row["detail"]) for row in rows]

    def raw(self, post_key: str) -> bytes | None:
        row = self.db.execute("SELECT raw FROM raw_messages WHERE key = ?", [post_key]).fetchone()
        return bytes(row[0]) if row else None

    def _post_from_row(self, row: dict[str, Any]) -> Post:
        return Post(
            source=Source(row["source"]),
            key=row["key"],
            message_id=row["message_id"],
            thread_key=row["thread_key"],
            author=Person(row["author_name"] or "", row["author_address"] or ""),
            created_at=from_text(row["created_at"]),
            subject=row["subject"] or "",
            text=row["text"] or "",
            quoted=tuple(json.loads(row["quoted"] or "[]")),
            mentions=tuple(json.loads(row["mentions"] or "[]")),
            in_reply_to=row["in_reply_to"],
            references=tuple(json.loads(row["refs"] or "[]")),
            url=row["url"],
            list_id=row["list_id"],
            auto_submitted=bool(row["auto_submitted"]),
            body_hash=row["body_hash"] or "",
            defects=tuple(self.defects_of(row["key"])),
            headers=json.loads(row["headers"] or "{}"),
        )


def _thread_summary(row: dict[str, Any]) -> ThreadSummary:
    return ThreadSummary(
        key=row["key"],
        kind=ThreadKind(row["kind"]),
        subject=row["subject"] or "",
        messages=row["post_count"],
        participants=tuple(p for p in json.loads(row["participants"] or "[]") if p),
        first_at=from_text(row["first_at"]),
        last_at=from_text(row["last_at"]),
        closes=row["closes"],
        closed_by=tuple(json.loads(row["closed_by"] or "[]")),
        rfc=row.get("rfc"),
    )


# Last, because bot.store.forum imports the names above from this module.
from bot.store import forum as forum_store  # noqa: E402


def _apply_feature_migrations(db: Database) -> None:
    """Feature tables have their own migration sets, applied after the core schema."""
    from bot.store import jobs, outbox  # they import this module, so not at the top

    outbox.apply_migrations(db)
    jobs.migrations.apply(db)
