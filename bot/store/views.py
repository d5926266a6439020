"""Derived state, kept in the store: one view per RFC and per vote, and what changed since.

Reading a list with ten years of mail must cost what a page shows, not what the
store holds. So the RFC read model (:mod:`bot.core.rfcs`) and the vote reports
are computed once, stored here, and recomputed only for the RFC or vote a
change reaches:

- ``changes`` is appended by triggers on every write that can change a view:
  a post stored, edited or moved to another thread; a [RESULT] linked to its
  vote; threads joined into an RFC or split from one. No write path has to
  remember to report itself, and the cost is one small insert per post.
- ``dirty_views`` holds the views to recompute: those a change reached, those
  whose ``due_at`` (the next moment the clock alone changes them) has passed,
  and all of them after the code or the configuration that computes them
  changed (``views_meta.fingerprint``).
- ``rfc_views`` and ``vote_views`` hold the views: indexed columns for the
  lists and their order, and the view itself as JSON.

The features (bot.features.views) compute on a reader connection and write
the results here in small transactions, so a delivery's commit never waits for
a recomputation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database, Migrations

from bot.model import Thread, ThreadKind
from bot.store.values import from_text, to_text

if TYPE_CHECKING:
    from bot.store import Store

migrations = Migrations("views")

RFC = "rfc"
VOTE = "vote"


@migrations()
def m001_views(db: Database) -> None:
    db.execute(
        "CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, thread_key TEXT NOT NULL)"
    )
    # Every write that can change a view records the threads it touched.
    for statement in (
        "CREATE TRIGGER changes_post_insert AFTER INSERT ON posts BEGIN"
        " INSERT INTO changes (thread_key) VALUES (NEW.thread_key); END",
        "CREATE TRIGGER changes_post_update AFTER UPDATE ON posts BEGIN"
        " INSERT INTO changes (thread_key) VALUES (NEW.thread_key);"
        " INSERT INTO changes (thread_key) SELECT OLD.thread_key"
        " WHERE OLD.thread_key != NEW.thread_key; END",
        "CREATE TRIGGER changes_post_delete AFTER DELETE ON posts BEGIN"
        " INSERT INTO changes (thread_key) VALUES (OLD.thread_key); END",
        "CREATE TRIGGER changes_closes AFTER UPDATE OF closes ON threads BEGIN"
        " INSERT INTO changes (thread_key) VALUES (NEW.key);"
        " INSERT INTO changes (thread_key) SELECT NEW.closes WHERE NEW.closes IS NOT NULL;"
        " INSERT INTO changes (thread_key) SELECT OLD.closes WHERE OLD.closes IS NOT NULL; END",
        "CREATE TRIGGER changes_thread_insert AFTER INSERT ON threads WHEN NEW.closes IS NOT NULL"
        " BEGIN INSERT INTO changes (thread_key) VALUES (NEW.closes); END",
        "CREATE TRIGGER changes_link_insert AFTER INSERT ON rfc_links BEGIN"
        " INSERT INTO changes (thread_key) VALUES (NEW.thread_key); END",
        "CREATE TRIGGER changes_link_delete AFTER DELETE ON rfc_links BEGIN"
        " INSERT INTO changes (thread_key) VALUES (OLD.thread_key); END",
    ):
        db.execute(statement)
    db.table("views_meta").create({"key": str, "value": str}, pk="key")
    db.table("dirty_views").create({"kind": str, "key": str}, pk=("kind", "key"))
    db.table("rfc_views").create(
        {
            "key": str,
            "topic": str,
            "is_rfc": int,
            "listed": int,
            "state": str,
            "subject": str,
            "first_at": str,
            "last_at": str,
            "due_at": str,
            "concerns": int,
            "attention": int,
            "attention_at": float,
            "payload": str,
        },
        pk="key",
    )
    db.table("rfc_views").create_index(["due_at"])
    db.table("rfc_views").create_index(["topic"])
    db.table("rfc_views").create_index(["listed", "last_at"])
    db.table("rfc_views").create_index(["concerns", "last_at"])
    db.table("rfc_views").create_index(["listed", "attention", "attention_at"])
    db.table("rfc_views").create_index(["state", "last_at"])
    db.table("vote_views").create(
        {
            "thread": str,
            "topic": str,
            "rfc": str,
            "state": str,
            "subject": str,
            "opened_at": str,
            "closes_at": str,
            "due_at": str,
            "would_pass": int,
            "payload": str,
        },
        pk="thread",
    )
    db.table("vote_views").create_index(["due_at"])
    db.table("vote_views").create_index(["topic"])
    db.table("vote_views").create_index(["rfc"])
    db.table("vote_views").create_index(["opened_at"])
    # The tick reads only threads active in its window.
    db.table("threads").create_index(["last_at"], if_not_exists=True)


def apply_migrations(db: Database) -> None:
    """The views' tables and triggers; needs posts, threads and rfc_links first."""
    migrations.apply(db)


# --------------------------------------------------------------------------
# What changed
# --------------------------------------------------------------------------


def meta(store: Store, key: str) -> str | None:
    row = store.db.execute("SELECT value FROM views_meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(store: Store, key: str, value: str) -> None:
    store.db.execute(
        "INSERT INTO views_meta (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def changed_threads(store: Store, after: int) -> tuple[int, list[str]]:
    """The threads changed since ``after``, and the sequence number read up to."""
    upto = store.db.execute("SELECT max(seq) FROM changes WHERE seq > ?", [after]).fetchone()[0]
    if upto is None:
        return after, []
    rows = store.db.execute(
        "SELECT DISTINCT thread_key FROM changes WHERE seq > ? AND seq <= ?", [after, upto]
    )
    return upto, [row[0] for row in rows]


def forget_changes(store: Store, upto: int, limit: int) -> int:
    """Delete at most ``limit`` changes read up to ``upto`` (oldest first); how many.

    A backlog can be every post ever stored (a store imported before its first
    refresh): deleted in one statement it would hold the writer for seconds, so the
    caller deletes a batch per short transaction.
    """
    cursor = store.db.execute(
        "DELETE FROM changes WHERE seq IN"
        " (SELECT seq FROM changes WHERE seq <= ? ORDER BY seq LIMIT ?)",
        [upto, limit],
    )
    return int(cursor.rowcount)


def dirty(store: Store, kind: str, limit: int | None = None) -> list[str]:
    return [
        row[0]
        for row in store.db.execute(
            "SELECT key FROM dirty_views WHERE kind = ? ORDER BY key LIMIT ?",
            [kind, -1 if limit is None else limit],
        )
    ]


def mark_dirty(store: Store, kind: str, keys: Iterable[str]) -> None:
    store.db.conn.executemany(
        "INSERT OR IGNORE INTO dirty_views (kind, key) VALUES (?, ?)", [(kind, k) for k in keys]
    )


def clear_dirty(store: Store, kind: str, keys: Iterable[str]) -> None:
    store.db.conn.executemany(
        "DELETE FROM dirty_views WHERE kind = ? AND key = ?", [(kind, k) for k in keys]
    )


def mark_everything_dirty(store: Store) -> None:
    """After the code or configuration that computes the views changed."""
    store.db.execute(
        "INSERT OR IGNORE INTO dirty_views (kind, key)"
        " SELECT 'rfc', coalesce(l.rfc, t.key) FROM threads t"
        " LEFT JOIN rfc_links l ON l.thread_key = t.key"
        " WHERE t.kind NOT IN ('result', 'cancel')"
    )
    store.db.execute(
        "INSERT OR IGNORE INTO dirty_views (kind, key)"
        " SELECT 'vote', key FROM threads WHERE kind = 'vote'"
    )


def due(store: Store, kind: str, moment: str) -> list[str]:
    table, column = ("rfc_views", "key") if kind == RFC else ("vote_views", "thread")
    return [
        row[0]
        for row in store.db.execute(
            f"SELECT {column} FROM {table} WHERE due_at IS NOT NULL AND due_at <= ?",  # noqa: S608
            [moment],
        )
    ]


# --------------------------------------------------------------------------
# Threads, as the views need them
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Touched:
    """What a set of changed threads reaches: RFC heads, votes, and RESULTs' votes."""

    heads: frozenset[str]
    votes: frozenset[str]


def reached_by(store: Store, thread_keys: Sequence[str]) -> Touched:
    """The views the changed threads belong to (a vote's RESULT changes the vote)."""
    if not thread_keys:
        return Touched(frozenset(), frozenset())
    heads: set[str] = set()
    votes: set[str] = set()
    for key, kind, closes, rfc in store.db.execute(
        "SELECT t.key, t.kind, t.closes, l.rfc FROM json_each(?) j"
        " JOIN threads t ON t.key = j.value LEFT JOIN rfc_links l ON l.thread_key = t.key",
        [json.dumps(list(thread_keys))],
    ):
        if kind == ThreadKind.VOTE.value:
            votes.add(key)
        if kind in (ThreadKind.RESULT.value, ThreadKind.CANCEL.value):
            if closes:
                votes.add(closes)
            continue
        heads.add(rfc or key)
    # A thread that no longer exists (adopted into another) leaves a view to drop.
    known = {
        row[0]
        for row in store.db.execute(
            "SELECT value FROM json_each(?) WHERE value IN (SELECT key FROM threads)",
            [json.dumps(list(thread_keys))],
        )
    }
    heads.update(key for key in thread_keys if key not in known)
    return Touched(frozenset(heads), frozenset(votes))


def group_parts(store: Store, head: str) -> list[Thread]:
    """The discussion threads of the RFC ``head``: its linked threads, or itself alone.

    Votes and their RESULTs are not parts: they are linked to the RFC as votes.
    """
    linked = [
        row[0] for row in store.db.execute("SELECT thread_key FROM rfc_links WHERE rfc = ?", [head])
    ]
    keys = linked or [head]
    parts = [store.thread(key) for key in keys]
    found = [p for p in parts if p is not None and p.kind not in _NOT_PARTS]
    if not found:
        alone = store.thread(head)
        return [alone] if alone is not None and alone.kind == ThreadKind.VOTE else []
    return sorted(found, key=lambda p: (p.first_at, p.key))


_NOT_PARTS = frozenset({ThreadKind.RESULT, ThreadKind.CANCEL, ThreadKind.VOTE})


def votes_linked(store: Store, head: str, topic: str) -> list[str]:
    """Vote threads in the RFC's group, or on its topic ("[VOTE] X" for "[RFC] X")."""
    return [
        row[0]
        for row in store.db.execute(
            "SELECT thread FROM vote_views WHERE rfc = ? OR (? != '' AND topic = ?)"
            " ORDER BY opened_at",
            [head, topic, topic],
        )
    ]


def rfc_heads_on_topic(store: Store, topic: str, group: str | None) -> list[str]:
    """RFC views a vote on ``topic`` (in RFC group ``group``) is linked to."""
    return [
        row[0]
        for row in store.db.execute(
            "SELECT key FROM rfc_views WHERE (? != '' AND topic = ?) OR key = ?",
            [topic, topic, group or ""],
        )
    ]


def group_of(store: Store, thread_key: str) -> str | None:
    row = store.db.execute(
        "SELECT rfc FROM rfc_links WHERE thread_key = ?", [thread_key]
    ).fetchone()
    return row[0] if row else None


# --------------------------------------------------------------------------
# The views
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RfcRow:
    key: str
    topic: str
    is_rfc: bool
    listed: bool
    state: str
    subject: str
    first_at: str
    last_at: str
    due_at: str | None
    concerns: int
    attention: int
    attention_at: float
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class VoteRow:
    thread: str
    topic: str
    rfc: str | None
    state: str
    subject: str
    opened_at: str
    closes_at: str
    due_at: str | None
    would_pass: bool | None
    payload: dict[str, Any]


def save_rfcs(store: Store, rows: Sequence[RfcRow], dropped: Iterable[str] = ()) -> None:
    store.db.conn.executemany(
        "INSERT INTO rfc_views (key, topic, is_rfc, listed, state, subject, first_at,"
        " last_at, due_at, concerns, attention, attention_at, payload) VALUES"
        " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
        " topic = excluded.topic, is_rfc = excluded.is_rfc, listed = excluded.listed,"
        " state = excluded.state, subject = excluded.subject, first_at = excluded.first_at,"
        " last_at = excluded.last_at, due_at = excluded.due_at, concerns = excluded.concerns,"
        " attention = excluded.attention, attention_at = excluded.attention_at,"
        " payload = excluded.payload",
        [
            (
                r.key,
                r.topic,
                int(r.is_rfc),
                int(r.listed),
                r.state,
                r.subject,
                r.first_at,
                r.last_at,
                r.due_at,
                r.concerns,
                r.attention,
                r.attention_at,
                json.dumps(r.payload, ensure_ascii=False),
            )
            for r in rows
        ],
    )
    store.db.conn.executemany("DELETE FROM rfc_views WHERE key = ?", [(k,) for k in dropped])


def save_votes(store: Store, rows: Sequence[VoteRow], dropped: Iterable[str] = ()) -> None:
    store.db.conn.executemany(
        "INSERT INTO vote_views (thread, topic, rfc, state, subject, opened_at,"
        " closes_at, due_at, would_pass, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(thread) DO UPDATE SET topic = excluded.topic, rfc = excluded.rfc,"
        " state = excluded.state, subject = excluded.subject, opened_at = excluded.opened_at,"
        " closes_at = excluded.closes_at, due_at = excluded.due_at,"
        " would_pass = excluded.would_pass, payload = excluded.payload",
        [
            (
                r.thread,
                r.topic,
                r.rfc,
                r.state,
                r.subject,
                r.opened_at,
                r.closes_at,
                r.due_at,
                None if r.would_pass is None else int(r.would_pass),
                json.dumps(r.payload, ensure_ascii=False),
            )
            for r in rows
        ],
    )
    store.db.conn.executemany("DELETE FROM vote_views WHERE thread = ?", [(k,) for k in dropped])


def rfc_payloads(
    store: Store,
    *,
    listed: bool = False,
    with_concerns: bool = False,
    state: str | None = None,
    order: str = "recent",
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Stored RFC views, newest activity first (``order="attention"``: most urgent first;
    ``"first"``: oldest first, as `quorum concerns` lists them)."""
    where = ["1"]
    args: list[Any] = []
    if listed:
        where.append("listed = 1")
    if with_concerns:
        where.append("concerns > 0")
    if state is not None:
        where.append("state = ?")
        args.append(state)
    ordering = "attention, attention_at, key" if order == "attention" else "last_at DESC, key"
    sql = (
        f"SELECT payload FROM rfc_views WHERE {' AND '.join(where)}"  # noqa: S608
        f" ORDER BY {ordering} LIMIT ? OFFSET ?"
    )
    args += [-1 if limit is None else limit, offset]
    return [json.loads(row[0]) for row in store.db.execute(sql, args)]


def active_rfcs(store: Store, since: str, *, with_concerns: bool = True) -> list[tuple[str, str]]:
    """(key, subject) of listed RFC views with a post since ``since``, newest first."""
    return [
        (row[0], row[1])
        for row in store.db.execute(
            "SELECT key, subject FROM rfc_views WHERE listed = 1 AND last_at >= ?"
            " AND concerns >= ? ORDER BY last_at DESC, key",
            [since, 1 if with_concerns else 0],
        )
    ]


def rfcs_with_forum_topics(store: Store, since: str) -> list[dict[str, Any]]:
    """Views of RFCs with a post since ``since`` and a Discourse topic among their parts."""
    return [
        json.loads(row[0])
        for row in store.db.execute(
            "SELECT payload FROM rfc_views WHERE last_at >= ?"
            " AND instr(payload, '\"discourse:') > 0 ORDER BY last_at DESC, key",
            [since],
        )
    ]


def all_heads(store: Store) -> set[str]:
    """Every RFC (and discussion) there is, by the key of its view: what a new store or a
    new configuration recomputes, once, in batches. The one read of every thread."""
    return {
        row[0]
        for row in store.db.execute(
            "SELECT DISTINCT coalesce(l.rfc, t.key) FROM threads t"
            " LEFT JOIN rfc_links l ON l.thread_key = t.key"
            " WHERE t.kind NOT IN ('result', 'cancel')"
        )
    }


def all_votes(store: Store) -> set[str]:
    """Every vote thread (through the index on kind)."""
    return {row[0] for row in store.db.execute("SELECT key FROM threads WHERE kind = 'vote'")}


def votes_needing_attention(
    store: Store, closing_before: str, since: str, now: str | None = None
) -> list[str]:
    """Vote threads open and closing before ``closing_before``; votes closed since
    ``since`` whose announced RESULT disagrees with the thread; and those that ended
    since ``since`` (before ``now``) with no RESULT, nor a cancel."""
    return [
        row[0]
        for row in store.db.execute(
            "SELECT thread FROM vote_views WHERE state = 'open' AND closes_at <= ?"
            " UNION SELECT thread FROM vote_views WHERE closes_at >= ?"
            " AND json_extract(payload, '$.agrees_with_announced') = 0"
            " UNION SELECT thread FROM vote_views WHERE closes_at >= ? AND closes_at <= ?"
            " AND state != 'cancelled' AND json_extract(payload, '$.result_post') IS NULL",
            [closing_before, since, since, now or closing_before],
        )
    ]


@migrations()
def m003_vote_closing_index(db: Database) -> None:
    # The features tick asks which votes ended in its window: a range of this index,
    # however many votes the history holds.
    db.execute("CREATE INDEX IF NOT EXISTS idx_vote_views_closes_at ON vote_views (closes_at)")


@migrations()
def m004_dashboard_state_indexes(db: Database) -> None:
    # The front page counts the listed RFCs and the votes in each state and lists the
    # blocked RFCs and the open votes. Without the state in an index each of those read
    # every view's row, payload and all (at 1,000,000 messages: 200,000 RFC views, 100 ms
    # a count); with it a count reads only the index, and a list only the rows it shows.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_rfc_views_listed_state_attention"
        " ON rfc_views (listed, state, attention, attention_at, key)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_vote_views_state_closes_at ON vote_views (state, closes_at)"
    )


@migrations()
def m005_state_counts(db: Database) -> None:
    # The front page shows how many listed RFCs and how many votes are in each state.
    # Counted through the index they read one entry per view (at 1,000,000 messages
    # about 60,000 for the RFCs, after every new mail): kept as counters instead, by
    # triggers, so a count reads a row per state. The views are saved by UPSERT (an
    # UPDATE fires its trigger; INSERT OR REPLACE would delete without one).
    db.execute(
        "CREATE TABLE IF NOT EXISTS view_counts (kind TEXT NOT NULL, state TEXT NOT NULL,"
        " n INTEGER NOT NULL, PRIMARY KEY (kind, state))"
    )
    for kind, table, listed_old, listed_new in (
        ("rfc", "rfc_views", "OLD.listed = 1", "NEW.listed = 1"),
        ("vote", "vote_views", "1", "1"),
    ):
        add = (
            f"INSERT INTO view_counts (kind, state, n) SELECT '{kind}', NEW.state, 1"
            f" WHERE {listed_new} ON CONFLICT(kind, state) DO UPDATE SET n = n + 1;"
        )
        remove = (
            f"UPDATE view_counts SET n = n - 1 WHERE kind = '{kind}'"  # noqa: S608
            f" AND state = OLD.state AND {listed_old};"
        )
        db.execute(f"CREATE TRIGGER {kind}_count_insert AFTER INSERT ON {table} BEGIN {add} END")
        db.execute(f"CREATE TRIGGER {kind}_count_delete AFTER DELETE ON {table} BEGIN {remove} END")
        db.execute(
            f"CREATE TRIGGER {kind}_count_update AFTER UPDATE ON {table} BEGIN {remove} {add} END"
        )
    db.execute(
        "INSERT INTO view_counts (kind, state, n) SELECT 'rfc', state, count(*) FROM rfc_views"
        " WHERE listed = 1 GROUP BY state"
    )
    db.execute(
        "INSERT INTO view_counts (kind, state, n) SELECT 'vote', state, count(*)"
        " FROM vote_views GROUP BY state"
    )


def votes_ending_between(store: Store, start: str, end: str) -> list[str]:
    """Vote threads whose period ends in [start, end], by the index on ``closes_at``
    (their stored state may be a moment old: the caller counts each one again)."""
    return [
        row[0]
        for row in store.db.execute(
            "SELECT thread FROM vote_views WHERE closes_at >= ? AND closes_at <= ?"
            " ORDER BY closes_at, thread",
            [start, end],
        )
    ]


def votes_open_or_closed_since(store: Store, since: str) -> list[str]:
    """Vote threads still open, or closed since ``since``, oldest first."""
    return [
        row[0]
        for row in store.db.execute(
            "SELECT thread FROM vote_views WHERE state = 'open'"
            " UNION SELECT thread FROM vote_views WHERE closes_at >= ?",
            [since],
        )
    ]


def count_rfcs(store: Store) -> dict[str, int]:
    """How many listed RFC views (RFCs and discussions with concerns) are in each state
    (counters the views' triggers keep: m005)."""
    return _counts(store, RFC)


def _counts(store: Store, kind: str) -> dict[str, int]:
    rows = store.db.execute(
        "SELECT state, n FROM view_counts WHERE kind = ? AND n > 0 ORDER BY state", [kind]
    )
    return {state: int(count) for state, count in rows}


def rfc_payload(store: Store, key: str) -> dict[str, Any] | None:
    """The view of the RFC ``key``, or of the RFC the thread ``key`` belongs to."""
    head = group_of(store, key) or key
    row = store.db.execute("SELECT payload FROM rfc_views WHERE key = ?", [head]).fetchone()
    return json.loads(row[0]) if row else None


def vote_payloads(
    store: Store, *, limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """Stored vote reports, oldest first (as `quorum votes` lists them)."""
    return [
        json.loads(row[0])
        for row in store.db.execute(
            "SELECT payload FROM vote_views ORDER BY opened_at, thread LIMIT ? OFFSET ?",
            [-1 if limit is None else limit, offset],
        )
    ]


def next_post_at(store: Store, threads: Sequence[str], after: str) -> str | None:
    """When the first post of these threads dated after ``after`` was written."""
    row = store.db.execute(
        "SELECT min(created_at) FROM posts"
        " WHERE thread_key IN (SELECT value FROM json_each(?)) AND created_at > ?",
        [json.dumps(list(threads)), after],
    ).fetchone()
    return row[0] if row else None


def vote_payloads_of(store: Store, threads: Sequence[str]) -> list[dict[str, Any]]:
    """The stored reports of these votes, oldest first."""
    return [
        json.loads(row[0])
        for row in store.db.execute(
            "SELECT payload FROM vote_views WHERE thread IN (SELECT value FROM json_each(?))"
            " ORDER BY opened_at, thread",
            [json.dumps(list(threads))],
        )
    ]


def vote_payload(store: Store, thread: str) -> dict[str, Any] | None:
    row = store.db.execute("SELECT payload FROM vote_views WHERE thread = ?", [thread]).fetchone()
    return json.loads(row[0]) if row else None


def vote_standing(store: Store, threads: Sequence[str]) -> list[tuple[str, str, str, str, Any]]:
    """(thread, state, opened_at, closes_at, would_pass) of these votes."""
    return list(
        store.db.execute(
            "SELECT thread, state, opened_at, closes_at, would_pass FROM vote_views"
            " WHERE thread IN (SELECT value FROM json_each(?)) ORDER BY opened_at",
            [json.dumps(list(threads))],
        )
    )


# --------------------------------------------------------------------------
# Read by the dashboard (bot/web.py): pages of the stored views, newest first
#
# Each reads an index of the views, or scans the views themselves (a subject
# LIKE, a count), never posts or threads; each list takes a LIMIT.
# --------------------------------------------------------------------------


@migrations()
def m006_newest_first_with_ties(db: Database) -> None:
    # The front page lists the ten listed RFCs active last and the eight votes opened
    # last, ordered by time and then by key. An index on the time alone left the ties
    # to a sort, which read every row tied with the last one shown, payload and all: at
    # 1,000,000 messages the bench's hundred copies of one archive tie by the hundred,
    # and the two lists read about 200 payloads (2 MB) to show 18, 19-29 ms warm and
    # more after new mail. With the key in the index (the time descending, as listed)
    # a list reads the rows it shows.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_rfc_views_listed_newest"
        " ON rfc_views (listed, last_at DESC, key)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_vote_views_newest ON vote_views (opened_at DESC, thread)"
    )


@migrations()
def m007_listed_in_a_state_newest_first(db: Database) -> None:
    # `/rfcs?state=blocked` lists the listed RFCs in one state, newest activity first.
    # Read through the newest-first index alone, a rare state walked the rows of every
    # other state (payload and all) to fill a page; through the state index, a common
    # one sorted every row in that state. With both in one index a page reads its rows.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_rfc_views_listed_state_newest"
        " ON rfc_views (listed, state, last_at DESC, key)"
    )


@migrations()
def m008_drop_indexes_the_newest_first_ones_cover(db: Database) -> None:
    # m006's (listed, last_at DESC, key) and (opened_at DESC, thread) serve every query
    # m001's (listed, last_at) and (opened_at) served, in either direction; kept, those
    # were one more index to update with every view the writer stores.
    db.execute("DROP INDEX IF EXISTS idx_rfc_views_listed_last_at")
    db.execute("DROP INDEX IF EXISTS idx_vote_views_opened_at")


@migrations()
def m002_web_concern_order(db: Database) -> None:
    # /api/concerns lists the views with concerns oldest first, a page at a time:
    # read in this index's order, a page stops at its LIMIT instead of sorting them all.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_rfc_views_concerns_first_at"
        " ON rfc_views (first_at, key) WHERE concerns > 0"
    )


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _listed_where(state: str | None, text: str) -> tuple[str, list[Any]]:
    where, args = ["listed = 1"], []
    if state:
        where.append("state = ?")
        args.append(state)
    if text:
        where.append("subject LIKE ? ESCAPE '\\'")
        args.append(_like(text))
    return " AND ".join(where), args


def listed_rfcs(
    store: Store, *, state: str | None = None, text: str = "", limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """The RFC list (RFCs, and discussions with concerns), most recently active first,
    in one state and with ``text`` in the subject when given."""
    where, args = _listed_where(state, text)
    return [
        json.loads(row[0])
        for row in store.db.execute(
            f"SELECT payload FROM rfc_views WHERE {where}"  # noqa: S608
            " ORDER BY last_at DESC, key LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
    ]


def count_listed(store: Store, *, state: str | None = None, text: str = "") -> int:
    if not text:  # the counters, not an entry per view
        counts = count_rfcs(store)
        return counts.get(state, 0) if state else sum(counts.values())
    where, args = _listed_where(state, text)
    sql = f"SELECT count(*) FROM rfc_views WHERE {where}"  # noqa: S608
    return int(store.db.execute(sql, args).fetchone()[0])


def rfcs_named(store: Store, text: str, limit: int) -> list[dict[str, Any]]:
    """RFC views (listed or not) whose subject holds ``text``: a selector in a URL."""
    return _named(store, "rfc_views", "last_at DESC, key", text, limit)


def votes_named(store: Store, text: str, limit: int) -> list[dict[str, Any]]:
    """Vote views whose subject holds ``text``."""
    return _named(store, "vote_views", "opened_at DESC, thread", text, limit)


def _named(store: Store, table: str, order: str, text: str, limit: int) -> list[dict[str, Any]]:
    sql = (
        f"SELECT payload FROM {table} WHERE subject LIKE ? ESCAPE '\\'"  # noqa: S608
        f" ORDER BY {order} LIMIT ?"
    )
    return [json.loads(row[0]) for row in store.db.execute(sql, [_like(text), limit])]


def newest_votes(
    store: Store, *, since: str | None = None, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Vote views, the most recently opened first (only those opened ``since``, if given)."""
    return [
        json.loads(row[0])
        for row in store.db.execute(
            "SELECT payload FROM vote_views WHERE opened_at >= ?"
            " ORDER BY opened_at DESC, thread LIMIT ? OFFSET ?",
            [since or "", limit, offset],
        )
    ]


def count_votes(store: Store) -> dict[str, int]:
    """How many votes are in each state (open, passed, failed, cancelled)."""
    return _counts(store, VOTE)


def concern_pages(store: Store, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """Views with concerns, the oldest discussion first (as `quorum concerns` lists them)."""
    return [
        json.loads(row[0])
        for row in store.db.execute(
            "SELECT payload FROM rfc_views WHERE concerns > 0"
            " ORDER BY first_at, key LIMIT ? OFFSET ?",
            [limit, offset],
        )
    ]


def backlog(store: Store) -> dict[str, int]:
    """What the views have yet to take in: changed threads not read, views marked dirty."""
    changes = store.db.execute("SELECT count(*) FROM changes").fetchone()[0]
    return {"changes": int(changes), "dirty": dirty_count(store)}


def dirty_count(store: Store) -> int:
    """How many views are marked to recompute."""
    return int(store.db.execute("SELECT count(*) FROM dirty_views").fetchone()[0])


__all__ = ["from_text", "to_text"]
