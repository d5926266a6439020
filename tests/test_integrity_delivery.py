"""Unforgeable delivery proof: only the list's copy of our own signed mail settles an
uncertain action; a mail made to look like it, however it arrives, settles nothing."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import smtplib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.outbound_mail import message_id_for
from bot.app import MESSAGE_ID_SECRET_ENV, App
from bot.config import Config, SmtpConfig, WebConfig
from bot.model import Action
from bot.store import Store
from bot.store.outbox import Outbox, Status
from tests.mailgen import raw_mail

LIST = "dev@lists.example.org"
BOT = "quorum@example.org"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
VIA_LIST = "List-Id: Developers <dev.lists.example.org>"


def _config() -> Config:
    return Config(smtp=SmtpConfig(port=0, accept=[LIST]), web=WebConfig(enabled=False))


def _uncertain(store: Store, key: str, remote_id: str) -> None:
    """An action whose send was interrupted after the point of no return."""
    outbox = Outbox(store)
    outbox.record(Action("reply", "<rfc@example.org>", "Noted.", key), NOW)
    outbox.claim([key], NOW)
    outbox.mark_in_flight(key, NOW, remote_id=remote_id)
    outbox.recover(NOW)


def _deliver(port: int, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("someone@example.org", [LIST], raw.replace(b"\n", b"\r\n"))


async def test_only_the_lists_copy_of_our_signed_mail_settles_an_uncertain_action(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(MESSAGE_ID_SECRET_ENV, raising=False)
    app = App(_config(), tmp_path / "q.db", clock=lambda: NOW)
    await app.start()
    try:
        key = app._message_id_key
        ids = {name: message_id_for(f"reply:{name}", BOT, secret=key) for name in "abc"}
        predictable = f"<quorum.{hashlib.sha256(b'reply:c').hexdigest()[:32]}@example.org>"
        for name, remote_id in ids.items():
            await app.db(lambda store, n=name, r=remote_id: _uncertain(store, f"reply:{n}", r))
        await app.db(lambda store: _uncertain(store, "reply:old", predictable))
        port = int(app._smtp_server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        mails = [
            # a: our signed id, but sent straight to us, not distributed by the list
            raw_mail(message_id=ids["a"], subject="Re: [RFC] Storage"),
            # b: the list's copy of our mail
            raw_mail(message_id=ids["b"], subject="Re: [RFC] Storage", extra=VIA_LIST),
            # the id anyone could compute from the action key before, through the list
            raw_mail(message_id=predictable, subject="Re: [RFC] Storage", extra=VIA_LIST),
        ]
        for mail in mails:
            await asyncio.to_thread(_deliver, port, mail)
        for _ in range(500):
            if (await app.db(lambda store: store.stats()))["messages"] == 3:
                break
            await asyncio.sleep(0.02)
        report = await app.run_dispatch(NOW)
        statuses = await app.db(
            lambda store: {entry.key: entry.status for entry in Outbox(store).log()}
        )
    finally:
        await app.stop()
    assert report.confirmed == ("reply:b",)
    assert statuses == {
        "reply:a": Status.UNCERTAIN,
        "reply:b": Status.SENT,
        "reply:c": Status.UNCERTAIN,
        "reply:old": Status.UNCERTAIN,
    }


async def test_the_key_is_made_once_kept_in_the_store_and_never_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.delenv(MESSAGE_ID_SECRET_ENV, raising=False)
    caplog.set_level(logging.DEBUG)
    keys = []
    for _ in range(2):  # a restart signs as before
        app = App(_config(), tmp_path / "q.db")
        await app.start()
        keys.append(app._message_id_key)
        await app.stop()
    assert keys[0] == keys[1]
    assert len(keys[0]) == 32
    other = App(_config(), tmp_path / "other.db")
    await other.start()
    await other.stop()
    assert other._message_id_key != keys[0]  # each store its own
    monkeypatch.setenv(MESSAGE_ID_SECRET_ENV, "from the environment")
    app = App(_config(), tmp_path / "q.db")
    await app.start()
    await app.stop()
    assert app._message_id_key == b"from the environment"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert keys[0].hex() not in logged
    assert "from the environment" not in logged
