"""The `quorum` command as a user runs it: real processes, real files, real exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.mailgen import raw_mail

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "sample-archive.mbox"


def quorum(*args: str, db: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
        cwd=ROOT,
    )


def test_check_config_accepts_the_example():
    result = quorum("check-config", "config/example.toml", db=Path("unused.db"))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[smtp]\nprot = 25\n", "smtp.prot: unknown key"),
        ('[smtp]\nport = "25"\n', "smtp.port: input should be a valid integer"),
        ("[bogus]\nx = 1\n", "bogus: unknown key"),
        ('[smtp]\napi_token = "x"\n', "smtp.api_token: unknown key; secrets are never read"),
        ("[smtp\n", "not valid TOML"),
    ],
)
def test_check_config_names_the_key_and_exits_2(tmp_path: Path, toml: str, expected: str):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    result = quorum("check-config", str(path), db=tmp_path / "q.db")
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_is_a_clear_error(tmp_path: Path):
    result = quorum("--config", str(tmp_path / "nope.toml"), "run", db=tmp_path / "q.db")
    assert result.returncode == 2
    assert "config file not found" in result.stderr


def test_import_reports_summary_is_idempotent_and_names_non_mail_files(tmp_path: Path):
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes\nnot a message\n")
    db = tmp_path / "q.db"
    first = quorum("import", str(SAMPLE), str(junk), db=db)
    assert first.returncode == 1
    assert f"{junk}: not mail" in first.stderr
    assert first.stdout.strip() == (
        "read 12, new 12, already known 0, kept with defects 1; 1 file(s) not imported"
    )
    again = quorum("import", str(SAMPLE), db=db)
    assert again.returncode == 0
    assert again.stdout.strip() == "read 12, new 0, already known 12, kept with defects 0"
    stats = json.loads(quorum("stats", "--json", db=db, check=True).stdout)
    assert (stats["messages"], stats["threads"], stats["defects"]) == (12, 5, 1)


def test_import_of_gzip_and_eml_directory(tmp_path: Path):
    import gzip

    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "list.mbox.gz").write_bytes(gzip.compress(SAMPLE.read_bytes()))
    (folder / "one.eml").write_bytes(raw_mail(message_id="<single@example.org>"))
    result = quorum("import", str(folder), db=tmp_path / "q.db")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("read 13, new 13,")


def test_threads_json_lists_kinds_and_links(tmp_path: Path):
    db = tmp_path / "q.db"
    quorum("import", str(SAMPLE), db=db, check=True)
    rows = json.loads(quorum("threads", "--json", db=db, check=True).stdout)
    by_kind = {row["kind"]: row for row in rows}
    assert set(by_kind) == {"rfc", "vote", "result", "other"}
    vote, result = by_kind["vote"], by_kind["result"]
    assert result["closes"] == vote["key"]
    assert vote["closed_by"] == [result["key"]]
    assert vote["messages"] == 4
    assert vote["participants"] == ["Alice Archer", "Bob Bauer", "Carol Cortés", "Dave Diaz"]
    pr = next(r for r in rows if r["key"] == "<example/indexer/pull/95@github.com>")
    # A GitHub profile name is shown with its login when the name does not contain it.
    assert pr["participants"] == ["Erin Eastwood (erin-e)", "Alice Archer"]
    table = quorum("threads", db=db, check=True).stdout
    assert "[RFC] Pluggable storage backends for the indexer" in table
    assert "closes: [VOTE] Release Example Indexer 2.1.0" in table


def _write_config(tmp_path: Path) -> Path:
    config = tmp_path / "quorum.toml"
    config.write_text(
        '[smtp]\nport = 0\naccept = ["dev@lists.example.org"]\n'
        "[web]\nport = 0\n"  # the dashboard too: never a fixed port in tests
        f'[import]\non_start = ["{SAMPLE}"]\n'
    )
    return config


def _start_run(config: Path, db: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "--db", str(db), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match:
            return process, int(match.group(1))
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(
        f"quorum run did not start: {process.stderr.read() if process.stderr else ''}"
    )


def _deliver(port: int, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("frank@example.com", ["dev@lists.example.org"], raw.replace(b"\n", b"\r\n"))


def test_run_serves_and_stops_cleanly_on_sigterm(tmp_path: Path):
    db = tmp_path / "q.db"
    process, port = _start_run(_write_config(tmp_path), db)
    try:
        _deliver(port, raw_mail(message_id="<live@example.org>", subject="[DISCUSS] Live"))
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "stopped cleanly" in stdout
    assert "Traceback" not in stderr
    stats = json.loads(quorum("stats", "--json", db=db, check=True).stdout)
    assert stats["messages"] == 13
    assert stats["pending"] == 0


def test_kill_9_after_250_loses_nothing(tmp_path: Path):
    db = tmp_path / "q.db"
    config = _write_config(tmp_path)
    process, port = _start_run(config, db)
    try:
        _deliver(port, raw_mail(message_id="<crash@example.org>"))
    finally:
        process.kill()  # SIGKILL: no clean shutdown at all
        # Ends only when every process holding its output has: the computing process
        # must notice it is orphaned and exit too (bot/computing.py).
        process.communicate(timeout=30)
    process, _ = _start_run(config, db)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    stats = json.loads(quorum("stats", "--json", db=db, check=True).stdout)
    assert stats["messages"] == 13
    assert stats["pending"] == 0


def test_kill_9_while_a_large_message_is_parsed_leaves_no_process_behind(tmp_path: Path):
    """A message over a mebibyte is stored in parts and parsed in a helper process; after
    a kill -9 of `quorum run` that process ends too, and with it the output pipes it
    inherited (a fork server's child lived on, holding them)."""
    db = tmp_path / "q.db"
    process, port = _start_run(_write_config(tmp_path), db)
    try:
        body = "".join(f"line {n} of a long build log\n" for n in range(60_000))
        assert len(body) > 1 << 20
        _deliver(port, raw_mail(body, message_id="<log@example.org>", subject="[DISCUSS] log"))
        deadline = time.monotonic() + 60
        while json.loads(quorum("stats", "--json", db=db, check=True).stdout)["pending"]:
            assert time.monotonic() < deadline, "the large message was never processed"
            time.sleep(0.2)
    finally:
        process.kill()
        # Ends only when every process holding its output has.
        process.communicate(timeout=30)


def test_modules_show_figures_and_the_reminders_due(tmp_path: Path):
    db = tmp_path / "q.db"
    quorum("import", str(SAMPLE), db=db, check=True)
    # Half an hour after Frank's question passed the S1 reminder threshold (5 days).
    args = ("--config", "config/example.toml", "modules", "--now", "2026-11-20T19:30:00", "--json")
    payload = json.loads(quorum(*args, db=db, check=True).stdout)
    by_name = {m["name"]: m for m in payload["modules"]}
    assert by_name["indexer"]["state"] == "S1"
    assert by_name["indexer"]["open_obligations"] == 1  # Frank's unanswered question
    assert by_name["objstore"]["open_obligations"] == 0  # Carol answered Bob's concern
    assert "isolated" in by_name["objstore"]["state_means"]
    reminders = [d for d in payload["decisions"] if d["stage"] == 1]
    assert {d["channel"] for d in reminders} == {"slack", "thread"}
    assert all(d["rule"] == "S1 policy: remind after 5 days" for d in reminders)
    assert all(d["post"]["author"] == "Frank Fischer" for d in reminders)
    # That morning, the question had not waited long enough for a reminder.
    earlier = quorum(*args[:-3], "--now", "2026-11-20", "--json", db=db, check=True).stdout
    assert json.loads(earlier)["decisions"] == []
    # Days later, with no reminder recorded, it is a backlog for the catch-up summary,
    # never a reminder and an escalation at once.
    later = json.loads(quorum(*args[:-3], "--now", "2026-11-30", "--json", db=db).stdout)
    assert later["decisions"] == []
    [frank] = [o for o in later["obligations"] if o["state"] == "open"]
    assert frank["backlog"] is True
