"""`make bench`: every benchmark in bench/, one table, with the date and the machine.

Run: .venv/bin/python -m bench [--quick] [--only NAME ...]

A benchmark is a module of this package with ``rows(quick: bool)``, returning
``(metric, measured, target or verdict)`` rows. A module without it, or one
that fails to import or to run, is reported in the table instead of stopping
the others. The table is Markdown, ready for the README. The exit status is 1
when a row says FAILED (a correctness check, not a missed speed target).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import bench

Row = tuple[str, str, str]
# Cheap and self-contained ones first; the rest in name order after these.
ORDER = ("ingest", "smtp_load", "crash", "faults", "fuzz", "web")


def benchmark_names() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def run_one(name: str, quick: bool) -> tuple[list[Row], float]:
    """The module's rows, or one row saying why there are none."""
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
    except Exception as error:
        return [("(not run)", "import failed", _one_line(error))], time.perf_counter() - started
    rows: Callable[[bool], list[Row]] | None = getattr(module, "rows", None)
    if not callable(rows):
        hint = f"no rows(quick) function; run it alone: python -m bench.{name}"
        return [("(not run)", "-", hint)], 0.0
    try:
        result = [tuple(str(cell) for cell in row) for row in rows(quick)]
    except Exception as error:
        traceback.print_exc()
        result = [("(crashed)", "-", f"FAILED: {_one_line(error)}")]
    return [(m, v, t) for m, v, t in result], time.perf_counter() - started


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())[:200]


def machine() -> str:
    return (
        f"{os.cpu_count()} cores ({_cpu_model()}), Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}, load average {_load()}"
    )


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown CPU"


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def markdown(rows: list[tuple[str, str, str, str]]) -> str:
    header = ("benchmark", "metric", "measured", "target / verdict")
    # A "|" inside a cell would end it early.
    cells = [header, *(tuple(cell.replace("|", "/") for cell in row) for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    parser.add_argument("--only", action="append", metavar="NAME", help="just these (repeat)")
    args = parser.parse_args()
    # The benchmarks that run the app in-process would log every injected fault.
    logging.basicConfig(level=logging.ERROR)
    names = args.only or benchmark_names()
    started = datetime.now(UTC)
    print(f"Quorum benchmarks, {started:%Y-%m-%d %H:%M} UTC{' (quick)' if args.quick else ''}")
    print(f"machine: {machine()}\n", flush=True)
    table: list[tuple[str, str, str, str]] = []
    for name in names:
        print(f"running bench.{name} ...", file=sys.stderr, flush=True)
        rows, seconds = run_one(name, args.quick)
        print(f"  bench.{name}: {seconds:.0f} s", file=sys.stderr, flush=True)
        table += [(name, *row) for row in rows]
    print(markdown(table))
    elapsed = (datetime.now(UTC) - started).total_seconds()
    print(f"\n{len(names)} benchmark(s) in {elapsed / 60:.1f} min; load average now {_load()}")
    if any("FAILED" in verdict for *_, verdict in table):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
