"""The only place that speaks SQL. One writer; everything else asks it.

Every write is an idempotent upsert on a natural key, so re-delivery,
re-import and replays after a crash are harmless.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.core import rfc_links as core_links  # bot.store.rfc_links is the submodule
from bot.core import threads as threading_rules
from bot.core.mail import content_key
from bot.errors import UserError
from bot.model import Defect, Person, Post, Source, Thread, ThreadKind
from bot.store import compress, concern_extractions, jobs, lifecycle, outbox, views
from bot.store import forum as forum_store
from bot.store import parts as parts_store
from bot.store import rfc_links as rfc_store
from bot.store.migrations import migrations
from bot.store.values import (
    InboundDelivery,
    subject_key,
    thread_kind,
    thread_subject_key,
)

# Re-exported: the rest of the bot imports these from bot.store.
from bot.store.values import IngestCounts as IngestCounts
from bot.store.values import from_text as from_text
from bot.store.values import to_text as to_text

logger = logging.getLogger(__name__)

# The page cache of Store.bulk_ingest(), in KiB, and how many messages it commits at once.
BULK_CACHE_KIB = 64 * 1024
BULK_COMMIT_MESSAGES = 2_000
WAL_SIZE_LIMIT_BYTES = 32 * 1024 * 1024
# How long a write waits for another process's write (an import beside `quorum run`).
BUSY_TIMEOUT_SECONDS = 30.0
# The worker reads at most this much pending mail at once (one larger message alone).
PENDING_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class InboundMail:
    """A delivery the SMTP endpoint acknowledged and the worker has yet to process."""

    id: int
    raw: bytes
    received_at: datetime
    # A large delivery's bytes live in raw_parts under this owner (see bot.store.parts).
    raw_parts: str | None = None


@dataclass(frozen=True, slots=True)
class _Inbound:
    raw: bytes
    received_at: datetime
    peer: str
    mail_from: str
    rcpt_to: list[str]


@dataclass(frozen=True, slots=True)
class PreparedPost:
    """A post with what storing it derives from the post alone (see :func:`prepare`)."""

    post: Post
    raw_key: str  # content_key() of its raw bytes
    created_at: str
    # The JSON columns.
    quoted: str
    mentions: str
    references: str
    headers: str
    # Its RFC link tokens (core_links.post_tokens) as if it were in no thread yet.
    links: core_links.PostTokens
    # Its raw bytes and content compressed by an import worker (see :func:`packed`), and
    # the dictionary that did it: used when that is still the store's current one.
    packed: tuple[bytes, bytes, int] | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # A bulk import sends one per message from its workers: pickled as plain values
        # this takes about half the time of pickling the dataclasses.
        post = self.post
        return _unpickle_prepared, (
            post.source.value,
            post.key,
            post.message_id,
            post.thread_key,
            post.author.name,
            post.author.address,
            post.created_at,
            post.subject,
            post.text,
            post.quoted,
            post.mentions,
            post.in_reply_to,
            post.references,
            post.url,
            post.list_id,
            post.auto_submitted,
            post.body_hash,
            tuple([(defect.kind, defect.detail) for defect in post.defects]),
            post.headers,
            post.via,
            post.quote_at,
            self.raw_key,
            self.created_at,
            self.quoted,
            self.mentions,
            self.references,
            self.headers,
            self.links.identity,
            self.links.mentions,
            self.packed,
        )


# Source(value) without the enum's call machinery: the single writer unpickles every
# post of an import.
_SOURCES = {source.value: source for source in Source}


def _unpickle_prepared(*values: Any) -> PreparedPost:
    (source, key, message_id, thread_key, name, address, created_at, subject, text, quoted,
     mentions, in_reply_to, references, url, list_id, auto_submitted, body_hash, defects,
     headers, via, quote_at, raw_key, created_text, quoted_json, mentions_json,
     references_json, headers_json, identity, link_mentions, packed) = values  # fmt: skip
    post = Post(
        _SOURCES[source],
        key,
        message_id,
        thread_key,
        Person(name, address),
        created_at,
        subject,
        text,
        quoted,
        mentions,
        in_reply_to,
        references,
        url,
        list_id,
        auto_submitted,
        body_hash,
        tuple([Defect(kind, detail) for kind, detail in defects]),
        headers,
        via,
        quote_at,
    )
    return PreparedPost(
        post,
        raw_key,
        created_text,
        quoted_json,
        mentions_json,
        references_json,
        headers_json,
        core_links.PostTokens(identity, link_mentions),
        packed=packed,
    )


def prepare(post: Post, raw_key: str) -> PreparedPost:
    """All :meth:`Store.ingest` derives from a post without asking the database.

    Pure, so a bulk import runs it in its worker processes. ``raw_key`` is the
    :func:`~bot.core.mail.content_key` of the post's raw bytes.
    """
    return PreparedPost(
        post=post,
        raw_key=raw_key,
        created_at=to_text(post.created_at),
        quoted=_json(post.quoted),
        mentions=_json(post.mentions),
        references=_json(post.references),
        headers=_json_object(post.headers),
        # As if in no thread yet (without copying the post to say so).
        links=core_links.post_tokens(post, thread_key=""),
    )


def packed(item: PreparedPost, raw: bytes, packer: compress.Packer) -> PreparedPost:
    """``item`` with its raw bytes and content compressed: an import worker's share of the
    writer's work, so the single writer is left with less of it."""
    raw_z, dict_id = packer.pack(raw)
    content_z, _ = compress.pack_content(
        packer, item.post.text, item.quoted, item.headers, item.post.quote_at
    )
    # Built as dataclasses.replace would, which costs three times as much (it asks each
    # field of the class); every field is named here.
    return PreparedPost(
        post=item.post,
        raw_key=item.raw_key,
        created_at=item.created_at,
        quoted=item.quoted,
        mentions=item.mentions,
        references=item.references,
        headers=item.headers,
        links=item.links,
        packed=(raw_z, content_z, dict_id),
    )


# json.dumps of a list or dict of strings, as it writes them (", " and ": " between, ASCII
# escapes), without the encoder it makes on every call for a container: 2 µs each, four
# times a message in an import. Anything but strings goes to json.dumps (TypeError).
_json_string = json.encoder.encode_basestring_ascii


def _json(values: tuple[str, ...]) -> str:
    if not values:
        return "[]"
    try:
        return "[" + ", ".join(map(_json_string, values)) + "]"
    except TypeError:
        return json.dumps(values)


def _json_object(values: dict[str, str]) -> str:
    if not values:
        return "{}"
    try:
        return (
            "{"
            + ", ".join([f"{_json_string(k)}: {_json_string(v)}" for k, v in values.items()])
            + "}"
        )
    except TypeError:
        return json.dumps(values)


def _links_in_thread(links: core_links.PostTokens, thread_key: str) -> core_links.PostTokens:
    """``core_links.post_tokens`` of a post stored in ``thread_key``, from its unthreaded ones.

    A thread key only adds identity tokens of its own (a GitHub mirror's root names
    its issue or pull request), which then are no mentions.
    """
    own = _thread_identity(thread_key)
    if not own:
        return links
    return core_links.PostTokens(links.identity | own, links.mentions - own)


@lru_cache(maxsize=4096)
def _thread_identity(thread_key: str) -> frozenset[str]:
    """The identity tokens that being in ``thread_key`` gives a post."""
    bare = Post(Source.MAIL, "", None, thread_key, Person(""), datetime.min, "", "")
    return core_links.post_tokens(bare).identity


@dataclass
class _Counts:
    """IngestCounts being added up, one message at a time."""

    read: int = 0
    new: int = 0
    known: int = 0
    with_defects: int = 0
    edited: int = 0

    def result(self) -> IngestCounts:
        return IngestCounts(self.read, self.new, self.known, self.with_defects, self.edited)


@dataclass
class _Batch:
    """Rows of one ingest that no lookup of the same ingest reads, written at its end.

    Inserting them with one ``executemany`` per table instead of a statement per
    message is most of what makes a bulk import cheap to store. The exception is
    post_refs, which the orphan query reads: ``referenced`` holds every
    Message-ID that stored posts or this batch's posts refer to, and the ingest
    flushes before it runs that query, which it only needs for those.
    """

    referenced: set[str]
    # Content keys of raw messages stored in parts, and their owners (bot.store.parts).
    raw_parts: Mapping[str, str] = field(default_factory=dict)
    seen_raw: list[tuple[str]] = field(default_factory=list)
    # (key, raw_parts owner, compressed raw, its dictionary): see bot.store.compress.
    raw_messages: list[tuple[str, str | None, bytes | None, int | None]] = field(
        default_factory=list
    )
    post_refs: list[tuple[str, str]] = field(default_factory=list)
    defects: list[tuple[str, str, str]] = field(default_factory=list)
    post_links: list[tuple[str, str, str]] = field(default_factory=list)

    def flush(self, conn: sqlite3.Connection) -> None:
        for sql, rows in (
            ("INSERT OR IGNORE INTO seen_raw (content_key) VALUES (?)", self.seen_raw),
            (
                "INSERT OR REPLACE INTO raw_messages (key, raw, raw_parts, zraw, dict_id)"
                " VALUES (?, NULL, ?, ?, ?)",
                self.raw_messages,
            ),
            ("INSERT OR IGNORE INTO post_refs (post_key, ref_id) VALUES (?, ?)", self.post_refs),
            (
                "INSERT OR IGNORE INTO defects (post_key, kind, detail) VALUES (?, ?, ?)",
                self.defects,
            ),
            (
                "INSERT OR IGNORE INTO post_links (post_key, token, role) VALUES (?, ?, ?)",
                self.post_links,
            ),
        ):
            if rows:
                conn.executemany(sql, rows)
                rows.clear()


class StoreError(UserError):
    """The database cannot be used: not SQLite, damaged, unwritable or busy."""


def describe_store_error(error: sqlite3.Error, path: Path | str) -> str:
    """One line a person can act on, for what SQLite said about the database at ``path``."""
    said = str(error)
    lowered = said.lower()
    if "file is not a database" in lowered:
        return f"{path} is not a SQLite database ({said}); is --db the right file?"
    if "malformed" in lowered or "corrupt" in lowered:
        return (
            f"the database {path} is damaged ({said}); restore it from a backup, or"
            f" salvage it with `sqlite3 {path} .recover`"
        )
    if "locked" in lowered or "busy" in lowered:
        return (
            f"the database {path} stayed busy for {BUSY_TIMEOUT_SECONDS:.0f} s (another quorum"
            " process is writing); nothing was lost, try again"
        )
    if "readonly" in lowered or "read-only" in lowered:
        return f"cannot write the database {path} ({said}): check its permissions"
    if "unable to open" in lowered:
        return f"cannot open the database {path} ({said}): check the path and its permissions"
    return f"the database {path} failed: {said}"


@contextmanager
def store_errors(path: Path | str) -> Iterator[None]:
    """Any SQLite failure inside becomes a :class:`StoreError` naming the database."""
    try:
        yield
    except sqlite3.Error as error:
        raise StoreError(describe_store_error(error, path)) from None


class _Database(Database):
    """sqlite-utils' Database whose transactions take the write lock when they begin.

    A deferred transaction that reads first and writes later fails at once
    ("database is locked") when another process committed in between, busy
    timeout or not; one that begins IMMEDIATE waits its turn for the lock instead.
    That is what lets `quorum import` write while `quorum run` does.

    ``on_rollback`` is called after a transaction or savepoint is rolled back: the
    store's memory of what it wrote (a compression dictionary) must go with it.
    """

    on_rollback: Callable[[], None] | None = None

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:
            try:
                with super().atomic():
                    yield self
            except BaseException:
                self._rolled_back()
                raise
            return
        _begin_immediate(self.conn)
        try:
            yield self
        except BaseException:
            self.rollback()
            self._rolled_back()
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.rollback()
                self._rolled_back()
                raise

    def _rolled_back(self) -> None:
        if self.on_rollback is not None:
            self.on_rollback()


# While another process holds the write lock, try again this often (seconds) ...
_LOCK_POLL_FIRST, _LOCK_POLL_LONGEST = 0.0005, 0.004


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for another process's write lock by polling every few ms.

    SQLite's own busy handler sleeps in growing steps up to 100 ms, so a commit
    waiting behind an import's transaction would lose up to 100 ms after the lock
    is free: every SMTP sender waits for that commit. Polling takes the lock within
    milliseconds of its release; BUSY_TIMEOUT_SECONDS still bounds the wait.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        pause = _LOCK_POLL_FIRST
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LOCK_POLL_LONGEST)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")


class Store:
    """SQLite through sqlite-utils, in WAL mode, with migrations applied on open."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Threads whose RFC link tokens an ingest stored, changed or re-threaded.
        self._rfc_links_stale: set[str] = set()
        # Set by `quorum run`: an ingest marks those threads (rfc_store.mark_stale) and
        # the regrouping is computed off the writer, rather than in the ingest's commit.
        self.defer_rfc_links = False
        # Threads the ingest under way added posts to (see _link_closing_threads).
        self._touched_threads: set[str] = set()
        # Within bulk_ingest(), and within ingest_group().
        self._bulk = False
        self._in_group = False
        # The WAL's length in pages, as checkpoint_aside's thread last saw it.
        self._wal_pages = 0
        # Within copies_from(): the source the ingested mail was fetched from.
        self._origin: str | None = None
        self._origin_authoritative = False
        # Compresses raw messages and post texts (loaded on first use), and how many raw
        # messages it compressed without a dictionary (counted once, while none is trained).
        self._codec: compress.Codec | None = None
        self._undictionaried: int | None = None

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (or create) and migrate; :class:`StoreError` names what is wrong with it."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # check_same_thread=False: the app hands the connection to one writer thread.
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS)
        except sqlite3.Error as error:
            raise StoreError(describe_store_error(error, path)) from None
        # Implicit transactions (a lone INSERT) take the write lock at once, as atomic() does.
        conn.isolation_level = "IMMEDIATE"
        db = _Database(conn)
        try:
            if str(path) != ":memory:":
                db.enable_wal()
            db.execute("PRAGMA synchronous=NORMAL")
            # A WAL that grew in a burst is cut back to this when it starts over.
            db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
            # A store a newer Quorum migrated is refused before anything is changed.
            lifecycle.refuse_if_newer(conn, path)
            migrations.apply(db)
            _apply_feature_migrations(db)
            store = cls(db)
            db.on_rollback = store._forget_dictionary
            _run_backfills(store)
            # Marks a `quorum run` left (it regroups them at its next refresh), taken
            # in here so a command reading RFCs after it sees them joined.
            with db.atomic():
                rfc_store.settle_stale(store)
            lifecycle.record_writer(conn)
        except sqlite3.Error as error:
            conn.close()
            raise StoreError(describe_store_error(error, path)) from None
        return store

    @classmethod
    def open_reader(cls, path: Path | str) -> Store:
        """A read-only connection to a store that :meth:`open` created and migrated.

        WAL lets it read while the writer writes. ``:memory:`` has no second
        connection, so that path is refused rather than quietly opening an empty store.
        """
        if str(path) == ":memory:":
            raise ValueError("an in-memory store has no read-only second connection")
        uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
        return cls(Database(conn))

    @contextmanager
    def read_transaction(self) -> Iterator[None]:
        """Every read inside sees the same state of the store (WAL snapshot isolation)."""
        self.db.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.db.conn.execute("COMMIT")

    @contextmanager
    def read_step(self) -> Iterator[None]:
        """One consistent step of a longer reading: a read transaction of its own, or
        the caller's when one is open already.

        A reading that computes for seconds (the views) reads in such steps and computes
        between them. An open read transaction keeps SQLite from checkpointing any page
        written after it began, so the WAL grows behind it; when it ends, the backlog is
        copied at once, and the writer's commits (every SMTP 250) stalled behind that
        copy for hundreds of milliseconds (python -m bench.history at 100,000 messages).
        """
        if self.db.conn.in_transaction:
            yield
            return
        with self.read_transaction():
            yield

    def close(self) -> None:
        self.db.close()

    @property
    def codec(self) -> compress.Codec:
        if self._codec is None:
            self._codec = compress.Codec(self.db.conn)
        return self._codec

    @contextmanager
    def bulk_ingest(self) -> Iterator[None]:
        """Settings for many ingests in a row (an archive import), restored afterwards.

        - A bigger page cache: the indexes a message is looked up and inserted in
          outgrow SQLite's default 2 MB after a few thousand messages, and every
          miss is a read. It is bounded, so memory does not grow with the archive.
        - WAL checkpoints in a thread of their own (see _checkpoint_aside), and
          one in this thread after each :meth:`ingest_group`, so the WAL starts
          over: a WAL that only grows makes every page read slower.
        - RFC links (which threads form one RFC) are recomputed once at the end
          instead of after every ingest: the result is the same, since they are
          computed from all stored links, and nothing during an ingest reads them.
        """
        cache_size = self.db.conn.execute("PRAGMA cache_size").fetchone()[0]
        self.db.conn.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
        self._bulk = True
        try:
            with self.checkpoint_aside():
                yield
        finally:
            self._bulk = False
            if self._rfc_links_stale:
                self._rfc_links_stale.clear()
                with self.db.atomic():
                    rfc_store.refresh_rfc_links(self)  # all of them, once
            self.db.conn.execute(f"PRAGMA cache_size = {int(cache_size)}")

    @contextmanager
    def ingest_group(self) -> Iterator[None]:
        """The ingests inside are one transaction: committed together, or not at all.

        How an import commits BULK_COMMIT_MESSAGES messages at once rather than each
        batch: messages land all over every index, so each commit writes most of the
        index pages it touched, and the fewer commits, the fewer writes. The ingests
        inside skip the savepoint that would make each all or nothing on its own: a
        savepoint copies every page its ingest changes into a journal first (14% of
        the writer's CPU in a 100,000-message import, 2026-12-05). So an interrupted
        group keeps nothing, and the groups before it everything.
        """
        if self.db.conn.in_transaction:
            raise RuntimeError("ingest_group() opens a transaction of its own")
        self._in_group = True
        try:
            with self.db.atomic():
                yield
        finally:
            self._in_group = False
        if self._bulk:
            # The checkpoint thread has copied most of the WAL by now; finishing here,
            # between two transactions, lets the next one start the WAL over.
            self.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _ingest_unit(self) -> AbstractContextManager[object]:
        """What an ingest is all or nothing in: its own transaction (or savepoint, in a
        caller's transaction), or within :meth:`ingest_group` the group's."""
        return nullcontext() if self._in_group else self.db.atomic()

    def _forget_dictionary(self) -> None:
        """After any rollback (``_Database.on_rollback``): a dictionary trained in what
        was rolled back is gone from the store, so the codec is read again rather than
        go on compressing with it (its id would be given to the next one trained)."""
        self._codec = None
        self._undictionaried = None

    @contextmanager
    def checkpoint_aside(self, every: float = 0.05, writer_pages: int = 0) -> Iterator[None]:
        """Checkpoint the WAL from a thread of its own while this is open.

        SQLite checkpoints in the committing thread once the WAL passes 1,000 pages,
        and a checkpoint waits for the disk twice (it syncs the WAL and the database).
        A bulk import passes that mark at nearly every commit, so the single writer
        would spend much of its time waiting; `quorum run` would keep every SMTP
        delivery waiting for its 250 meanwhile. A second connection checkpoints
        instead, without blocking the writer; what is left is checkpointed at the
        end, before this returns, so the WAL ends as small as without this.

        Only a checkpoint that completes right before a write lets the WAL start
        over, and under steady writes the second connection rarely catches up, so
        the WAL would grow for as long as they last. The writer therefore still
        checkpoints now and then, when it suits it: a bulk import between its
        groups of commits, `quorum run` between processing chunks
        (:meth:`checkpoint_if_long`); by then the other connection has copied
        nearly all of the WAL, so the writer mostly waits for one sync. As a
        bound, the writer also checkpoints by SQLite's own rule once the WAL is
        ``writer_pages`` long (0: never).
        """
        path = self.db.conn.execute("PRAGMA database_list").fetchone()[2]
        mode = self.db.conn.execute("PRAGMA journal_mode").fetchone()[0]
        if not path or mode != "wal":
            yield
            return
        limit = self.db.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        stop = threading.Event()

        def checkpoint() -> None:
            try:
                conn = sqlite3.connect(path, timeout=30)
                try:
                    while not stop.wait(every):
                        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        self._wal_pages = int(row[1])  # the WAL's length, in pages
                finally:
                    conn.close()
            except sqlite3.Error:
                # Only speed is lost: the checkpoint at the end copies what is left.
                logger.warning("background WAL checkpoints stopped", exc_info=True)

        thread = threading.Thread(target=checkpoint, name="wal-checkpoint", daemon=True)
        self.db.conn.execute(f"PRAGMA wal_autocheckpoint = {int(writer_pages)}")
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.db.conn.execute(f"PRAGMA wal_autocheckpoint = {int(limit)}")
            self.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def checkpoint_if_long(self, pages: int) -> None:
        """Checkpoint in this, the writer's, thread if the WAL was last seen ``pages`` long.

        Within :meth:`checkpoint_aside`: this lets the WAL start over (see there).
        """
        if self._wal_pages >= pages:
            self._wal_pages = 0
            self.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    # -- SMTP inbox: durable before 250 ---------------------------------------------------

    def enqueue_inbound(
        self, raw: bytes, *, received_at: datetime, peer: str, mail_from: str, rcpt_to: list[str]
    ) -> int:
        """Commit a delivery. The SMTP endpoint answers 250 only after this returns."""
        return self.enqueue_inbound_many([_Inbound(raw, received_at, peer, mail_from, rcpt_to)])[0]

    def enqueue_inbound_many(self, deliveries: Sequence[InboundDelivery]) -> list[int]:
        """Commit several deliveries in one transaction; their inbox ids, in order.

        Concurrent SMTP sessions share a commit this way (group commit): under
        load the commit, not the insert, is what each delivery waits for.
        """
        ids: list[int] = []
        with self.db.atomic():
            for delivery in deliveries:
                cursor = self.db.conn.execute(
                    "INSERT INTO inbox (raw, received_at, peer, mail_from, rcpt_to)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        delivery.raw,
                        to_text(delivery.received_at),
                        delivery.peer,
                        delivery.mail_from,
                        json.dumps(delivery.rcpt_to),
                    ],
                )
                ids.append(int(cursor.lastrowid or 0))
        return ids

    def pending_inbound(
        self, limit: int = 500, max_bytes: int = PENDING_MAX_BYTES, *, load_parts: bool = True
    ) -> list[InboundMail]:
        """The oldest deliveries not processed yet: at most ``limit`` of them, and no more
        than ``max_bytes`` of mail unless the first alone is larger.

        Without ``load_parts`` a delivery stored in parts comes with empty ``raw``:
        the caller reads the parts itself (``quorum run`` does, in a worker process).
        """
        rows = self.db.execute(
            # "id > 0" makes the plan a range of the primary key, which it is anyway.
            "SELECT id, received_at, raw_parts, length(raw) FROM inbox WHERE id > 0"
            " ORDER BY id LIMIT ?",
            [limit],
        ).fetchall()
        found: list[InboundMail] = []
        total = 0
        for inbox_id, received_at, owner, length in rows:
            size = parts_store.size(self, owner) if owner else int(length or 0)
            if found and total + size > max_bytes:
                break
            total += size
            if owner:
                raw = parts_store.joined(self, owner) if load_parts else b""
            else:
                row = self.db.conn.execute("SELECT raw FROM inbox WHERE id = ?", [inbox_id])
                raw = bytes(row.fetchone()[0] or b"")
            found.append(InboundMail(inbox_id, raw, from_text(received_at), owner))
        return found

    def inbox_size(self) -> int:
        return self._count("inbox")

    def _count(self, name: str) -> int:
        """A counter the store's triggers keep (migration m013): a row, not a count(*)."""
        row = self.db.execute("SELECT n FROM store_counts WHERE name = ?", [name]).fetchone()
        return int(row[0]) if row else 0

    # -- ingest ----------------------------------------------------------------------------

    def ingest(
        self, items: Iterable[tuple[Post, bytes]], *, done_inbox_ids: Iterable[int] = ()
    ) -> IngestCounts:
        """Store posts with their raw bytes in one transaction; drop processed inbox rows.

        Removing the inbox rows in the same transaction is what makes SMTP
        processing exactly-once across crashes.
        """
        prepared = [(prepare(post, content_key(raw)), raw) for post, raw in items]
        return self.ingest_prepared(prepared, done_inbox_ids=done_inbox_ids)

    def ingest_prepared(
        self,
        items: Iterable[tuple[PreparedPost, bytes]],
        *,
        done_inbox_ids: Iterable[int] = (),
        raw_parts: Mapping[str, str] | None = None,
        until: float | None = None,
    ) -> IngestCounts:
        """:meth:`ingest` for posts that went through :func:`prepare` already.

        A bulk import prepares posts in its worker processes, next to parsing, so
        this process, the single writer, is left with the lookups and the writes.
        ``raw_parts`` maps the content keys of raw messages already stored in parts
        to their owners: those are stored by name, not copied.

        ``until`` (a time.monotonic() instant): store items in order, but take no
        further one once it has passed (the first is always stored). ``done_inbox_ids``
        are then one per item, and only those of the items stored are dropped; the
        counts' ``read`` says how many items were taken.
        """
        items = list(items)
        inbox_ids = list(done_inbox_ids)
        now = to_text(datetime.now(UTC))
        counts = _Counts()
        with self._ingest_unit():
            self._ingest_all(items, inbox_ids, raw_parts or {}, now, counts, until)
        return counts.result()

    def _ingest_all(
        self,
        items: list[tuple[PreparedPost, bytes]],
        inbox_ids: list[int],
        parts: Mapping[str, str],
        now: str,
        counts: _Counts,
        until: float | None,
    ) -> None:
        """The body of ingest_prepared, in its transaction."""
        self._train_if_due([raw for item, raw in items if item.raw_key not in parts])
        batch = _Batch(self._referenced([item.post.message_id for item, _ in items]), parts)
        self._touched_threads = set()
        for item, raw in items:
            if until is not None and counts.read and time.monotonic() >= until:
                inbox_ids = inbox_ids[: counts.read]
                break
            self._ingest_one(item, raw, now, batch, counts)
        batch.flush(self.db.conn)
        self.db.conn.executemany(
            "DELETE FROM inbox WHERE id = ?", [(inbox_id,) for inbox_id in inbox_ids]
        )
        self._link_closing_threads(self._touched_threads)
        if self._rfc_links_stale and not self._bulk:
            touched, self._rfc_links_stale = self._rfc_links_stale, set()
            if self.defer_rfc_links:
                rfc_store.mark_stale(self, touched)
            else:
                rfc_store.refresh_rfc_links(self, touched)

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

    def _referenced(self, message_ids: list[str | None]) -> set[str]:
        """Which of these Message-IDs stored posts reference (the orphans' parents)."""
        wanted = [message_id for message_id in message_ids if message_id]
        rows = self.db.conn.execute(
            "SELECT DISTINCT ref_id FROM post_refs WHERE ref_id IN"
            " (SELECT value FROM json_each(?))",
            [json.dumps(wanted)],
        ).fetchall()
        return {row[0] for row in rows}

    def _ingest_one(
        self, item: PreparedPost, raw: bytes, now: str, batch: _Batch, counts: _Counts
    ) -> None:
        post = item.post
        counts.read += 1
        if post.source != Source.MAIL:
            # Forum revisions read and rewrite rows the batch may still hold back.
            batch.flush(self.db.conn)
            if self._has_post(post.key):
                # Mail is insert-once; a forum post may come back edited.
                if forum_store.revise_post(self, post, raw, now):
                    self._rfc_links_stale.add(self._thread_of(post.key))
                    counts.edited += 1
                else:
                    counts.known += 1
                return
        batch.seen_raw.append((item.raw_key,))
        keyed = self._natural_key(post, item.raw_key)
        if keyed is None:
            counts.known += 1
            return
        post = keyed
        parent = self._parent_thread(post)
        same_subject = (
            self._same_subject_thread(post)
            if threading_rules.may_join_by_subject(post, parent)
            else None
        )
        thread_key, closes = threading_rules.decide_thread(post, parent, same_subject)
        self._insert_post(item, post, thread_key, raw, now, batch)
        if self._origin is not None:
            self.db.conn.execute(
                "INSERT OR IGNORE INTO post_origins (post_key, origin) VALUES (?, ?)",
                [post.key, self._origin],
            )
        comes_first = self._touch_thread(post, thread_key, item.created_at, closes)
        links = _links_in_thread(item.links, thread_key)
        rows = [(post.key, token, "identity") for token in links.identity]
        rows += [(post.key, token, "mention") for token in links.mentions]
        # As rfc_store.record_links, without its delete: a new post has no links yet.
        batch.post_links.extend(rows)
        if rows and (comes_first or self._cites_anew(thread_key, rows)):
            self._rfc_links_stale.add(thread_key)
        if post.message_id and post.message_id in batch.referenced:
            # Only then can the orphan query find anything; it reads post_refs.
            batch.flush(self.db.conn)
            self._adopt_orphans(post.message_id, thread_key)
        counts.new += 1
        counts.with_defects += 1 if post.defects else 0

    def _natural_key(self, post: Post, raw_key: str) -> Post | None:
        """The key this post is stored under, or None when we already hold it.

        Same Message-ID and same body is the same message relayed twice; same
        Message-ID with another body is a different message that gets a
        content-hash key (``raw_key``) and a recorded defect.
        """
        if post.source != Source.MAIL or post.message_id is None:
            return None if self._has_post(post.key) else post
        rows = self.db.conn.execute(
            "SELECT key, body_hash FROM posts WHERE message_id = ?", [post.message_id]
        ).fetchall()
        same = [row[0] for row in rows if row[1] == post.body_hash]
        if same:
            self._note_origin(same[0])
            return None
        if not rows:
            return post
        if self._has_post(raw_key):
            return None
        held = self._copy_held([row[0] for row in rows])
        if held is not None:
            self._note_origin(held)
            return None
        clash = Defect("message-id-clash", f"{post.message_id} is used by another message")
        return replace(post, key=raw_key, defects=(*post.defects, clash))

    # -- fetched copies (see copies_from) ---------------------------------------------------

    @contextmanager
    def copies_from(self, origin: str, *, authoritative: bool = False) -> Iterator[None]:
        """Ingests inside deliver copies fetched from ``origin`` (an archive, GitHub's API).

        A source renders mail its own way (HyperKitty rebuilds each message, Pony Mail
        re-decodes it, GitHub's API has no mail at all), so its copy of a mail we hold
        has other bytes under the same Message-ID. Such a copy is the mail we hold when
        the held post came by another path; two bodies under one Message-ID from the
        *same* source are two mails and both are kept, as ever. ``authoritative``: the
        source never holds two mails under one Message-ID (its ids are its keys), so any
        held post with that Message-ID is the one it means.
        """
        previous = self._origin, self._origin_authoritative
        self._origin, self._origin_authoritative = origin, authoritative
        try:
            yield
        finally:
            self._origin, self._origin_authoritative = previous

    def _copy_held(self, keys: list[str]) -> str | None:
        """Which held post (same Message-ID, other body) the incoming mail is a copy of."""
        incoming = self._origin or ""
        for key in keys:
            origins = self._origins_of(key)
            if incoming not in origins or (self._origin and self._origin_authoritative):
                return key
        return None

    def _origins_of(self, post_key: str) -> set[str]:
        rows = self.db.conn.execute(
            "SELECT origin FROM post_origins WHERE post_key = ?", [post_key]
        ).fetchall()
        return {row[0] for row in rows} or {""}

    def _note_origin(self, post_key: str) -> None:
        """Record that the current source (if any) delivered ``post_key`` too."""
        if self._origin is None:
            return
        rows = [(post_key, origin) for origin in self._origins_of(post_key) | {self._origin}]
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO post_origins (post_key, origin) VALUES (?, ?)", rows
        )

    def _thread_of(self, post_key: str) -> str:
        row = self.db.conn.execute("SELECT thread_key FROM posts WHERE key = ?", [post_key])
        return str(row.fetchone()[0])

    def _has_post(self, key: str) -> bool:
        return (
            self.db.conn.execute("SELECT 1 FROM posts WHERE key = ?", [key]).fetchone() is not None
        )

    def _parent_thread(self, post: Post) -> threading_rules.ThreadRef | None:
        candidates = [post.in_reply_to] if post.in_reply_to else []
        candidates += [ref for ref in reversed(post.references) if ref != post.in_reply_to]
        for ref in candidates:
            # The thread of the first post stored with that Message-ID (NULLs if gone).
            row = self.db.conn.execute(
                "SELECT t.key, t.kind, t.subject, t.first_at, t.last_at FROM posts p"
                " LEFT JOIN threads t ON t.key = p.thread_key WHERE p.message_id = ? LIMIT 1",
                [ref],
            ).fetchone()
            if row is not None:
                return _thread_ref(row)
        return None

    def _same_subject_thread(self, post: Post) -> threading_rules.ThreadRef | None:
        row = self.db.conn.execute(
            "SELECT key, kind, subject, first_at, last_at FROM threads WHERE subject_key = ?"
            " ORDER BY last_at DESC LIMIT 1",
            [subject_key(post.subject)],
        ).fetchone()
        return _thread_ref(row) if row else None

    def _insert_post(
        self,
        item: PreparedPost,
        post: Post,
        thread_key: str,
        raw: bytes,
        now: str,
        batch: _Batch,
    ) -> None:
        """Insert ``post`` (``item.post`` under its final key) into ``thread_key``."""
        done = item.packed if item.packed and item.packed[2] == self.codec.current else None
        content = (
            (done[1], done[2])
            if done
            else compress.pack_content(
                self.codec, post.text, item.quoted, item.headers, post.quote_at
            )
        )
        self.db.conn.execute(
            "INSERT INTO posts (key, source, message_id, thread_key, author_name, author_address,"
            " created_at, subject, content, content_dict, mentions, in_reply_to, refs, url,"
            " list_id, auto_submitted, body_hash, ingested_at, via)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                post.key,
                post.source.value,
                post.message_id,
                thread_key,
                post.author.name,
                post.author.address,
                item.created_at,
                post.subject,
                *content,
                item.mentions,
                post.in_reply_to,
                item.references,
                post.url,
                post.list_id,
                int(post.auto_submitted),
                post.body_hash,
                now,
                post.via,
            ],
        )
        owner = batch.raw_parts.get(item.raw_key)
        batch.raw_messages.append(self.raw_row(post.key, raw, owner, done[0] if done else None))
        refs = {*post.references, *([post.in_reply_to] if post.in_reply_to else [])}
        batch.post_refs.extend((post.key, ref) for ref in refs)
        batch.referenced.update(refs)
        batch.defects.extend((post.key, d.kind, d.detail) for d in post.defects)

    def _cites_anew(self, thread_key: str, rows: Sequence[tuple[str, str, str]]) -> bool:
        """Whether a new post, not its thread's first, cites what its thread did not.

        Joining reads each thread's tokens (with their roles) and its first post's time
        (bot.core.rfc_links.RfcPart). A reply citing only what its thread already cites
        changes neither, and regrouping on it would cost in proportion to how many
        threads cite the same links: on a long history, every reply in a popular RFC.
        (Rows still held in the batch are not seen, which errs towards regrouping.)
        """
        # The thread's links, read from its posts (CROSS JOIN keeps that order): a few
        # rows. Asked token by token, SQLite went from the token's index instead, a walk
        # over every post that ever cited it: 7-9 ms a token at 1,000,000 messages.
        cited = set(
            self.db.conn.execute(
                "SELECT l.token, l.role FROM posts p CROSS JOIN post_links l"
                " ON l.post_key = p.key WHERE p.thread_key = ?",
                [thread_key],
            ).fetchall()
        )
        return any((token, role) not in cited for _, token, role in rows)

    def _touch_thread(
        self, post: Post, thread_key: str, created_at: str, closes: str | None
    ) -> bool:
        """Count the post into its thread; whether it is now the thread's first (a new
        thread, or a post older than any it held: either moves the thread's start,
        which RFC joining reads; a tie counts as first, erring towards regrouping)."""
        self._touched_threads.add(thread_key)
        # first_at is set apart, in the rare case that it moves: SQLite rewrites the
        # entry of every index on a column the SET names, changed or not, and three
        # indexes hold first_at (10 of the upsert's 30 µs on a 100,000-message store).
        row = self.db.conn.execute(
            "INSERT INTO threads (key, subject, subject_key, kind, first_at, last_at, post_count,"
            " closes) VALUES (?, ?, ?, ?, ?, ?, 1, ?)"
            " ON CONFLICT(key) DO UPDATE SET post_count = post_count + 1,"
            " last_at = max(last_at, excluded.last_at)"
            " RETURNING first_at",
            [
                thread_key,
                post.subject,
                thread_subject_key(post),
                thread_kind(post.subject).value,
                created_at,
                created_at,
                closes,
            ],
        ).fetchone()
        if row[0] > created_at:
            self.db.conn.execute(
                "UPDATE threads SET first_at = ? WHERE key = ?", [created_at, thread_key]
            )
        return bool(row[0] >= created_at)

    def _adopt_orphans(self, message_id: str, thread_key: str) -> None:
        """Replies that arrived before this post started threads of their own: fold them in."""
        orphans = [
            row[0]
            for row in self.db.execute(
                "SELECT DISTINCT p.thread_key FROM post_refs r JOIN posts p ON p.key = r.post_key"
                " JOIN threads t ON t.key = p.thread_key"
                " WHERE r.ref_id = ? AND p.thread_key = p.key AND p.thread_key != ?"
                " AND t.kind NOT IN ('result', 'cancel')",
                [message_id, thread_key],
            ).fetchall()
        ]
        for orphan in orphans:
            self.db.execute(
                "UPDATE posts SET thread_key = ? WHERE thread_key = ?", [thread_key, orphan]
            )
            self.db.execute("DELETE FROM threads WHERE key = ?", [orphan])
            self.db.execute("UPDATE threads SET closes = ? WHERE closes = ?", [thread_key, orphan])
        if orphans:
            self._recount_thread(thread_key)
            self._rfc_links_stale.update([thread_key, *orphans])

    def _recount_thread(self, key: str) -> None:
        self.db.execute(
            "UPDATE threads SET (post_count, first_at, last_at) ="
            " (SELECT count(*), min(created_at), max(created_at) FROM posts WHERE thread_key = ?)"
            " WHERE key = ?",
            [key, key],
        )

    def _link_closing_threads(self, touched: set[str]) -> None:
        """Link [RESULT]/[CANCEL] threads that no References tied to their vote.

        A RESULT is linked to a vote that began before it; each unlinked one was tried
        against every vote when it was stored, and again whenever a vote changed (new,
        or with a new post). So only two kinds can find a vote now: those this ingest
        touched, and, when it touched votes, those begun since the earliest of them.
        Trying every unlinked RESULT of the history after every ingest cost in
        proportion to the history; so did reading every open vote for each: a RESULT's
        subject only matches a vote begun within RESULT_WINDOW before it, and a link in
        its text names its vote, which is then looked up alone.
        """
        keys = json.dumps(sorted(touched))
        # '+kind' and '+closes' keep SQLite on the primary key (one look-up per touched
        # thread) rather than the kind or closes index, which reads every thread of a kind.
        earliest_vote = self.db.conn.execute(
            "SELECT min(first_at) FROM threads WHERE key IN (SELECT value FROM json_each(?))"
            " AND +kind = 'vote'",
            [keys],
        ).fetchone()[0]
        unlinked = self.db.conn.execute(
            "SELECT key, subject, first_at FROM threads"
            " WHERE key IN (SELECT value FROM json_each(?))"
            " AND +kind IN ('result', 'cancel') AND +closes IS NULL",
            [keys],
        ).fetchall()
        if earliest_vote is not None:
            unlinked += self.db.conn.execute(
                # The small partial index, which SQLite would pass over for (kind, first_at).
                "SELECT key, subject, first_at FROM threads INDEXED BY"
                " idx_threads_unlinked_closers WHERE kind IN ('result', 'cancel')"
                " AND closes IS NULL AND first_at >= ?",
                [earliest_vote],
            ).fetchall()
        # The earlier RESULT first, when two could claim one vote.
        for key, subject, first_at in sorted(set(unlinked), key=lambda row: (row[2], row[0])):
            at = from_text(first_at)
            # A link in the RESULT's own text first, then the subject.
            vote = self._vote_linked_from(key, at)
            if vote is None:
                vote = threading_rules.find_closed_vote(subject, at, self._open_votes_before(at))
            if vote is not None:
                self.db.conn.execute("UPDATE threads SET closes = ? WHERE key = ?", [vote, key])

    def _open_votes_before(self, at: datetime) -> list[threading_rules.ThreadRef]:
        """Votes no thread closes that began within RESULT_WINDOW before ``at``: those a
        RESULT of that time can name by its subject (bot.core.threads.find_closed_vote)."""
        rows = self.db.conn.execute(
            "SELECT v.key, v.subject, v.first_at, v.last_at FROM threads v"
            " WHERE v.kind = 'vote' AND v.first_at BETWEEN ? AND ?"
            " AND NOT EXISTS (SELECT 1 FROM threads c WHERE c.closes = v.key)",
            [to_text(at - threading_rules.RESULT_WINDOW), to_text(at)],
        ).fetchall()
        return [
            threading_rules.ThreadRef(
                key, ThreadKind.VOTE, subject, from_text(first), from_text(last)
            )
            for key, subject, first, last in rows
        ]

    def _is_open_vote(self, thread_key: str, at: datetime) -> bool:
        """Whether ``thread_key`` is a vote no thread closes, begun by ``at``."""
        row = self.db.conn.execute(
            "SELECT first_at FROM threads v WHERE v.key = ? AND v.kind = 'vote'"
            " AND NOT EXISTS (SELECT 1 FROM threads c WHERE c.closes = v.key)",
            [thread_key],
        ).fetchone()
        return row is not None and from_text(row[0]) <= at

    def _vote_linked_from(self, key: str, at: datetime) -> str | None:
        """The open vote the first post of closing thread ``key`` links to in its text."""
        post = self.post(key)
        if post is None:
            return None
        for link in core_links.closing_links(post.text, key):
            if link.startswith("<"):
                found = self.db.conn.execute(
                    "SELECT thread_key FROM posts WHERE message_id = ?", [link]
                ).fetchall()
            else:
                found = self.db.conn.execute(
                    "SELECT p.thread_key FROM post_links l JOIN posts p ON p.key = l.post_key"
                    " WHERE l.token = ? AND l.role = 'identity'",
                    [link],
                ).fetchall()
            for (thread_key,) in found:
                if self._is_open_vote(thread_key, at):
                    return str(thread_key)
        return None

    # -- reading ---------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        return {
            "messages": self._count("posts"),
            "threads": self._count("threads"),
            "defects": self._count("defect_posts"),  # posts with any defect
            "pending": self.inbox_size(),
        }

    def defect_counts(self) -> dict[str, int]:
        """Defects of each kind, the most frequent first (counters, as :meth:`stats`)."""
        rows = self.db.execute(
            "SELECT substr(name, 8), n FROM store_counts WHERE name > 'defect:'"
            " AND name < 'defect;' AND n > 0 ORDER BY n DESC, name"
        )
        return {str(kind): int(n) for kind, n in rows}

    def threads(
        self, kind: ThreadKind | None = None, *, limit: int | None = None, offset: int = 0
    ) -> list[Thread]:
        """Threads, oldest first (ties in the order they were stored); a page of them
        with ``limit`` and ``offset``, read through the index on ``first_at``."""
        where, args = (" WHERE t.kind = ?", [kind.value]) if kind else ("", [])
        page = " LIMIT ? OFFSET ?" if limit is not None else ""
        rows = self.db.query(
            _THREAD_SELECT + where + " ORDER BY t.first_at, t.rowid" + page,
            [*args, limit, offset] if limit is not None else args,
        )
        return [_thread_summary(row) for row in rows]

    def recent_threads(self, limit: int) -> list[Thread]:
        """The ``limit`` threads with the latest posts, newest last (through the
        index on ``last_at``)."""
        rows = self.db.query(
            _THREAD_SELECT + " ORDER BY t.last_at DESC, t.rowid DESC LIMIT ?", [limit]
        )
        return [_thread_summary(row) for row in reversed(list(rows))]

    def find_threads(
        self, selector: str, kind: ThreadKind | None = None, limit: int = 21
    ) -> list[Thread]:
        """Threads whose key is ``selector``, else whose subject contains it (any case).

        At most ``limit`` are read: a selector that matches a thousand threads is
        answered with the first few and a request to name one, not with a thousand rows.
        """
        wanted = kind.value if kind else None
        exact = list(
            self.db.query(
                f"{_THREAD_SELECT} WHERE t.key = ? AND (? IS NULL OR t.kind = ?)",
                [selector, wanted, wanted],
            )
        )
        if exact:
            return [_thread_summary(row) for row in exact]
        escaped = selector.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        rows = self.db.query(
            f"{_THREAD_SELECT} WHERE t.subject LIKE ? ESCAPE '\\' AND (? IS NULL OR t.kind = ?)"
            " ORDER BY t.first_at LIMIT ?",
            [pattern, wanted, wanted, limit],
        )
        return [_thread_summary(row) for row in rows]

    def threads_active_since(self, since: datetime, kind: ThreadKind | None = None) -> list[Thread]:
        """Threads with a post since ``since`` (the tick's window), oldest first."""
        wanted = kind.value if kind else None
        # "+": the order is not an index's to give. Without statistics the planner walked
        # every thread in first_at order to spare sorting the few the window holds (at
        # 1,000,000 messages 290 ms a call, twice a tick and after each new mail on `/`).
        rows = self.db.query(
            f"{_THREAD_SELECT} WHERE t.last_at >= ? AND (? IS NULL OR t.kind = ?)"
            " ORDER BY +t.first_at",
            [to_text(since), wanted, wanted],
        )
        return [_thread_summary(row) for row in rows]

    def posts_active_since(self, since: datetime) -> list[Post]:
        """Every post of the threads with a post since ``since``, oldest first."""
        rows = self.db.query(
            "SELECT p.* FROM threads t JOIN posts p ON p.thread_key = t.key"
            " WHERE t.last_at >= ? ORDER BY p.created_at, p.key",
            [to_text(since)],
        )
        return self._posts_from_rows(rows)

    def thread(self, key: str) -> Thread | None:
        rows = list(self.db.query(_THREAD_SELECT + " WHERE t.key = ?", [key]))
        return _thread_summary(rows[0]) if rows else None

    def posts_in_thread(self, key: str) -> list[Post]:
        rows = self.db.query(
            "SELECT * FROM posts WHERE thread_key = ? ORDER BY created_at, key", [key]
        )
        return self._posts_from_rows(rows)

    def first_post(self, thread_key: str) -> Post | None:
        """The thread's opening post (through the index on thread and time)."""
        rows = list(
            self.db.query(
                "SELECT * FROM posts WHERE thread_key = ? ORDER BY created_at, key LIMIT 1",
                [thread_key],
            )
        )
        return self._post_from_row(rows[0]) if rows else None

    def post(self, key: str) -> Post | None:
        rows = list(self.db.query("SELECT * FROM posts WHERE key = ?", [key]))
        return self._post_from_row(rows[0]) if rows else None

    def rfcs(self) -> list[rfc_store.RfcSummary]:
        """RFCs whose discussion spans several threads (forum, dev@, GitHub), with their parts."""
        return rfc_store.rfcs(self)

    def posts_in_rfc(self, key: str) -> list[Post]:
        """Posts of every thread of the RFC ``key`` belongs to, a mirrored copy counted once."""
        return rfc_store.posts_in_rfc(self, key)

    def iter_posts(self) -> Iterator[Post]:
        for row in self.db.query("SELECT * FROM posts ORDER BY created_at, key"):
            yield self._post_from_row(row)

    def defects_of(self, post_key: str) -> list[Defect]:
        rows = self.db.query("SELECT kind, detail FROM defects WHERE post_key = ?", [post_key])
        return [Defect(row["kind"], row["detail"]) for row in rows]

    def raw(self, post_key: str) -> bytes | None:
        """The bytes of a stored message exactly as they arrived."""
        row = self.db.execute(
            "SELECT raw, raw_parts, zraw, dict_id FROM raw_messages WHERE key = ?", [post_key]
        ).fetchone()
        return None if row is None else self.raw_of_row(*row)

    def raw_of_row(
        self, raw: bytes | None, owner: str | None, zraw: bytes | None, dict_id: int | None
    ) -> bytes:
        """The bytes a raw_messages row holds (raw, raw_parts, zraw, dict_id), as they arrived."""
        if owner:
            return parts_store.joined(self, owner)
        if zraw is not None:
            return self.codec.unpack(zraw, int(dict_id or 0))
        return bytes(raw or b"")  # stored by an older version, not converted yet

    def raw_row(
        self, key: str, raw: bytes, owner: str | None, packed_raw: bytes | None = None
    ) -> tuple[str, str | None, bytes | None, int | None]:
        """(key, raw_parts, zraw, dict_id) of a raw_messages row; parts stay as written.

        ``packed_raw``: ``raw`` already compressed with the current dictionary.
        """
        if owner:
            return key, owner, None, None
        if packed_raw is not None:
            return key, None, packed_raw, self.codec.current
        return key, None, *self.codec.pack(raw)

    def _train_if_due(self, raws: list[bytes]) -> None:
        """Train the store's dictionary once it holds compress.TRAIN_SAMPLES messages.

        Until then messages are compressed without one; those are compressed again
        with it right away (five hundred rows: milliseconds, once per store).
        """
        if self.codec.current != compress.NO_DICTIONARY or not raws:
            return
        if self._undictionaried is None:
            self._undictionaried = int(
                self.db.conn.execute(
                    "SELECT count(*) FROM raw_messages WHERE dict_id = ?", [compress.NO_DICTIONARY]
                ).fetchone()[0]
            )
        self._undictionaried += len(raws)
        if self._undictionaried < compress.TRAIN_SAMPLES:
            return
        stored = self.db.conn.execute(
            "SELECT rowid, zraw FROM raw_messages WHERE dict_id = ?", [compress.NO_DICTIONARY]
        ).fetchall()
        plain = [(rowid, self.codec.unpack(zraw, compress.NO_DICTIONARY)) for rowid, zraw in stored]
        samples = [compress.sample_of(raw) for raw in [*(raw for _, raw in plain), *raws]]
        if self.codec.add(samples) is None:
            self._undictionaried = -(10**9)  # not again in this process
            return
        self.db.conn.executemany(
            "UPDATE raw_messages SET zraw = ?, dict_id = ? WHERE rowid = ?",
            [(*self.codec.pack(raw), rowid) for rowid, raw in plain],
        )
        contents = self.db.conn.execute(
            "SELECT rowid, content FROM posts WHERE content_dict = ?", [compress.NO_DICTIONARY]
        ).fetchall()
        self.db.conn.executemany(
            "UPDATE posts SET content = ?, content_dict = ? WHERE rowid = ?",
            [
                (*self.codec.pack(self.codec.unpack(blob, compress.NO_DICTIONARY)), rowid)
                for rowid, blob in contents
            ],
        )

    def _posts_from_rows(self, rows: Iterable[dict[str, Any]]) -> list[Post]:
        """Posts rows as Posts, their defects read in one query rather than one a post
        (a third of the time reading a thread took)."""
        found = list(rows)
        defects: dict[str, list[Defect]] = {}
        if found:
            for key, kind, detail in self.db.execute(
                "SELECT post_key, kind, detail FROM defects"
                " WHERE post_key IN (SELECT value FROM json_each(?))"
                " ORDER BY post_key, kind, detail",
                [json.dumps([row["key"] for row in found])],
            ):
                defects.setdefault(key, []).append(Defect(kind, detail))
        return [self._post_from_row(row, defects.get(row["key"], [])) for row in found]

    def _post_from_row(self, row: dict[str, Any], defects: list[Defect] | None = None) -> Post:
        """A posts row as a Post; ``defects`` when the caller read them already."""
        if row.get("content") is not None:
            text, quoted, headers, quote_at = compress.unpack_content(
                self.codec, row["content"], int(row["content_dict"] or 0)
            )
        else:  # stored by an older version, not converted yet
            text = row["text"] or ""
            quoted = json.loads(row["quoted"] or "[]")
            headers = json.loads(row["headers"] or "{}")
            quote_at = ()
        return Post(
            source=Source(row["source"]),
            key=row["key"],
            message_id=row["message_id"],
            thread_key=row["thread_key"],
            author=Person(row["author_name"] or "", row["author_address"] or ""),
            created_at=from_text(row["created_at"]),
            subject=row["subject"] or "",
            text=text,
            quoted=tuple(quoted),
            mentions=tuple(json.loads(row["mentions"] or "[]")),
            in_reply_to=row["in_reply_to"],
            references=tuple(json.loads(row["refs"] or "[]")),
            url=row["url"],
            list_id=row["list_id"],
            auto_submitted=bool(row["auto_submitted"]),
            body_hash=row["body_hash"] or "",
            defects=tuple(self.defects_of(row["key"]) if defects is None else defects),
            headers=headers,
            via=row.get("via") or "",
            quote_at=quote_at,
        )


def _thread_ref(row: tuple[Any, ...]) -> threading_rules.ThreadRef | None:
    """A (key, kind, subject, first_at, last_at) row of threads; None for a row of NULLs."""
    if row[0] is None:
        return None
    return threading_rules.ThreadRef(
        row[0], _THREAD_KINDS[row[1]], row[2], from_text(row[3]), from_text(row[4])
    )


_THREAD_KINDS = {kind.value: kind for kind in ThreadKind}


# One thread with what the list shows of it; the subqueries read indexes (posts by
# thread, threads by what they close, links by thread), so a page costs its rows.
_THREAD_SELECT = (
    "SELECT t.*, (SELECT json_group_array(DISTINCT coalesce(nullif(p.author_name, ''),"
    " p.author_address)) FROM posts p WHERE p.thread_key = t.key) AS participants,"
    " (SELECT json_group_array(c.key) FROM threads c WHERE c.closes = t.key) AS closed_by,"
    " (SELECT l.rfc FROM rfc_links l WHERE l.thread_key = t.key) AS rfc"
    " FROM threads t"
)


def _thread_summary(row: dict[str, Any]) -> Thread:
    return Thread(
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


def _apply_feature_migrations(db: Database) -> None:
    """Feature tables have their own migration sets, applied after the core schema."""
    outbox.apply_migrations(db)
    jobs.migrations.apply(db)
    views.apply_migrations(db)
    # After the views: its triggers write to their `changes`.
    concern_extractions.apply_migrations(db)


def _run_backfills(store: Store) -> None:
    """Data work a migration asked for (``backfills``) that needs the whole Store.

    Each runs after every migration, so it reads the schema this version knows, and
    its row goes in the same transaction as its work: done once, even across a crash.
    """
    if not store.db.table("backfills").exists():
        return
    backfills = {"post_links": rfc_store.rebuild_post_links}
    for (name,) in store.db.execute("SELECT name FROM backfills ORDER BY name").fetchall():
        with store.db.atomic():
            backfills[name](store)
            store.db.execute("DELETE FROM backfills WHERE name = ?", [name])
