"""The one path mail takes into the store, whether it came by SMTP or from an archive.

Parsing is pure and CPU-bound, so a large import spreads it over worker
processes while this process stays the single writer. Batches are kept in
a bounded window so memory does not grow with the archive.

An import is a pipeline: this process reads and splits the files, hashes each
message (bytes seen before are skipped without parsing: that is what makes a
re-import cheap), and sends the rest in batches to the workers, which parse
them and also :func:`~bot.store.prepare` them for the store (JSON columns, RFC
link tokens), so that what comes back is what the writer needs and nothing
more: not the raw bytes, which it still holds. Meanwhile this process stores
the batches that came back, inside :meth:`~bot.store.Store.bulk_ingest`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice
from multiprocessing.context import BaseContext
from pathlib import Path

from bot import computing
from bot.adapters.archives import (
    DamagedArchiveError,
    NotMailError,
    RawMessage,
    iter_paths,
    read_messages,
)
from bot.core.mail import Envelope, content_key, parse_mail, unparseable_post
from bot.model import Post
from bot.store import (
    BULK_COMMIT_MESSAGES,
    InboundMail,
    IngestCounts,
    PreparedPost,
    Store,
    compress,
    packed,
    prepare,
)
from bot.store import parts as parts_store

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# Beside a running `quorum run` an import stores and commits this many messages at a time:
# each of its deliveries waits for the import's transaction under way (python -m
# bench.hostile: p99 time to 250 during an import 34 ms at 50, 131 ms at 200).
SHARED_COMMIT_MESSAGES = 50
# What a worker gets per message: raw bytes, mbox "From " line, content key.
_Item = tuple[bytes, str | None, str]
# The store's current compression dictionary, sent to the workers: (id, bytes).
Dictionary = tuple[int, bytes]
# Below this much input, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD_BYTES = 8 * 1024 * 1024
# `quorum run`'s parser process: below the server, above the computing process.
PARSER_NICENESS = 5


@dataclass
class ImportReport:
    """What `quorum import` tells the user at the end."""

    counts: IngestCounts = field(default_factory=IngestCounts)
    errors: list[str] = field(default_factory=list)
    files: int = 0
    # Files read up to damage (a truncated .gz): counted in errors too.
    damaged: int = 0

    def summary(self) -> str:
        c = self.counts
        line = (
            f"read {c.read}, new {c.new}, already known {c.known},"
            f" kept with defects {c.with_defects}"
        )
        if len(self.errors) > self.damaged:
            line += f"; {len(self.errors) - self.damaged} file(s) not imported"
        if self.damaged:
            line += f"; {self.damaged} file(s) damaged, read up to the damage"
        return line


def parse_batch(
    batch: list[_Item], arrived_at: datetime, dictionary: Dictionary | None = None
) -> list[PreparedPost]:
    """Parse and prepare a batch for the store (runs in worker processes).

    Only the prepared posts go back: the importer still holds the raw bytes. With the
    store's ``dictionary`` they also go back compressed, which is CPU the single
    writer then does not spend.
    """
    prepared = [
        prepare(_parse_or_keep(raw, Envelope(arrived_at, from_line, via="archive")), raw_key)
        for raw, from_line, raw_key in batch
    ]
    if dictionary is None:
        return prepared
    packer = compress.packer_for(*dictionary)
    return [packed(item, raw, packer) for item, (raw, _, _) in zip(prepared, batch, strict=True)]


def import_paths(
    store: Store,
    paths: list[Path],
    *,
    on_progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    report: ImportReport | None = None,
    commit_every: int | None = None,
) -> ImportReport:
    """Import files and directories; a file that is not mail is reported, the rest goes on.

    ``report`` (a fresh one by default) is filled in as batches are committed, so a
    caller still holds what was done when the import stops early. ``commit_every``
    messages are committed at once (default: bot.store.BULK_COMMIT_MESSAGES).
    """
    report = report if report is not None else ImportReport()
    files = list(iter_paths(paths))
    return import_messages(
        store,
        _messages(files, report),
        report,
        on_progress=on_progress,
        workers=workers if workers is not None else (lambda: _default_workers(files)),
        commit_every=commit_every,
    )


def import_messages(
    store: Store,
    messages: Iterable[RawMessage],
    report: ImportReport | None = None,
    *,
    on_progress: Callable[[int], None] | None = None,
    workers: int | Callable[[], int] = 1,
    bulk: bool = True,
    commit_every: int | None = None,
) -> ImportReport:
    """Store raw messages from anywhere (files, a fetched archive) the way an import does.

    ``workers`` may be a function, asked only once there is something new to parse.
    ``bulk=False`` stores a few messages inside a running app or an open transaction:
    the same parse and keys, without bulk_ingest's settings, threads and commits.
    """
    report = report if report is not None else ImportReport()
    arrived_at = datetime.now(UTC)
    batches = _unknown_only(store, _batches(iter(messages), BATCH_SIZE), report)
    first = next(batches, None)
    if first is None:
        return report  # nothing new (a re-import): no workers, nothing to store
    batches = chain([first], batches)
    if not bulk:
        parsed: Iterable[tuple[list[_Item], list[PreparedPost]]] = (
            (batch, parse_batch(batch, arrived_at)) for batch in batches
        )
        _store_all(store, parsed, report, on_progress)
        return report
    if callable(workers):
        workers = workers()
    group = commit_every or BULK_COMMIT_MESSAGES
    if workers <= 1:
        with store.bulk_ingest():
            parsed = ((batch, parse_batch(batch, arrived_at)) for batch in batches)
            _store_all(store, parsed, report, on_progress, group)
        return report
    # The workers start before bulk_ingest starts its checkpoint thread (see _worker_pool).
    with _worker_pool(workers) as pool, store.bulk_ingest():
        parsed = _bounded_map(pool, batches, arrived_at, workers * 2, lambda: _dictionary(store))
        _store_all(store, parsed, report, on_progress, group)
    return report


def _store_all(
    store: Store,
    parsed: Iterable[tuple[list[_Item], list[PreparedPost]]],
    report: ImportReport,
    on_progress: Callable[[int], None] | None,
    group: int | None = None,
) -> None:
    """Store each parsed batch: one transaction each, or with ``group`` one for every
    ``group`` messages (:meth:`~bot.store.Store.ingest_group`). What a transaction
    stored is reported once it is committed."""
    pieces = _pieces(parsed, group)
    if group is None:
        for items in pieces:
            _stored(report, on_progress, store.ingest_prepared(items), len(items))
        return
    for first in pieces:
        counts, messages = IngestCounts(), 0
        with store.ingest_group():
            # The same iterator: the group takes pieces until it holds enough.
            for items in chain([first], pieces):
                counts += store.ingest_prepared(items)
                messages += len(items)
                if messages >= group:
                    break
        _stored(report, on_progress, counts, messages)


def _pieces(
    parsed: Iterable[tuple[list[_Item], list[PreparedPost]]], most: int | None
) -> Iterator[list[tuple[PreparedPost, bytes]]]:
    """Each batch's posts with their raw bytes, cut in pieces of ``most`` if larger."""
    for batch, prepared in parsed:
        items = list(zip(prepared, (raw for raw, _, _ in batch), strict=True))
        step = most or len(items) or 1
        for start in range(0, len(items), step):
            yield items[start : start + step]


def _stored(
    report: ImportReport,
    on_progress: Callable[[int], None] | None,
    counts: IngestCounts,
    messages: int,
) -> None:
    report.counts += counts
    if on_progress is not None:
        on_progress(messages)


def _messages(files: list[Path], report: ImportReport) -> Iterator[RawMessage]:
    for path in files:
        report.files += 1
        try:
            yield from read_messages(path)
        except (NotMailError, DamagedArchiveError) as error:
            # The report names it (`quorum import` prints it once, as its error line).
            logger.info("%s", error)
            report.errors.append(str(error))
            report.damaged += isinstance(error, DamagedArchiveError)
        except OSError as error:
            report.errors.append(f"{path}: cannot read: {error.strerror or error}")


def _batches(messages: Iterator[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    while batch := list(islice(messages, size)):
        yield batch


def _unknown_only(
    store: Store, batches: Iterator[list[RawMessage]], report: ImportReport
) -> Iterator[list[_Item]]:
    """Drop messages whose exact bytes were ingested before: re-import costs a hash, no parse."""
    for batch in batches:
        keys = [content_key(item.raw) for item in batch]
        known = store.known_raw(keys)
        fresh = [
            (item.raw, item.mbox_from_line, key)
            for item, key in zip(batch, keys, strict=True)
            if key not in known
        ]
        skipped = len(batch) - len(fresh)
        if skipped:
            report.counts += IngestCounts(read=skipped, known=skipped)
        if fresh:
            yield fresh


def _bounded_map(
    pool: ProcessPoolExecutor,
    batches: Iterator[list[_Item]],
    arrived_at: datetime,
    window: int,
    dictionary: Callable[[], Dictionary | None],
) -> Iterator[tuple[list[_Item], list[PreparedPost]]]:
    """Like pool.map, but never reads more than ``window`` batches ahead of the writer."""
    pending: deque[tuple[list[_Item], Future[list[PreparedPost]]]] = deque()
    for batch in batches:
        pending.append((batch, pool.submit(parse_batch, batch, arrived_at, dictionary())))
        if len(pending) >= window:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()


def _dictionary(store: Store) -> Dictionary | None:
    """The store's current dictionary, once it has one (the first batches have none)."""
    packer = store.codec.packer
    return (packer.dict_id, packer.data) if packer.data else None


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    """The worker processes, all started before this returns.

    Forked where that is safe, so that a worker starts with every module this
    process has imported: spawned, each would import them again (about 0.15 s
    of CPU, and under `quorum` the whole command line's 0.6 s), which is a tenth
    of a 10,000-message import. Forking is only safe while this process runs no
    other thread (a thread's held lock would stay held in the child forever), so
    the pool is started before any thread of the import's own, and a caller that
    runs threads of its own (a progress bar) gets a fork server instead. (Only on
    Linux: macOS's system libraries are not safe to fork, and Windows only spawns.)
    """
    methods = multiprocessing.get_all_start_methods()
    context: BaseContext
    if sys.platform == "linux" and threading.active_count() == 1:
        context = multiprocessing.get_context("fork")
    elif "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        # Imported once, by the server, instead of by every worker it forks.
        context.set_forkserver_preload(["__main__", __name__])
    else:
        context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    # With fork, the first task starts every worker at once, before the pool's own thread.
    pool.submit(int).result()
    return pool


def _default_workers(files: list[Path]) -> int:
    total = sum(path.stat().st_size for path in files if path.exists())
    if total < PARALLEL_THRESHOLD_BYTES:
        return 1
    return max(1, os.cpu_count() or 1)


def process_inbox(
    store: Store, limit: int = BATCH_SIZE, *, max_batches: int | None = None
) -> IngestCounts:
    """Normalise and store what the SMTP endpoint accepted; exactly once, even after a crash.

    Each batch of at most ``limit`` messages is one transaction. ``max_batches``
    stops early and leaves the rest in the inbox, so that other writes (the
    endpoint's next deliveries) can come in between.
    """
    total = IngestCounts()
    batches = 0
    while max_batches is None or batches < max_batches:
        pending = store.pending_inbound(limit)
        if not pending:
            break
        total += store_inbound(store, pending, parse_inbound(pending))
        batches += 1
    return total


def parse_inbound(pending: Sequence[InboundMail]) -> list[PreparedPost]:
    """Parse and prepare accepted deliveries: the CPU part, which needs no store.

    `quorum run` does this off the writer thread, so that parsing a large or
    hostile message never holds up the commits other senders wait for.
    """
    return [
        prepare(
            _parse_or_keep(mail.raw, Envelope(mail.received_at, via="smtp")),
            content_key(mail.raw),
        )
        for mail in pending
    ]


def parse_stored_parts(db_path: str, mail: InboundMail) -> PreparedPost:
    """:func:`parse_inbound` of one delivery stored in parts, reading them itself.

    Runs in a worker process of `quorum run`: a message of many megabytes costs
    single steps of tens of milliseconds (copies, hashes, decodes) that would hold
    the server's interpreter lock, and with it every other sender's 250.
    """
    if mail.raw_parts is None:
        raise ValueError(f"inbox row {mail.id} is not stored in parts")
    store = Store.open_reader(db_path)
    try:
        raw = parts_store.joined(store, mail.raw_parts)
    finally:
        store.close()
    return prepare(_parse_or_keep(raw, Envelope(mail.received_at, via="smtp")), content_key(raw))


def parser_process() -> ProcessPoolExecutor:
    """One worker process for :func:`parse_stored_parts`.

    Spawned, not forked from a fork server: a fork server's children outlived a
    ``kill -9`` of `quorum run`, holding its output pipes. At PARSER_NICENESS:
    accepting mail comes before reading it, and reading it before the computing
    process's views (:data:`bot.computing.NICENESS`).
    """
    return computing.helper_process(PARSER_NICENESS)


def store_inbound(
    store: Store,
    pending: Sequence[InboundMail],
    prepared: Sequence[PreparedPost],
    *,
    until: float | None = None,
) -> IngestCounts:
    """Store parsed deliveries and drop them from the inbox, in one transaction.

    With ``until`` (a time.monotonic() instant) only the first of them that can be
    stored by then (at least one), as :meth:`~bot.store.Store.ingest_prepared`
    says: the counts' ``read`` is how many; the rest stay in the inbox.
    """
    items = zip(prepared, (mail.raw for mail in pending), strict=True)
    parts = {
        item.raw_key: mail.raw_parts
        for item, mail in zip(prepared, pending, strict=True)
        if mail.raw_parts
    }
    return store.ingest_prepared(
        items, done_inbox_ids=[mail.id for mail in pending], raw_parts=parts, until=until
    )


def _parse_or_keep(raw: bytes, envelope: Envelope) -> Post:
    """parse_mail, but a message it fails on is kept with a defect: one bad mail must
    never block the inbox (it would be retried, and fail, forever)."""
    try:
        return parse_mail(raw, envelope)
    except Exception as error:
        logger.exception("could not parse a message; kept with an 'unparseable' defect")
        return unparseable_post(raw, envelope, error)
