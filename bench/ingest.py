"""Import throughput on the real Maven archives, repeated with fresh Message-IDs.

Run: .venv/bin/python -m bench.ingest [--messages N] [--workers N]
Each copy of the archives gets its own Message-IDs (and matching References),
so every copy is new mail to Quorum rather than a duplicate.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

from bot.ingest import import_paths
from bot.store import Store

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "mbox"
MAVEN = ("maven-dev-2017-11.mbox", "maven-dev-2017-12.mbox")
_ID = re.compile(rb"<([^<>@\s]+)@([^<>\s]+)>")


def build_archive(target: Path, messages: int) -> int:
    """Write an mbox of about ``messages`` messages; returns the exact count."""
    sources = [(CORPUS / name).read_bytes() for name in MAVEN]
    per_copy = sum(len(re.findall(rb"(?m)^From ", data)) for data in sources)
    copies = max(1, round(messages / per_copy))
    with target.open("wb") as out:
        for copy in range(copies):
            for data in sources:
                out.write(_ID.sub(lambda m, c=copy: b"<%s.c%d@%s>" % (m[1], c, m[2]), data))
                out.write(b"\n")
    return copies * per_copy


def run(messages: int, workers: int | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "maven.mbox"
        count = build_archive(archive, messages)
        store = Store.open(Path(folder) / "bench.db")
        started = time.perf_counter()
        first = import_paths(store, [archive], workers=workers)
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = import_paths(store, [archive], workers=workers)
        again_seconds = time.perf_counter() - started
        store.close()
    if first.counts.read != count or again.counts.new:
        raise SystemExit(f"benchmark invalid: read {first.counts.read} of {count}")
    return {
        "messages": count,
        "first_import_s": first_seconds,
        "first_msgs_per_s": count / first_seconds,
        "reimport_s": again_seconds,
        "reimport_msgs_per_s": count / again_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    result = run(args.messages, args.workers)
    print(
        f"quorum import: {result['messages']} messages in {result['first_import_s']:.2f} s"
        f" = {result['first_msgs_per_s']:,.0f} msg/s; re-import {result['reimport_s']:.2f} s"
        f" = {result['reimport_msgs_per_s']:,.0f} msg/s"
    )


if __name__ == "__main__":
    main()
