"""Composition root: builds every part, starts them together and stops them together.

SQLite is written from exactly one thread (the writer executor), which keeps
the "one writer" rule without locks and keeps the event loop free while a
batch is being committed. The dashboard reads from a second thread over a
read-only connection, so a slow page never delays a commit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web as aiohttp_web

from bot import computing
from bot.adapters import smtp
from bot.adapters.outbound_mail import MailChannel, proves_delivery
from bot.adapters.slack import slack_channels
from bot.config import Config, DiscourseConfig
from bot.core.rules import came_through_list
from bot.dispatch import Channel, Dispatcher, DispatchReport
from bot.features import decide_all, scheduled, views
from bot.features.links import archive_of
from bot.ingest import (
    ImportReport,
    import_paths,
    parse_inbound,
    parse_stored_parts,
    parser_process,
    process_inbox,
    store_inbound,
)
from bot.logs import event
from bot.metrics import ForumReading, GitHubReading, Metrics
from bot.runlock import RunLock
from bot.scheduler import Job, Scheduler
from bot.store import InboundMail, IngestCounts, PreparedPost, Store, settings
from bot.store import jobs as job_runs
from bot.store import parts as raw_parts
from bot.store import rfc_links as rfc_store
from bot.store.outbox import Outbox
from bot.sync.extraction import EXTRACTOR_EVERY, ConcernExtractor, ExtractionRun
from bot.sync.forum import DiscourseChannel, ForumService
from bot.sync.github import GitHubService
from bot.web import WebContext, start_web
from bot.writer import WriterThread

logger = logging.getLogger(__name__)
T = TypeVar("T")

FEATURES_EVERY = timedelta(minutes=5)
# How often the dashboard's views catch up with new mail when no tick does it first.
VIEWS_EVERY = timedelta(seconds=30)
# Batches of stale views a features tick takes in before it decides. The views job takes
# in the rest: under a stream of mail the backlog renews itself, and a tick that waited
# for it ran past 60 s at 10,000 messages (py-spy: 93 % of it recomputing ledgers the
# load's mail had reached). One batch holds the views whose due time the clock passed
# (votes closing, RFCs going quiet), so what time changes is still taken in first.
TICK_VIEW_BATCHES = 1
# Benchmarks run ticks under load without waiting five minutes for each (bench/history.py):
# seconds between features ticks, when set. Not a setting for production.
FEATURES_EVERY_ENV = "QUORUM_BENCH_FEATURES_EVERY_SECONDS"
DISPATCH_EVERY = timedelta(minutes=1)
# Accepting mail comes before processing it. In a flood (deliveries stored faster than
# PROCESS_FLOOD_RATE a second, a hundred times a busy list's worst minute) they are
# answered at full speed and processed when it ebbs, but never more than PROCESS_LAG_MAX
# late; past that, processing goes on regardless. It reads and parses PROCESS_CHUNK
# messages at a time and stores them in slices of STORE_SLICE_SECONDS, each a writer job
# of its own, so a delivery arriving meanwhile waits for one slice, never for the chunk
# or the backlog. Nobody notices a bot that reads a flood of mail a few seconds late; a
# sending MTA notices every slow 250.
PROCESS_FLOOD_RATE = 1_000.0  # deliveries a second
PROCESS_LAG_MAX = 10.0  # seconds
WRITER_STUCK_SECONDS = 60.0
# WAL lengths (4 KiB pages) at which the writer checkpoints: between processing chunks,
# and as a bound during a flood, when no chunk runs (see Store.checkpoint_aside).
WAL_PAGES_CHECKPOINT = 8_000
WAL_PAGES_MAX = 65_536
PROCESS_CHUNK = 25  # messages read and parsed at once
# How long one writer job goes on storing a chunk's messages (see _store_slice).
STORE_SLICE_SECONDS = 0.004
# The environment variable that may hold the key outgoing Message-IDs are signed with.
MESSAGE_ID_SECRET_ENV = "QUORUM_MESSAGE_ID_SECRET"  # noqa: S105 (a variable's name)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the running app can be reached (ports may be ephemeral in tests)."""

    smtp: tuple[str, int] | None
    webhooks: tuple[str, int] | None = None
    web: tuple[str, int] | None = None
    github: tuple[str, int] | None = None


class App:
    def __init__(
        self,
        config: Config,
        db_path: Path,
        *,
        discourse: DiscourseConfig | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.clock = clock
        self.db_path = db_path
        # The [discourse] section; forums are followed only when it exists.
        self.discourse = discourse or getattr(config, "discourse", None)
        self.forums: ForumService | None = None
        # GitHub repositories read directly; only when the [github] section exists.
        self.github: GitHubService | None = None
        # One server per store: a second `quorum run` on it refuses to start.
        self._run_lock = RunLock(db_path) if str(db_path) != ":memory:" else None
        self._writer = WriterThread("quorum-writer_0")
        # When the writer's job under way started (None: idle), for /healthz.
        self._writer_busy_since: float | None = None
        self._store: Store | None = None
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quorum-reader")
        # Parsing accepted mail: CPU work that must never hold the writer (see _process_chunk).
        self._parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quorum-parser")
        # Messages stored in parts are parsed in a process of their own (started when needed).
        self._parser_process: ProcessPoolExecutor | None = None
        # The scheduled work's heavy reading (views, features), in a process of its own
        # (bot/computing.py): started on first use, started again if it died.
        self._computing: Executor | None = None
        # One RFC regrouping at a time: each is planned against the links the one
        # before it wrote (see regroup_rfcs).
        self._regrouping = asyncio.Lock()
        self._read_store: Store | None = None
        # What the store runs while the app does (background WAL checkpoints).
        self._store_scope = ExitStack()
        # The store's lock file, held from start to stop: one app per store (and no restore).
        self._lock = ExitStack()
        self._smtp_server: asyncio.Server | None = None
        self._smtp_handler: smtp.InboundHandler | None = None
        # Owners of raw parts being written by a delivery right now (see _persist_in_parts).
        self._writing_parts: set[str] = set()
        self._work = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.processed = IngestCounts()
        self.dispatcher: Dispatcher | None = None
        self._web: aiohttp_web.AppRunner | None = None
        self.scheduler: Scheduler | None = None
        # Signs outgoing Message-IDs (set at start: see _delivery_key).
        self._message_id_key = b""
        # Called with every dispatch report; `quorum run` prints dry-run messages with it.
        self.on_dispatch: Callable[[DispatchReport], None] | None = None
        # Counted always (it costs nothing); served at /metrics only when web.metrics is on.
        self.metrics = Metrics(clock)

    # -- store access ------------------------------------------------------------------

    async def db(self, call: Callable[[Store], T], *, first: bool = False) -> T:
        """Run ``call(store)`` on the single writer thread; with ``first`` (a delivery's
        commit, which a sender waits for) ahead of the other jobs waiting."""
        submit = self._writer.submit_first if first else self._writer.submit
        return await asyncio.wrap_future(submit(self._write_now, call, time.monotonic(), first))

    def _write_now(self, call: Callable[[Store], T], submitted: float, first: bool) -> T:
        started = self._writer_busy_since = time.monotonic()
        try:
            return call(self._require_store())
        finally:
            self._writer_busy_since = None
            ended = time.monotonic()
            self.metrics.writer_job(
                job_name(call), started - submitted, ended - started, first=first
            )

    async def read(self, call: Callable[[Store], T]) -> T:
        """Run ``call(store)`` on the reader thread, over a read-only connection of its own,
        in one read transaction (so it sees one state of the store throughout).

        The dashboard reads here: a snapshot of a large store takes seconds, and on
        the writer thread every SMTP delivery would wait behind it for its commit.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, self._read_now, call)

    def _read_now(self, call: Callable[[Store], T]) -> T:
        if self._read_store is None:
            self._read_store = Store.open_reader(self.db_path)
        with self._read_store.read_transaction():
            return call(self._read_store)

    async def compute(self, call: computing.Reading[T], *, in_steps: bool = False) -> T:
        """Run ``call(store, config)`` in the computing process, read-only.

        Its CPU time never holds up the event loop that answers SMTP. An in-memory
        store has no second connection, so there it runs on the reader thread.
        ``in_steps``: ``call`` opens its own short read transactions
        (:func:`computing.run_in_steps`) instead of running in one.
        """
        if str(self.db_path) == ":memory:":
            return await self.read(lambda store: call(store, self.config))
        loop = asyncio.get_running_loop()
        pool = await self._computing_process()
        try:
            run = computing.run_in_steps if in_steps else computing.run
            return await loop.run_in_executor(pool, run, call)
        except BrokenProcessPool:
            # Killed (the OOM killer, a signal): this run fails, the next starts another.
            self._computing = None
            raise

    async def _computing_process(self) -> Executor:
        """The computing process, started if it is not running (on the reader thread:
        starting it waits for the process to import Quorum, which the loop must not)."""
        if self._computing is None:
            loop = asyncio.get_running_loop()
            start = partial(computing.computing_process, self.db_path, self.config)
            self._computing = await loop.run_in_executor(self._reader, start)
        return self._computing

    def _require_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("store is not open")
        return self._store

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, *, helpers_first: bool = False) -> Endpoints:
        """Open the store and start serving; ``helpers_first``: start the computing
        process before the endpoints accept anything (`quorum run`).

        The process imports Quorum as it starts, a second or more of CPU, and it is
        started on the reader thread. Started on first use (the tick at start), the
        dashboard's first page after a start waited for it (0.7-1.5 s, against 24 ms
        once it runs first), and on a busy machine so did the first senders' answers.
        Tests that start an app leave it to first use.
        """
        if self._run_lock is not None:
            self._run_lock.acquire()  # before anything else: a second server changes nothing
        try:
            return await self._start(helpers_first)
        except BaseException:
            if self._run_lock is not None:
                self._run_lock.release()
            raise

    async def _start(self, helpers_first: bool) -> Endpoints:
        loop = asyncio.get_running_loop()
        if self.discourse is not None:
            # Reads the API keys first: a missing one fails here, before anything runs.
            self.forums = ForumService(self.discourse, self.db, self._work.set)
        if self.config.github is not None:
            # Reads the webhook secret first, as the forums read their keys.
            self.github = GitHubService(self.config.github, self.db, self._work.set)
        self._store = await loop.run_in_executor(self._writer, Store.open, self.db_path)
        # A delivery only marks the threads whose RFC links changed; refresh_views
        # regroups them off the writer. (An in-memory store has no computing process.)
        self._store.defer_rfc_links = str(self.db_path) != ":memory:"
        # Senders wait for the writer: it must seldom wait for a checkpoint's syncs.
        await self.db(
            lambda store: self._store_scope.enter_context(
                store.checkpoint_aside(every=0.1, writer_pages=WAL_PAGES_MAX)
            )
        )
        self._message_id_key = await self._delivery_key()
        if helpers_first and str(self.db_path) != ":memory:":
            await self._computing_process()
        self.dispatcher = Dispatcher(
            self.db,
            self._channels(),
            self.config.dispatch,
            clock=self.clock,
            echo_proof=self._is_our_delivered_mail,
        )
        self._worker = asyncio.create_task(self._process_forever(), name="quorum-worker")
        self._work.set()  # mail accepted before a crash is processed first
        endpoints = Endpoints(smtp=None)
        if self.config.smtp.enabled:
            endpoints = Endpoints(smtp=await self._start_smtp())
        if self.forums is not None:
            endpoints = replace(endpoints, webhooks=await self.forums.start())
        if self.github is not None:
            endpoints = replace(endpoints, github=await self.github.start())
        if self.config.web.enabled:
            context = WebContext(
                db=self.read,
                config=self.config,
                clock=self.clock,
                health=self.health,
                settings=self.config.web,
                metrics=self.scrape_metrics,
                refresh=self.refresh_now,
            )
            self._web, address = await start_web(
                context, self.config.web.host, self.config.web.port
            )
            endpoints = replace(endpoints, web=address)
        return endpoints

    def health(self) -> dict[str, Any]:
        """What /healthz reports besides the database: the endpoint, the worker, the pollers."""
        smtp_state: dict[str, Any] | None = None
        if self._smtp_server is not None:
            host, port = self._smtp_server.sockets[0].getsockname()[:2]
            smtp_state = {"ok": self._smtp_server.is_serving(), "address": f"{host}:{port}"}
        since = self._writer_busy_since
        busy_for = 0.0 if since is None else time.monotonic() - since
        return {
            "smtp": smtp_state,
            "worker": {"ok": self._worker is not None and not self._worker.done()},
            # Every delivery waits for the writer: one job that long means mail is stuck.
            "writer": {"ok": busy_for < WRITER_STUCK_SECONDS, "busy_for_s": round(busy_for, 1)},
            "pollers": self.forums.poller_health() if self.forums is not None else {},
        }

    async def scrape_metrics(self) -> tuple[bytes, str]:
        """One Prometheus scrape: the store is read on the reader thread, never the writer's."""
        return await self.metrics.scrape(self.read, self._forum_readings(), self._github_reading())

    def _forum_readings(self) -> dict[str, ForumReading]:
        if self.forums is None:
            return {}
        return {
            name: ForumReading(
                requests_left=client.budget.remaining(),
                requests_per_window=client.budget.limit,
                errors=dict(client.errors),
                last_poll_ok=self.forums.last_poll_ok.get(name),
            )
            for name, client in self.forums.clients.items()
        }

    def _github_reading(self) -> GitHubReading | None:
        # Only what `quorum run` polls: webhooks alone spend no quota worth watching.
        github = self.github
        if github is None or github.config.poll_minutes <= 0:
            return None
        quota = github.rate_limit
        return GitHubReading(
            rate_limit_remaining=quota.remaining if quota is not None else None,
            rate_limit=quota.limit if quota is not None else None,
            rate_limit_reset=quota.reset_at if quota is not None else None,
            requests_last_poll=github.last_poll_requests,
            requests_per_poll=github.config.max_requests,
            errors=dict(github.errors),
            last_poll_ok=github.last_poll_ok,
        )

    async def _start_smtp(self) -> tuple[str, int]:
        settings = self.config.smtp
        self._smtp_handler = smtp.InboundHandler(
            settings.accept,
            smtp.GroupCommit(
                self._persist_deliveries,
                persist_large=self._persist_in_parts,
                large_bytes=raw_parts.RAW_PART_BYTES,
            ),
            self._work.set,
            limits=smtp.FloodLimits(
                per_sender=settings.max_messages_per_sender_per_minute,
                per_peer=settings.max_messages_per_peer_per_minute,
            ),
            on_answer=self.metrics.smtp_answer,
        )
        self._smtp_server = await smtp.start_smtp_server(
            self._smtp_handler,
            host=settings.host,
            port=settings.port,
            max_message_bytes=settings.max_message_bytes,
            hostname=self.config.bot.address.partition("@")[2] or "quorum.local",
        )
        host, port = self._smtp_server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def _persist_deliveries(self, deliveries: list[smtp.Delivery]) -> list[int]:
        return await self.db(lambda store: store.enqueue_inbound_many(deliveries), first=True)

    async def _persist_in_parts(self, delivery: smtp.Delivery) -> int:
        """A large delivery: its bytes one part per writer job, then its inbox row.

        Other senders' commits run between the parts, so however large a message
        is (up to the size limit), nobody else waits more than one part's write.
        """
        owner = f"raw:{uuid.uuid4().hex}"
        self._writing_parts.add(owner)
        try:
            size = raw_parts.RAW_PART_BYTES
            for seq, start in enumerate(range(0, len(delivery.raw), size)):
                part = delivery.raw[start : start + size]
                await self.db(
                    partial(raw_parts.write_part, owner=owner, seq=seq, data=part), first=True
                )
            return await self.db(
                lambda store: raw_parts.enqueue_in_parts(store, delivery, owner), first=True
            )
        finally:
            self._writing_parts.discard(owner)

    async def _sweep_parts(self) -> None:
        """Delete parts nothing names (a delivery cut off, a duplicate), one per writer job."""
        while True:
            found = await self.db(
                # The set is copied here, on the event loop, not read from the writer thread.
                partial(raw_parts.orphans, limit=16, writing=frozenset(self._writing_parts))
            )
            if not found:
                return
            for owner, seq in found:
                await self.db(partial(raw_parts.delete_part, owner=owner, seq=seq))

    async def _process_forever(self) -> None:
        while True:
            await self._work.wait()
            behind_since = time.monotonic()
            total = IngestCounts()
            more = True
            while more:
                self._work.clear()  # what is stored from now on sets it again
                await self._quiet_moment(until=behind_since + PROCESS_LAG_MAX)
                try:
                    counts, more = await self._process_chunk()
                except Exception:
                    # Rows stay in the inbox and are retried on the next wake-up or restart.
                    logger.exception("processing the inbox failed", extra=event("inbox.failed"))
                    break
                total += counts
            if total.read:
                logger.info(
                    "processed %d message(s), %d new",
                    total.read,
                    total.new,
                    extra=event("inbox.processed", read=total.read, new=total.new),
                )
            try:
                await self._sweep_parts()
            except Exception:
                logger.exception("deleting orphaned message parts failed; retried later")

    async def _quiet_moment(self, until: float) -> None:
        """Wait while the SMTP endpoint is flooded with deliveries, but not past ``until``."""
        handler = self._smtp_handler
        if handler is None:
            return
        while (now := time.monotonic()) < until:
            # A delivery waiting for its commit right now is never made to wait for a chunk.
            if not handler.in_flight and handler.rate.per_second(now) < PROCESS_FLOOD_RATE:
                return
            await asyncio.sleep(min(0.02, until - now))

    async def _process_chunk(self) -> tuple[IngestCounts, bool]:
        """One chunk of the inbox, then the forum's webhooks; and whether mail is left.

        The writer only reads the chunk and stores it; parsing happens in between on
        a thread of its own, so one huge or hostile message (a 10 MB body of short
        lines takes seconds to read) never holds up the commits senders wait for.
        """
        pending = await self.db(
            lambda store: store.pending_inbound(PROCESS_CHUNK, load_parts=False)
        )
        prepared = await self._parse(pending)
        counts = IngestCounts()
        left = list(zip(pending, prepared, strict=True))
        while left:
            done = await self.db(partial(_store_slice, left=left))
            self._count_processed(done)
            counts += done
            left = left[done.read :]

        def webhooks_and_checkpoint(store: Store) -> IngestCounts:
            store.checkpoint_if_long(WAL_PAGES_CHECKPOINT)
            return self._process_webhooks(store)

        webhooks = await self.db(webhooks_and_checkpoint)
        self._count_processed(webhooks)
        return counts + webhooks, len(pending) >= PROCESS_CHUNK

    def _count_processed(self, counts: IngestCounts) -> None:
        """As each writer job commits, so that the counts never lag behind the store."""
        self.processed += counts
        self.metrics.count_processed(counts)

    async def _parse(self, pending: list[InboundMail]) -> list[PreparedPost]:
        """Parse on the parser thread; messages stored in parts in the parser process.

        Small messages stay on a thread of this process. Parsing them in the parser
        process took about 30 % of the interpreter lock's time off this process
        (py-spy), but each chunk then waited for the round trip, chunks grew to their
        full size, and the writer stored them in full slices that deliveries waited
        behind: on an idle machine, p99 to `250` at 100,000 messages was 26-68 ms
        against 15-25 ms on the thread (bench.history's load, four runs each).
        """
        loop = asyncio.get_running_loop()
        small = [mail for mail in pending if mail.raw_parts is None]
        parsed = iter(await loop.run_in_executor(self._parser, parse_inbound, small))
        prepared: list[PreparedPost] = []
        path = str(self.db_path)
        for mail in pending:
            if mail.raw_parts is None:
                prepared.append(next(parsed))
                continue
            parser = await self._parsing()
            try:
                # Its bytes are read there too: they may be many megabytes.
                job = loop.run_in_executor(parser, parse_stored_parts, path, mail)
                prepared.append(await job)
            except BrokenProcessPool:
                # Killed (the OOM killer, a signal): the chunk stays in the inbox and
                # is parsed by another process at the next wake-up.
                self._parser_process = None
                raise
        return prepared

    async def _parsing(self) -> ProcessPoolExecutor:
        """The parser process, started on first use (on a thread: starting it waits
        for the process to import Quorum, which the event loop must not)."""
        if self._parser_process is None:
            loop = asyncio.get_running_loop()
            self._parser_process = await loop.run_in_executor(self._parser, parser_process)
        return self._parser_process

    def _process_pending(self, store: Store) -> IngestCounts:
        """Mail the SMTP endpoint accepted, then webhooks the forum endpoint accepted."""
        return process_inbox(store) + self._process_webhooks(store)

    def _process_webhooks(self, store: Store) -> IngestCounts:
        forum = self.forums.process_webhooks(store) if self.forums is not None else IngestCounts()
        return forum + (self.github.process(store) if self.github is not None else IngestCounts())

    # -- features, outbox and schedule ----------------------------------------------------

    async def _delivery_key(self) -> bytes:
        """The key our Message-IDs are signed with: from the environment, else made once
        and kept in the store. Never logged."""
        given = os.environ.get(MESSAGE_ID_SECRET_ENV, "").strip()
        if given:
            return given.encode("utf-8")
        return await self.db(settings.message_id_key)

    def _is_our_delivered_mail(self, key: str, message_id: str, list_id: str | None) -> bool:
        """A stored mail settles uncertain action ``key`` only if the list distributed it
        and its Message-ID carries our signature of that key (see message_id_for)."""
        return came_through_list(list_id, self.config.project.list_address) and (
            proves_delivery(key, message_id, secret=self._message_id_key)
        )

    def _channels(self) -> dict[str, Channel[Any]]:
        config = self.config
        channels = outbound_channels(config, self._message_id_key)
        if self.forums is not None and self.discourse is not None:
            channels["discourse"] = DiscourseChannel(
                self.forums,
                enabled=self.discourse.post_replies,
                bot_name=config.bot.name,
                project=config.project.name,
            )
        return channels

    def jobs(self) -> list[Job]:
        """Everything Quorum does on its own, as data."""
        jobs = [
            Job("views", self.refresh_views, every=VIEWS_EVERY),
            Job("features", self.run_features, every=_features_every()),
            Job("dispatch", self.run_dispatch, every=DISPATCH_EVERY),
        ]
        # Features on a calendar of their own (the digest: digest.schedule, in the
        # community's time zone).
        jobs += [
            Job(
                feature.name,
                partial(self.run_scheduled, feature.name),
                cron=feature.schedule(self.config),
                timezone=self.config.project.zone(),
            )
            for feature in scheduled(self.config)
            if feature.schedule is not None
        ]
        if self.forums is not None:
            for name, every in self.forums.poll_intervals().items():
                poll = partial(self.forums.poll, name)
                jobs.append(Job(f"forum-poll-{name}", poll, every=every, background=True))
        if self.github is not None and self.github.config.poll_minutes > 0:
            every = timedelta(minutes=self.github.config.poll_minutes)
            jobs.append(Job("github-poll", self.github.poll, every=every))
        jobs.extend(self._extractor_jobs())
        return jobs

    # -- the optional concern extractor ([concerns] extractor) ---------------------------

    def _extractor_jobs(self) -> list[Job]:
        if self.config.concerns.extractor == "off":
            return []
        # In the background: a run waits for a model, and must not hold up the others.
        job = Job("concern-extractor", self.run_extractor, every=EXTRACTOR_EVERY, background=True)
        return [job]

    async def run_extractor(self, now: datetime) -> ExtractionRun:
        """Ask the endpoint about posts not yet asked about; then the views take it in.

        The views are brought up to date first: they say which discussions are active.
        """
        await self.refresh_views(now)
        result = await ConcernExtractor(self.config, self.read, self.db).run(now)
        if result.stored:
            await self.refresh_views(now)
        return result

    async def start_schedule(self) -> None:
        """Start the scheduled jobs (after the start-up import, so they see its mail)."""
        jobs = [self.metrics.timed(job) for job in self.jobs()]
        self.scheduler = Scheduler(jobs, _StoreRunLog(self), clock=self.clock)
        await self.scheduler.start()

    async def refresh_views(self, now: datetime, *, batches: int | None = None) -> int:
        """Bring the stored RFC and vote views up to date; returns how many were recomputed.

        ``batches``: take in at most that many batches and leave the rest marked (the
        features tick); None: everything that was stale when it began.

        The computing process computes, the writer stores: a delivery's commit waits for
        one short transaction at most, never for a recomputation. A backlog (a first
        start on a long history, a new configuration) is worked off in batches. One
        refresh takes on what was stale when it began: under a steady stream of mail
        new changes keep coming, and chasing them would never end; they wait for the
        next refresh.
        """
        await self.regroup_rfcs()
        total, owed, taken = 0, None, 0
        while True:
            plan = await self.compute(
                partial(views.plan, now=now, limit=views.BATCH), in_steps=True
            )
            await self.db(partial(views.apply, result=plan))
            # What it took in is deleted a batch per writer job: deliveries go between.
            while await self.db(views.forget) == views.FORGET_BATCH:
                pass
            total += plan.recomputed
            taken += 1
            left = plan.backlog
            if owed is None:
                owed = plan.recomputed + left
            if not left or total >= owed or taken == batches or self._stopping.is_set():
                return total

    async def regroup_rfcs(self) -> int:
        """Join the threads that deliveries marked into RFCs; returns the rows changed.

        The regrouping reads every thread sharing a link with a marked one (on a long
        history, a hundred copies of one "[RFC] title"), so the computing process
        reads and computes it; the writer's job is only the rows that change, and the
        triggers on ``rfc_links`` then mark just those RFCs' views.
        """
        if self._store is None or not self._store.defer_rfc_links:
            return 0  # the ingests regrouped at once (an in-memory store)
        # A plan is the change from the links it read: planned before the previous
        # one was applied, it would undo what that one wrote (the views job, a tick
        # and POST /api/refresh can each start a refresh).
        async with self._regrouping:
            regrouping = await self.compute(_plan_rfc_regrouping)
            if regrouping is None:
                return 0
            await self.db(partial(_apply_rfc_regrouping, regrouping=regrouping))
            return len(regrouping.changed) + len(regrouping.dropped)

    async def refresh_now(self) -> dict[str, int]:
        """``POST /api/refresh``: take in every change now rather than at the next tick."""
        return {"recomputed": await self.refresh_views(self.clock())}

    async def run_features(self, now: datetime) -> int:
        """Record what every feature decided, then deliver it. Returns new actions.

        The features only read (in the computing process); recording their actions is
        the writer's one short job. The tick takes in one batch of stale views, the due
        ones first; what mail changed beyond that is the views job's (every VIEWS_EVERY).
        """
        await self.refresh_views(now, batches=TICK_VIEW_BATCHES)
        actions = await self.compute(partial(decide_all, now=now))
        new = await self.db(lambda store: Outbox(store).record_all(actions, now))
        if new:
            await self.run_dispatch(now)
        return new

    async def run_dispatch(self, now: datetime) -> DispatchReport:
        if self.dispatcher is None:
            raise RuntimeError("the app is not started")
        report = await self.dispatcher.run_once(now)
        if self.on_dispatch is not None and report.outcomes:
            self.on_dispatch(report)
        return report

    async def run_scheduled(self, name: str, now: datetime) -> int:
        """One scheduled feature (the digest), whose time came: record and deliver."""
        await self.refresh_views(now)
        actions = await self.compute(partial(decide_all, now=now, only=[name]))
        new = await self.db(lambda store: Outbox(store).record_all(actions, now))
        await self.run_dispatch(now)
        return new

    async def import_on_start(self) -> ImportReport | None:
        paths = [self.config.resolve(p) for p in self.config.imports.on_start]
        if not paths:
            return None
        return await self.db(lambda store: import_paths(store, paths))

    def request_stop(self) -> None:
        self._stopping.set()

    def handle_signals(self) -> None:
        """SIGINT/SIGTERM ask for a clean stop; installed before anything is announced."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop)

    async def wait_for_stop(self) -> None:
        await self._stopping.wait()

    async def stop(self) -> None:
        """Stop accepting, finish what was accepted, then close the store."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        if self.scheduler is not None:
            await self.scheduler.stop()
            self.scheduler = None
        if self.forums is not None:
            # Stops the webhook endpoint and the pollers; stored deliveries are processed below.
            await self.forums.stop()
        if self.github is not None:
            await self.github.stop()
        if self._smtp_server is not None:
            self._smtp_server.close()
            if self._smtp_handler is not None:
                await smtp.drain(self._smtp_handler)
            self._smtp_server = None
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        if self._store is not None:
            # Whatever is still in the inbox is durable and will be processed at next start.
            try:
                await self.db(self._process_pending)
            finally:
                await self.db(lambda _: self._store_scope.close())
                await self.db(lambda store: store.close())
                self._store = None
        self._writer.shutdown(wait=True)
        self._lock.close()
        if self._read_store is not None:
            await loop.run_in_executor(self._reader, self._read_store.close)
            self._read_store = None
        self._reader.shutdown(wait=True)
        self._parser.shutdown(wait=True)
        if self._parser_process is not None:
            self._parser_process.shutdown(wait=True)
            self._parser_process = None
        if self._computing is not None:
            self._computing.shutdown(wait=True, cancel_futures=True)
            self._computing = None
        if self._run_lock is not None:
            self._run_lock.release()


def job_name(call: Callable[..., object]) -> str:
    """What a writer job does, for its metric: the function a ``partial`` wraps, or the
    method a lambda was written in ("_persist_deliveries" for its lambda)."""
    while isinstance(call, partial):
        call = call.func
    name = getattr(call, "__qualname__", "") or type(call).__name__
    parts = [part for part in name.split(".") if part not in ("<locals>", "<lambda>")]
    return parts[-1] if parts else "job"


def _store_slice(store: Store, left: list[tuple[InboundMail, PreparedPost]]) -> IngestCounts:
    """Store the first of these parsed deliveries, as many as STORE_SLICE_SECONDS takes
    (at least one), in one transaction; ``read`` counts them.

    A delivery's commit waits for the writer's job under way: a chunk stored whole
    held it for 15-80 ms under load on a long history. In slices, the deliveries
    that come meanwhile are committed between two of them.
    """
    pending = [mail for mail, _ in left]
    prepared = [item for _, item in left]
    return store_inbound(store, pending, prepared, until=time.monotonic() + STORE_SLICE_SECONDS)


def outbound_channels(config: Config, message_id_key: bytes) -> dict[str, Channel[Any]]:
    """Mail (a reply where the post was, a note to the list) and the Slack routes.

    The forum's channel needs the running forum service; `quorum run` adds it.
    """
    responsiveness = config.responsiveness
    mail = partial(
        MailChannel,
        config.mail_out,
        message_id_key=message_id_key,
        bot_name=config.bot.name,
        bot_address=config.bot.address,
        list_address=config.project.list_address,
        project=config.project.name,
        archive_url=archive_of(config),
        # X-Loop: responsiveness.loop_id, else the bot's address.
        loop_id=responsiveness.loop_id if responsiveness is not None else "",
    )
    slack = slack_channels(
        config.slack,
        bot_name=config.bot.name,
        project=config.project.name,
        archive_url=archive_of(config),
    )
    return {
        "mail": mail(name="mail"),
        "list": mail(name="list"),
        **{channel.name: channel for channel in slack},
    }


def _features_every() -> timedelta:
    given = os.environ.get(FEATURES_EVERY_ENV, "").strip()
    try:
        seconds = float(given) if given else 0.0
    except ValueError:
        seconds = 0.0
    if given and seconds <= 0:
        logger.warning(
            "%s=%r is not a number of seconds; ticks every 5 minutes", FEATURES_EVERY_ENV, given
        )
    return timedelta(seconds=seconds) if seconds > 0 else FEATURES_EVERY


class _StoreRunLog:
    """The scheduler's memory of last runs, kept in the store."""

    def __init__(self, app: App) -> None:
        self._app = app

    async def last_run(self, name: str) -> datetime | None:
        return await self._app.db(lambda store: job_runs.last_run(store, name))

    async def record_run(self, name: str, at: datetime) -> None:
        await self._app.db(lambda store: job_runs.record_run(store, name, at))


def _plan_rfc_regrouping(store: Store, config: Config) -> rfc_store.Regrouping | None:
    """In the computing process: the regrouping the marked threads need."""
    return rfc_store.plan_stale(store)


def _apply_rfc_regrouping(store: Store, regrouping: rfc_store.Regrouping) -> None:
    with store.db.atomic():
        rfc_store.apply_regrouping(store, regrouping)
