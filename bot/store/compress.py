"""Compressed storage of what a store holds per message: zstd with a dictionary trained on mail.

A mail compresses poorly on its own (zstd: about 2.5× on list mail) because most of
what it shares with other mail (Received chains, list headers, signatures, the
quoting of the thread) is never seen twice within one message. A dictionary trained
on the store's own mail supplies that context: about 4.4× on mail it was not trained
on, 5× on the mail it was (see README, "Storage per message").

Each store trains its dictionary once, from the first TRAIN_SAMPLES messages it
holds, and keeps it in ``raw_dictionaries`` under an id. Every compressed value
names the dictionary that compressed it (id 0: plain zstd, before one exists), so a
later dictionary never makes an older row unreadable. Frames carry a checksum: a
damaged row fails to decompress instead of returning other bytes.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import zstandard
from sqlite_utils import Database

logger = logging.getLogger(__name__)

# What a dictionary is trained from: this many messages, as soon as a store holds them.
TRAIN_SAMPLES = 500
DICTIONARY_BYTES = 112 * 1024
# zstd's level: 3 is its default; higher levels cost more time than they save space here.
LEVEL = 3
# Values compressed without a dictionary (none trained yet) name this id.
NO_DICTIONARY = 0


class Codec:
    """Compresses with the newest dictionary of a store; decompresses with any of them.

    Not thread-safe (zstd contexts are reused): one per Store, as each connection is.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._dictionaries: dict[int, zstandard.ZstdCompressionDict] = {}
        self._compressors: dict[int, zstandard.ZstdCompressor] = {}
        self._decompressors: dict[int, zstandard.ZstdDecompressor] = {}
        self.current = NO_DICTIONARY
        self._load()

    def _load(self) -> None:
        for dict_id, data in self._conn.execute("SELECT id, data FROM raw_dictionaries"):
            if dict_id not in self._dictionaries:
                self._dictionaries[int(dict_id)] = zstandard.ZstdCompressionDict(bytes(data))
        self.current = max(self._dictionaries, default=NO_DICTIONARY)

    def pack(self, data: bytes) -> tuple[bytes, int]:
        """``data`` compressed with the current dictionary, and that dictionary's id."""
        compressor = self._compressors.get(self.current)
        if compressor is None:
            compressor = zstandard.ZstdCompressor(
                level=LEVEL, dict_data=self._dictionaries.get(self.current), write_checksum=True
            )
            self._compressors[self.current] = compressor
        return compressor.compress(data), self.current

    def unpack(self, blob: bytes, dict_id: int) -> bytes:
        decompressor = self._decompressors.get(dict_id)
        if decompressor is None:
            if dict_id != NO_DICTIONARY and dict_id not in self._dictionaries:
                self._load()  # trained by another connection since this one loaded
            if dict_id != NO_DICTIONARY and dict_id not in self._dictionaries:
                raise LookupError(f"compression dictionary {dict_id} is missing from the store")
            decompressor = zstandard.ZstdDecompressor(dict_data=self._dictionaries.get(dict_id))
            self._decompressors[dict_id] = decompressor
        return decompressor.decompress(blob)

    def add(self, samples: Sequence[bytes], now: datetime | None = None) -> int | None:
        """Train a dictionary on ``samples``, store it and compress with it from now on.

        Returns its id, or None when zstd could not train one from these samples (too
        few, too alike): compression then goes on without, and nothing is lost.
        """
        try:
            trained = zstandard.train_dictionary(DICTIONARY_BYTES, list(samples), k=2048, d=8)
        except zstandard.ZstdError as error:
            logger.warning("could not train a compression dictionary: %s", error)
            return None
        cursor = self._conn.execute(
            "INSERT INTO raw_dictionaries (data, samples, trained_at) VALUES (?, ?, ?)",
            [
                trained.as_bytes(),
                len(samples),
                (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            ],
        )
        dict_id = int(cursor.lastrowid or 0)
        self._dictionaries[dict_id] = zstandard.ZstdCompressionDict(trained.as_bytes())
        self.current = dict_id
        logger.info("trained compression dictionary %d on %d messages", dict_id, len(samples))
        return dict_id


# -- a post's text columns -----------------------------------------------------------------


def pack_content(codec: Codec, text: str, quoted_json: str, headers_json: str) -> tuple[bytes, int]:
    """A post's text, quoted parts and headers as one compressed value (they share words)."""
    document = f'{{"t":{json.dumps(text)},"q":{quoted_json},"h":{headers_json}}}'
    return codec.pack(document.encode("utf-8"))


def unpack_content(
    codec: Codec, blob: bytes, dict_id: int
) -> tuple[str, list[str], dict[str, str]]:
    """(text, quoted parts, headers) of :func:`pack_content`."""
    document = json.loads(codec.unpack(blob, dict_id))
    return document["t"], document["q"], document["h"]


# -- stores written by older versions ------------------------------------------------------

# Rows converted per transaction: each commits, so an interrupted upgrade keeps its work.
CONVERT_BATCH = 2_000
# A sample is at most this long: a few huge messages must not make training slow.
SAMPLE_MAX_BYTES = 64 * 1024


def sample_of(raw: bytes) -> bytes:
    return raw[:SAMPLE_MAX_BYTES]


def compress_existing(db: Database) -> int:
    """Compress the raw messages and post texts an older version stored; how many rows.

    Trains the store's dictionary first (from its first messages) if it has none.
    Each batch of CONVERT_BATCH rows is one transaction, found by rowid, so a second
    run goes on where an interrupted one stopped. The space freed is given back to
    the file system (VACUUM) when it is most of the file.
    """
    conn = db.conn
    # Runs only until this migration is recorded as applied: counting is cheap enough.
    waiting = conn.execute(
        "SELECT (SELECT count(*) FROM raw_messages WHERE raw IS NOT NULL),"
        " (SELECT count(*) FROM posts WHERE content IS NULL)"
    ).fetchone()
    if not any(waiting):
        return 0
    logger.warning(
        "upgrading the store: compressing %d stored message(s) (about 40 s per 100,000;"
        " interrupting is safe, the next start goes on)",
        max(waiting),
    )
    codec = Codec(conn)
    if codec.current == NO_DICTIONARY:
        samples = [
            sample_of(bytes(row[0]))
            for row in conn.execute(
                "SELECT raw FROM raw_messages WHERE raw IS NOT NULL ORDER BY rowid LIMIT ?",
                [TRAIN_SAMPLES],
            )
        ]
        with db.atomic():
            codec.add(samples)
    converted = _convert(
        db,
        "SELECT rowid, raw FROM raw_messages WHERE rowid > ? AND raw IS NOT NULL"
        " ORDER BY rowid LIMIT ?",
        lambda row: codec.pack(bytes(row[1])),
        "UPDATE raw_messages SET zraw = ?, dict_id = ?, raw = NULL WHERE rowid = ?",
    )
    converted += _convert(
        db,
        "SELECT rowid, text, quoted, headers FROM posts WHERE rowid > ? AND content IS NULL"
        " ORDER BY rowid LIMIT ?",
        lambda row: pack_content(codec, row[1] or "", row[2] or "[]", row[3] or "{}"),
        "UPDATE posts SET content = ?, content_dict = ?, text = NULL, quoted = NULL,"
        " headers = NULL WHERE rowid = ?",
    )
    free, pages = (
        conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("freelist_count", "page_count")
    )
    if free * 2 > pages:
        logger.warning("upgrading the store: giving %d free pages back (VACUUM)", free)
        conn.execute("VACUUM")
    return int(converted)


def _convert(
    db: Database,
    select: str,
    pack: Callable[[tuple[Any, ...]], tuple[bytes, int]],
    update: str,
) -> int:
    """Rewrite the rows ``select`` finds, a batch per transaction, in rowid order."""
    after, done = 0, 0
    while True:
        rows = db.conn.execute(select, [after, CONVERT_BATCH]).fetchall()
        if not rows:
            return done
        with db.atomic():
            db.conn.executemany(update, [(*pack(row), row[0]) for row in rows])
        after = rows[-1][0]
        done += len(rows)
