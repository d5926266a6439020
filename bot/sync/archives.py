"""``quorum fetch``: list archives from where they live, a month at a time, resumable.

A month's mail goes through the same path as ``quorum import`` (split, hash,
parse, :meth:`~bot.store.Store.ingest_prepared`), so fetched mail gets the same
keys as imported or SMTP-delivered mail and is never stored twice. What each
fetch saw is kept per archive and month (``archive_months``): a month fetched
after it was over (see :data:`~bot.core.sources.SETTLE_AFTER`) is never asked for
again, and a month still open is asked for again only if the archive says
something changed (where it can say so). A failure, or a spent request budget,
stops the fetch after the last whole month stored: running the command again
continues from there, and re-reading a month adds nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.adapters.archives import NotMailError, split_mbox_bytes
from bot.adapters.http_fetch import BudgetSpent, FetchFailed
from bot.adapters.list_archives import ArchiveSource, MonthArchive
from bot.core.sources import ArchiveId, Month, message_id_of, months
from bot.errors import UserError
from bot.ingest import ImportReport, import_messages
from bot.store import IngestCounts, Store
from bot.store import sources as source_store
from bot.sync import DbCall

logger = logging.getLogger(__name__)


@dataclass
class FetchReport:
    """What one ``quorum fetch`` did for one source: the line it ends with."""

    source: str
    fetched: list[str] = field(default_factory=list)  # months read
    skipped: int = 0  # months already whole in the store, or unchanged since the last fetch
    counts: IngestCounts = field(default_factory=IngestCounts)
    requests: int = 0
    error: str | None = None

    def summary(self) -> str:
        c = self.counts
        line = (
            f"{self.source}: {len(self.fetched)} month(s) fetched, {self.skipped} already"
            f" up to date; read {c.read}, new {c.new}, already known {c.known},"
            f" kept with defects {c.with_defects}; {self.requests} request(s)"
        )
        return line if self.error is None else f"{line}; stopped: {self.error}"


class FetchProgress:
    """What a progress bar needs; the default shows nothing."""

    def planned(self, steps: int) -> None:
        """The fetch will take this many steps (months; unknown for GitHub pages)."""

    def step_done(self, what: str, new: int) -> None:
        """One month or page was read (or found up to date); ``new`` messages were stored."""


async def fetch_archive(
    db: DbCall,
    source: ArchiveSource,
    *,
    since: Month | None,
    until: Month | None,
    now: datetime,
    requests_used: Callable[[], int] = lambda: 0,
    progress: FetchProgress | None = None,
) -> FetchReport:
    """Fetch every month from ``since`` (or where earlier fetches started) to ``until``/now."""
    progress = progress or FetchProgress()
    report = FetchReport(source.label)
    try:
        start = since or await _resume_month(db, source)
        if start is None:
            raise UserError(f"{source.label}: name the first month to fetch with --since YYYY-MM")
        todo = months(start, until or Month.of(now))
        progress.planned(len(todo))
        for month in todo:
            new = await _fetch_month(db, source, month, now, report)
            progress.step_done(str(month), new)
    except (FetchFailed, BudgetSpent, NotMailError) as error:
        report.error = str(error)  # the caller says it, once
        logger.info("%s", error)
    report.requests = requests_used()
    return report


async def _resume_month(db: DbCall, source: ArchiveSource) -> Month | None:
    stored = await db(lambda store: source_store.first_fetched_month(store, source.key))
    if stored is not None:
        return Month.parse(stored)
    return await source.first_month()


async def _fetch_month(
    db: DbCall, source: ArchiveSource, month: Month, now: datetime, report: FetchReport
) -> int:
    """Fetch one month unless it is known to be whole; the number of new messages."""
    state = await db(lambda store: source_store.month_state(store, source.key, str(month)))
    if state is not None and state.settled:
        report.skipped += 1
        return 0
    if state is not None and state.marker and await source.unchanged(month, state.marker):
        await db(lambda store: _record(store, source, month, now, state.messages, None))
        report.skipped += 1
        return 0
    archive = await source.fetch_month(month)
    counts = await db(lambda store: store_month(store, source, month, archive, now))
    report.fetched.append(str(month))
    report.counts += counts
    return counts.new


def store_month(
    store: Store, source: ArchiveSource, month: Month, archive: MonthArchive, now: datetime
) -> IngestCounts:
    """Store a fetched month as an import would, with the archive's ids; then mark it fetched."""
    messages = list(split_mbox_bytes(archive.mbox, f"{source.label}, {month}"))
    message_ids = [mid for mid in (message_id_of(m.raw) for m in messages) if mid]
    with store.copies_from(source.key, authoritative=source.authoritative):
        imported = import_messages(store, messages, ImportReport())
    source_store.record_archive_ids(store, source.key, _ids(source, archive, message_ids), now=now)
    _record(store, source, month, now, len(messages), archive.marker)
    return imported.counts


def _ids(source: ArchiveSource, archive: MonthArchive, message_ids: list[str]) -> list[ArchiveId]:
    derived = (source.archive_id(message_id) for message_id in message_ids)
    return [*archive.ids, *(i for i in derived if i is not None)]


def _record(
    store: Store,
    source: ArchiveSource,
    month: Month,
    now: datetime,
    messages: int,
    marker: str | None,
) -> None:
    source_store.record_month(
        store,
        source.key,
        str(month),
        fetched_at=now,
        settled=month.settled_by(now),
        messages=messages,
        marker=marker,
    )
