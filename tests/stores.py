"""Store helpers the tests (and bench/web.py) share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot.core.mail import Envelope, parse_mail
from bot.ingest import import_paths
from bot.model import Action, Post
from bot.store import Store

T = TypeVar("T")
SAMPLE = Path(__file__).resolve().parent.parent / "config" / "sample-archive.mbox"
ARRIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class StoreThread:
    """``App.db`` without the app: every store call on one thread, as the app's writer runs them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-store")

    async def __call__(self, call: Callable[[Store], T], /) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, self.store)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def ingest(store: Store, raw: bytes, arrived_at: datetime = ARRIVED) -> Post:
    """Store one mail as the SMTP endpoint would, and return it as stored."""
    post = parse_mail(raw, Envelope(arrived_at=arrived_at))
    store.ingest([(post, raw)])
    return next(p for p in store.iter_posts() if p.key == post.key)


def sample_store(db: Path) -> Path:
    """A store at ``db`` with config/sample-archive.mbox imported, as `make run` starts."""
    store = Store.open(db)
    try:
        import_paths(store, [SAMPLE])
    finally:
        store.close()
    return db


def reply_to(post: Post, text: str = "Noted.", key: str | None = None) -> Action:
    return Action(kind="reply", target=post.key, text=text, key=key or f"reply:{post.key}")
