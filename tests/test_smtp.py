"""Real SMTP over loopback with smtplib against the app's endpoint."""

from __future__ import annotations

import asyncio
import smtplib
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot import app as app_module
from bot.adapters.smtp import GroupCommit
from bot.app import App
from bot.config import Config, SmtpConfig, WebConfig
from bot.store import Store
from tests.mailgen import raw_mail

LIST = "dev@lists.example.org"


def _config(max_bytes: int = 64 * 1024) -> Config:
    return Config(
        smtp=SmtpConfig(port=0, accept=[LIST], max_message_bytes=max_bytes),
        web=WebConfig(enabled=False),
    )


@asynccontextmanager
async def running(config: Config, db: Path) -> AsyncIterator[App]:
    app = App(config, db)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    async with running(_config(), tmp_path / "quorum.db") as app:
        yield app


def _port(app: App) -> int:
    assert app._smtp_server is not None
    return int(app._smtp_server.sockets[0].getsockname()[1])


def _send(port: int, raw: bytes, rcpt: str = LIST) -> tuple[int, bytes]:
    """Deliver with the standard library client; returns the reply to the final DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("tester.example")
        client.mail("alice@example.org")
        code, message = client.rcpt(rcpt)
        if code != 250:
            return code, message
        # Real MTAs send CRLF; smtplib leaves bytes as they are.
        return client.data(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


async def send(port: int, raw: bytes, rcpt: str = LIST) -> tuple[int, bytes]:
    return await asyncio.to_thread(_send, port, raw, rcpt)


async def wait_processed(app: App, messages: int) -> dict[str, int]:
    for _ in range(200):
        stats = await app.db(lambda s: s.stats())
        if stats["messages"] >= messages and stats["pending"] == 0:
            return stats
        await asyncio.sleep(0.02)
    raise AssertionError(f"not processed: {stats}")


async def test_message_is_accepted_stored_and_threaded(app: App):
    code, reply = await send(_port(app), raw_mail(subject="[RFC] Storage backends"))
    assert code == 250
    assert b"queued as" in reply
    await wait_processed(app, 1)
    threads = await app.db(lambda s: s.threads())
    assert [(t.kind.value, t.subject) for t in threads] == [("rfc", "[RFC] Storage backends")]


async def test_foreign_recipient_is_refused_not_relayed(app: App):
    code, message = await send(_port(app), raw_mail(), rcpt="victim@elsewhere.example")
    assert code == 550
    assert b"not a relay" in message
    assert (await app.db(lambda s: s.stats()))["pending"] == 0


async def test_oversize_message_is_refused_with_552(app: App):
    big = raw_mail("\n".join(["y" * 70] * 2000))
    code, message = await send(_port(app), big)
    assert code == 552
    assert b"Too much mail data" in message
    assert (await app.db(lambda s: s.stats()))["pending"] == 0


async def test_same_message_delivered_twice_is_stored_once(app: App):
    raw = raw_mail(message_id="<twice@example.org>")
    assert (await send(_port(app), raw))[0] == 250
    assert (await send(_port(app), raw))[0] == 250
    stats = await wait_processed(app, 1)
    assert stats["messages"] == 1
    assert app.processed.known == 1


async def test_message_accepted_just_before_shutdown_survives_restart(tmp_path: Path):
    db = tmp_path / "quorum.db"
    first = App(_config(), db)
    await first.start()
    # Stop the worker first, so the message is acknowledged but not yet processed.
    assert first._worker is not None
    first._worker.cancel()
    code, _ = await send(_port(first), raw_mail(message_id="<late@example.org>"))
    assert code == 250
    assert (await first.db(lambda s: s.stats()))["pending"] == 1
    await first.stop()

    async with running(_config(), db) as second:
        stats = await wait_processed(second, 1)
        assert stats["messages"] == 1


async def test_concurrent_deliveries_share_a_commit_and_each_is_stored_once(
    app: App, monkeypatch: pytest.MonkeyPatch
):
    """While one commit runs, the deliveries that arrive wait and go into the next one
    together (group commit); each is still answered 250 only once it is committed."""
    batches: list[int] = []
    arrived: list[Any] = []
    loop = asyncio.get_running_loop()
    committing, all_waiting, release = asyncio.Event(), asyncio.Event(), threading.Event()
    enqueue = Store.enqueue_inbound_many
    queue = GroupCommit.__call__

    def first_commit_held(store: Store, deliveries: list[Any]) -> list[int]:
        batches.append(len(deliveries))
        if len(batches) == 1:
            loop.call_soon_threadsafe(committing.set)
            release.wait(10)  # until every other delivery is waiting for a commit
        return enqueue(store, deliveries)

    async def counted(commit: GroupCommit, delivery: Any) -> int:
        arrived.append(delivery)
        if len(arrived) == 12:
            all_waiting.set()
        return await queue(commit, delivery)

    monkeypatch.setattr(Store, "enqueue_inbound_many", first_commit_held)
    monkeypatch.setattr(GroupCommit, "__call__", counted)
    port = _port(app)
    raws = [raw_mail(f"Message {i}.\n", message_id=f"<group-{i}@example.org>") for i in range(12)]
    # Twelve sessions at once: more than the default executor's threads on a small machine.
    clients = ThreadPoolExecutor(max_workers=12)
    first = loop.run_in_executor(clients, _send, port, raws[0], LIST)
    await asyncio.wait_for(committing.wait(), 10)
    others = [loop.run_in_executor(clients, _send, port, raw, LIST) for raw in raws[1:]]
    await asyncio.wait_for(all_waiting.wait(), 10)
    assert not any(task.done() for task in [first, *others])  # none answered before its commit
    release.set()
    results = await asyncio.gather(first, *others)
    clients.shutdown()
    assert [code for code, _ in results] == [250] * 12
    assert batches == [1, 11]
    stats = await wait_processed(app, 12)
    assert stats["messages"] == 12


async def test_a_flood_is_processed_when_it_ebbs_but_never_later_than_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Every moment counts as a flood here, so only the cap makes processing run.
    monkeypatch.setattr(app_module, "PROCESS_FLOOD_RATE", 0.0)
    monkeypatch.setattr(app_module, "PROCESS_LAG_MAX", 0.6)
    async with running(_config(), tmp_path / "quorum.db") as app:
        code, _ = await send(_port(app), raw_mail(message_id="<flood@example.org>"))
        assert code == 250
        await asyncio.sleep(0.3)
        assert (await app.db(lambda s: s.stats()))["pending"] == 1  # answered, not yet read
        stats = await wait_processed(app, 1)
        assert stats["messages"] == 1


async def test_a_slow_dashboard_never_holds_up_a_delivery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The dashboard reads over a connection and a thread of its own: while a page reads
    slowly (the modules' figures, on a large store), deliveries are still committed and
    answered."""
    from bot import web

    computing = asyncio.Event()
    real_overview = web.read_overview

    def slow_overview(*args: Any) -> Any:
        loop.call_soon_threadsafe(computing.set)
        time.sleep(1.5)
        return real_overview(*args)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(web, "read_overview", slow_overview)
    config = Config(smtp=SmtpConfig(port=0, accept=[LIST]), web=WebConfig(host="127.0.0.1", port=0))
    async with running(config, tmp_path / "quorum.db") as app:
        assert app._web is not None
        host, port = app._web.addresses[0][:2]
        page = asyncio.create_task(asyncio.to_thread(_get, f"http://{host}:{port}/"))
        await asyncio.wait_for(computing.wait(), 5)
        started = time.monotonic()
        code, _ = await send(_port(app), raw_mail(message_id="<during-page@example.org>"))
        answered_in = time.monotonic() - started
        assert code == 250
        assert answered_in < 0.75  # not the 1.5 s the page takes
        assert await page == 200


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status)


async def test_health_reports_a_writer_stuck_on_one_job(app: App, monkeypatch: pytest.MonkeyPatch):
    """Every delivery waits for the writer, so one job that never ends is an outage."""
    monkeypatch.setattr(app_module, "WRITER_STUCK_SECONDS", 0.2)
    assert app.health()["writer"]["ok"] is True
    stuck = asyncio.create_task(app.db(lambda _: time.sleep(0.5)))
    await asyncio.sleep(0.35)
    assert app.health()["writer"]["ok"] is False
    await stuck
    assert app.health()["writer"] == {"ok": True, "busy_for_s": 0.0}
