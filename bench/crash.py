"""Crash safety: kill -9 in the middle of the work, restart, and count.

Run: .venv/bin/python -m bench.crash [--quick]

Three scenarios, each with SIGKILL to the whole process group (no shutdown code
runs, worker processes die too):

1. SMTP load: 50 clients deliver to `quorum run`, which is killed three times
   while messages are being accepted and processed. After each restart the
   clients send what was not acknowledged (as an MTA retries a delivery that
   got no answer). Every message acknowledged with 250 must be stored exactly
   once, and the inbox must end empty.
2. Import: `quorum import` of a large archive is killed part way, then run
   again. Every message must be stored exactly once.
3. Reminders: `quorum run` with the example config and its channels enabled
   against a loopback SMTP server and the fake Slack Web API, with many
   overdue questions, is killed twice while it delivers the reminders. After
   the restarts no reminder may have arrived twice; one interrupted in the
   middle of its own send is ``uncertain`` (never resent automatically).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import json
import re
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

from bench.smtp_load import (
    ROOT,
    Delivery,
    Outgoing,
    Quorum,
    deliver_all,
    exactly_once_problems,
    kill_group,
    outgoing_messages,
    quorum_command,
    read_only,
    start_quorum,
    stored_counts,
    write_config,
)
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp_sink import SmtpSink

Row = tuple[str, str, str]
T = TypeVar("T")
SLACK_TOKEN = "xoxb-quorum-bench"
SLACK_CHANNELS = {"C0123456789": "dev", "C0987654321": "pmc"}


@dataclass
class CrashResult:
    scenario: str
    detail: str
    problems: list[str]


# -- 1. SMTP load ---------------------------------------------------------------------------


def smtp_crash(messages: int, clients: int, kill_at: tuple[float, ...]) -> CrashResult:
    """Kill `quorum run` when these fractions of the messages have been acknowledged."""
    outgoing = outgoing_messages(messages, tag="crash")
    by_id = {m.message_id: m for m in outgoing}
    acknowledged: set[str] = set()
    unprocessed_at_kill: list[int] = []
    resent = 0
    with tempfile.TemporaryDirectory(prefix="quorum-crash-smtp-") as folder:
        config, db = write_config(Path(folder)), Path(folder) / "quorum.db"
        todo = list(outgoing)
        for fraction in (*kill_at, None):
            with start_quorum(config, db) as quorum:
                threshold = None if fraction is None else int(messages * fraction)
                results = _deliver_until_killed(quorum, todo, clients, threshold, acknowledged)
                acknowledged |= {r.message_id for r in results if r.code == 250}
                if fraction is None:
                    _wait_until_processed(db, acknowledged)
                    quorum.stop()
                else:
                    unprocessed_at_kill.append(_inbox_size(db))
            # What got no 250 is delivered again after the restart, as an MTA would.
            unanswered = {r.message_id for r in results if r.code == 0}
            resent += len(unanswered)
            todo = [by_id[mid] for mid in sorted(by_id.keys() - acknowledged)]
        problems = exactly_once_problems(db, acknowledged, set(by_id))
    detail = (
        f"{len(acknowledged):,} of {messages:,} acknowledged across {len(kill_at)} kills;"
        f" accepted but unprocessed at each kill: {unprocessed_at_kill};"
        f" {resent} in flight without an answer were sent again"
    )
    return CrashResult(f"kill -9 quorum run during SMTP load ({clients} clients)", detail, problems)


def _deliver_until_killed(
    quorum: Quorum,
    todo: list[Outgoing],
    clients: int,
    threshold: int | None,
    acknowledged: set[str],
) -> list[Delivery]:
    """Deliver ``todo``; kill the server once ``threshold`` messages are acknowledged in all."""

    def maybe_kill(accepted: int) -> None:
        total = len(acknowledged) + accepted
        if threshold is not None and total >= threshold and quorum.process.poll() is None:
            quorum.kill()

    return asyncio.run(deliver_all(quorum.port, todo, clients, on_accepted=maybe_kill))


def _inbox_size(db: Path) -> int:
    return stored_counts(db)[1]


def _wait_until_processed(db: Path, message_ids: set[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored, pending = stored_counts(db)
        if not pending and message_ids <= stored.keys():
            return
        time.sleep(0.1)


# -- 2. import ---------------------------------------------------------------------------


def import_crash(messages: int, kill_at: float) -> CrashResult:
    """Kill `quorum import` once this fraction of the archive is stored, then import again."""
    outgoing = outgoing_messages(messages, tag="import")
    with tempfile.TemporaryDirectory(prefix="quorum-crash-import-") as folder:
        archive, db = Path(folder) / "archive.mbox", Path(folder) / "quorum.db"
        write_mbox(archive, outgoing)
        config = write_config(Path(folder))
        stored_before = _import_and_kill(config, db, archive, int(messages * kill_at))
        command = quorum_command(config, db, "import", str(archive))
        again, third = (
            subprocess.run(
                command, capture_output=True, text=True, cwd=ROOT, timeout=900, check=False
            )
            for _ in range(2)
        )
        ids = {m.message_id for m in outgoing}
        problems = exactly_once_problems(db, ids, ids)
    for name, result in (("second import", again), ("third import", third)):
        if result.returncode != 0:
            problems.append(f"{name} exited {result.returncode}: {result.stderr[-300:]}")
    if "new 0," not in third.stdout:
        problems.append(f"a third import still found new mail: {third.stdout.strip()}")
    detail = (
        f"killed with {stored_before:,} of {messages:,} stored;"
        f" import again: {again.stdout.strip()}"
    )
    return CrashResult("kill -9 quorum import, import again", detail, problems)


def write_mbox(path: Path, messages: list[Outgoing]) -> None:
    with path.open("wb") as out:
        for message in messages:
            raw = message.raw.replace(b"\r\n", b"\n")
            out.write(b"From bench@example.org Mon Nov  2 09:14:00 2026\n")
            out.write(re.sub(rb"(?m)^(>*From )", rb">\1", raw))
            out.write(b"\n" if raw.endswith(b"\n") else b"\n\n")


def _import_and_kill(config: Path, db: Path, archive: Path, at: int) -> int:
    process = subprocess.Popen(
        quorum_command(config, db, "import", str(archive)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        start_new_session=True,
        text=True,
    )
    try:
        while process.poll() is None:
            with contextlib.suppress(Exception):
                if sum(stored_counts(db)[0].values()) >= at:
                    break
            time.sleep(0.02)
    finally:
        kill_group(process)
    return sum(stored_counts(db)[0].values())


# -- 3. reminders --------------------------------------------------------------------------


class Fakes:
    """The loopback SMTP server and the fake Slack, on an event loop of their own."""

    def __init__(self, **slack_options: Any) -> None:
        self.sink = SmtpSink()
        self.slack = FakeSlack(tokens=(SLACK_TOKEN,), channels=SLACK_CHANNELS, **slack_options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Fakes:
        self._thread.start()
        self.call(self.sink.start())
        self.call(self.slack.start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.call(self.slack.stop())
        self.call(self.sink.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=60)

    @property
    def received(self) -> int:
        return len(self.sink.messages) + len(self.slack.messages)


def set_key(text: str, section: str, key: str, value: str) -> str:
    """``key = value`` in ``[section]`` of a TOML text, replacing the line that is there."""
    lines = text.splitlines()
    start = lines.index(f"[{section}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    for i in range(start + 1, end):
        if re.match(rf"{re.escape(key)}\s*=", lines[i]):
            lines[i] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


def live_config(folder: Path, sink: tuple[str, int], slack_url: str, archives: list[Path]) -> Path:
    """The example config with every channel live against the fakes."""
    text = (ROOT / "config" / "example.toml").read_text()
    settings = [
        ("smtp", "port", "0"),
        ("web", "enabled", "false"),
        ("import", "on_start", json.dumps([str(path) for path in archives])),
        ("dispatch", "dry_run", "false"),
        ("dispatch", "max_per_run", "100000"),
        ("mail_out", "enabled", "true"),
        ("mail_out", "host", json.dumps(sink[0])),
        ("mail_out", "port", str(sink[1])),
        ("mail_out", "starttls", "false"),
        ("slack", "enabled", "true"),
        ("slack", "base_url", json.dumps(slack_url)),
    ]
    for section, key, value in settings:
        text = set_key(text, section, key, value)
    config = folder / "quorum.toml"
    config.write_text(text)
    return config


def overdue_questions(count: int, asked: datetime) -> list[Outgoing]:
    """Questions about the indexer (S1: a reminder after 5 days) that nobody answered."""
    out = []
    for i in range(count):
        message_id = f"<question-{i}@bench.example>"
        raw = (
            f"From: Asker {i} <asker{i}@example.com>\nTo: dev@lists.example.org\n"
            f"Subject: Question {i} about the indexer\nMessage-ID: {message_id}\n"
            f"Date: {format_datetime(asked + timedelta(minutes=i))}\n\n"
            f"Hello, does the indexer keep setting number {i} after a reindex?\n\nAsker {i}\n"
        ).encode()
        out.append(Outgoing(message_id, raw))
    return out


def reminder_crash(questions: int, kill_after: tuple[int, ...]) -> CrashResult:
    """Kill `quorum run` after the fakes have received these many messages in all."""
    asked = datetime.now(UTC) - timedelta(days=6)  # past the S1 reminder, short of escalation
    with tempfile.TemporaryDirectory(prefix="quorum-crash-remind-") as folder, Fakes() as fakes:
        archive, db = Path(folder) / "questions.mbox", Path(folder) / "quorum.db"
        write_mbox(archive, overdue_questions(questions, asked))
        sample = ROOT / "config" / "sample-archive.mbox"
        sink = (fakes.sink.host, fakes.sink.port)
        config = live_config(Path(folder), sink, fakes.slack.base_url, [sample, archive])
        env = {"QUORUM_SLACK_TOKEN": SLACK_TOKEN}
        received_at_kill = []
        for threshold in (*kill_after, None):
            with start_quorum(config, db, env=env) as quorum:
                if threshold is None:
                    _wait_for(lambda: _outbox_settled(db), timeout=600)
                    quorum.stop()
                else:
                    _wait_for(lambda t=threshold: fakes.received >= t, timeout=600)
                    quorum.kill()
                    received_at_kill.append(fakes.received)
        statuses = _outbox_statuses(db)
        problems = _reminder_problems(fakes, statuses)
        mail, slack = len(fakes.sink.messages), len(fakes.slack.messages)
    detail = (
        f"{sum(statuses.values())} actions ({dict(statuses)}); killed with {received_at_kill}"
        f" received; received {mail} mails and {slack} Slack messages, none twice"
        if not problems
        else f"{sum(statuses.values())} actions ({dict(statuses)})"
    )
    return CrashResult("kill -9 quorum run while it sends reminders", detail, problems)


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if condition():
                return
        time.sleep(0.005)
    raise TimeoutError(f"waited {timeout:.0f} s for {condition}")


def _outbox_statuses(db: Path) -> Counter[str]:
    with contextlib.closing(read_only(db)) as conn:
        rows = conn.execute("SELECT status, count(*) FROM actions GROUP BY status").fetchall()
    return Counter({status: count for status, count in rows})


def _outbox_settled(db: Path) -> bool:
    statuses = _outbox_statuses(db)
    return bool(statuses) and not statuses.keys() & {"pending", "capped", "sending"}


def _reminder_problems(fakes: Fakes, statuses: Counter[str]) -> list[str]:
    problems = []
    mail_ids = Counter(email.message_from_bytes(m.raw)["Message-ID"] for m in fakes.sink.messages)
    slack_texts = Counter((m.channel, m.text) for m in fakes.slack.messages)
    twice = [k for k, n in mail_ids.items() if n > 1] + [k for k, n in slack_texts.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} reminder(s) arrived twice, e.g. {twice[0]}")
    received = len(mail_ids) + len(slack_texts)
    sent, uncertain = statuses["sent"], statuses["uncertain"]
    # Each uncertain action may or may not have arrived: that is its meaning.
    if not sent <= received <= sent + uncertain:
        problems.append(f"{received} received, but {sent} sent and {uncertain} uncertain")
    unsettled = {k: n for k, n in statuses.items() if k not in ("sent", "uncertain")}
    if unsettled:
        problems.append(f"actions neither sent nor uncertain: {unsettled}")
    return problems


# -- the table ---------------------------------------------------------------------------


def scenarios(quick: bool) -> list[Callable[[], CrashResult]]:
    questions = 40 if quick else 150
    return [
        lambda: smtp_crash(2_000 if quick else 6_000, 50, kill_at=(0.25, 0.5, 0.75)),
        lambda: import_crash(3_000 if quick else 10_000, kill_at=0.4),
        # Two messages (mail and Slack) per question: kill at a fifth and at three fifths.
        lambda: reminder_crash(questions, kill_after=(questions * 2 // 5, questions * 6 // 5)),
    ]


def rows(quick: bool) -> list[Row]:
    return [_row(scenario()) for scenario in scenarios(quick)]


def _row(result: CrashResult) -> Row:
    verdict = "ok" if not result.problems else "FAILED: " + "; ".join(result.problems)
    return (result.scenario, result.detail, verdict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    failed = False
    for scenario in scenarios(args.quick):
        result = scenario()
        print(f"{result.scenario}: {result.detail}", flush=True)
        for problem in result.problems:
            failed = True
            print(f"  PROBLEM: {problem}", flush=True)
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
