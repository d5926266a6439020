from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.corpus import corpus_path
from tests.fakes.smtp_sink import SmtpSink
from tests.stores import StoreThread


@pytest.fixture
def corpus() -> Path:
    """The root of ../shared/corpus (skips, or fails under QUORUM_REQUIRE_CORPUS=1)."""
    return corpus_path()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store in the test's own folder (a test module may define its own)."""
    opened = Store.open(tmp_path / "quorum.db")
    yield opened
    opened.close()


@pytest.fixture
def writer(store: Store) -> Iterator[StoreThread]:
    """``App.db`` over ``store``: calls run on one thread, as the app's writer runs them."""
    running = StoreThread(store)
    yield running
    running.close()


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    """An SMTP server on loopback that keeps what it receives."""
    async with SmtpSink() as running:
        yield running
