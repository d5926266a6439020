"""Large messages in parts: written in short transactions, never copied, swept when orphaned.

A delivery over RAW_PART_BYTES (a 9.5 MB mail of 800,000 References, say) would
hold the single writer for tens of milliseconds in one insert, and again when it
moves from the inbox to raw_messages; every other sender's 250 waits meanwhile.
Instead its bytes go into ``raw_parts`` one part per transaction, before its inbox
row is committed (which is what the 250 waits for); the inbox row and later the
stored message only name the parts. Parts nothing names (a delivery cut off
mid-write, a duplicate that was not stored) are deleted one part at a time.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING

from bot.store.values import InboundDelivery, to_text

if TYPE_CHECKING:
    from bot.store import Store

# Above this many bytes a raw message is stored in parts of this size.
RAW_PART_BYTES = 1 << 20


def write_part(store: Store, owner: str, seq: int, data: bytes) -> None:
    """One part, in a transaction of its own."""
    with store.db.atomic():
        store.db.conn.execute(
            "INSERT OR REPLACE INTO raw_parts (owner, seq, data) VALUES (?, ?, ?)",
            [owner, seq, data],
        )


def enqueue_in_parts(store: Store, delivery: InboundDelivery, owner: str) -> int:
    """Commit the inbox row of a delivery whose bytes are already in parts; its id."""
    with store.db.atomic():
        cursor = store.db.conn.execute(
            "INSERT INTO inbox (raw, raw_parts, received_at, peer, mail_from, rcpt_to)"
            " VALUES (NULL, ?, ?, ?, ?, ?)",
            [
                owner,
                to_text(delivery.received_at),
                delivery.peer,
                delivery.mail_from,
                json.dumps(delivery.rcpt_to),
            ],
        )
    return int(cursor.lastrowid or 0)


def joined(store: Store, owner: str) -> bytes:
    """The bytes the parts of ``owner`` hold, in order."""
    rows = store.db.conn.execute(
        "SELECT data FROM raw_parts WHERE owner = ? ORDER BY seq", [owner]
    ).fetchall()
    return b"".join(bytes(row[0]) for row in rows)


def size(store: Store, owner: str) -> int:
    row = store.db.conn.execute(
        "SELECT coalesce(sum(length(data)), 0) FROM raw_parts WHERE owner = ?", [owner]
    ).fetchone()
    return int(row[0])


def orphans(store: Store, limit: int, *, writing: Collection[str] = ()) -> list[tuple[str, int]]:
    """Parts no inbox row or stored message names, except those being written now."""
    rows = store.db.conn.execute(
        "SELECT p.owner, p.seq FROM raw_parts p"
        " WHERE p.owner NOT IN (SELECT value FROM json_each(?))"
        " AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.raw_parts = p.owner)"
        " AND NOT EXISTS (SELECT 1 FROM raw_messages r WHERE r.raw_parts = p.owner)"
        " LIMIT ?",
        [json.dumps(sorted(writing)), limit],
    ).fetchall()
    return [(str(owner), int(seq)) for owner, seq in rows]


def delete_part(store: Store, owner: str, seq: int) -> None:
    with store.db.atomic():
        store.db.conn.execute("DELETE FROM raw_parts WHERE owner = ? AND seq = ?", [owner, seq])
