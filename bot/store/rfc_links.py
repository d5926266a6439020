"""Cross-channel RFCs in the store: the link tokens of each post and the groups they make.

A forum topic, a dev@ thread and a GitHub pull request that link each other are one
RFC (the joining itself is pure: :mod:`bot.core.rfc_links`). This module stores each
post's tokens (``post_links``) and the thread -> RFC map (``rfc_links``), recomputes
the groups a change can reach, and reads an RFC's posts across its threads.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from bot.core import discourse as forum_core
from bot.core import rfc_links
from bot.model import Post, Source, Thread
from bot.store.values import from_text

if TYPE_CHECKING:
    from bot.store import Store


@dataclass(frozen=True, slots=True)
class RfcSummary:
    """An RFC whose discussion spans several threads (forum topic, dev@ thread, PR)."""

    id: str
    parts: tuple[Thread, ...]

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
    tokens = rfc_links.post_tokens(post)
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
    apply_regrouping(store, plan_regrouping(store.db, touched))


@dataclass(frozen=True, slots=True)
class Regrouping:
    """What a recomputation of RFC groups changes in ``rfc_links``, and which marks
    (:func:`mark_stale`) it took in: those with an id up to ``marks_upto``."""

    changed: tuple[tuple[str, str], ...]  # (thread, RFC), new or moved
    dropped: tuple[str, ...]  # threads that are no longer part of an RFC
    marks_upto: int = 0


def plan_regrouping(db: Database, touched: Collection[str] | None = None) -> Regrouping:
    """The change to ``rfc_links`` that regrouping ``touched`` (None: every thread) makes.

    Only reads: `quorum run` computes it in the computing process, off the writer.
    """
    scope = None if touched is None else _reachable_threads(db, touched)
    joined = rfc_links.join_rfcs(_rfc_parts(db, scope))
    # NULL for every thread, else a JSON array of the threads in scope.
    in_scope = None if scope is None else json.dumps(sorted(scope))
    current = dict(
        db.execute(
            "SELECT thread_key, rfc FROM rfc_links WHERE ?1 IS NULL"
            " OR thread_key IN (SELECT value FROM json_each(?1))",
            [in_scope],
        ).fetchall()
    )
    return Regrouping(
        changed=tuple(sorted(item for item in joined.items() if current.get(item[0]) != item[1])),
        dropped=tuple(sorted(set(current) - set(joined))),
    )


def apply_regrouping(store: Store, regrouping: Regrouping) -> None:
    """Write a :func:`plan_regrouping` result: only the rows that change, so the
    triggers on ``rfc_links`` mark only the views that did; then drop the marks it
    took in."""
    store.db.conn.executemany(
        "DELETE FROM rfc_links WHERE thread_key = ?", [(key,) for key in regrouping.dropped]
    )
    store.db.conn.executemany(
        "INSERT INTO rfc_links (thread_key, rfc) VALUES (?, ?)"
        " ON CONFLICT(thread_key) DO UPDATE SET rfc = excluded.rfc",
        regrouping.changed,
    )
    if regrouping.marks_upto:
        store.db.execute("DELETE FROM rfc_links_stale WHERE id <= ?", [regrouping.marks_upto])


def mark_stale(store: Store, thread_keys: Collection[str]) -> None:
    """Note threads whose RFC grouping may have changed, to be regrouped later
    (:func:`plan_stale`): what a delivery's ingest does instead of regrouping.

    Regrouping reads every thread that shares a link with these, and on a long
    history (the same "[RFC] title" or pull request cited by a hundred threads) that
    held the writer, and every sender's ``250``, for seconds.
    """
    # REPLACE gives a thread marked again a new, larger id: a regrouping planned
    # before this mark then leaves it for the next.
    store.db.conn.executemany(
        "REPLACE INTO rfc_links_stale (thread_key) VALUES (?)", [(key,) for key in thread_keys]
    )


def plan_stale(store: Store) -> Regrouping | None:
    """The regrouping of every thread marked stale, or None when none is.

    Exact whenever its result is applied before the next plan is made: the threads
    a mark names are reachable from it, and the groups it was in are read from the
    ``rfc_links`` the previous regrouping wrote.
    """
    rows = store.db.execute("SELECT id, thread_key FROM rfc_links_stale").fetchall()
    if not rows:
        return None
    planned = plan_regrouping(store.db, {key for _, key in rows})
    return Regrouping(planned.changed, planned.dropped, marks_upto=max(m for m, _ in rows))


def settle_stale(store: Store) -> None:
    """Regroup every thread marked stale, here and now (a store opened for writing
    after a `quorum run` that stopped with marks left)."""
    regrouping = plan_stale(store)
    if regrouping is not None:
        apply_regrouping(store, regrouping)


def _reachable_threads(db: Database, touched: Collection[str]) -> set[str]:
    """The threads whose RFC grouping a change to ``touched`` can alter.

    Two threads are joined only over an edge of bot.core.rfc_links.join_rfcs: an
    identity token both have, or a token one mentions that is the other's identity.
    So the threads reachable from ``touched`` over those edges are closed under
    joining: the groups within them come out the same as over all threads, and no
    group outside them changes. The groups ``touched`` were in before are added first,
    since a link that went away (an edited forum post) can split one. Two threads that
    only mention the same link are not an edge: a popular issue link is mentioned by
    posts all over a long history, and following it made the scope grow with it.
    """
    scope = set(touched)
    scope |= _column(
        db,
        "SELECT thread_key FROM rfc_links WHERE rfc IN"
        " (SELECT rfc FROM rfc_links WHERE thread_key IN (SELECT value FROM json_each(?)))",
        scope,
    )
    seen: set[tuple[str, str]] = set()
    frontier = set(scope)
    while frontier:
        rows = db.execute(
            "SELECT DISTINCT l.token, l.role FROM posts p JOIN post_links l"
            " ON l.post_key = p.key WHERE p.thread_key IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted(frontier))],
        ).fetchall()
        tokens = {(str(token), str(role)) for token, role in rows} - seen
        seen |= tokens
        identities = {token for token, role in tokens if role == "identity"}
        mentions = {token for token, role in tokens if role != "identity"}
        # Whoever has or mentions an identity of the frontier; whoever is the identity
        # the frontier mentions (idx_post_links_identity).
        frontier = _column(
            db,
            "SELECT DISTINCT p.thread_key FROM post_links l JOIN posts p ON p.key = l.post_key"
            " WHERE l.token IN (SELECT value FROM json_each(?))",
            identities,
        ) | _column(
            db,
            "SELECT DISTINCT p.thread_key FROM post_links l JOIN posts p ON p.key = l.post_key"
            " WHERE l.token IN (SELECT value FROM json_each(?)) AND l.role = 'identity'",
            mentions,
        )
        frontier -= scope
        scope |= frontier
    return scope


def _column(db: Database, sql: str, values: Collection[str]) -> set[str]:
    if not values:
        return set()
    return {row[0] for row in db.execute(sql, [json.dumps(sorted(values))]).fetchall()}


def rebuild_post_links(store: Store) -> None:
    """Tokens for posts stored before RFC joining existed (the backfill m004 asks for)."""
    rows = store.db.execute(
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
    members: dict[str, list[Thread]] = {}
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


def _rfc_parts(db: Database, scope: set[str] | None = None) -> list[rfc_links.RfcPart]:
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
        rfc_links.RfcPart(
            key=key,
            first_at=from_text(first_at[key]),
            identity=frozenset(identity.get(key, ())),
            mentions=frozenset(mentions.get(key, set()) - identity.get(key, set())),
        )
        for key in keys
        if key in first_at
    ]


def rfc_map(store: Store, thread_keys: Collection[str]) -> dict[str, str]:
    """thread -> RFC id for these threads (those of no cross-channel RFC are left out)."""
    rows = store.db.execute(
        "SELECT thread_key, rfc FROM rfc_links"
        " WHERE thread_key IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(thread_keys))],
    ).fetchall()
    return {thread: rfc for thread, rfc in rows}
