"""`quorum fetch` of a busy list's year from a loopback Pony Mail: requests, speed, a re-run.

Run: .venv/bin/python -m bench.fetch [--quick]

A year of a busy dev@ list (1,000 mails a month; 200 with --quick), threads of
five, is served by tests/fakes/ponymail.py. Measured: the requests the first
fetch makes, how fast it stores mail (HTTP on loopback, parsing and storing
included), and what a second run asks for (nothing new: one cheap query for the
month still open). A correctness row checks the second run stores nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.http_fetch import HttpFetcher, RequestBudget
from bot.adapters.list_archives import PonyMail
from bot.core.sources import ListAddress, Month
from bot.store import Store
from bot.sync import direct_db
from bot.sync.archives import FetchReport, fetch_archive
from tests.fakes.ponymail import FakePonyMail
from tests.mailgen import raw_mail

Row = tuple[str, str, str]
LIST = ListAddress.parse("dev@busy.apache.org")
# During the last month of the year: eleven months are whole, December is open.
NOW = datetime(2023, 12, 20, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Result:
    mails: int
    first: FetchReport
    first_seconds: float
    second: FetchReport


def _year(per_month: int) -> list[bytes]:
    mails = []
    for month in range(1, 13):
        for n in range(per_month):
            root = n - n % 5
            extra = f"In-Reply-To: <{month}-{root}@busy.example>" if n % 5 else ""
            mails.append(
                raw_mail(
                    f"Message {n} of month {month}.\n" * 8,
                    subject=f"{'Re: ' if n % 5 else ''}[DISCUSS] Topic {month}-{root}",
                    message_id=f"<{month}-{n}@busy.example>",
                    sender=f"Person {n % 40} <p{n % 40}@example.org>",
                    date=f"{n % 28 + 1:02d} {_MONTHS[month - 1]} 2023 {n % 24:02d}:00:00 +0000",
                    extra=extra,
                )
            )
    return mails


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


async def _run(per_month: int, db: Path) -> Result:
    fake = FakePonyMail()
    mails = _year(per_month)
    for raw in mails:
        fake.add(raw, str(LIST))
    store = Store.open(db)
    try:
        async with fake:
            reports = []
            for _ in range(2):
                started = time.perf_counter()
                async with HttpFetcher(budget=RequestBudget(1000)) as http:
                    report = await fetch_archive(
                        direct_db(store),
                        PonyMail(http, LIST, fake.base_url),
                        since=Month(2023, 1),
                        until=None,
                        now=NOW,
                        requests_used=lambda http=http: http.budget.used,
                    )
                reports.append((report, time.perf_counter() - started))
    finally:
        store.close()
    (first, seconds), (second, _) = reports
    return Result(len(mails), first, seconds, second)


def run(quick: bool) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(_run(200 if quick else 1000, Path(folder) / "fetch.db"))


def rows(quick: bool) -> list[Row]:
    result = run(quick)
    rate = result.first.counts.new / result.first_seconds
    second_ok = result.second.counts.new == 0 and result.second.error is None
    return [
        (
            f"fetch: requests for a year of {result.mails:,} mails (Pony Mail)",
            str(result.first.requests),
            "2 a month",
        ),
        ("fetch: mails stored per second (loopback)", f"{rate:,.0f}", "-"),
        (
            "fetch: requests of a second run (nothing new)",
            str(result.second.requests),
            "ok" if second_ok else f"FAILED: stored {result.second.counts.new} again",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 mails a month, not 1,000")
    args = parser.parse_args()
    for metric, value, target in rows(args.quick):
        print(f"{metric}: {value} ({target})")


if __name__ == "__main__":
    main()
