"""Operating Quorum: a backup of a grown store while mail arrives, its restore, and /metrics.

- The store: the Maven archives repeated (``bench.ingest.build_archive``) and imported.
- ``quorum backup`` of it while `quorum run` is idle, then again while 20 clients
  deliver at a steady rate: how long the backup takes, and the SMTP time to 250 of
  the deliveries made while it ran against those made before it started.
- What the backup holds: every message answered 250 before it began, none twice,
  nothing that was never accepted (posts and the unprocessed inbox together).
- ``quorum restore`` of that backup into a new path.
- A Prometheus scrape of /metrics on that store.

Run: .venv/bin/python -m bench.ops [--messages N] [--load N]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.ingest import build_archive
from bench.smtp_load import (
    LIST,
    ROOT,
    Delivery,
    deliver_all,
    outgoing_messages,
    percentile,
    start_quorum,
)

Row = tuple[str, str, str]
RATE = 200.0  # messages a second, half the smtp_load benchmark's paced rate
CLIENTS = 20
SCRAPES = 50
_MESSAGE_ID = re.compile(rb"(?im)^message-id:\s*(<[^>\r\n]*>)")


@dataclass(frozen=True, slots=True)
class OpsResult:
    stored: int
    db_mb: float
    idle_backup_s: float
    loaded_backup_s: float
    restore_s: float
    before_p50_ms: float
    before_p99_ms: float
    during_p50_ms: float
    during_p99_ms: float
    during_count: int
    in_backup: int
    problems: tuple[str, ...]
    scrape_ms: float


def _quorum(*args: str) -> float:
    """Run the `quorum` command; returns its wall time, raises with its stderr on failure."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise SystemExit(f"quorum {' '.join(args)} failed: {result.stderr}")
    return time.perf_counter() - started


def _write_config(folder: Path) -> Path:
    config = folder / "quorum.toml"
    config.write_text(
        f'[smtp]\nport = 0\naccept = ["{LIST}"]\n'
        "max_messages_per_sender_per_minute = 0\nmax_messages_per_peer_per_minute = 0\n"
        "[web]\nport = 0\nmetrics = true\n"
    )
    return config


def _dashboard(output: list[str]) -> str:
    """The dashboard's URL, once the start-up jobs (a features tick over the whole
    store) are over: the load measures the backup, not the start."""
    deadline = time.monotonic() + 300
    base = ""
    while time.monotonic() < deadline:
        for line in list(output):
            found = re.search(r"dashboard on (http://\S+/)", line)
            if found:
                base = found.group(1)
        if base and _started_jobs(base) >= {"features", "dispatch"}:
            return base
        time.sleep(0.2)
    raise SystemExit("the bot did not settle:\n" + "".join(output))


def _started_jobs(base: str) -> set[str]:
    with urllib.request.urlopen(base + "metrics", timeout=30) as response:
        text = response.read().decode()
    return set(re.findall(r'quorum_job_last_success_timestamp_seconds\{job="(\w+)"\}', text))


def _scrape_ms(base: str) -> float:
    times = []
    for _ in range(SCRAPES):
        started = time.perf_counter()
        with urllib.request.urlopen(base + "metrics", timeout=30) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _backup_contents(db: Path) -> list[str]:
    """Message-IDs the backup holds: stored posts and deliveries not processed yet."""
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        ids = [row[0] or "" for row in conn.execute("SELECT message_id FROM posts")]
        for (raw,) in conn.execute("SELECT raw FROM inbox"):
            found = _MESSAGE_ID.search(raw)
            ids.append(found.group(1).decode() if found else "")
    return ids


def _load_with_backup(
    port: int, db: Path, copy: Path, count: int
) -> tuple[list[Delivery], tuple[float, float]]:
    """Deliver ``count`` messages at RATE; a third of the way in, back up in a thread."""
    window: list[float] = []
    started = threading.Event()

    def backup() -> None:
        window.append(time.perf_counter())
        _quorum("--db", str(db), "backup", str(copy))
        window.append(time.perf_counter())

    def on_accepted(accepted: int) -> None:
        if accepted >= count // 3 and not started.is_set():
            started.set()
            threading.Thread(target=backup, daemon=True).start()

    messages = outgoing_messages(count, tag="ops")
    results = asyncio.run(deliver_all(port, messages, CLIENTS, rate=RATE, on_accepted=on_accepted))
    deadline = time.monotonic() + 300
    while len(window) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return results, (window[0], window[1])


def _ms(values: list[float], fraction: float) -> float:
    return percentile(values, fraction) * 1000 if values else float("nan")


def run(messages: int, load: int) -> OpsResult:
    from bot.ingest import import_paths
    from bot.store import Store

    with tempfile.TemporaryDirectory(prefix="quorum-ops-") as name:
        folder = Path(name)
        archive, db = folder / "archive.mbox", folder / "quorum.db"
        build_archive(archive, messages)
        store = Store.open(db)
        stored = import_paths(store, [archive]).counts.new
        store.close()
        db_mb = db.stat().st_size / 1e6
        idle = _quorum("--db", str(db), "backup", str(folder / "idle.db"))

        copy = folder / "loaded.db"
        with start_quorum(_write_config(folder), db) as quorum:
            try:
                base = _dashboard(quorum.output)
                results, (begin, end) = _load_with_backup(quorum.port, db, copy, load)
                scrape = _scrape_ms(base)
            finally:
                quorum.stop()
        accepted_before = {r.message_id for r in results if r.code == 250 and r.answered < begin}
        accepted = {r.message_id for r in results if r.code == 250}
        before = [r.answered - r.started for r in results if r.answered < begin]
        during = [
            r.answered - r.started for r in results if r.started >= begin and r.answered <= end
        ]
        held = [i for i in _backup_contents(copy) if i.startswith("<ops-")]
        problems = []
        if len(held) != len(set(held)):
            problems.append(f"{len(held) - len(set(held))} message(s) twice in the backup")
        if missing := accepted_before - set(held):
            problems.append(f"{len(missing)} message(s) acknowledged before the backup missing")
        if invented := set(held) - accepted:
            problems.append(f"{len(invented)} message(s) in the backup never acknowledged")
        restore = _quorum("--db", str(folder / "restored.db"), "restore", str(copy))
    return OpsResult(
        stored=stored,
        db_mb=db_mb,
        idle_backup_s=idle,
        loaded_backup_s=end - begin,
        restore_s=restore,
        before_p50_ms=_ms(before, 0.5),
        before_p99_ms=_ms(before, 0.99),
        during_p50_ms=_ms(during, 0.5),
        during_p99_ms=_ms(during, 0.99),
        during_count=len(during),
        in_backup=len(held),
        problems=tuple(problems),
        scrape_ms=scrape,
    )


def result_rows(result: OpsResult) -> list[Row]:
    size = f"{result.stored:,} msgs, {result.db_mb:,.0f} MB"
    return [
        (f"`quorum backup` of {size}, bot idle", f"{result.idle_backup_s:.2f} s", "informative"),
        (
            f"`quorum backup` during SMTP at {RATE:.0f} msg/s ({CLIENTS} clients)",
            f"{result.loaded_backup_s:.2f} s",
            "informative (command start included)",
        ),
        (
            "SMTP time to 250 p50 / p99: before the backup vs while it ran",
            f"{result.before_p50_ms:.1f} / {result.before_p99_ms:.1f} ms vs "
            f"{result.during_p50_ms:.1f} / {result.during_p99_ms:.1f} ms"
            f" ({result.during_count} deliveries)",
            "p99 <= 20 ms: " + ("met" if result.during_p99_ms <= 20 else "MISSED"),
        ),
        (
            "backup taken under load: acknowledged messages",
            f"{result.in_backup} of the load's messages held",
            "ok" if not result.problems else "FAILED: " + "; ".join(result.problems),
        ),
        (f"`quorum restore` of that backup ({size})", f"{result.restore_s:.2f} s", "informative"),
        (f"GET /metrics on {size}", f"median {result.scrape_ms:.1f} ms", "informative"),
    ]


def rows(quick: bool) -> list[Row]:
    return result_rows(run(3_000 if quick else 10_000, 1_500 if quick else 4_000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages in the store")
    parser.add_argument("--load", type=int, default=4_000, help="messages delivered meanwhile")
    args = parser.parse_args()
    for metric, measured, verdict in result_rows(run(args.messages, args.load)):
        print(f"| {metric} | {measured} | {verdict} |")


if __name__ == "__main__":
    main()
