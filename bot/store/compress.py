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


class Packer:
    """Compresses with one dictionary; needs no store, so import workers use it too.

    Not thread-safe (its zstd context is reused): one per thread or process.
    """

    def __init__(self, dict_id: int, data: bytes | None) -> None:
        self.dict_id = dict_id
        self.data = data
        dictionary = zstandard.ZstdCompressionDict(data) if data else None
        self._compressor = zstandard.ZstdCompressor(
            level=LEVEL, dict_data=dictionary, write_checksum=True
        )

    def pack(self, data: bytes) -> tuple[bytes, int]:
        """``data`` compressed, and the id of the dictionary that did it."""
        return self._compressor.compress(data), self.dict_id


# An import worker's packer, made again only when the store's dictionary changes.
_worker_packer: Packer | None = None


def packer_for(dict_id: int, data: bytes | None) -> Packer:
    global _worker_packer
    if _worker_packer is None or _worker_packer.dict_id != dict_id:
        _worker_packer = Packer(dict_id, data)
    return _worker_packer


class Codec:
    """Compresses with the newest dictionary of a store; decompresses with any of them.

    Not thread-safe (zstd contexts are reused): one per Store, as each connection is.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._dictionaries: dict[int, bytes] = {}
        self._decompressors: dict[int, zstandard.ZstdDecompressor] = {}
        self.packer = Packer(NO_DICTIONARY, None)
        self._load()

    @property
    def current(self) -> int:
        return self.packer.dict_id

    def _load(self) -> None:
        for dict_id, data in self._conn.execute("SELECT id, data FROM raw_dictionaries"):
            self._dictionaries.setdefault(int(dict_id), bytes(data))
        newest = max(self._dictionaries, default=NO_DICTIONARY)
        if newest != self.current:
            self.packer = Packer(newest, self._dictionaries[newest])

    def pack(self, data: bytes) -> tuple[bytes, int]:
        """``data`` compressed with the current dictionary, and that dictionary's id."""
        return self.packer.pack(data)

    def unpack(self, blob: bytes, dict_id: int) -> bytes:
        decompressor = self._decompressors.get(dict_id)
        if decompressor is None:
            if dict_id != NO_DICTIONARY and dict_id not in self._dictionaries:
                self._load()  # trained by another connection since this one loaded
            if dict_id != NO_DICTIONARY and dict_id not in self._dictionaries:
                raise LookupError(f"compression dictionary {dict_id} is missing from the store")
            data = self._dictionaries.get(dict_id)
            dictionary = zstandard.ZstdCompressionDict(data) if data else None
            decompressor = zstandard.ZstdDecompressor(dict_data=dictionary)
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
        self._dictionaries[dict_id] = trained.as_bytes()
        self.packer = Packer(dict_id, trained.as_bytes())
        logger.info("trained compression dictionary %d on %d messages", dict_id, len(samples))
        return dict_id


# -- a post's text columns -----------------------------------------------------------------


def pack_content(
    packer: Packer | Codec,
    text: str,
    quoted_json: str,
    headers_json: str,
    quote_at: Sequence[int] = (),
) -> tuple[bytes, int]:
    """A post's text, quoted parts and headers as one compressed value (they share words),
    and where each quoted part sat (``Post.quote_at``) when there are any."""
    where = f',"a":{_json_ints(quote_at)}' if quote_at else ""
    document = f'{{"t":{json.dumps(text)},"q":{quoted_json},"h":{headers_json}{where}}}'
    return packer.pack(document.encode("utf-8"))


def _json_ints(values: Sequence[int]) -> str:
    """json.dumps(list(values)), without the encoder it makes per call, for plain ints."""
    if all(type(value) is int for value in values):
        return "[" + ", ".join(map(str, values)) + "]"
    return json.dumps(list(values))


def unpack_content(
    codec: Codec, blob: bytes, dict_id: int
) -> tuple[str, list[str], dict[str, str], tuple[int, ...]]:
    """(text, quoted parts, headers, where the quoted parts sat) of :func:`pack_content`;
    a value packed before versions kept the places has none ()."""
    document = json.loads(codec.unpack(blob, dict_id))
    return document["t"], document["q"], document["h"], tuple(document.get("a", ()))


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
    the file system (VACUUM) at the end.
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
        "upgrading the store: compressing %d stored message(s) (about 15 s per 100,000;"
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
    if converted:
        # Rows rewritten in place leave pages half empty as well as free ones: only a
        # VACUUM gives the space back (100,000 messages: 1.3 GB became 0.5 GB, in 5 s).
        logger.warning("upgrading the store: giving the space freed back (VACUUM)")
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
