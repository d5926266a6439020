"""The first day a community sees: `make run` on the sample, `quorum tick`, `quorum attention`,
and the digest's schedule in the community's time zone."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Config, load_config
from bot.features.attention import attention
from bot.store import Store
from bot.tick import run_ticks
from tests.stores import SAMPLE, sample_store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "example.toml"
# The day the Makefile's quick start runs the sample on (RUN_ARGS in the Makefile).
FIRST_DAY = "2026-12-02T09:00Z"
URL = re.compile(r"https?://\S+")
QUORUM = (sys.executable, "-m", "bot")


def _example_config(tmp_path: Path) -> Path:
    """config/example.toml as `make run` uses it, on free ports, with the sample beside it."""
    text = EXAMPLE.read_text()
    text = text.replace("port = 8025", "port = 0").replace("port = 8080", "port = 0")
    text = text.replace('on_start = ["sample-archive.mbox"]', f'on_start = ["{SAMPLE}"]')
    path = tmp_path / "quorum.toml"
    path.write_text(text)
    return path


def _quorum(*args: str, db: Path, config: Path = EXAMPLE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_the_makefile_runs_the_sample_on_its_first_day():
    makefile = (ROOT / "Makefile").read_text()
    assert f"RUN_ARGS ?= --now {FIRST_DAY}" in makefile
    assert "run $(RUN_ARGS)" in makefile


def test_make_run_prints_a_calm_truthful_first_day(tmp_path: Path):
    config = _example_config(tmp_path)
    process = subprocess.Popen(
        [
            *QUORUM,
            "--config",
            str(config),
            "--db",
            str(tmp_path / "q.db"),
            "run",
            "--now",
            FIRST_DAY,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "press Ctrl-C to stop" in line:
                break
    finally:
        process.send_signal(signal.SIGTERM)
        rest, errors = process.communicate(timeout=60)
    output = "".join(lines) + rest
    assert process.returncode == 0, errors
    assert "Traceback" not in errors

    sent = re.findall(r"^\[dry-run\] (\S+) via (\S+)", output, re.MULTILINE)
    # Frank's question waited 16 days before this first day: one catch-up summary for the
    # PMC, and no reminder and no escalation decided in the same minute.
    assert sent == [("catch-up", "pmc")]
    assert "Escalation" not in output
    assert "sha256:" not in output
    # Every post it names is linked: Frank's mail has no Message-ID, so the archive's
    # search for its subject and day.
    # (The console wraps long lines: an item runs to the next blank line.)
    named = re.findall(r"Frank Fischer's question.*?(?:\n\s*\n|$)", output, re.DOTALL)
    assert named
    assert all(URL.search(item) for item in named)
    # Calm: nobody is mentioned (in Slack, a name is a ping) on the day nobody is reminded.
    assert "<@" not in output
    assert "it has no Message-ID" not in output


def test_quorum_tick_shows_the_ladder_and_changes_nothing_without_record(tmp_path: Path):
    db = sample_store(tmp_path / "q.db")
    result = _quorum("tick", "--now", "2026-11-20T09:00Z", "--until", "2026-11-26T09:00Z", db=db)
    assert result.returncode == 0, result.stderr
    ticks = re.findall(r"^== tick (\S+ \S+) UTC", result.stdout, re.MULTILINE)
    sent = re.findall(r"^\[dry-run\] (\S+) via (\S+)", result.stdout, re.MULTILINE)
    # The reminder on its day (5 days after the question of 2026-11-15 19:00), the digest
    # on Monday, the escalation 5 days (S1: escalate 10 - remind 5) after the reminder.
    assert ticks == ["2026-11-20 19:00", "2026-11-23 09:00", "2026-11-25 19:00"]
    assert sent == [
        ("remind", "slack"),
        ("remind", "mail"),
        ("digest", "list"),
        ("escalate", "list"),
        ("escalate", "pmc"),
    ]
    assert "A reminder was recorded on 2026-11-20 for Slack and the thread but not sent" in (
        result.stdout
    )
    assert "sha256:" not in result.stdout
    # A scratch copy: the database itself recorded nothing.
    assert json.loads(_quorum("log", "--json", db=db).stdout) == []


def test_quorum_tick_records_in_place_only_when_asked(tmp_path: Path):
    db = sample_store(tmp_path / "q.db")
    assert _quorum("tick", "--now", "2026-11-20T20:00Z", "--record", db=db).returncode == 0
    log = json.loads(_quorum("log", "--json", db=db).stdout)
    assert {(e["kind"], e["status"]) for e in log} == {("remind", "dry-run")}
    printed = _quorum("log", db=db).stdout
    assert "sha256" not in printed.split("key:")[0]  # the post is named by no hash


async def test_attention_json_is_what_the_feature_returns(tmp_path: Path):
    db = sample_store(tmp_path / "q.db")
    config = load_config(EXAMPLE)
    await run_ticks(config, db, [datetime(2026, 11, 20, 20, tzinfo=UTC)], send=False)
    # Nothing was recorded in place by run_ticks on a path: it ticks the database given.
    printed = _quorum("attention", "--json", "--now", "2026-11-22T10:00:00", db=db)
    assert printed.returncode == 0, printed.stderr
    store = Store.open(db)
    try:
        found = attention(store, config, datetime(2026, 11, 22, 10, tzinfo=UTC), current=False)
    finally:
        store.close()
    assert json.loads(printed.stdout) == found.to_dict()
    [item] = found.items
    assert item.kind.value == "reminder"
    assert item.title == "indexer: reminded, unanswered: “Question about the 2.1.0 upgrade notes”"
    assert "reminded 2026-11-20 on Slack and in the thread (dry-run: recorded, not sent)" in (
        item.detail
    )
    assert item.age == "6 days"  # 2026-11-15 19:00 to 2026-11-22 10:00, rounded down
    text = _quorum("attention", "--now", "2026-11-22T10:00:00", db=db).stdout
    assert "reminder: indexer: reminded, unanswered" in text


async def test_nothing_older_than_max_age_needs_attention_or_gets_a_message(tmp_path: Path):
    db = sample_store(tmp_path / "q.db")
    example = load_config(EXAMPLE)
    assert example.responsiveness is not None
    config = example.model_copy(
        update={"responsiveness": example.responsiveness.model_copy(update={"max_age_days": 5})}
    )
    # Frank's question is 5 days and 1 hour old: history, whatever its ladder says.
    [report] = await run_ticks(config, db, [datetime(2026, 11, 20, 20, tzinfo=UTC)])
    assert [o.kind for o in report.dispatch.outcomes] == []
    store = Store.open(db)
    try:
        found = attention(store, config, datetime(2026, 11, 20, 20, tzinfo=UTC), current=False)
    finally:
        store.close()
    assert found.items == ()


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 11, 23, 14, 0, tzinfo=UTC)),  # EST, UTC-5
        ("Asia/Kolkata", datetime(2026, 11, 23, 3, 30, tzinfo=UTC)),  # IST, UTC+5:30
    ],
)
def test_the_digest_fires_on_its_schedule_in_the_project_time_zone(
    tmp_path: Path, zone: str, expected: datetime
):
    config = Config.model_validate(
        {"project": {"timezone": zone}, "digest": {"schedule": "0 9 * * mon"}}
    )
    [digest] = [job for job in App(config, tmp_path / "q.db").jobs() if job.name == "digest"]
    friday = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert digest.trigger().get_next_fire_time(None, friday) == expected


async def test_a_tick_sends_the_digest_when_its_local_time_comes(tmp_path: Path):
    db = sample_store(tmp_path / "q.db")
    config = load_config(EXAMPLE).model_copy(
        update={
            "project": load_config(EXAMPLE).project.model_copy(
                update={"timezone": "America/New_York"}
            )
        }
    )
    utc_nine, new_york_nine = (
        datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
    )
    [early, on_time] = await run_ticks(config, db, [utc_nine, new_york_nine])
    assert (early.fired, on_time.fired) == ((), ("digest",))
    [digest] = [o for o in on_time.dispatch.outcomes if o.kind == "digest"]
    assert digest.rendered is not None
    # Dates in the community's zone: the question of 19:00 UTC was asked at 14:00 there.
    assert "2026-11-15 14:00 EST" in digest.rendered
