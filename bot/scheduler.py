"""Scheduled work, declared as data: name, schedule, function of ``now``.

APScheduler 3's ``AsyncIOScheduler`` runs the jobs in the app's own loop. It
forgets everything on restart, so we keep each job's last run in the store:
a job whose time came while Quorum was down runs once at start (missed runs
are coalesced, not replayed), then on schedule. Jobs must be idempotent
anyway (the outbox dedups by key), which makes a catch-up harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.logs import event

logger = logging.getLogger(__name__)

JobFunction = Callable[[datetime], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Job:
    """A job: ``every`` an interval, or ``cron`` a crontab line read in ``timezone``
    (the digest's "Mondays 09:00" is 09:00 where the community lives; UTC by default).

    ``background``: a job that may run long (a forum's first backfill) starts at once
    in the background instead of being caught up before the others start.
    """

    name: str
    run: JobFunction
    every: timedelta | None = None
    cron: str | None = None
    timezone: tzinfo = UTC
    background: bool = False

    def trigger(self) -> BaseTrigger:
        if (self.every is None) == (self.cron is None):
            raise ValueError(f"job {self.name}: give exactly one of every= or cron=")
        if self.every is not None:
            return IntervalTrigger(seconds=self.every.total_seconds(), timezone=UTC)
        return CronTrigger.from_crontab(self.cron, timezone=self.timezone)


def fire_times(cron: str, zone: tzinfo, after: datetime, until: datetime) -> list[datetime]:
    """When a crontab line (read in ``zone``) fires in (``after``, ``until``], in UTC."""
    trigger = CronTrigger.from_crontab(cron, timezone=zone)
    found: list[datetime] = []
    moment = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while moment is not None and moment <= until:
        found.append(moment.astimezone(UTC))
        moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
    return found


class RunLog(Protocol):
    """Where last runs are kept (the store, through the app's writer thread)."""

    async def last_run(self, name: str) -> datetime | None: ...

    async def record_run(self, name: str, at: datetime) -> None: ...


def missed_since(job: Job, last: datetime | None, now: datetime) -> bool:
    """Whether a run fell due between ``last`` and ``now``.

    A never-run interval job is due at once (polling, dispatch); a never-run
    calendar job (the weekly digest) waits for its first date.
    """
    if last is None:
        return job.every is not None
    next_due = job.trigger().get_next_fire_time(None, last)
    if isinstance(job.trigger(), IntervalTrigger):
        next_due = last + (job.every or timedelta())
    return next_due is not None and next_due <= now


class Scheduler:
    def __init__(
        self,
        jobs: list[Job],
        runs: RunLog,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.jobs = {job.name: job for job in jobs}
        self._runs = runs
        self._clock = clock
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()

    async def start(self) -> None:
        """Catch up what was missed while down (once each), then run on schedule."""
        for job in self.jobs.values():
            if job.background:
                continue
            if missed_since(job, await self._runs.last_run(job.name), self._clock()):
                await self.run(job.name)
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        for job in self.jobs.values():
            first = {"next_run_time": datetime.now(UTC)} if job.background else {}
            self._scheduler.add_job(
                self.run,
                job.trigger(),
                args=[job.name],
                id=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                **first,
            )
        self._scheduler.start()

    async def run(self, name: str) -> None:
        """Run one job now. A failing job is logged with its name and never stops the others."""
        now = self._clock()
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await self.jobs[name].run(now)
        except asyncio.CancelledError:
            logger.info("scheduled job %s stopped at shutdown", name)
            raise
        except Exception:
            logger.exception(
                "scheduled job %s failed at %s",
                name,
                now.isoformat(),
                extra=event("job.failed", job=name),
            )
            return
        finally:
            if task is not None:
                self._running.discard(task)
        await self._runs.record_run(name, now)

    async def stop(self) -> None:
        """No new runs; a run in progress (a long backfill) is cancelled, not awaited:
        every job resumes from what it stored."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        running, self._running = set(self._running), set()
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
