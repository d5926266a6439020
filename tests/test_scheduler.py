"""Scheduled jobs: catch-up after downtime runs once, failures stay contained."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.scheduler import Job, Scheduler, missed_since

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class MemoryRuns:
    def __init__(self, **last: datetime) -> None:
        self.last = dict(last)

    async def last_run(self, name: str) -> datetime | None:
        return self.last.get(name)

    async def record_run(self, name: str, at: datetime) -> None:
        self.last[name] = at


def _recorder(calls: list[tuple[str, datetime]], name: str):
    async def run(now: datetime) -> None:
        calls.append((name, now))

    return run


def test_missed_since_for_intervals_and_cron():
    hourly = Job("poll", _recorder([], "poll"), every=timedelta(hours=1))
    assert missed_since(hourly, None, NOW)
    assert missed_since(hourly, NOW - timedelta(hours=3), NOW)
    assert not missed_since(hourly, NOW - timedelta(minutes=30), NOW)
    weekly = Job("digest", _recorder([], "digest"), cron="0 9 * * mon")  # 2026-11-23 was Monday
    assert missed_since(weekly, datetime(2026, 11, 20, tzinfo=UTC), NOW)
    assert not missed_since(weekly, None, NOW)  # a first start does not send a digest
    assert not missed_since(weekly, datetime(2026, 11, 23, 9, 30, tzinfo=UTC), NOW)


def test_a_job_needs_exactly_one_schedule():
    with pytest.raises(ValueError, match="exactly one"):
        Job("x", _recorder([], "x")).trigger()


async def test_downtime_is_caught_up_once_not_replayed():
    calls: list[tuple[str, datetime]] = []
    runs = MemoryRuns(poll=NOW - timedelta(hours=5), digest=NOW - timedelta(minutes=1))
    scheduler = Scheduler(
        [
            Job("poll", _recorder(calls, "poll"), every=timedelta(hours=1)),
            Job("digest", _recorder(calls, "digest"), every=timedelta(days=7)),
        ],
        runs,
        clock=lambda: NOW,
    )
    await scheduler.start()
    await scheduler.stop()
    # Five hourly runs were missed: one catch-up run, and the weekly job was not due.
    assert calls == [("poll", NOW)]
    assert runs.last["poll"] == NOW


async def test_a_failing_job_is_logged_and_the_others_still_run(caplog):
    calls: list[tuple[str, datetime]] = []

    async def broken(now: datetime) -> None:
        raise RuntimeError("forum down")

    runs = MemoryRuns()
    scheduler = Scheduler(
        [
            Job("broken", broken, every=timedelta(minutes=5)),
            Job("ok", _recorder(calls, "ok"), every=timedelta(minutes=5)),
        ],
        runs,
        clock=lambda: NOW,
    )
    await scheduler.start()
    await scheduler.stop()
    assert calls == [("ok", NOW)]
    assert "broken" not in runs.last  # a failed run is retried at the next tick
    assert "scheduled job broken failed" in caplog.text


def test_interval_and_calendar_jobs_fall_due_when_their_schedule_says():
    every = Job("views", _recorder([], "views"), every=timedelta(seconds=30))
    assert every.trigger().get_next_fire_time(NOW, NOW) == NOW + timedelta(seconds=30)
    weekly = Job("digest", _recorder([], "digest"), cron="0 9 * * mon")
    assert weekly.trigger().get_next_fire_time(None, NOW) == datetime(2026, 11, 30, 9, tzinfo=UTC)


async def test_a_background_job_starts_at_once_without_holding_up_the_others():
    """A forum's first backfill may take an hour: start() must not wait for it."""
    calls: list[tuple[str, datetime]] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def backfill(now: datetime) -> None:
        started.set()
        await release.wait()  # still reading the forum's history
        calls.append(("poll", now))

    runs = MemoryRuns(views=NOW - timedelta(hours=1))
    scheduler = Scheduler(
        [
            Job("poll", backfill, every=timedelta(minutes=1), background=True),
            Job("views", _recorder(calls, "views"), every=timedelta(seconds=30)),
        ],
        runs,
        clock=lambda: NOW,
    )
    await asyncio.wait_for(scheduler.start(), 30)  # returns while the backfill still runs
    await asyncio.wait_for(started.wait(), 30)  # the scheduler started it, in this loop
    assert calls == [("views", NOW)]
    release.set()
    for _ in range(1000):  # let the backfill's task finish; no clock involved
        if runs.last.get("poll"):
            break
        await asyncio.sleep(0)
    await scheduler.stop()
    assert calls == [("views", NOW), ("poll", NOW)]
    assert runs.last["poll"] == NOW


async def test_stopping_cancels_a_run_in_progress_and_does_not_record_it():
    started = asyncio.Event()

    async def endless(now: datetime) -> None:
        started.set()
        await asyncio.Event().wait()

    runs = MemoryRuns()
    scheduler = Scheduler([Job("poll", endless, every=timedelta(minutes=1), background=True)], runs)
    await asyncio.wait_for(scheduler.start(), 30)
    await asyncio.wait_for(started.wait(), 30)
    await scheduler.stop()
    assert "poll" not in runs.last  # the next start polls again, from the stored cursor
