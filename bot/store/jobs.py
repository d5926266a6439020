"""When each scheduled job last ran, so a restart catches up missed runs exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database, Migrations

from bot.store.values import from_text, to_text

if TYPE_CHECKING:
    from bot.store import Store

migrations = Migrations("jobs")


@migrations()
def m001_job_runs(db: Database) -> None:
    db.table("job_runs").create({"name": str, "last_run": str}, pk="name")


def last_run(store: Store, name: str) -> datetime | None:
    row = store.db.execute("SELECT last_run FROM job_runs WHERE name = ?", [name]).fetchone()
    return from_text(row[0]) if row else None


def record_run(store: Store, name: str, at: datetime) -> None:
    store.db.execute(
        "INSERT INTO job_runs (name, last_run) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET last_run = excluded.last_run",
        [name, to_text(at)],
    )
