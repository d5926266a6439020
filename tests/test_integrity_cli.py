"""Every write path of the `quorum` command either completes or stops with one clear
line and a non-zero exit status, never a traceback: real processes, real files."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.mailgen import raw_mail
from tests.test_cli import _start_run as start_run

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "sample-archive.mbox"
LIST = "dev@lists.example.org"


def quorum(
    *args: str, db: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    prefix = ["--db", str(db)] if db is not None else []
    return subprocess.run(
        [sys.executable, "-m", "bot", *prefix, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a command that failed as it should: non-zero, one line, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def mbox(messages: int, prefix: str = "m") -> bytes:
    parts = []
    for n in range(messages):
        mail = raw_mail(
            f"Message {n} of the archive.\n",
            subject=f"[DISCUSS] topic {n % 50}",
            message_id=f"<{prefix}{n}@archive.example>",
            sender=f"Person {n % 30} <p{n % 30}@example.org>",
        )
        parts.append(b"From p@example.org Mon Nov  2 09:14:00 2026\n" + mail + b"\n")
    return b"".join(parts)


def stats(db: Path) -> dict[str, int]:
    result = quorum("stats", "--json", db=db)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# -- archives -----------------------------------------------------------------------------


def test_a_truncated_gzip_imports_what_is_readable_and_names_the_damage(tmp_path: Path):
    whole = gzip.compress(mbox(400))
    archive = tmp_path / "list.mbox.gz"
    archive.write_bytes(whole[: len(whole) * 2 // 3])
    db = tmp_path / "q.db"
    result = quorum("import", str(archive), db=db)
    line = one_error_line(result)
    assert f"{archive}: the compressed data ends early: the file is truncated" in line
    assert result.returncode == 1
    imported = int(re.search(r"imported the (\d+) message", line)[1])  # type: ignore[index]
    assert 100 < imported < 400
    assert result.stdout.strip() == (
        f"read {imported}, new {imported}, already known 0, kept with defects 0;"
        " 1 file(s) damaged, read up to the damage"
    )
    assert stats(db)["messages"] == imported
    # A good copy later adds exactly what the damage cut off.
    archive.write_bytes(whole)
    again = quorum("import", str(archive), db=db)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"read 400, new {400 - imported}, already known {imported},")


def test_a_corrupt_gzip_is_named_and_the_rest_imported(tmp_path: Path):
    archives = tmp_path / "archives"
    archives.mkdir()
    noise = os.urandom(300_000).hex().encode()  # so the damage lies far into the archive
    whole = bytearray(gzip.compress(mbox(200) + b"\n" + noise))
    whole[len(whole) * 3 // 4 : len(whole) * 3 // 4 + 64] = b"\xff" * 64
    (archives / "bad.mbox.gz").write_bytes(bytes(whole))
    (archives / "good.mbox").write_bytes(mbox(10, prefix="g"))
    db = tmp_path / "q.db"
    result = quorum("import", str(archives), db=db)
    line = one_error_line(result)
    assert f"{archives / 'bad.mbox.gz'}: the compressed data is corrupt" in line
    # The last message of the damaged archive runs into the damage: that one is left out.
    assert "imported the 199 message(s) before the damage" in line
    assert stats(db)["messages"] == 199 + 10


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("export.json", '{"subject": "x", "from": "a@b.c", "body": "hi"}\n'),
        ("settings.yaml", "name: quorum\nport: 25\n"),
        ("people.csv", "name,address\nAlice,alice@example.org\n"),
    ],
)
def test_a_file_that_is_not_mail_is_refused(tmp_path: Path, name: str, content: str):
    path = tmp_path / name
    path.write_text(content)
    result = quorum("import", str(path), db=tmp_path / "q.db")
    assert f"{path}: not mail" in one_error_line(result)
    assert result.stdout.strip().endswith("; 1 file(s) not imported")
    assert stats(tmp_path / "q.db")["messages"] == 0


# -- the database -------------------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path):
    notes = tmp_path / "notes.db"
    notes.write_text("These are my notes, not a database.\n" * 200)
    for command in (["stats"], ["threads"], ["import", str(SAMPLE)]):
        line = one_error_line(quorum(*command, db=notes))
        assert line == (
            f"error: {notes} is not a SQLite database (file is not a database);"
            " is --db the right file?"
        )
    assert notes.read_text().startswith("These are my notes")


def test_a_damaged_database_says_so(tmp_path: Path):
    db = tmp_path / "q.db"
    assert quorum("import", str(SAMPLE), db=db).returncode == 0
    data = bytearray(db.read_bytes())
    for offset in range(2 * 4096, len(data), 4096):
        data[offset : offset + 100] = b"\xff" * 100
    db.write_bytes(bytes(data))
    for command in ("threads", "stats", "log"):
        line = one_error_line(quorum(command, db=db))
        assert line.startswith(f"error: the database {db} is damaged (")
        assert f"`sqlite3 {db} .recover`" in line


def test_a_database_in_a_folder_that_does_not_exist_is_not_created(tmp_path: Path):
    db = tmp_path / "nonexistent" / "dir" / "q.db"
    for command in (["import", str(SAMPLE)], ["run"], ["stats"]):
        line = one_error_line(quorum(*command, db=db))
        assert line == (
            f"error: --db {db}: the folder {db.parent} does not exist; create it first,"
            " or choose another --db"
        )
    assert not (tmp_path / "nonexistent").exists()


def test_reading_a_database_that_does_not_exist_creates_none(tmp_path: Path):
    db = tmp_path / "typo.db"
    line = one_error_line(quorum("threads", db=db))
    assert line == (
        f"error: no database at {db}: `quorum import` or `quorum run` creates one"
        " (or choose another --db)"
    )
    assert not db.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only files")
def test_a_database_that_cannot_be_written_says_so(tmp_path: Path):
    db = tmp_path / "q.db"
    assert quorum("import", str(SAMPLE), db=db).returncode == 0
    db.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        line = one_error_line(quorum("import", str(SAMPLE), db=db))
    finally:
        tmp_path.chmod(0o755)
    assert "check its permissions" in line or "check the path and its permissions" in line


# -- the configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["threads"],
        ["log"],
        ["stats"],
        ["votes"],
        ["concerns"],
        ["modules"],
        ["digest"],
        ["import", str(SAMPLE)],
        ["run"],
    ],
)
def test_a_missing_config_stops_every_command(tmp_path: Path, command: list[str]):
    missing = tmp_path / "missing.toml"
    result = quorum("--config", str(missing), *command, db=tmp_path / "q.db")
    assert one_error_line(result) == f"error: {missing}: config file not found"
    assert result.returncode == 2
    assert not (tmp_path / "q.db").exists()


# -- one server per database --------------------------------------------------------------


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "quorum.toml"
    config.write_text(
        '[smtp]\nport = 0\naccept = ["dev@lists.example.org"]\n'
        "max_messages_per_sender_per_minute = 0\nmax_messages_per_peer_per_minute = 0\n"
        "[web]\nenabled = false\n"
    )
    return config


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    return stdout, stderr


def test_a_second_run_on_the_same_database_refuses_naming_the_first(tmp_path: Path):
    config, db = write_config(tmp_path), tmp_path / "q.db"
    first, port = start_run(config, db)
    try:
        second = quorum("--config", str(config), "run", db=db, timeout=60)
        line = one_error_line(second)
        assert line == (
            f"error: quorum run is already serving {db} (PID {first.pid}); stop it first,"
            " or give this one another --db"
        )
        deliver(port, [raw_mail(message_id="<after-refusal@example.org>")])
    finally:
        stop(first)
    assert stats(db)["messages"] == 1
    # Once the first has stopped, a new one starts.
    again, _ = start_run(config, db)
    stop(again)


def deliver(port: int, mails: list[bytes]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        for mail in mails:
            client.sendmail("frank@example.com", [LIST], mail.replace(b"\n", b"\r\n"))


def test_import_beside_a_running_server_under_smtp_load_stores_everything_once(tmp_path: Path):
    config, db = write_config(tmp_path), tmp_path / "q.db"
    archive = tmp_path / "archive.mbox"
    archive.write_bytes(mbox(5000))
    server, port = start_run(config, db)
    sent: list[str] = []
    importing = subprocess.Popen(
        [sys.executable, "-m", "bot", "--db", str(db), "import", str(archive)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )

    def send_while_importing() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            while importing.poll() is None or len(sent) < 200:
                key = f"<live{len(sent)}@example.org>"
                mail = raw_mail(f"live {len(sent)}\n", message_id=key, subject="[DISCUSS] live")
                client.sendmail("frank@example.com", [LIST], mail.replace(b"\n", b"\r\n"))
                sent.append(key)

    sender = threading.Thread(target=send_while_importing)
    sender.start()
    stdout, stderr = importing.communicate(timeout=300)
    sender.join(timeout=300)
    try:
        assert importing.returncode == 0, stderr
        assert "Traceback" not in stderr
        assert stdout.strip() == "read 5000, new 5000, already known 0, kept with defects 0"
        deadline = time.monotonic() + 60
        while stats(db)["pending"] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        _, server_errors = stop(server)
    assert "locked" not in server_errors
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT message_id, count(*) FROM posts GROUP BY message_id"))
    assert len(stored) == 5000 + len(sent)
    assert set(stored.values()) == {1}
    assert all(key in stored for key in sent)
