"""The store over its life: `quorum --version`, backups taken while mail arrives,
restores, one `quorum run` per store, and the guard against a store from a newer Quorum.

Backups and restores run as the `quorum` command in processes of their own, as
cron and an operator run them; the load is real SMTP over loopback.
"""

from __future__ import annotations

import asyncio
import smtplib
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Config, SmtpConfig, WebConfig
from bot.store import Store
from bot.store.lifecycle import StoreBusy, StoreTooNew, restore
from bot.version import version
from tests.mailgen import raw_mail

ROOT = Path(__file__).resolve().parent.parent
LIST = "dev@lists.example.org"
SENDERS = 4
# Each sender goes on until the backup is done, then sends this many more; at most MAX_EACH.
AFTER_BACKUP = 20
MAX_EACH = 20_000


def quorum(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def _config() -> Config:
    # Flood limits off: four senders from one address is the point of this load.
    smtp = SmtpConfig(
        port=0,
        accept=[LIST],
        max_messages_per_sender_per_minute=0,
        max_messages_per_peer_per_minute=0,
    )
    return Config(smtp=smtp, web=WebConfig(enabled=False))


def _message(sender: int, number: int) -> tuple[str, bytes]:
    message_id = f"<load-{sender}-{number}@example.org>"
    raw = raw_mail(f"Message {number} of sender {sender}.\n", message_id=message_id)
    return message_id, raw.replace(b"\n", b"\r\n")


class Load:
    """SENDERS threads, each delivering over one SMTP session until told to stop (and
    AFTER_BACKUP messages more), recording every Message-ID that got its 250."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.acknowledged: list[str] = []
        self.refused: list[tuple[str, int]] = []
        self.errors: list[str] = []
        self.sent: list[tuple[str, bytes]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._send, args=(sender,), daemon=True)
            for sender in range(SENDERS)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(120)

    def acked(self) -> set[str]:
        with self._lock:
            return set(self.acknowledged)

    def _send(self, sender: int) -> None:
        try:
            self._session(sender)
        except Exception as error:  # noted, so the test fails with it instead of waiting
            with self._lock:
                self.errors.append(repr(error))

    def _session(self, sender: int) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
            client.ehlo("load.example")
            after = 0
            for number in range(MAX_EACH):
                if self.stopping.is_set():
                    after += 1
                    if after > AFTER_BACKUP:
                        break
                message_id, raw = _message(sender, number)
                client.mail(f"sender{sender}@example.org")
                client.rcpt(LIST)
                code, _ = client.data(raw)
                with self._lock:
                    self.sent.append((message_id, raw))
                    if code == 250:
                        self.acknowledged.append(message_id)
                    else:
                        self.refused.append((message_id, code))


def _message_ids(db: Path) -> Counter[str]:
    store = Store.open(db)
    try:
        return Counter(post.message_id or "" for post in store.iter_posts())
    finally:
        store.close()


async def _run_once(db: Path) -> None:
    """Start the bot on ``db`` and stop it: what it accepted but never processed is processed."""
    app = App(_config(), db)
    await app.start()
    await app.stop()


async def _deliver_all(db: Path, messages: list[tuple[str, bytes]]) -> None:
    app = App(_config(), db)
    endpoints = await app.start()
    assert endpoints.smtp is not None
    port = endpoints.smtp[1]

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            for _, raw in messages:
                client.sendmail("again@example.org", [LIST], raw)

    try:
        await asyncio.to_thread(send)
    finally:
        await app.stop()


async def test_a_backup_taken_under_smtp_load_restores_without_loss_or_duplicates(
    tmp_path: Path,
):
    live, copy, restored = tmp_path / "live.db", tmp_path / "nightly.db", tmp_path / "restored.db"
    app = App(_config(), live)
    endpoints = await app.start()
    assert endpoints.smtp is not None
    load = Load(endpoints.smtp[1])
    try:
        load.start()
        for _ in range(3000):  # a quarter in, mid-flood
            if len(load.acked()) >= 100 or load.errors:
                break
            await asyncio.sleep(0.01)
        assert load.errors == []
        before = load.acked()
        backup = await asyncio.to_thread(quorum, "--db", str(live), "backup", str(copy))
        during = load.acked()
        load.stopping.set()
        await asyncio.to_thread(load.join)
    finally:
        await app.stop()

    assert backup.returncode == 0, backup.stderr
    assert f"backed up {live} to {copy}" in backup.stdout
    assert load.refused == []
    everything = load.acked()
    assert len(everything) == len(load.sent)
    assert len(during) < len(everything)  # the load went on after the backup

    result = await asyncio.to_thread(quorum, "--db", str(restored), "restore", str(copy))
    assert result.returncode == 0, result.stderr
    assert f"restored {restored} from {copy}" in result.stdout
    await _run_once(restored)  # deliveries the backup caught unprocessed are processed now

    in_backup = _message_ids(restored)
    # Every message acknowledged before the backup began is in it, once; nothing else is.
    assert before <= set(in_backup)
    assert set(in_backup) <= everything
    assert max(in_backup.values()) == 1
    # The list re-delivers everything (as after any restore): each message is stored once.
    await _deliver_all(restored, load.sent)
    after = _message_ids(restored)
    assert set(after) == everything
    assert set(after.values()) == {1}
    assert after == _message_ids(live)


def test_a_backup_is_one_self_contained_file_and_never_overwrites(tmp_path: Path):
    live = tmp_path / "live.db"
    store = Store.open(live)
    store.enqueue_inbound(
        raw_mail(),
        received_at=datetime(2026, 11, 24, tzinfo=UTC),
        peer="127.0.0.1:1",
        mail_from="a@example.org",
        rcpt_to=[LIST],
    )
    store.close()
    folder = tmp_path / "backups"
    folder.mkdir()

    first = quorum("--db", str(live), "backup", str(folder))
    assert first.returncode == 0, first.stderr
    [made] = folder.iterdir()
    assert made.name.startswith("quorum-")
    assert made.suffix == ".db"
    assert "1 accepted but not processed yet" in first.stdout
    with sqlite3.connect(made) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

    again = quorum("--db", str(live), "backup", str(made))
    assert again.returncode == 1
    assert (
        again.stderr.strip() == f"error: {made} exists; name a new file (backups never overwrite)"
    )
    missing = quorum("--db", str(tmp_path / "nothing.db"), "backup", str(tmp_path / "x.db"))
    assert missing.returncode == 1
    assert "no Quorum database (see --db) here" in missing.stderr
    assert "Traceback" not in missing.stderr + again.stderr


def test_restore_keeps_the_database_it_replaces_and_refuses_what_is_not_a_store(tmp_path: Path):
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    Store.open(live).close()
    assert quorum("--db", str(live), "backup", str(copy)).returncode == 0

    result = quorum("--db", str(live), "restore", str(copy))
    assert result.returncode == 0, result.stderr
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("live.db.before-restore-")]
    assert len(kept) == 1
    assert f"the database it replaced is kept as {kept[0]}" in result.stdout

    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all, just words\n" * 200)
    refused = quorum("--db", str(live), "restore", str(junk))
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: {junk}: not a SQLite database")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (x)")
    refused = quorum("--db", str(live), "restore", str(other))
    assert refused.stderr.strip() == f"error: {other}: a SQLite database, but not a Quorum store"


async def test_one_running_bot_per_store_and_no_restore_under_it(tmp_path: Path):
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    Store.open(live).close()
    assert quorum("--db", str(live), "backup", str(copy)).returncode == 0
    app = App(_config(), live)
    await app.start()
    try:
        with pytest.raises(StoreBusy, match=r"in use by quorum run \(pid \d+\); stop it first"):
            restore(copy, live)
        second = App(_config(), live)
        with pytest.raises(StoreBusy):
            await second.start()
        result = await asyncio.to_thread(quorum, "--db", str(live), "restore", str(copy))
    finally:
        await app.stop()
    assert result.returncode == 1
    assert "stop it first (a restore needs it alone)" in result.stderr
    # Once stopped, the store is free again.
    restore(copy, live)


@pytest.fixture
def future_store(tmp_path: Path) -> Path:
    """A store as a later Quorum (9.9.0) would leave it: one migration this one lacks."""
    db = tmp_path / "quorum.db"
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('quorum', 'm099_from_the_future', '2030-01-01')"
        )
        conn.execute("UPDATE store_meta SET value = '9.9.0' WHERE key = 'written_by'")
        conn.execute("CREATE TABLE future_things (x)")
    return db


def _schema(db: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(db) as conn:
        return [
            *conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"),
            *conn.execute("SELECT migration_set, name FROM _sqlite_migrations ORDER BY id"),
            *conn.execute("SELECT key, value FROM store_meta"),
        ]


async def test_a_store_from_a_newer_quorum_is_refused_by_name_and_left_alone(
    future_store: Path, tmp_path: Path
):
    before = _schema(future_store)
    for command in (["threads"], ["run"]):
        result = await asyncio.to_thread(quorum, "--db", str(future_store), *command)
        assert result.returncode == 3, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(
            f"error: {future_store} was written by a newer Quorum (9.9.0) than this one"
            f" ({version()}): it has schema changes this version does not know"
            " (quorum.m099_from_the_future). Nothing was changed."
        )
        assert "`quorum restore` the backup taken before the upgrade" in line
    with pytest.raises(StoreTooNew):
        await App(_config(), future_store).start()
    assert _schema(future_store) == before

    # Its backup is taken all the same (before a downgrade, say), but not restored here.
    copy = tmp_path / "future-copy.db"
    assert quorum("--db", str(future_store), "backup", str(copy)).returncode == 0
    refused = quorum("--db", str(tmp_path / "elsewhere.db"), "restore", str(copy))
    assert refused.returncode == 3
    assert "was written by a newer Quorum (9.9.0)" in refused.stderr
    assert not (tmp_path / "elsewhere.db").exists()


def test_a_store_from_an_older_quorum_is_migrated_and_records_its_new_writer(tmp_path: Path):
    db = tmp_path / "quorum.db"
    Store.open(db).close()
    with sqlite3.connect(db) as conn:  # as 0.1.0 before this change left it
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_ops_store_meta'")
        conn.execute("DROP TABLE store_meta")
    result = quorum("--db", str(db), "stats", "--json")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM store_meta").fetchall() == [(version(),)]


def test_version_names_quorum_python_and_sqlite():
    result = quorum("--version")
    assert result.returncode == 0
    assert result.stdout.startswith(f"quorum {version()} (Python 3.")
    assert f"SQLite {sqlite3.sqlite_version})" in result.stdout
    assert version() != "0+unknown"  # the package is installed (pip install -e)
