"""SMTP load: concurrent clients deliver to a real `quorum run` subprocess over loopback.

Run: .venv/bin/python -m bench.smtp_load [--messages 10000] [--clients 50] [--rate R]

Each client keeps one connection and sends its share of the messages one
transaction after another, as an MTA's delivery agent does: as fast as the
server answers (saturation), or with ``--rate`` at that many messages a second
in all (a paced load, timed from when each message was due so a slow answer
cannot hide the ones queued behind it). For every message we record the time
from MAIL FROM to the 250 after the data (what a sender waits for), and the
time until it is processed: a stored post, seen by a read-only poller of the
database. At the end every accepted message must be stored exactly once and
the inbox must be empty.

The messages are the real Maven archives (when ../shared/corpus is present),
each copy with a fresh Message-ID so that every delivery is new mail.

The helpers that start, stop and kill `quorum run` are shared with the other
benchmarks in bench/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "mbox"
MAVEN = ("maven-dev-2017-11.mbox", "maven-dev-2017-12.mbox")
LIST = "dev@lists.example.org"
TARGET_P99_250_MS = 20.0
PACED_RATE = 400.0  # messages a second: a hundred times a busy list's worst minute
# Every copy of a corpus message gets its own Message-ID, replacing the original one.
_MESSAGE_ID = re.compile(rb"(?im)^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*")
_MBOX_SEPARATOR = re.compile(rb"(?:\A|\n\n)From [^\n]*\n")

Row = tuple[str, str, str]


# -- a real `quorum run` --------------------------------------------------------------


@dataclass
class Quorum:
    """A `quorum run` subprocess and where it listens."""

    process: subprocess.Popen[str]
    port: int
    output: list[str] = field(default_factory=list)

    def __enter__(self) -> Quorum:
        return self

    def __exit__(self, *exc: object) -> None:
        # Whatever went wrong in the benchmark, leave no server running behind it.
        if self.process.poll() is None:
            self.kill()

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (user and system), from /proc; 0 elsewhere."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        # utime and stime are fields 14 and 15 of stat(5); the split starts at field 3.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL to its whole process group: no shutdown code runs, as in a power cut."""
        kill_group(self.process)

    def stop(self) -> int:
        """SIGTERM and wait for the clean stop; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.kill()
            raise


def kill_group(process: subprocess.Popen[str]) -> None:
    """kill -9 a process we started in its own session, with any workers it forked."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def write_config(folder: Path) -> Path:
    """A config for the bench: an ephemeral port, no start-up import, no flood limit,
    no dashboard."""
    config = folder / "quorum.toml"
    config.write_text(
        "[smtp]\nport = 0\n"
        f'accept = ["{LIST}"]\n'
        # All clients are 127.0.0.1: the flood limit is tested in tests/test_hostile.py.
        "max_messages_per_sender_per_minute = 0\n"
        "max_messages_per_peer_per_minute = 0\n"
        # No dashboard: nothing here reads it, and its fixed port may be taken.
        "[web]\nenabled = false\n"
    )
    return config


def quorum_command(config: Path, db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "--config", str(config), "--db", str(db), *args]


def start_quorum(
    config: Path,
    db: Path,
    *,
    env: dict[str, str] | None = None,
    cpus: frozenset[int] | None = None,
) -> Quorum:
    """Start `quorum run` and read the SMTP port it prints (the config asks for port 0).
    ``cpus``: the CPUs it (and every process it starts) may run on; all, when None."""
    process = subprocess.Popen(
        quorum_command(config, db, "run"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        start_new_session=True,
        preexec_fn=pinned_to(cpus) if cpus else None,
    )
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        output.append(line)
        match = re.search(r"listening on [\d.]+:(\d+)", line)
        if match:
            quorum = Quorum(process, int(match.group(1)), output)
            _drain_output(quorum)
            return quorum
        if not line and process.poll() is not None:
            break
    kill_group(process)
    raise SystemExit("quorum run did not start:\n" + "".join(output))


def pinned_to(cpus: frozenset[int]) -> Callable[[], None]:
    """What a child runs before it starts: keep itself (and all it starts) to ``cpus``."""
    return lambda: os.sched_setaffinity(0, cpus)


@contextlib.contextmanager
def load_apart(enabled: bool) -> Iterator[frozenset[int] | None]:
    """With ``enabled``, this process (the load) keeps one CPU to itself while it runs and
    yields the others for the server, as senders on other machines would leave the
    server its own. On a host of two cores the load generator otherwise competes with
    the server it measures: p99 to 250 at 400 msg/s read 15 to 21 ms sharing the cores
    and 10 to 12 ms apart (stop 46). Yields None, pinning nothing, where there is only
    one CPU or the platform cannot pin."""
    if not enabled or not hasattr(os, "sched_setaffinity"):
        yield None
        return
    before = os.sched_getaffinity(0)
    cpus = sorted(before)
    if len(cpus) < 2:
        yield None
        return
    os.sched_setaffinity(0, {cpus[-1]})
    try:
        yield frozenset(cpus[:-1])
    finally:
        os.sched_setaffinity(0, before)


def _drain_output(quorum: Quorum) -> None:
    """Keep reading the child's output so a full pipe never blocks it."""

    def pump() -> None:
        assert quorum.process.stdout is not None
        for line in quorum.process.stdout:
            quorum.output.append(line)

    threading.Thread(target=pump, daemon=True).start()


# -- the messages ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outgoing:
    message_id: str
    raw: bytes


def corpus_messages() -> list[bytes]:
    """The Maven archives split into messages; a synthetic set when the corpus is absent."""
    if not all((CORPUS / name).exists() for name in MAVEN):
        return [_synthetic(i) for i in range(500)]
    messages: list[bytes] = []
    for name in MAVEN:
        parts = _MBOX_SEPARATOR.split((CORPUS / name).read_bytes())
        # mboxrd: an MTA delivers the message without the archive's ">From " quoting.
        messages += [re.sub(rb"(?m)^>(>*From )", rb"\1", p) for p in parts if p.strip()]
    return messages


def _synthetic(i: int) -> bytes:
    body = "".join(f"Line {n} of a message about the storage backends.\n" for n in range(40))
    return (
        f"From: Person {i % 37} <p{i % 37}@example.org>\nTo: {LIST}\n"
        f"Subject: [DISCUSS] Topic {i % 50}\nDate: Mon, 02 Nov 2026 09:14:00 +0000\n\n{body}"
    ).encode()


def with_message_id(raw: bytes, message_id: str) -> bytes:
    """The message under a new Message-ID, in CRLF as SMTP carries it."""
    body = _MESSAGE_ID.sub(b"", raw)
    out = f"Message-ID: {message_id}\n".encode() + body
    return out.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def outgoing_messages(count: int, tag: str = "load") -> list[Outgoing]:
    """``count`` messages with unique Message-IDs."""
    sources = corpus_messages()
    out = []
    for i in range(count):
        message_id = f"<{tag}-{i}@bench.quorum.invalid>"
        out.append(Outgoing(message_id, with_message_id(sources[i % len(sources)], message_id)))
    return out


# -- delivering -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one client saw for one message."""

    message_id: str
    started: float
    answered: float
    code: int


class SmtpRefused(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code


class LeanClient:
    """The few SMTP commands an MTA's delivery agent sends, and nothing else.

    A general client (aiosmtplib, smtplib) spends more CPU per message than the
    server we measure, and on two cores that would be measured too. The data is
    dot-stuffed before the clock starts, as an MTA holds it in its queue.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, port: int) -> LeanClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        await client._expect(220)
        await client.command(b"EHLO bench.example\r\n", 250)
        return client

    async def send(self, sender: str, recipient: str, wire_data: bytes) -> None:
        """One transaction; raises SmtpRefused with the server's code when it says no."""
        try:
            await self.command(f"MAIL FROM:<{sender}>\r\n".encode(), 250)
            await self.command(f"RCPT TO:<{recipient}>\r\n".encode(), 250)
            await self.command(b"DATA\r\n", 354)
        except SmtpRefused:
            await self.command(b"RSET\r\n", 250)
            raise
        await self.command(wire_data, 250)

    async def command(self, line: bytes, expected: int) -> None:
        self._writer.write(line)
        await self._expect(expected)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def _expect(self, expected: int) -> None:
        line = await self._reader.readuntil(b"\r\n")
        while line[3:4] == b"-":  # a multi-line reply goes on
            line = await self._reader.readuntil(b"\r\n")
        code = int(line[:3])
        if code != expected:
            raise SmtpRefused(code, line[4:].decode("ascii", "replace").strip())


def on_the_wire(raw: bytes) -> bytes:
    """The data as it crosses the wire: leading dots doubled, ended by a lone dot."""
    body = raw if raw.endswith(b"\r\n") else raw + b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", body) + b".\r\n"


async def deliver_all(
    port: int,
    messages: list[Outgoing],
    clients: int,
    *,
    rate: float | None = None,
    on_accepted: Callable[[int], None] | None = None,
    sender: Callable[[int], str] = lambda client: f"client{client}@bench.example",
) -> list[Delivery]:
    """Deliver over ``clients`` connections, as fast as they go or at ``rate`` messages a
    second in all. ``on_accepted`` hears the running count of 250s (a crash test kills
    the server from it); a message whose connection broke has code 0 (no answer)."""
    queue = [(i, m.message_id, on_the_wire(m.raw)) for i, m in enumerate(messages)]
    queue.reverse()
    results: list[Delivery] = []
    accepted = 0
    began = time.perf_counter()

    async def client(number: int) -> None:
        nonlocal accepted
        try:
            smtp = await LeanClient.connect(port)
        except (OSError, asyncio.IncompleteReadError):
            return
        try:
            while queue:
                index, message_id, data = queue.pop()
                started = time.perf_counter()
                if rate:
                    # Timed from when the message was due, not from when a busy client
                    # got to it: a slow answer delays the next ones, and that counts.
                    due = began + index / rate
                    await asyncio.sleep(due - started)
                    started = due
                try:
                    await smtp.send(sender(number), LIST, data)
                    code = 250
                except SmtpRefused as refused:
                    code = refused.code
                except (OSError, asyncio.IncompleteReadError):
                    # The server went away mid-transaction: no answer, so a sender retries.
                    results.append(Delivery(message_id, started, time.perf_counter(), 0))
                    return
                results.append(Delivery(message_id, started, time.perf_counter(), code))
                if code == 250:
                    accepted += 1
                    if on_accepted is not None:
                        on_accepted(accepted)
        finally:
            await smtp.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return results


# -- watching the database ------------------------------------------------------------


def read_only(db: Path) -> sqlite3.Connection:
    """A connection that cannot write: the benchmark only looks."""
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


class ProcessedWatcher:
    """Polls the database read-only and notes when each Message-ID becomes a stored post,
    and the largest the WAL file grew (a WAL that never starts over grows without end)."""

    def __init__(self, db: Path, interval: float = 0.02) -> None:
        self._db = db
        self._interval = interval
        self.seen: dict[str, float] = {}
        self.wal_peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProcessedWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def wait_for(self, message_ids: set[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if message_ids <= self.seen.keys():
                return True
            time.sleep(self._interval)
        return False

    def _run(self) -> None:
        last_rowid = 0
        while not self._stop.is_set():
            # The database may not exist yet, or be mid-migration: try again.
            with contextlib.suppress(sqlite3.OperationalError):
                last_rowid = self._poll(last_rowid)
            with contextlib.suppress(OSError):
                wal = os.path.getsize(f"{self._db}-wal")
                self.wal_peak_bytes = max(self.wal_peak_bytes, wal)
            self._stop.wait(self._interval)

    def _poll(self, last_rowid: int) -> int:
        with contextlib.closing(read_only(self._db)) as conn:
            rows = conn.execute(
                "SELECT rowid, message_id FROM posts WHERE rowid > ? ORDER BY rowid", [last_rowid]
            ).fetchall()
        now = time.perf_counter()
        for rowid, message_id in rows:
            self.seen.setdefault(message_id, now)
            last_rowid = max(last_rowid, rowid)
        return last_rowid


def stored_counts(db: Path) -> tuple[Counter[str], int]:
    """How often each Message-ID is stored, and how many deliveries wait in the inbox."""
    with contextlib.closing(read_only(db)) as conn:
        ids = Counter(r[0] for r in conn.execute("SELECT message_id FROM posts"))
        pending = int(conn.execute("SELECT count(*) FROM inbox").fetchone()[0])
    return ids, pending


def exactly_once_problems(db: Path, accepted: set[str], offered: set[str]) -> list[str]:
    """Every accepted message stored once, none twice, none we never sent, inbox empty."""
    ids, pending = stored_counts(db)
    problems = []
    missing = accepted - ids.keys()
    if missing:
        problems.append(f"{len(missing)} accepted message(s) not stored, e.g. {min(missing)}")
    twice = sorted(mid for mid, n in ids.items() if n > 1)
    if twice:
        problems.append(f"{len(twice)} message(s) stored more than once, e.g. {twice[0]}")
    strange = ids.keys() - offered
    if strange:
        problems.append(f"{len(strange)} stored message(s) nobody sent, e.g. {min(strange)}")
    if pending:
        problems.append(f"{pending} delivery(ies) still in the inbox")
    return problems


# -- the measurement ------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    messages: int
    clients: int
    rate: float | None
    accepted: int
    refused: Counter[int]
    to_250_ms: tuple[float, float, float]  # p50, p99, max
    processed_ms: tuple[float, float]  # p50, p99
    seconds: float
    problems: list[str]
    # The server's CPU time per accepted message: the figure least moved by other load.
    server_cpu_ms: float = float("nan")
    wal_peak_mb: float = float("nan")

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def load(self) -> str:
        pace = f"at {self.rate:,.0f} msg/s" if self.rate else "as fast as answered"
        return f"{self.accepted:,}/{self.messages:,} msgs, {self.clients} clients {pace}"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value that at least ``fraction`` of the samples do not exceed."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    # round(): 0.99 * 100 is 99.00000000000001 in floating point, whose ceiling is 100.
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def run(
    messages: int, clients: int, rate: float | None = None, *, apart: bool = False
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="quorum-smtp-load-") as folder:
        config, db = write_config(Path(folder)), Path(folder) / "quorum.db"
        outgoing = outgoing_messages(messages)
        with (
            load_apart(apart) as cpus,
            start_quorum(config, db, cpus=cpus) as quorum,
            ProcessedWatcher(db) as watcher,
        ):
            try:
                cpu_before, started = quorum.cpu_seconds(), time.perf_counter()
                results = asyncio.run(deliver_all(quorum.port, outgoing, clients, rate=rate))
                accepted = {r.message_id for r in results if r.code == 250}
                if not watcher.wait_for(accepted, timeout=600):
                    print("warning: not every accepted message was processed in 10 minutes")
                seconds = time.perf_counter() - started
                cpu = quorum.cpu_seconds() - cpu_before
                processed = dict(watcher.seen)
                wal_peak = watcher.wal_peak_bytes / 1e6
            finally:
                status = quorum.stop()
        problems = exactly_once_problems(db, accepted, {m.message_id for m in outgoing})
        if status != 0:
            problems.append(f"quorum run exited with {status}: {''.join(quorum.output[-5:])}")
    result = _summarise(messages, clients, rate, results, processed, seconds, problems)
    return replace(result, server_cpu_ms=cpu * 1000 / max(result.accepted, 1), wal_peak_mb=wal_peak)


def _summarise(
    messages: int,
    clients: int,
    rate: float | None,
    results: list[Delivery],
    processed: dict[str, float],
    seconds: float,
    problems: list[str],
) -> LoadResult:
    ok = [r for r in results if r.code == 250]
    to_250 = [(r.answered - r.started) * 1000 for r in ok]
    to_stored = [
        (processed[r.message_id] - r.started) * 1000 for r in ok if r.message_id in processed
    ]
    return LoadResult(
        messages=messages,
        clients=clients,
        rate=rate,
        accepted=len(ok),
        refused=Counter(r.code for r in results if r.code != 250),
        to_250_ms=(percentile(to_250, 0.5), percentile(to_250, 0.99), max(to_250, default=0)),
        processed_ms=(percentile(to_stored, 0.5), percentile(to_stored, 0.99)),
        seconds=seconds,
        problems=problems,
    )


def result_rows(result: LoadResult) -> list[Row]:
    p50, p99, _ = result.to_250_ms
    verdict = "met" if p99 <= TARGET_P99_250_MS else "NOT met"
    once = "; ".join(result.problems) or "every accepted message stored once"
    return [
        (
            f"SMTP {result.load}: time to 250 p50 / p99",
            f"{p50:.1f} / {p99:.1f} ms",
            f"p99 <= {TARGET_P99_250_MS:.0f} ms: {verdict}",
        ),
        (
            f"SMTP {result.load}: until processed p50 / p99",
            f"{result.processed_ms[0]:,.0f} / {result.processed_ms[1]:,.0f} ms",
            f"{result.per_second:,.0f} msg/s end to end;"
            f" server CPU {result.server_cpu_ms:.2f} ms/msg; WAL peak {result.wal_peak_mb:,.0f} MB",
        ),
        (f"SMTP {result.load}: exactly once", "ok" if not result.problems else "FAILED", once),
    ]


def rows(quick: bool) -> list[Row]:
    """For `make bench`: saturation (the issue's 10,000 messages), then a paced load."""
    saturation = run(2_000 if quick else 10_000, 50)
    paced = run(1_200 if quick else 4_000, 50, rate=PACED_RATE)
    return result_rows(saturation) + result_rows(paced)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=None, help="messages a second in all")
    parser.add_argument(
        "--load-apart",
        action="store_true",
        help="run the load on a CPU of its own and the server on the others",
    )
    args = parser.parse_args()
    result = run(args.messages, args.clients, args.rate, apart=args.load_apart)
    p50, p99, most = result.to_250_ms
    print(f"{result.load} in {result.seconds:.1f} s ({result.per_second:,.0f} msg/s end to end)")
    if result.refused:
        print(f"refused: {dict(result.refused)}")
    print(
        f"time to 250: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {most:.1f} ms"
        f" (target p99 <= {TARGET_P99_250_MS:.0f} ms)"
    )
    print(
        f"time until processed: p50 {result.processed_ms[0]:,.0f} ms,"
        f" p99 {result.processed_ms[1]:,.0f} ms"
    )
    print(f"server CPU: {result.server_cpu_ms:.2f} ms per message (receive, store, process)")
    print(f"WAL peak: {result.wal_peak_mb:,.0f} MB")
    for problem in result.problems:
        print(f"PROBLEM: {problem}")
    if result.problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
