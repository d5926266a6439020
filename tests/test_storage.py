"""Storage per message: every byte kept and given back exactly, in less space than the archive.

Raw messages and post texts are compressed with a dictionary trained on the store's
own mail (bot.store.compress); stores written before that are converted on open.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path

import pytest

from bench.ingest import build_archive
from bot.adapters.archives import RawMessage, iter_paths, read_messages
from bot.core.mail import Envelope, body_hash, content_key, parse_mail
from bot.ingest import ImportReport, import_messages, import_paths
from bot.store import Store, compress, packed, prepare
from bot.store.migrations import migrations
from tests.corpus import corpus_path
from tests.mailgen import ARRIVAL, raw_mail
from tests.test_cli import quorum


def _stored_raws(store: Store) -> list[bytes]:
    keys = [row[0] for row in store.db.execute("SELECT key FROM raw_messages ORDER BY key")]
    return [store.raw(key) or b"" for key in keys]


@pytest.mark.corpus
def test_every_corpus_message_comes_back_byte_for_byte(tmp_path: Path):
    paths = [corpus_path("mbox"), corpus_path("edge-cases")]
    messages = [m.raw for path in iter_paths(paths) for m in read_messages(path)]
    store = Store.open(tmp_path / "q.db")
    report = import_paths(store, paths)
    assert report.errors == []
    stored = _stored_raws(store)
    # Enough mail to train the dictionary: these rows went through it.
    assert {row[0] for row in store.db.execute("SELECT DISTINCT dict_id FROM raw_messages")} == {1}
    held = set(stored)
    relayed = [raw for raw in messages if raw not in held]
    # What is not held byte for byte is the same mail relayed again (same Message-ID and
    # body, other headers), which an import counts as already known.
    posts = {(p.message_id, p.body_hash) for p in store.iter_posts()}
    for raw in relayed:
        message_id = next(
            line.split(b":", 1)[1].strip().decode()
            for line in raw.splitlines()
            if line.lower().startswith(b"message-id:")
        )
        assert (message_id, body_hash(raw)) in posts
    assert 0 < len(relayed) <= report.counts.known  # the rest were byte-identical copies
    assert len(stored) == report.counts.new


@pytest.mark.corpus
def test_import_twice_adds_nothing_and_the_store_is_smaller_than_the_archive(tmp_path: Path):
    corpus_path("mbox", "maven-dev-2017-11.mbox")  # build_archive repeats the Maven archives
    archive = tmp_path / "maven.mbox"
    count = build_archive(archive, 1_600)  # the real Maven archives, three copies
    db = tmp_path / "q.db"
    first = quorum("import", str(archive), db=db, check=True)
    assert f"read {count}, new" in first.stdout
    again = quorum("import", str(archive), db=db, check=True)
    assert f"read {count}, new 0, already known {count}" in again.stdout
    wal = db.with_name(db.name + "-wal")
    stored = db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    assert stored <= archive.stat().st_size
    store = Store.open(db)
    expected = {m.raw for m in read_messages(archive)}
    assert set(_stored_raws(store)) <= expected


def _mails(count: int, tag: str) -> list[bytes]:
    return [
        raw_mail(
            subject=f"[DISCUSS] Storage {tag} {n % 7}",
            message_id=f"<{tag}-{n}@example.org>",
            body=f"Message {n} about {tag}: the storage layer keeps every byte.\n" * 5,
        )
        for n in range(count)
    ]


def _ingest(store: Store, raws: list[bytes]) -> None:
    import_messages(store, [RawMessage(raw, "test") for raw in raws], bulk=False)


def test_a_new_dictionary_never_breaks_rows_an_older_one_compressed(tmp_path: Path):
    store = Store.open(tmp_path / "q.db")
    old = _mails(compress.TRAIN_SAMPLES, "old")
    _ingest(store, old)
    with store.db.atomic():
        second = store.codec.add([raw * 3 for raw in _mails(300, "retrained")])
    assert second == 2
    new = _mails(50, "new")
    _ingest(store, new)
    kinds = dict(store.db.execute("SELECT dict_id, count(*) FROM raw_messages GROUP BY dict_id"))
    assert kinds == {1: len(old), 2: len(new)}
    # A reader that opened before the second dictionary existed reads both kinds too.
    reader = Store.open_reader(tmp_path / "q.db")
    assert sorted(_stored_raws(reader)) == sorted(old + new)
    assert sorted(_stored_raws(store)) == sorted(old + new)


def test_mail_before_the_dictionary_is_compressed_again_once_it_is_trained(tmp_path: Path):
    store = Store.open(tmp_path / "q.db")
    first = _mails(compress.TRAIN_SAMPLES - 1, "early")
    _ingest(store, first)
    assert store.db.execute("SELECT DISTINCT dict_id FROM raw_messages").fetchall() == [(0,)]
    _ingest(store, _mails(1, "trigger"))
    assert store.db.execute("SELECT DISTINCT dict_id FROM raw_messages").fetchall() == [(1,)]
    assert store.db.execute("SELECT DISTINCT content_dict FROM posts").fetchall() == [(1,)]
    assert sorted(_stored_raws(store)) == sorted([*first, *_mails(1, "trigger")])


def test_an_interrupted_import_keeps_and_reports_the_groups_it_committed(tmp_path: Path):
    # Groups of 400: the first is committed; the second trains the dictionary, then the
    # archive breaks off, and the whole second group goes, its dictionary with it.
    def archive() -> Iterator[RawMessage]:
        yield from (RawMessage(raw, "test") for raw in _mails(600, "cut"))
        raise OSError("the disk went away")

    store = Store.open(tmp_path / "q.db")
    report = ImportReport()
    with pytest.raises(OSError, match="went away"):
        import_messages(store, archive(), report, workers=1, commit_every=400)
    assert report.counts.new == 400
    assert store.db.execute("SELECT count(*) FROM raw_messages").fetchone()[0] == 400
    assert store.db.execute("SELECT count(*) FROM raw_dictionaries").fetchone()[0] == 0
    # The store goes on: the next import trains a dictionary that is really stored,
    # and every message, before and after, comes back byte for byte.
    more = _mails(200, "after")
    import_messages(store, [RawMessage(raw, "test") for raw in more], workers=1)
    assert sorted(_stored_raws(Store.open_reader(tmp_path / "q.db"))) == sorted(
        [*_mails(600, "cut")[:400], *more]
    )


def _as_an_older_version_stored_it(db: Path) -> None:
    """Rewrite a store as versions before m009_scale_* left it: plain raw and text columns."""
    store = Store.open(db)
    posts = {post.key: post for post in store.iter_posts()}
    raws = {key: store.raw(key) for key in posts}
    conn = store.db.conn
    with store.db.atomic():
        for key, post in posts.items():
            conn.execute(
                "UPDATE posts SET text = ?, quoted = ?, headers = ?, content = NULL,"
                " content_dict = NULL WHERE key = ?",
                [post.text, json.dumps(post.quoted), json.dumps(post.headers), key],
            )
            conn.execute(
                "UPDATE raw_messages SET raw = ?, zraw = NULL, dict_id = NULL WHERE key = ?",
                [raws[key], key],
            )
        conn.execute("DELETE FROM raw_dictionaries")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm009_scale_compress_existing'")
    store.close()


def _pages(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("PRAGMA page_count").fetchone()[0])


def test_an_older_store_is_converted_in_batches_and_an_interrupted_upgrade_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    db = tmp_path / "q.db"
    store = Store.open(db)
    _ingest(store, _mails(1_200, "history"))
    before = list(store.iter_posts())
    raws = _stored_raws(store)
    store.close()
    _as_an_older_version_stored_it(db)
    old_pages = _pages(db)
    monkeypatch.setattr(compress, "CONVERT_BATCH", 100)
    # The upgrade is killed after three batches of posts.
    packed = compress.pack_content
    calls = {"n": 0}

    def failing(*args: object) -> tuple[bytes, int]:
        calls["n"] += 1
        if calls["n"] > 300:
            raise KeyboardInterrupt
        return packed(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(compress, "pack_content", failing)
    with pytest.raises(KeyboardInterrupt):
        Store.open(db)
    with sqlite3.connect(db) as conn:
        converted = conn.execute("SELECT count(*) FROM posts WHERE content IS NOT NULL").fetchone()
        assert converted == (300,)
        assert conn.execute("SELECT count(*) FROM raw_messages WHERE raw IS NULL").fetchone() == (
            len(raws),
        )
    monkeypatch.setattr(compress, "pack_content", packed)
    store = Store.open(db)
    assert list(store.iter_posts()) == before
    assert _stored_raws(store) == raws
    leftovers = store.db.execute(
        "SELECT (SELECT count(*) FROM posts WHERE text IS NOT NULL OR content IS NULL),"
        " (SELECT count(*) FROM raw_messages WHERE raw IS NOT NULL OR zraw IS NULL)"
    ).fetchone()
    assert leftovers == (0, 0)
    applied = {m.name for m in migrations.applied(store.db)}
    assert "m009_scale_compress_existing" in applied
    # The space freed is given back: the database is smaller, not just emptier (the file
    # itself shrinks at the next checkpoint).
    assert _pages(db) < old_pages * 0.75


def test_an_import_workers_packed_post_keeps_every_field_it_was_given():
    # packed() names each field of PreparedPost rather than call dataclasses.replace
    # (cheaper per message): a field added to the class must be added there too.
    raw = raw_mail("I worry about @alice's plan.\n\n> quoted\n", extra="References: <r@x>")
    item = prepare(parse_mail(raw, Envelope(ARRIVAL)), content_key(raw))
    done = packed(item, raw, compress.Packer(0, None))
    assert done.packed is not None
    assert done == replace(item, packed=done.packed)
    assert {f.name for f in fields(done)} == {
        "post", "raw_key", "created_at", "quoted", "mentions", "references", "headers",
        "links", "packed",
    }  # fmt: skip
