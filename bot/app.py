"""Composition root: builds every part, starts them together and stops them together.

SQLite is used from exactly one thread (the writer executor), which keeps
the "one writer" rule without locks and keeps the event loop free while a
batch is being committed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.adapters import smtp
from bot.config import Config
from bot.ingest import ImportReport, import_paths, process_inbox
from bot.store import IngestCounts, Store

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the running app can be reached (ports may be ephemeral in tests)."""

    smtp: tuple[str, int] | None


class App:
    def __init__(self, config: Config, db_path: Path) -> None:
        self.config = config
        self.db_path = db_path
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quorum-writer")
        self._store: Store | None = None
        self._smtp_server: asyncio.Server | None = None
        self._smtp_handler: smtp.InboundHandler | None = None
        self._work = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.processed = IngestCounts()

    # -- store access ------------------------------------------------------------------

    async def db(self, call: Callable[[Store], T]) -> T:
        """Run ``call(store)`` on the single writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: call(self._require_store()))

    def _require_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("store is not open")
        return self._store

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> Endpoints:
        loop = asyncio.get_running_loop()
        self._store = await loop.run_in_executor(self._writer, Store.open, self.db_path)
        self._worker = asyncio.create_task(self._process_forever(), name="quorum-worker")
        self._work.set()  # mail accepted before a crash is processed first
        endpoints = Endpoints(smtp=None)
        if self.config.smtp.enabled:
            endpoints = Endpoints(smtp=await self._start_smtp())
        return endpoints

    async def _start_smtp(self) -> tuple[str, int]:
        settings = self.config.smtp
        self._smtp_handler = smtp.InboundHandler(
            settings.accept, self._persist_delivery, self._work.set
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

    async def _persist_delivery(self, delivery: smtp.Delivery) -> int:
        return await self.db(
            lambda store: store.enqueue_inbound(
                delivery.raw,
                received_at=delivery.received_at,
                peer=delivery.peer,
                mail_from=delivery.mail_from,
                rcpt_to=delivery.rcpt_to,
            )
        )

    async def _process_forever(self) -> None:
        while True:
            await self._work.wait()
            self._work.clear()
            try:
                counts = await self.db(process_inbox)
            except Exception:
                # Rows stay in the inbox and are retried on the next wake-up or restart.
                logger.exception("processing the inbox failed")
                continue
            if counts.read:
                self.processed += counts
                logger.info("processed %d message(s), %d new", counts.read, counts.new)

    async def import_on_start(self) -> ImportReport | None:
        paths = [self.config.resolve(p) for p in self.config.imports.on_start]
        if not paths:
            return None
        return await self.db(lambda store: import_paths(store, paths))

    def request_stop(self) -> None:
        self._stopping.set()

    async def wait_for_stop(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            await self._stopping.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    async def stop(self) -> None:
        """Stop accepting, finish what was accepted, then close the store."""
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
                await self.db(process_inbox)
            finally:
                await self.db(lambda store: store.close())
                self._store = None
        self._writer.shutdown(wait=True)
