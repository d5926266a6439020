"""`quorum tick`: what the bot would do at a given instant, on a fake clock.

One tick is what `quorum run` does every few minutes, at ``now``: bring the
stored views up to date, let every feature decide (the scheduled ones, such as
the digest, when their schedule fired since the previous tick), record the
actions in the outbox and deliver them; in dry-run, render and record them.
Several instants in a row (``--until`` and ``--every``) are a bot that was
running all that time, which is how the ladder's days are shown without
waiting for them.

By default the ticks run on a scratch copy of the database, so trying dates
changes nothing; ``record`` runs them on the database itself.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.app import FEATURES_EVERY, MESSAGE_ID_SECRET_ENV, outbound_channels
from bot.config import Config
from bot.dispatch import Dispatcher, DispatchReport
from bot.features import decide_all, scheduled, views
from bot.scheduler import fire_times
from bot.store import Store, lifecycle, settings
from bot.store.outbox import Outbox

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TickReport:
    """One tick: when, which scheduled features fired, what was new, what was delivered."""

    at: datetime
    fired: tuple[str, ...]
    recorded: int
    dispatch: DispatchReport


def instants(start: datetime, until: datetime | None, every: timedelta) -> list[datetime]:
    """``start``, then every ``every`` up to ``until`` (included)."""
    if until is None:
        return [start]
    if every <= timedelta(0):
        raise ValueError("--every must be longer than zero")
    found, moment = [], start
    while moment <= until:
        found.append(moment)
        moment += every
    return found


@contextmanager
def scratch_copy(db_path: Path) -> Iterator[Path]:
    """A consistent copy of the database in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="quorum-tick-") as folder:
        target = Path(folder) / "tick.db"
        lifecycle.backup(db_path, target)
        yield target


async def run_ticks(
    config: Config,
    db_path: Path,
    moments: Sequence[datetime],
    *,
    send: bool = False,
    on_tick: Callable[[TickReport], None] | None = None,
) -> list[TickReport]:
    """Tick at each of ``moments`` in turn; dry-run unless ``send`` (then as configured)."""
    if not send:
        config = config.model_copy(
            update={"dispatch": config.dispatch.model_copy(update={"dry_run": True})}
        )
    store = Store.open(db_path)
    reports: list[TickReport] = []
    try:
        clock = _Clock(moments[0])

        async def call(function: Callable[[Store], T], /) -> T:
            return function(store)

        key = os.environ.get(MESSAGE_ID_SECRET_ENV, "").strip().encode() or (
            settings.message_id_key(store)
        )
        dispatcher = Dispatcher(call, outbound_channels(config, key), config.dispatch, clock)
        previous = moments[0] - FEATURES_EVERY
        for moment in moments:
            clock.now = moment
            report = await _tick(store, config, dispatcher, previous, moment)
            reports.append(report)
            if on_tick is not None:
                on_tick(report)
            previous = moment
    finally:
        store.close()
    return reports


async def _tick(
    store: Store, config: Config, dispatcher: Dispatcher, previous: datetime, now: datetime
) -> TickReport:
    views.catch_up(store, config, now)
    zone = config.project.zone()
    fired = tuple(
        feature.name
        for feature in scheduled(config)
        if feature.schedule is not None
        and fire_times(feature.schedule(config), zone, previous, now)
    )
    actions = decide_all(store, config, now)
    if fired:
        actions += decide_all(store, config, now, only=fired)
    recorded = Outbox(store).record_all(actions, now)
    dispatch = await dispatcher.run_once(now)
    return TickReport(now, fired, recorded, dispatch)


@dataclass(slots=True)
class _Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def as_dict(report: TickReport) -> dict[str, Any]:
    """One tick for `quorum tick --json`."""
    return {
        "at": report.at.isoformat(),
        "fired": list(report.fired),
        "recorded": report.recorded,
        "outcomes": [
            {
                "key": o.key,
                "kind": o.kind,
                "channel": o.channel,
                "status": o.status.value,
                "detail": o.detail,
                "rendered": o.rendered,
            }
            for o in report.dispatch.outcomes
        ],
        "held": dict(report.dispatch.held),
        "waiting": dict(report.dispatch.waiting),
        "warnings": list(report.dispatch.warnings),
    }
