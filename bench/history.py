"""Growth: what a store of 10,000, 100,000 and 1,000,000 messages costs (issue 13).

Run: .venv/bin/python -m bench.history [--quick] [--sizes 10000 100000 ...] [--cap S]

Each store is the real Maven archives repeated, each copy with its own Message-IDs,
subjects and GitHub repositories so that no thread joins two copies
(``bench.ingest.build_archive``), imported by ``quorum import`` a part of 100,000
messages at a time. The 1,000,000-message store is built once and kept under
``$XDG_CACHE_HOME/quorum-bench`` (else ``~/.cache/quorum-bench``), keyed by the store
format (every migration a fresh store records), and copied for each run; after a new
migration the next run migrates the cached store forward, as `quorum run` would, and
keeps it when it then records the same migrations as a fresh store (else it builds it
again: 11 minutes on 2 cores, 4.9 GB).

Measured for each, through the command line and HTTP only, as a user would:

- ``quorum import``: time and database size (bytes per message, against the archive);
- ``quorum run`` with the README's example config: a paced SMTP load (50 clients,
  400 messages a second) from start-up through two features ticks (the one at
  start and the next, which the bench schedules QUORUM_BENCH_FEATURES_EVERY_SECONDS
  after it): time to ``250``, p99 and maximum; each tick's time from ``/metrics``;
- ``GET /``, ``/rfcs`` and ``/modules`` right after that mail, then warm;
- the peak RSS of ``quorum run`` (VmHWM), and how long SIGTERM takes;
- ``quorum digest``, ``quorum summary`` of one discussion, ``quorum votes`` of one vote.

Every wait is capped (``--cap``, default 60 s): a measurement that runs past it is
reported as "> cap" and MISSED, so a slow store cannot stall `make bench`.
The ratio of the largest store to the smallest is judged against the issue's targets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench.ingest import build_archive, copy_template, fill, messages_per_copy
from bench.smtp_load import (
    LIST,
    ROOT,
    LeanClient,
    SmtpRefused,
    corpus_messages,
    kill_group,
    load_apart,
    on_the_wire,
    percentile,
    quorum_command,
    start_quorum,
    with_message_id,
)

Row = tuple[str, str, str]
SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = SIZES[:2]
# Stores this large are built once and kept in the cache; smaller ones are built each run.
CACHED_FROM = 1_000_000
# A store is imported by `quorum import` a part of this many messages at a time.
PART_MESSAGES = 100_000
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "quorum-bench"
# Bumped when the archives or the way they are imported change (the cached store too).
# 2: each copy a list of its own (copy numbers in subjects and GitHub owners).
BUILD_VERSION = 2

CLIENTS = 50
# The views' first build reads the whole history once: its own, longer wait (seconds).
FIRST_BUILD_CAP = 1_800.0
RATE = 400.0  # messages a second
TICK_EVERY_S = 10.0  # between the start-up tick and the next (QUORUM_BENCH_...)
# The load's passes over the archive are copies numbered from here, after any store's.
LOAD_FIRST_COPY = 1_000_000
DEFAULT_CAP_S = 60.0
# What any process of the benchmark may map (RLIMIT_AS): `quorum run` reached 1.5 GB
# of RSS on the 100,000-message store, and the machine has others to serve.
MEMORY_LIMIT_BYTES = 8 << 30
WARM_REPEATS = 3
PAGES = ("/", "/rfcs", "/modules")
# The targets.
TARGET_P99_MS, TARGET_MAX_MS = 20.0, 100.0
# A writer job held longer than this is one a delivery may have waited behind (a bucket
# bound of quorum_writer_job_duration_seconds).
LONG_JOB_S = 0.01
FLAT = 1.5  # largest / smallest, at most
PAGE_TARGET_MS = 100.0
RSS_FLAT = 1.25
DB_PER_ARCHIVE = 1.0
IMPORT_RATE = 4_000  # messages a second, first import of the 100,000-message archive
# One discussion and one vote of the Maven archives, by their root's Message-ID; each
# copy has its own (".cN" before the "@"), and the bench reads those of the last copy.
DISCUSSION = "<CA+nPnMwEH9Z2myp71uaSrdcyLJRFrE-Vrt20191rd01h+Ufhjw@mail.gmail.com>"
VOTE = "<CAPLpRQL6=3qkzAe=FgRreheGxfkiydUqBdr-yDCVoGeZTzrqbA@mail.gmail.com>"


# -- the stores ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Built:
    """A store of ``messages`` imported from ``archive_bytes`` of mbox in ``seconds``."""

    db: Path
    messages: int
    archive_bytes: int
    seconds: float
    db_bytes: int  # as imported, before a run adds to it
    cached: str = ""  # when it was built, for a store taken from the cache


def _size_on_disk(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def store_format() -> str:
    """A key for what a store holds: every migration a fresh store records."""
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "format.db"
        _quorum(db, "import", str(ROOT / "config" / "sample-archive.mbox"), cap=120)
        return _format_of(db)


def _format_of(db: Path) -> str:
    with contextlib.closing(_read_only(db)) as conn:
        names = sorted(
            f"{row[0]}/{row[1]}"
            for row in conn.execute("SELECT migration_set, name FROM _sqlite_migrations")
        )
    text = json.dumps({"migrations": names, "build": BUILD_VERSION})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def migrated_store(size: int, folder: Path, announce: Callable[[str], None]) -> bool:
    """Take a cached store of an older format into ``folder`` by migrating it forward,
    as `quorum run` migrates a user's store; True when that gave this format.

    A migration is append-only and brings a store to what a fresh one holds (that is
    its contract, and a user's store relies on it), so the 10-minute import is not
    repeated for a new index or table. The store is kept only when it then records
    exactly the migrations a fresh store records; a new BUILD_VERSION never matches.
    """
    for older in sorted(CACHE.glob("history-*")):
        db, about = older / f"{size}.db", older / f"{size}.json"
        if older == folder or not (db.exists() and about.exists()):
            continue
        announce(f"migrating the cached {size:,}-message store of {older.name} forward")
        opened = subprocess.run(
            [sys.executable, "-c", _OPEN_STORE, str(db)], cwd=ROOT, timeout=3600, check=False
        )
        if opened.returncode == 0 and _format_of(db) == folder.name.removeprefix("history-"):
            facts = json.loads(about.read_text())
            facts["built"] += f", migrated from {older.name}"
            folder.mkdir(parents=True, exist_ok=True)
            db.replace(folder / db.name)
            (folder / about.name).write_text(json.dumps(facts))
            shutil.rmtree(older, ignore_errors=True)
            return True
    return False


# Opening a store for writing applies every migration it lacks.
_OPEN_STORE = "import sys; from bot.store import Store; Store.open(sys.argv[1]).close()"


def build_store(folder: Path, size: int) -> Built:
    """Import about ``size`` messages into ``folder``/store.db, a part at a time."""
    db = folder / "store.db"
    per_copy = messages_per_copy()
    copies = max(1, round(size / per_copy))
    per_part = max(1, PART_MESSAGES // per_copy)
    messages = archive_bytes = 0
    seconds = 0.0
    for first in range(0, copies, per_part):
        part = folder / f"part-{first}.mbox"
        wanted = min(per_part, copies - first) * per_copy
        messages += build_archive(part, wanted, first_copy=first)
        archive_bytes += part.stat().st_size
        started = time.perf_counter()
        _quorum(db, "import", str(part), cap=3600)
        seconds += time.perf_counter() - started
        part.unlink()
    return Built(db, messages, archive_bytes, seconds, _size_on_disk(db))


def cached_store(size: int, work: Path, announce: Callable[[str], None]) -> Built:
    """The cached store of ``size`` messages, built first if the cache has none of this
    format, copied into ``work`` (runs change their store)."""
    folder = CACHE / f"history-{store_format()}"
    db, about = folder / f"{size}.db", folder / f"{size}.json"
    if not (db.exists() and about.exists()) and not migrated_store(size, folder, announce):
        for stale in CACHE.glob("history-*"):
            if stale != folder:
                shutil.rmtree(stale, ignore_errors=True)  # another store format's
        folder.mkdir(parents=True, exist_ok=True)
        announce(f"building the {size:,}-message store once, into {folder}")
        with tempfile.TemporaryDirectory(dir=folder) as building:
            built = build_store(Path(building), size)
            facts = {
                "messages": built.messages,
                "archive_bytes": built.archive_bytes,
                "seconds": built.seconds,
                "db_bytes": built.db_bytes,
                "built": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            }
            built.db.replace(db)
        about.write_text(json.dumps(facts))
    facts = json.loads(about.read_text())
    copy = work / "store.db"
    shutil.copyfile(db, copy)
    return Built(
        copy,
        facts["messages"],
        facts["archive_bytes"],
        facts["seconds"],
        facts["db_bytes"],
        facts["built"],
    )


# -- quorum run under load ---------------------------------------------------------------


@dataclass
class RunResult:
    to_250_ms: list[float] = field(default_factory=list)  # an unanswered delivery: the cap
    unanswered: int = 0
    ticks_s: list[float] = field(default_factory=list)
    tick_running_s: float | None = None  # a tick still running when the load ended
    pages_first_ms: dict[str, float | None] = field(default_factory=dict)
    pages_warm_ms: dict[str, float | None] = field(default_factory=dict)
    rss_kib: int = 0
    stop_s: float | None = None
    problems: list[str] = field(default_factory=list)
    # Writer jobs that held the writer longer than LONG_JOB_S, by what they did (from
    # /metrics, the run's whole life): what a delivery's 250 waited behind.
    long_jobs: dict[str, int] = field(default_factory=dict)


def write_config(folder: Path) -> Path:
    """The README's example config, with ephemeral ports, /metrics on, no start-up import
    and no flood limit (the clients all come from 127.0.0.1)."""
    changes = {
        "smtp": {
            "port": "0",
            "accept": f'["{LIST}"]',
            "max_messages_per_sender_per_minute": "0",
            "max_messages_per_peer_per_minute": "0",
        },
        "web": {"port": "0", "metrics": "true"},
        "import": {"on_start": "[]"},
    }
    section = ""
    lines = []
    for line in (ROOT / "config" / "example.toml").read_text().splitlines():
        header = re.match(r"^\[([\w.]+)\]\s*$", line)
        if header:
            section = header.group(1)
        key = re.match(r"^(\w+)\s*=", line)
        if key and key.group(1) in changes.get(section, {}):
            line = f"{key.group(1)} = {changes[section][key.group(1)]}"
        lines.append(line)
    config = folder / "quorum.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


class TickWatch:
    """Reads each finished features tick's time off /metrics (sum and count)."""

    def __init__(self, base: str) -> None:
        self._base = base
        self.ticks: list[float] = []
        self._count, self._sum = 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TickWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            with contextlib.suppress(OSError, ValueError):
                self._read()

    def _read(self) -> None:
        text = _get(self._base + "metrics", timeout=5)[1].decode()
        count = _metric(text, 'quorum_job_duration_seconds_count{job="features"}')
        total = _metric(text, 'quorum_job_duration_seconds_sum{job="features"}')
        if count > self._count:
            # Two ticks between polls (not at 0.2 s apart) would share their time.
            share = (total - self._sum) / (count - self._count)
            self.ticks += [share] * int(count - self._count)
            self._count, self._sum = int(count), total


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def paced_load(
    port: int, done: Callable[[], bool], cap: float, answer_cap: float
) -> tuple[list[float], int]:
    """Deliver at RATE over CLIENTS connections until ``done()`` or ``cap`` seconds.

    Each time is from when the message was due to its 250; a message not answered
    within ``answer_cap`` counts as that long, and its connection is opened again.
    """
    # Each pass over the archive is a copy of its own, as in the stores: passes that
    # joined by subject would grow threads of every pass's posts while the load runs.
    sources = [copy_template(message) for message in corpus_messages()]
    began = time.perf_counter()
    next_index = 0
    times: list[float] = []
    unanswered = 0

    async def client(number: int) -> None:
        nonlocal next_index, unanswered
        smtp: LeanClient | None = None
        try:
            while not done() and time.perf_counter() - began < cap:
                index, next_index = next_index, next_index + 1
                due = began + index / RATE
                await asyncio.sleep(due - time.perf_counter())
                message_id = f"<history-{index}@bench.quorum.invalid>"
                copy = LOAD_FIRST_COPY + index // len(sources)
                mail = dated_now(fill(sources[index % len(sources)], copy))
                data = on_the_wire(with_message_id(mail, message_id))
                try:
                    if smtp is None:
                        smtp = await asyncio.wait_for(LeanClient.connect(port), answer_cap)
                    await asyncio.wait_for(
                        smtp.send(f"client{number}@bench.example", LIST, data), answer_cap
                    )
                except (TimeoutError, OSError, asyncio.IncompleteReadError, SmtpRefused):
                    unanswered += 1
                    times.append(answer_cap * 1000)
                    if smtp is not None:
                        await smtp.close()
                    smtp = None
                    continue
                times.append((time.perf_counter() - due) * 1000)
        finally:
            if smtp is not None:
                await smtp.close()

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return times, unanswered


_DATE = re.compile(rb"(?im)^date:[^\n]*\n(?:[ \t][^\n]*\n)*")


def dated_now(mail: bytes) -> bytes:
    """The mail as if written now. Live mail is new: only mail of the responsiveness
    window opens obligations and reaches modules, so the archives' 2017 dates left the
    modules' part of every tick out of what the bench measured."""
    head, blank, body = mail.partition(b"\n\n")
    stamp = format_datetime(datetime.now(UTC)).encode()
    return b"Date: " + stamp + b"\n" + _DATE.sub(b"", head + b"\n").rstrip(b"\n") + blank + body


def measure_run(built: Built, folder: Path, cap: float, *, apart: bool = False) -> RunResult:
    """`quorum run` on the store: load through two ticks, pages, memory, stop.
    ``apart``: the load on a CPU of its own, the server on the others (load_apart)."""
    config = write_config(folder)
    env = {"QUORUM_BENCH_FEATURES_EVERY_SECONDS": str(TICK_EVERY_S)}
    result = RunResult()
    with load_apart(apart) as cpus, start_quorum(config, built.db, env=env, cpus=cpus) as quorum:
        try:
            base = _dashboard(quorum.output, cap)
            with TickWatch(base) as watch:
                times, unanswered = asyncio.run(
                    paced_load(quorum.port, lambda: len(watch.ticks) >= 2, cap, cap)
                )
                result.ticks_s = list(watch.ticks)
            result.to_250_ms, result.unanswered = times, unanswered
            if len(result.ticks_s) < 2:
                result.tick_running_s = cap  # the load's cap passed first
            _wait_processed(base, cap)
            result.long_jobs = long_writer_jobs(_get(base + "metrics", timeout=cap)[1].decode())
            for page in PAGES:
                result.pages_first_ms[page], result.pages_warm_ms[page] = _page_times(
                    base + page.lstrip("/"), cap, result.problems
                )
            result.rss_kib = _peak_rss_kib(quorum.process.pid)
            if quorum.process.poll() is not None:
                result.problems.append(f"quorum run exited: {''.join(quorum.output[-3:])}")
            started = time.perf_counter()
            quorum.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                quorum.process.wait(timeout=cap)
                result.stop_s = time.perf_counter() - started
        finally:
            if quorum.process.poll() is None:
                kill_group(quorum.process)
    return result


def _dashboard(output: list[str], cap: float) -> str:
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        for line in list(output):
            found = re.search(r"dashboard on (http://\S+/)", line)
            if found:
                return found.group(1)
        time.sleep(0.05)
    raise SystemExit("quorum run printed no dashboard address:\n" + "".join(output))


def _wait_processed(base: str, cap: float) -> None:
    """Until the inbox is empty (every accepted message processed), at most ``cap``."""
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            text = _get(base + "metrics", timeout=cap)[1].decode()
            if _metric(text, "quorum_inbox_backlog_messages") == 0:
                return
        time.sleep(0.2)


def long_writer_jobs(text: str, over: float = LONG_JOB_S) -> dict[str, int]:
    """From a /metrics scrape: per writer job kind, how many runs took longer than
    ``over`` seconds (``over`` must be one of the histogram's bucket bounds)."""
    counts: dict[str, float] = {}
    under: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "quorum_writer_job_duration_seconds":
            continue
        for sample in family.samples:
            job = sample.labels["job"]
            if sample.name.endswith("_count"):
                counts[job] = sample.value
            elif sample.name.endswith("_bucket") and sample.labels["le"] == str(over):
                under[job] = sample.value
    longer = {job: int(total - under.get(job, 0.0)) for job, total in counts.items()}
    return dict(sorted(((job, n) for job, n in longer.items() if n), key=lambda kv: -kv[1]))


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


def _timed_get(url: str, cap: float, problems: list[str]) -> float | None:
    """Milliseconds to a whole 200 answer; None past ``cap`` or for an error (noted)."""
    started = time.perf_counter()
    try:
        _get(url, timeout=cap)
    except urllib.error.HTTPError as error:
        problems.append(f"GET {url}: HTTP {error.code}")
        return None
    except (TimeoutError, urllib.error.URLError, OSError) as error:
        if not isinstance(error, TimeoutError) and "timed out" not in str(error):
            problems.append(f"GET {url}: {error}")
        return None
    return (time.perf_counter() - started) * 1000


def _page_times(url: str, cap: float, problems: list[str]) -> tuple[float | None, float | None]:
    """The first request's time and the median of WARM_REPEATS more (not tried when the
    first ran past ``cap``: they would wait for the same work)."""
    first = _timed_get(url, cap, problems)
    if first is None:
        return None, None
    warm = [_timed_get(url, cap, problems) for _ in range(WARM_REPEATS)]
    done = [ms for ms in warm if ms is not None]
    return first, statistics.median(done) if len(done) == len(warm) else None


def _peak_rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0  # it is gone
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else 0


# -- the reading commands -------------------------------------------------------------------


def _quorum(
    db: Path,
    *args: str,
    config: Path | None = None,
    cap: float,
    problems: list[str] | None = None,
) -> float | None:
    """Seconds `quorum ARGS` took; None past ``cap``. A failure is noted in ``problems``
    (and None), or without them stops the benchmark."""
    command = quorum_command(config, db, *args) if config else _bare(db, *args)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=cap, check=False
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        if problems is None:
            raise SystemExit(f"quorum {' '.join(args)} failed: {done.stderr[-2000:]}")
        last = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        problems.append(f"quorum {args[0]} exited {done.returncode}: {last[:200]}")
        return None
    return time.perf_counter() - started


def _bare(db: Path, *args: str) -> list[str]:
    """`quorum --db DB ARGS` on the built-in defaults (no config file)."""
    return [sys.executable, "-m", "bot", "--db", str(db), *args]


def measure_commands(
    built: Built, folder: Path, cap: float, problems: list[str]
) -> dict[str, float | None]:
    config = write_config(folder)
    last = max(0, round(built.messages / messages_per_copy()) - 1)
    discussion, vote = (_in_copy(mid, last) for mid in (DISCUSSION, VOTE))
    run = {"config": config, "cap": cap, "problems": problems}
    return {
        # A fresh import has no views yet: the first reading command (or `quorum run`'s
        # first tick) computes every one, once. Measured apart, so the commands after it
        # show what they cost on a store a running bot keeps current.
        "first_build": _quorum(
            built.db, "votes", "--limit", "1", config=config, cap=FIRST_BUILD_CAP, problems=problems
        ),
        "digest": _quorum(built.db, "digest", **run),  # type: ignore[arg-type]
        "summary": _quorum(built.db, "summary", discussion, **run),  # type: ignore[arg-type]
        "votes": _quorum(built.db, "votes", vote, **run),  # type: ignore[arg-type]
    }


def _in_copy(message_id: str, copy: int) -> str:
    local, _, domain = message_id.strip("<>").rpartition("@")
    return f"<{local}.c{copy}@{domain}>"


def _read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)


# -- the table -----------------------------------------------------------------------------


@dataclass
class SizeResult:
    built: Built
    run: RunResult
    commands: dict[str, float | None]


@contextlib.contextmanager
def memory_limit(limit: int) -> Iterator[None]:
    """Every process started inside may map at most ``limit`` bytes (RLIMIT_AS, inherited):
    a command that reads the whole history of a large store fails with MemoryError
    instead of taking the machine's memory from everything else on it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def measure(
    sizes: tuple[int, ...], cap: float, announce: Callable[[str], None], *, apart: bool = False
) -> list[SizeResult]:
    with memory_limit(MEMORY_LIMIT_BYTES):
        return _measure(sizes, cap, announce, apart)


def _measure(
    sizes: tuple[int, ...], cap: float, announce: Callable[[str], None], apart: bool
) -> list[SizeResult]:
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="quorum-history-") as name:
            folder = Path(name)
            announce(f"{size:,} messages: the store")
            if size >= CACHED_FROM:
                built = cached_store(size, folder, announce)
            else:
                built = build_store(folder, size)
            # The commands first: the run adds the load's mail to the store.
            announce(f"{size:,} messages: reading commands")
            problems: list[str] = []
            commands = measure_commands(built, folder, cap, problems)
            announce(f"{size:,} messages: quorum run under load")
            run = measure_run(built, folder, cap, apart=apart)
            run.problems[:0] = problems
            results.append(SizeResult(built, run, commands))
    return results


def _fmt_ms(value: float | None, cap: float) -> str:
    return f"> {cap:.0f} s" if value is None else f"{value:,.0f} ms"


def _fmt_s(value: float | None, cap: float) -> str:
    return f"> {cap:.0f} s" if value is None else f"{value:,.2f} s"


def _ratio(values: list[float | None]) -> float | None:
    if any(v is None for v in (values[0], values[-1])) or not values[0]:
        return None
    return float(values[-1]) / float(values[0])  # type: ignore[arg-type]


def _flat(values: list[float | None], limit: float, what: str) -> str:
    ratio = _ratio(values)
    if ratio is None:
        return f"{what}: not measured (a cap) MISSED"
    return f"{what} {ratio:.2f}× (≤ {limit:g}×) {'met' if ratio <= limit else 'MISSED'}"


def rows_of(results: list[SizeResult], cap: float) -> list[Row]:
    labels = [f"{r.built.messages:,}" for r in results]
    span = f"{labels[-1]} / {labels[0]}"
    out: list[Row] = []

    def row(metric: str, values: list[str], verdict: str) -> None:
        cells = " · ".join(f"{label}: {value}" for label, value in zip(labels, values, strict=True))
        out.append((metric, cells, verdict))

    rates = [r.built.messages / r.built.seconds for r in results]
    at_100k = [rate for r, rate in zip(results, rates, strict=True) if r.built.messages >= 90_000]
    row(
        "import (quorum import, parts of 100,000)",
        [
            f"{rate:,.0f} msg/s ({r.built.seconds:,.0f} s"
            + (f", built {r.built.cached}, cached" if r.built.cached else "")
            + ")"
            for r, rate in zip(results, rates, strict=True)
        ],
        (
            f"≥ {IMPORT_RATE:,} msg/s at 100,000: {at_100k[0]:,.0f}"
            f" {'met' if at_100k[0] >= IMPORT_RATE else 'MISSED'}"
            if at_100k
            else "informative"
        ),
    )
    sizes = [r.built.db_bytes / r.built.archive_bytes for r in results]
    row(
        "database size (bytes per message; × archive)",
        [
            f"{r.built.db_bytes / 1e6:,.0f} MB ({r.built.db_bytes / r.built.messages:,.0f} B/msg;"
            f" {size:.2f}×)"
            for r, size in zip(results, sizes, strict=True)
        ],
        f"≤ {DB_PER_ARCHIVE:.1f}× archive {'met' if max(sizes) <= DB_PER_ARCHIVE else 'MISSED'}",
    )
    ticks = [_tick(r.run) for r in results]
    row(
        "features tick (start-up, next; /metrics)",
        [
            "running > cap"
            if r.run.tick_running_s
            else " / ".join(f"{t:.2f} s" for t in r.run.ticks_s[:2])
            for r in results
        ],
        _flat(ticks, FLAT, span),
    )
    p99 = [percentile(r.run.to_250_ms, 0.99) for r in results]
    most = [max(r.run.to_250_ms, default=0.0) for r in results]
    row(
        f"SMTP time to 250, {CLIENTS} clients at {RATE:.0f} msg/s through 2 ticks: p99 / max",
        [
            f"{p:,.1f} / {m:,.0f} ms ({len(r.run.to_250_ms):,} msgs"
            + (f", {r.run.unanswered} unanswered in {cap:.0f} s" if r.run.unanswered else "")
            + ")"
            for r, p, m in zip(results, p99, most, strict=True)
        ],
        f"p99 ≤ {TARGET_P99_MS:.0f} ms, max ≤ {TARGET_MAX_MS:.0f} ms at every size:"
        f" {'met' if max(p99) <= TARGET_P99_MS and max(most) <= TARGET_MAX_MS else 'MISSED'}",
    )
    row(
        f"writer jobs over {LONG_JOB_S * 1000:.0f} ms in the run, by job (what a 250 waited for)",
        [", ".join(f"{job} {n}" for job, n in r.run.long_jobs.items()) or "none" for r in results],
        "informative",
    )
    values = [r.commands["first_build"] for r in results]
    row(
        "views: first build after the import (once; informative)",
        [_fmt_s(v, FIRST_BUILD_CAP) for v in values],
        f"once per store and configuration (waited for up to {FIRST_BUILD_CAP:.0f} s)",
    )
    for name, label in (
        ("digest", "quorum digest"),
        ("summary", "quorum summary (one discussion)"),
    ):
        values = [r.commands[name] for r in results]
        row(label, [_fmt_s(v, cap) for v in values], _flat(values, FLAT, span))
    values = [r.commands["votes"] for r in results]
    ratio = _ratio(values)
    row(
        "quorum votes (one vote)",
        [_fmt_s(v, cap) for v in values],
        f"{span} {ratio:.2f}× (informative)" if ratio else "not measured (a cap)",
    )
    for page in PAGES:
        first = [r.run.pages_first_ms[page] for r in results]
        warm = [r.run.pages_warm_ms[page] for r in results]
        largest = first[-1]
        fast = largest is not None and largest <= PAGE_TARGET_MS
        row(
            f"GET {page}: after new mail / warm",
            [f"{_fmt_ms(f, cap)} / {_fmt_ms(w, cap)}" for f, w in zip(first, warm, strict=True)],
            f"{_flat(first, FLAT, span)}; ≤ {PAGE_TARGET_MS:.0f} ms at {labels[-1]}"
            f" {'met' if fast else 'MISSED'}",
        )
    rss = [float(r.run.rss_kib) for r in results]
    row(
        "peak RSS of quorum run",
        [f"{kib / 1024:,.0f} MB" for kib in rss],
        _flat(list(rss), RSS_FLAT, span),
    )
    row(
        "SIGTERM to exit (informative)",
        [_fmt_s(r.run.stop_s, cap) for r in results],
        "informative",
    )
    for result, label in zip(results, labels, strict=True):
        for problem in result.run.problems:
            out.append((f"problem at {label} messages", problem, "MISSED"))
    return out


def _ticks_text(run: RunResult, cap: float) -> str:
    done = " / ".join(f"{seconds:.2f} s" for seconds in run.ticks_s[:2])
    if run.tick_running_s is None:
        return done
    return f"{done or 'none'} done, one still running after {cap:.0f} s of load"


def _tick(run: RunResult) -> float | None:
    return None if run.tick_running_s else max(run.ticks_s[:2], default=None)


def rows(quick: bool) -> list[Row]:
    """For `make bench`: 10,000, 100,000 and 1,000,000 messages (quick: the first two)."""
    cap = DEFAULT_CAP_S
    results = measure(QUICK_SIZES if quick else SIZES, cap, _announce)
    return rows_of(results, cap)


def _announce(text: str) -> None:
    print(f"  bench.history {datetime.now(UTC):%H:%M:%S}: {text}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 messages")
    parser.add_argument("--sizes", type=int, nargs="+", help="store sizes, in messages")
    parser.add_argument("--cap", type=float, default=DEFAULT_CAP_S, help="longest wait, seconds")
    parser.add_argument(
        "--load-apart",
        action="store_true",
        help="run the SMTP load on a CPU of its own and quorum run on the others",
    )
    args = parser.parse_args()
    sizes = tuple(args.sizes or (QUICK_SIZES if args.quick else SIZES))
    table = rows_of(measure(sizes, args.cap, _announce, apart=args.load_apart), args.cap)
    width = max(len(metric) for metric, _, _ in table)
    for metric, value, verdict in table:
        print(f"{metric:<{width}}  {value}  | {verdict}")


if __name__ == "__main__":
    main()
