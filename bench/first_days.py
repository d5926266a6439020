"""The sample's first fifteen days on a fake clock: the transcript of what a community gets.

`make run` starts the sample on 2026-12-02 09:00 UTC (the Makefile's RUN_ARGS). This
ticks the bot every hour from then for fifteen days, in dry-run, exactly as
`quorum tick --now 2026-12-02T09:00Z --until 2026-12-16T09:00Z --every 60` does,
and prints day 1, day 8 and day 15 in full (every message, then what
`quorum attention` lists at the end of the day) and the other days in one line
each. As a benchmark it reports the cost of a tick on the sample and checks the
ladder: one catch-up summary on day 1 and nothing else, never two rungs of one
obligation in one tick, the reminder no earlier than the S1 threshold after the
summary, the escalation no earlier than escalate - remind after the reminder.

Run alone: .venv/bin/python -m bench.first_days [--start 2026-12-02T09:00] [--days 15]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import load_config
from bot.features.attention import attention
from bot.ingest import import_paths
from bot.store import Store
from bot.tick import TickReport, instants, run_ticks

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "example.toml"
SAMPLE = ROOT / "config" / "sample-archive.mbox"
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
SHOWN_DAYS = (1, 8, 15)


def simulate(start: datetime, days: int) -> tuple[list[TickReport], Path, float]:
    """Hourly ticks over ``days`` on a fresh sample store; the reports, the store, seconds."""
    folder = Path(tempfile.mkdtemp(prefix="quorum-first-days-"))
    db = folder / "q.db"
    store = Store.open(db)
    try:
        import_paths(store, [SAMPLE])
    finally:
        store.close()
    moments = instants(start, start + timedelta(days=days - 1, hours=23), timedelta(hours=1))
    began = time.perf_counter()
    reports = asyncio.run(run_ticks(load_config(CONFIG), db, moments))
    return reports, db, time.perf_counter() - began


def transcript(reports: list[TickReport], db: Path, start: datetime) -> str:
    config = load_config(CONFIG)
    lines: list[str] = []
    by_day: dict[int, list[TickReport]] = {}
    for report in reports:
        by_day.setdefault((report.at - start).days + 1, []).append(report)
    for day, ticks in sorted(by_day.items()):
        sent = [(r, o) for r in ticks for o in r.dispatch.outcomes]
        date = ticks[0].at.strftime("%Y-%m-%d (%a)")
        if day not in SHOWN_DAYS:
            said = ", ".join(f"{o.kind} via {o.channel} at {r.at:%H:%M}" for r, o in sent)
            lines.append(f"Day {day}, {date}: {said or 'nothing sent'}")
            continue
        lines.append("")
        lines.append(f"===== Day {day}, {date}: {len(sent)} message(s) =====")
        for report, outcome in sent:
            lines.append(f"\n--- {report.at:%H:%M} UTC [{outcome.status.value}] {outcome.kind}"
                         f" via {outcome.channel} ---")  # fmt: skip
            lines.append((outcome.rendered or "").rstrip())
        end = ticks[-1].at
        store = Store.open(db)
        try:
            needs = attention(store, config, end, current=False)
        finally:
            store.close()
        lines.append(f"\n--- quorum attention at {end:%Y-%m-%d %H:%M} UTC ---")
        for item in needs.items:
            lines.append(
                f"{item.kind.value}: {item.title} ({item.age})\n  {item.detail}\n  {item.link}"
            )
        if not needs.items:
            lines.append("Nothing needs a person.")
        lines.append("")
    return "\n".join(lines)


def ladder_problems(reports: list[TickReport]) -> list[str]:
    """What a community would call noise: more than the catch-up on day one, two rungs of
    one obligation in one tick, a rung too early after the one before it."""
    problems: list[str] = []
    first = {o.kind for o in reports[0].dispatch.outcomes}
    if first - {"catch-up"}:
        problems.append(f"day one sent {sorted(first)}")
    rungs: dict[str, datetime] = {}
    for report in reports:
        kinds = {o.kind for o in report.dispatch.outcomes} & {"catch-up", "remind", "escalate"}
        if {"remind", "escalate"} <= kinds or {"catch-up", "remind"} <= kinds:
            problems.append(f"two rungs in the tick of {report.at:%Y-%m-%d %H:%M}")
        for kind in kinds:
            rungs.setdefault(kind, report.at)
    # The sample's question is owed by the S1 indexer: remind 5 days, escalate 10.
    if (
        "remind" in rungs
        and rungs["remind"] - rungs.get("catch-up", rungs["remind"]) < timedelta(days=5)
        and "catch-up" in rungs
    ):
        problems.append("reminded sooner than 5 days after the catch-up summary")
    if "escalate" in rungs and rungs["escalate"] - rungs["remind"] < timedelta(days=5):
        problems.append("escalated sooner than 5 days after the reminder")
    return problems


def rows(quick: bool) -> list[tuple[str, str, str]]:
    days = 8 if quick else 15
    reports, _, seconds = simulate(START, days)
    problems = ladder_problems(reports)
    kinds = [o.kind for r in reports for o in r.dispatch.outcomes]
    summary = ", ".join(f"{kind} {kinds.count(kind)}" for kind in dict.fromkeys(kinds))
    return [
        (
            f"sample, {days} days of hourly ticks (dry-run)",
            f"{len(reports)} ticks in {seconds:.1f} s"
            f" ({seconds / len(reports) * 1000:.0f} ms a tick)",
            "informative",
        ),
        (
            "the ladder on the sample",
            summary or "nothing sent",
            "ok" if not problems else "FAILED: " + "; ".join(problems),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default=START.strftime("%Y-%m-%dT%H:%M"))
    parser.add_argument("--days", type=int, default=15)
    args = parser.parse_args()
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    reports, db, seconds = simulate(start, args.days)
    print(transcript(reports, db, start))
    problems = ladder_problems(reports)
    print(f"{len(reports)} hourly ticks in {seconds:.1f} s; ladder: {'; '.join(problems) or 'ok'}")


if __name__ == "__main__":
    main()
