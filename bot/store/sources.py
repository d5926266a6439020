"""SQL for sources people already have: fetched archives, GitHub, rosters, identity hints.

- ``archive_months``: per archive and month, when it was fetched and whether that
  fetch saw the whole month, so a second ``quorum fetch`` asks only for what is new;
- ``archive_ids``: each fetched mail's id and permalink in its archive;
- ``github_*``: webhook deliveries (durable before the 200), poll cursors, ETags, files;
- ``roster_changes``: who joined or left which role and when, as dated events;
- ``identity_hints``: a person's logins and addresses, confirmed or not.

Everything here runs on the store's single writer (or a reader for the queries).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.core.github import Delivery as GitHubDelivery
from bot.core.roster import RosterChange
from bot.core.sources import ArchiveId
from bot.store.values import from_text, to_text

if TYPE_CHECKING:
    from bot.store import Store

# -- archives ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthState:
    """What the last fetch of one month of one archive saw."""

    fetched_at: datetime
    settled: bool
    messages: int
    marker: str | None


def month_state(store: Store, source: str, month: str) -> MonthState | None:
    row = store.db.execute(
        "SELECT fetched_at, settled, messages, marker FROM archive_months"
        " WHERE source = ? AND month = ?",
        [source, month],
    ).fetchone()
    if row is None:
        return None
    return MonthState(from_text(row[0]), bool(row[1]), int(row[2] or 0), row[3])


def first_fetched_month(store: Store, source: str) -> str | None:
    row = store.db.execute(
        "SELECT min(month) FROM archive_months WHERE source = ?", [source]
    ).fetchone()
    return row[0] if row else None


def record_month(
    store: Store,
    source: str,
    month: str,
    *,
    fetched_at: datetime,
    settled: bool,
    messages: int,
    marker: str | None,
) -> None:
    store.db.execute(
        "INSERT INTO archive_months (source, month, fetched_at, settled, messages, marker)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(source, month) DO UPDATE SET"
        " fetched_at = excluded.fetched_at, settled = excluded.settled,"
        " messages = max(messages, excluded.messages),"
        " marker = coalesce(excluded.marker, marker)",
        [source, month, to_text(fetched_at), int(settled), messages, marker],
    )


def record_archive_ids(
    store: Store, source: str, ids: Iterable[ArchiveId], *, now: datetime
) -> None:
    """Keep each mail's archive id; a post with no link of its own gets the permalink."""
    ids = list(ids)
    rows = [(source, i.source_id, i.message_id, i.url, to_text(now)) for i in ids]
    with store.db.atomic():
        store.db.conn.executemany(
            "INSERT OR IGNORE INTO archive_ids (source, source_id, message_id, url, recorded_at)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        # Replies, reminders and the dashboard link a post by its url: now the archive's.
        store.db.conn.executemany(
            "UPDATE posts SET url = ? WHERE message_id = ? AND url IS NULL",
            [(i.url, i.message_id) for i in ids],
        )


def archive_links(store: Store, message_id: str) -> list[tuple[str, str, str]]:
    """(source, source id, permalink) of every archive copy of a Message-ID we fetched."""
    rows = store.db.execute(
        "SELECT source, source_id, url FROM archive_ids WHERE message_id = ? ORDER BY source",
        [message_id],
    ).fetchall()
    return [(row[0], row[1], row[2]) for row in rows]


# -- GitHub --------------------------------------------------------------------------------


def store_delivery(store: Store, delivery: GitHubDelivery) -> bool:
    """Commit a delivery; False when that delivery id was stored before (a replay)."""
    cursor = store.db.execute(
        "INSERT OR IGNORE INTO github_deliveries (delivery_id, event, body, received_at)"
        " VALUES (?, ?, ?, ?)",
        [delivery.delivery_id, delivery.event, delivery.body, to_text(delivery.received_at)],
    )
    return cursor.rowcount == 1


def pending_deliveries(store: Store, limit: int = 200) -> list[GitHubDelivery]:
    rows = store.db.execute(
        "SELECT delivery_id, event, body, received_at FROM github_deliveries"
        " WHERE processed_at IS NULL ORDER BY received_at, delivery_id LIMIT ?",
        [limit],
    ).fetchall()
    return [GitHubDelivery(r[0], r[1], bytes(r[2]), from_text(r[3])) for r in rows]


def finish_deliveries(store: Store, outcomes: Mapping[str, str], *, now: datetime) -> None:
    store.db.conn.executemany(
        "UPDATE github_deliveries SET processed_at = ?, outcome = ? WHERE delivery_id = ?",
        [(to_text(now), outcome, delivery_id) for delivery_id, outcome in outcomes.items()],
    )


def github_cursor(store: Store, repo: str, resource: str) -> str | None:
    row = store.db.execute(
        "SELECT since FROM github_cursors WHERE repo = ? AND resource = ?", [repo, resource]
    ).fetchone()
    return row[0] if row else None


def advance_github_cursor(
    store: Store, repo: str, resource: str, since: str, *, now: datetime, forward: bool = True
) -> None:
    """Move a poll cursor forward (ISO 8601 UTC times compare as text, so never back), or
    with ``forward=False`` set a marker that is no time (where CODEOWNERS was found)."""
    store.db.execute(
        "INSERT INTO github_cursors (repo, resource, since, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(repo, resource) DO UPDATE SET since = CASE WHEN ?"
        " THEN max(since, excluded.since) ELSE excluded.since END,"
        " updated_at = excluded.updated_at",
        [repo, resource, since, to_text(now), int(forward)],
    )


def etag(store: Store, url: str) -> str | None:
    row = store.db.execute("SELECT etag FROM github_etags WHERE url = ?", [url]).fetchone()
    return row[0] if row else None


def record_etag(store: Store, url: str, value: str, *, now: datetime) -> None:
    store.db.execute(
        "INSERT INTO github_etags (url, etag, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, updated_at = excluded.updated_at",
        [url, value, to_text(now)],
    )


def store_file(store: Store, repo: str, path: str, content: str, *, now: datetime) -> None:
    store.db.execute(
        "INSERT INTO github_files (repo, path, content, fetched_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(repo, path) DO UPDATE SET content = excluded.content,"
        " fetched_at = excluded.fetched_at",
        [repo, path, content, to_text(now)],
    )


def stored_file(store: Store, repo: str, path: str) -> str | None:
    row = store.db.execute(
        "SELECT content FROM github_files WHERE repo = ? AND path = ?", [repo, path]
    ).fetchone()
    return row[0] if row else None


# -- rosters -------------------------------------------------------------------------------


def roster_changes(store: Store) -> list[RosterChange]:
    rows = store.db.execute(
        "SELECT member, name, role, change, on_date, source FROM roster_changes"
        " ORDER BY on_date, change DESC, member"
    ).fetchall()
    return [RosterChange(r[0], r[1], r[2], r[3], date.fromisoformat(r[4]), r[5]) for r in rows]


def record_roster_changes(store: Store, changes: Sequence[RosterChange], *, now: datetime) -> int:
    """Store new changes; the number that were new (a re-import adds none)."""
    with store.db.atomic():
        before = store.db.conn.total_changes
        store.db.conn.executemany(
            "INSERT OR IGNORE INTO roster_changes"
            " (member, name, role, change, on_date, source, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (c.member, c.name, c.role, c.change, c.on.isoformat(), c.source, to_text(now))
                for c in changes
            ],
        )
        return store.db.conn.total_changes - before


# -- identity hints ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredHint:
    """One alias of one person, where it was seen, and whether a person confirmed it."""

    person: str
    alias: str
    kind: str
    source: str
    evidence: tuple[str, ...]
    state: str
    recorded_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "person": self.person,
            "alias": self.alias,
            "kind": self.kind,
            "source": self.source,
            "evidence": list(self.evidence),
            "state": self.state,
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class NewHint:
    person: str
    alias: str
    kind: str
    source: str
    evidence: tuple[str, ...]
    state: str


def record_hints(store: Store, hints: Iterable[NewHint], *, now: datetime) -> int:
    """Add hints; one already known keeps its state and gains the new evidence."""
    added = 0
    with store.db.atomic():
        for hint in hints:
            row = store.db.conn.execute(
                "SELECT evidence, state FROM identity_hints WHERE person = ? AND alias = ?",
                [hint.person, hint.alias],
            ).fetchone()
            if row is None:
                store.db.conn.execute(
                    "INSERT INTO identity_hints (person, alias, kind, source, evidence, state,"
                    " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        hint.person,
                        hint.alias,
                        hint.kind,
                        hint.source,
                        json.dumps(sorted(hint.evidence)),
                        hint.state,
                        to_text(now),
                    ],
                )
                added += 1
                continue
            evidence = sorted({*json.loads(row[0] or "[]"), *hint.evidence})
            # A roster's confirmation upgrades a hint nobody had decided on yet.
            state = hint.state if row[1] == "unconfirmed" and hint.state == "confirmed" else row[1]
            store.db.conn.execute(
                "UPDATE identity_hints SET evidence = ?, state = ? WHERE person = ? AND alias = ?",
                [json.dumps(evidence), state, hint.person, hint.alias],
            )
    return added


def hints(store: Store, states: Collection[str] | None = None) -> list[StoredHint]:
    """Every identity hint (`quorum people` lists them all), or those in ``states``
    (what every vote's directory reads: through the index on state, migration m014)."""
    columns = "SELECT person, alias, kind, source, evidence, state, recorded_at FROM identity_hints"
    if states is None:
        rows = store.db.execute(f"{columns} ORDER BY person, alias").fetchall()
    else:
        rows = store.db.execute(
            f"{columns} WHERE state IN (SELECT value FROM json_each(?))"  # noqa: S608
            " ORDER BY person, alias",
            [json.dumps(sorted(states))],
        ).fetchall()
    return [
        StoredHint(r[0], r[1], r[2], r[3], tuple(json.loads(r[4] or "[]")), r[5], from_text(r[6]))
        for r in rows
    ]


def decide_hints(
    store: Store, alias: str, state: str, *, person: str | None, now: datetime
) -> list[StoredHint]:
    """Accept or reject the hints for ``alias`` (of ``person`` only, if given); those changed."""
    wanted = [
        h
        for h in hints(store)
        if h.alias.casefold() == alias.casefold() and (person is None or h.person == person)
    ]
    with store.db.atomic():
        store.db.conn.executemany(
            "UPDATE identity_hints SET state = ?, decided_at = ? WHERE person = ? AND alias = ?",
            [(state, to_text(now), h.person, h.alias) for h in wanted],
        )
    return wanted


def github_posts(store: Store) -> list[tuple[str, str, bytes]]:
    """(key, author address, raw bytes) of every post in a GitHub issue or pull request."""
    rows = store.db.execute(
        "SELECT p.key, p.author_address, r.raw, r.raw_parts, r.zraw, r.dict_id FROM posts p"
        " JOIN raw_messages r ON r.key = p.key"
        " WHERE p.thread_key LIKE '<%@github.com>' ORDER BY p.created_at"
    ).fetchall()
    return [(row[0], row[1] or "", store.raw_of_row(*row[2:])) for row in rows]
