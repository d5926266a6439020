"""Import throughput on the real Maven archives, repeated with fresh Message-IDs.

Run: .venv/bin/python -m bench.ingest [--quick] [--messages N] [--workers N] [--runs N]

Each copy of the archives gets its own Message-IDs (and matching References),
so every copy is new mail to Quorum rather than a duplicate. The archive is
imported into a fresh database, then imported again, and the same run reads it
with two baselines: Python's ``mailbox`` module alone (``mailbox.mbox``
iterating messages, each parsed by ``email`` with compat32) and GrimoireLab
Perceval's mbox backend, which pip installs into a virtual environment of its
own under the temp directory (never a dependency of Quorum). Every measurement
runs in a child process of its own, so each peak RSS is that run's alone.
Default sizes are 10,000 and 100,000 messages; ``--quick`` runs 10,000 only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Nothing from bot at the top: the importer's worker processes start by importing this
# module again (multiprocessing's spawn), and they need none of it.

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "mbox"
MAVEN = ("maven-dev-2017-11.mbox", "maven-dev-2017-12.mbox")
SIZES = (10_000, 100_000)
_ID = re.compile(rb"<([^<>@\s]+)@([^<>\s]+)>")

TARGET_RATE = 10_000  # messages/s, first import
TARGET_VS_PERCEVAL = 5.0
TARGET_REIMPORT = 10.0  # times faster than the first import (issue 13)
FLAT_RSS = 1.25  # peak RSS at the largest size over the smallest, at most

PERCEVAL = "perceval==1.6.1"
PERCEVAL_VENV = Path(tempfile.gettempdir()) / "quorum-bench-perceval"
_PERCEVAL_SCRIPT = """
import json, logging, resource, sys, time
logging.disable(logging.WARNING)  # it warns for every message it drops
from perceval.backends.core.mbox import MBox
started = time.perf_counter()
items = sum(1 for _ in MBox("bench", sys.argv[1]).fetch())
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "items": items, "rss_kib": rss}))
"""

Row = tuple[str, str, str]


def build_archive(target: Path, messages: int, *, first_copy: int = 0) -> int:
    """Write an mbox of about ``messages`` messages; returns the exact count.

    Copies are numbered from ``first_copy``, so archives written in parts (a large
    store imported a part at a time) never repeat a Message-ID. Each copy is a list
    of its own (:func:`copy_template`): no thread or RFC joins two copies.
    """
    templates = [copy_template((CORPUS / name).read_bytes()) for name in MAVEN]
    per_copy = messages_per_copy()
    copies = max(1, round(messages / per_copy))
    with target.open("wb") as out:
        for copy in range(first_copy, first_copy + copies):
            for template in templates:
                out.write(fill(template, copy))
                out.write(b"\n")
    return copies * per_copy


# Where a copy's number goes in a template (the corpus holds no NUL byte).
_COPY = b"\x00copy\x00"
_SUBJECT = re.compile(rb"(?mi)^(subject:[^\n]*(?:\n[ \t][^\n]*)*)")
_HEADER_END = re.compile(rb"\n\n|\Z")
_MESSAGE_START = re.compile(rb"(?m)^From ")
# GitHub names a thread by repository and number, in the mirror's Message-IDs and in
# the links GitBox relays quote: each copy gets an owner of its own.
_GITHUB_OWNER = re.compile(rb"github\.com/apache/")
_GITHUB_SHORT = re.compile(rb"(?<![\w./-])apache/(?=[\w.-]+#\d)")


def copy_template(data: bytes) -> bytes:
    """Mail (one message or an mbox) with a place for a copy number (:func:`fill`).

    A copy must not join another: fresh Message-IDs alone leave replies threading by
    the same subject and GitHub mail by the same repository and pull request, and the
    1,000,000-message store grew threads of 14,762 and 46,125 posts that no list has.
    So the copy number goes into every Message-ID and reference, every Subject (a
    suffix, which subject threading and "[RFC] title" links keep) and every GitHub
    owner (``apache-cN/maven-surefire``).
    """
    if _COPY in data:
        raise ValueError("the mail holds the copy placeholder")
    data = _ID.sub(lambda m: b"<%s.c%s@%s>" % (m[1], _COPY, m[2]), data)
    data = _GITHUB_OWNER.sub(b"github.com/apache-c" + _COPY + b"/", data)
    data = _GITHUB_SHORT.sub(b"apache-c" + _COPY + b"/", data)
    return b"".join(_with_copied_subject(message) for message in _messages(data))


def fill(template: bytes, copy: int) -> bytes:
    """The mail of a :func:`copy_template` as copy number ``copy``."""
    return template.replace(_COPY, b"%d" % copy)


def _messages(data: bytes) -> list[bytes]:
    starts = [m.start() for m in _MESSAGE_START.finditer(data)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


def _with_copied_subject(message: bytes) -> bytes:
    end = _HEADER_END.search(message)
    cut = end.start() if end else len(message)
    header = _SUBJECT.sub(lambda m: m[1] + b" (copy " + _COPY + b")", message[:cut], count=1)
    return header + message[cut:]


def messages_per_copy() -> int:
    """How many messages one copy of the Maven archives holds."""
    return sum(len(re.findall(rb"(?m)^From ", (CORPUS / name).read_bytes())) for name in MAVEN)


# -- measurements, each in a child process -------------------------------------------------


def _child_quorum(archive: Path, workers: int | None) -> dict[str, Any]:
    from bot.ingest import import_paths
    from bot.store import Store

    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "bench.db")
        started = time.perf_counter()
        first = import_paths(store, [archive], workers=workers)
        first_seconds = time.perf_counter() - started
        first_rss = _rss_kib(resource.RUSAGE_SELF)
        started = time.perf_counter()
        again = import_paths(store, [archive], workers=workers)
        again_seconds = time.perf_counter() - started
        store.close()
    return {
        "read": first.counts.read,
        "new": first.counts.new,
        "again_new": again.counts.new,
        "seconds": first_seconds,
        "again_seconds": again_seconds,
        "rss_kib": first_rss,
        "worker_rss_kib": _rss_kib(resource.RUSAGE_CHILDREN),
    }


def _child_mailbox(archive: Path) -> dict[str, Any]:
    import mailbox

    started = time.perf_counter()
    box = mailbox.mbox(archive, create=False)
    items = sum(1 for _ in box)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "items": items, "rss_kib": _rss_kib(resource.RUSAGE_SELF)}


def _child_cli(archive: Path) -> dict[str, Any]:
    """``quorum import`` as a user runs it: interpreter start and imports included."""
    script = Path(sys.executable).with_name("quorum")
    quorum = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    with tempfile.TemporaryDirectory() as folder:
        command = [*quorum, "--db", f"{folder}/q.db"]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "import", str(archive)], capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"quorum import failed: {done.stderr[-2000:]}")
    return {"seconds": seconds, "rss_kib": _rss_kib(resource.RUSAGE_CHILDREN)}


def _rss_kib(who: int) -> int:
    return int(resource.getrusage(who).ru_maxrss)  # KiB on Linux


def _measure(kind: str, archive: Path, workers: int | None = None) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.ingest", "--child", kind, str(archive)]
    if workers is not None:
        command += ["--workers", str(workers)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child {kind} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _best(runs: int, measure: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """The fastest of ``runs`` runs: on a shared machine the others only add noise."""
    return min((measure(*args) for _ in range(runs)), key=lambda result: float(result["seconds"]))


def _perceval_python() -> tuple[Path | None, str]:
    """The Perceval venv's interpreter (created on first use), or None and why not."""
    python = PERCEVAL_VENV / "bin" / "python"
    check = [str(python), "-c", "import perceval.backends.core.mbox"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, ""
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PERCEVAL_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", PERCEVAL],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        return None, f"pip could not install {PERCEVAL}: {detail.strip()[-300:]}"
    return python, ""


def _measure_perceval(python: Path, archive: Path) -> dict[str, Any]:
    # Perceval reads every mbox in a directory; each archive has one of its own.
    done = subprocess.run(
        [str(python), "-c", _PERCEVAL_SCRIPT, str(archive.parent)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"Perceval failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- the run -------------------------------------------------------------------------------


def run(
    sizes: tuple[int, ...], workers: int | None, *, cli: bool = True, runs: int = 1
) -> dict[str, Any]:
    """Every measurement for every size: {"sizes": {n: {...}}, "perceval_error": str}.

    Each is the best of ``runs`` runs.
    """
    python, perceval_error = _perceval_python()
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            archive = Path(folder) / str(size) / "maven.mbox"
            archive.parent.mkdir()
            count = build_archive(archive, size)
            quorum = _best(runs, _measure, "quorum", archive, workers)
            if quorum["read"] != count or quorum["again_new"]:
                raise SystemExit(f"benchmark invalid: read {quorum['read']} of {count}")
            results[size] = {
                "messages": count,
                "mbytes": archive.stat().st_size / 1e6,
                "quorum": quorum,
                "mailbox": _best(runs, _measure, "mailbox", archive),
                "perceval": (_best(runs, _measure_perceval, python, archive) if python else None),
                "cli": _best(runs, _measure, "cli", archive) if cli else None,
            }
            archive.unlink()
    return {"sizes": results, "perceval_error": perceval_error}


def rows(quick: bool) -> list[Row]:
    """For `make bench`: throughput against the baselines, re-import, memory."""
    return _rows(run(SIZES[:1] if quick else SIZES, None, cli=True))


def _rows(result: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    sizes: dict[int, dict[str, Any]] = result["sizes"]
    for r in sizes.values():
        n, q = r["messages"], r["quorum"]
        size = f"{n:,} msgs"
        rate = n / q["seconds"]
        out.append(
            (
                f"import {size}: quorum first import",
                f"{rate:,.0f} msg/s ({q['seconds']:.2f} s, {r['mbytes']:.0f} MB)",
                _verdict(rate >= TARGET_RATE, f"≥ {TARGET_RATE:,} msg/s"),
            )
        )
        again = q["seconds"] / q["again_seconds"]
        out.append(
            (
                f"import {size}: re-import (all known)",
                f"{n / q['again_seconds']:,.0f} msg/s ({q['again_seconds']:.2f} s)",
                _verdict(again >= TARGET_REIMPORT, f"≥ {TARGET_REIMPORT:.0f}× first: {again:.1f}×"),
            )
        )
        if r["cli"] is not None:
            cli = r["cli"]
            out.append(
                (
                    f"import {size}: `quorum import` command",
                    f"{n / cli['seconds']:,.0f} msg/s ({cli['seconds']:.2f} s)",
                    "incl. interpreter start and imports",
                )
            )
        box = r["mailbox"]
        out.append(
            (
                f"import {size}: mailbox module (compat32)",
                f"{n / box['seconds']:,.0f} msg/s ({box['seconds']:.2f} s)",
                f"quorum {box['seconds'] / q['seconds']:.1f}× it",
            )
        )
        if r["perceval"] is None:
            out.append(
                (f"import {size}: Perceval mbox backend", "not measured", result["perceval_error"])
            )
        else:
            p = r["perceval"]
            ratio = p["seconds"] / q["seconds"]
            dropped = 1 - p["items"] / n
            out.append(
                (
                    f"import {size}: Perceval mbox backend",
                    f"{n / p['seconds']:,.0f} msg/s ({p['seconds']:.2f} s, dropped {dropped:.0%})",
                    _verdict(
                        ratio >= TARGET_VS_PERCEVAL,
                        f"quorum ≥ {TARGET_VS_PERCEVAL:.0f}×: {ratio:.1f}×",
                    ),
                )
            )
        out.append(
            (
                f"import {size}: peak RSS",
                f"quorum {_mb(q['rss_kib'])} (+ {_mb(q['worker_rss_kib'])} per forked worker),"
                f" mailbox {_mb(box['rss_kib'])}"
                + (f", Perceval {_mb(r['perceval']['rss_kib'])}" if r["perceval"] else ""),
                "one child process per run",
            )
        )
    if len(sizes) > 1:
        small, large = sizes[min(sizes)], sizes[max(sizes)]
        growth = large["quorum"]["rss_kib"] / small["quorum"]["rss_kib"]
        out.append(
            (
                f"import peak RSS {small['messages']:,} → {large['messages']:,} msgs",
                f"{_mb(small['quorum']['rss_kib'])} → {_mb(large['quorum']['rss_kib'])}",
                _verdict(growth <= FLAT_RSS, f"flat (≤ {FLAT_RSS:.2f}×): {growth:.2f}×"),
            )
        )
    return out


def _verdict(ok: bool, target: str) -> str:
    return f"{target} {'ok' if ok else 'MISSED'}"


def _mb(kib: int) -> str:
    return f"{kib / 1024:,.0f} MB"


def machine() -> str:
    return (
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}, {platform.system()} {platform.machine()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{SIZES[0]:,} messages only")
    parser.add_argument("--messages", type=int, action="append", help="a size (repeatable)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--no-cli", action="store_true", help="skip the `quorum import` runs")
    parser.add_argument("--runs", type=int, default=1, help="best of this many runs each")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "ARCHIVE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, archive = args.child[0], Path(args.child[1])
        if kind == "quorum":
            result = _child_quorum(archive, args.workers)
        elif kind == "mailbox":
            result = _child_mailbox(archive)
        else:
            result = _child_cli(archive)
        print(json.dumps(result))
        return
    sizes = tuple(args.messages or (SIZES[:1] if args.quick else SIZES))
    table = _rows(run(sizes, args.workers, cli=not args.no_cli, runs=args.runs))
    print(f"bench.ingest — {machine()}")
    width = max(len(metric) for metric, _, _ in table)
    for metric, value, target in table:
        print(f"{metric:<{width}}  {value:<52}  {target}")


if __name__ == "__main__":
    main()
