"""Discourse webhooks over loopback HTTP into the running app: signed, stored once, then applied."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters import webhooks
from bot.app import App
from bot.config import (
    CategoryConfig,
    Config,
    DiscourseConfig,
    ForumConfig,
    SmtpConfig,
    WebConfig,
    WebhookServerConfig,
)
from bot.errors import ConfigError
from bot.store import forum as forum_store
from tests.fakes.discourse import FakeDiscourse

API_KEY_ENV = "QUORUM_DISCOURSE_API_KEY"
SECRET_ENV = "QUORUM_DISCOURSE_WEBHOOK_SECRET"
SECRET = "correct horse battery staple"
POST_ID = 5000


@dataclass
class Running:
    app: App
    fake: FakeDiscourse
    url: str
    topic_id: int
    category_id: int


@pytest.fixture
async def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    fake = FakeDiscourse()
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] Webhooks please", 2)
    await fake.start()
    monkeypatch.setenv(API_KEY_ENV, fake.api_key)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    forum = ForumConfig(
        base_url=fake.base_url,
        api_username=fake.api_username,
        categories=[CategoryConfig(slug="rfcs", id=category)],
    )
    discourse = DiscourseConfig(forums={"main": forum}, webhooks=WebhookServerConfig(port=0))
    app = App(
        Config(smtp=SmtpConfig(enabled=False), web=WebConfig(enabled=False)),
        tmp_path / "quorum.db",
        discourse=discourse,
    )
    endpoints = await app.start()
    await app.start_schedule()  # as `quorum run`: the forum's poll is a scheduled job
    assert endpoints.webhooks is not None
    host, port = endpoints.webhooks
    yield Running(app, fake, f"http://{host}:{port}/hooks/discourse", topic, category)
    await app.stop()
    await fake.stop()


def post_body(
    running: Running,
    raw: str,
    *,
    version: int = 1,
    updated_at: str = "2024-03-01T12:05:00.000Z",
    category_id: int | None = None,
) -> bytes:
    """A ``post`` event body as Discourse's WebHookPostSerializer shapes it."""
    post = {
        "id": POST_ID,
        "name": "Grace Hopper",
        "username": "grace",
        "avatar_template": "/letter_avatar_proxy/v4/letter/g/abc/{size}.png",
        "created_at": "2024-03-01T12:00:00.000Z",
        "cooked": f"<p>{raw}</p>",
        "post_number": 3,
        "post_type": 1,
        "updated_at": updated_at,
        "reply_count": 0,
        "reply_to_post_number": None,
        "quote_count": 0,
        "topic_id": running.topic_id,
        "topic_slug": "rfc-webhooks-please",
        "topic_title": "[RFC] Webhooks please",
        "category_id": running.category_id if category_id is None else category_id,
        "display_username": "Grace Hopper",
        "version": version,
        "user_id": 42,
        "raw": raw,
        "topic_posts_count": 3,
        "topic_filtered_posts_count": 3,
        "topic_archetype": "regular",
        "category_slug": "rfcs",
    }
    return json.dumps({"post": post}).encode()


async def deliver(
    running: Running,
    body: bytes,
    *,
    signature: str | None = "sign",
    event: str = "post_created",
    event_type: str = "post",
    event_id: str = "1",
) -> tuple[int, dict[str, Any]]:
    headers = {
        "Content-Type": "application/json",
        "X-Discourse-Instance": running.fake.base_url,
        "X-Discourse-Event-Id": event_id,
        "X-Discourse-Event-Type": event_type,
        "X-Discourse-Event": event,
    }
    if signature == "sign":
        signature = webhooks.signature(SECRET.encode(), body)
    if signature is not None:
        headers["X-Discourse-Event-Signature"] = signature
    async with (
        aiohttp.ClientSession() as session,
        session.post(running.url, data=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def settled(app: App) -> dict[str, int]:
    """Webhook outcomes once the worker has processed every stored delivery."""
    for _ in range(200):
        counts = await app.db(forum_store.webhook_counts)
        if "pending" not in counts:
            return counts
        await asyncio.sleep(0.01)
    raise AssertionError(f"webhooks not processed: {counts}")


def webhook_post_key() -> str:
    return f"discourse:main:{POST_ID}"


async def test_a_signed_post_event_is_stored_before_200_then_applied(running: Running) -> None:
    body = post_body(running, "I support this RFC, +1 from me.")
    status, answer = await deliver(running, body)

    assert status == 200
    assert answer == {"stored": True, "duplicate": False}
    # Durable by the time the 200 arrived, whether or not the worker has run yet.
    stored = await running.app.db(forum_store.webhook_counts)
    assert sum(stored.values()) == 1
    assert await settled(running.app) == {"stored": 1}
    post = await running.app.db(lambda store: store.post(webhook_post_key()))
    assert post is not None
    assert post.text == "I support this RFC, +1 from me."
    assert post.thread_key == f"discourse:main:topic:{running.topic_id}"


async def test_the_same_event_delivered_twice_is_stored_once(running: Running) -> None:
    body = post_body(running, "Delivered twice by a retrying forum.")
    # Discourse gives every retry a new event id; the body is what repeats.
    first = await deliver(running, body, event_id="7")
    second = await deliver(running, body, event_id="8")

    assert first == (200, {"stored": True, "duplicate": False})
    assert second == (200, {"stored": False, "duplicate": True})
    assert await settled(running.app) == {"stored": 1}
    key = webhook_post_key()
    assert await running.app.db(lambda store: store.post(key)) is not None
    assert await running.app.db(lambda store: forum_store.edits_of(store, key)) == []


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        webhooks.signature(b"another secret", b"{}"),
        "sha1=abc",
        "sha256=ünïcode",
    ],
)
async def test_a_missing_or_wrong_signature_gets_401_and_nothing_is_stored(
    running: Running, signature: str | None
) -> None:
    status, _ = await deliver(running, post_body(running, "Forged post."), signature=signature)
    assert status == 401
    assert await running.app.db(forum_store.webhook_counts) == {}
    assert await running.app.db(lambda store: store.post(webhook_post_key())) is None


async def test_a_signature_of_another_body_is_refused(running: Running) -> None:
    signed = webhooks.signature(SECRET.encode(), post_body(running, "What was signed."))
    status, _ = await deliver(running, post_body(running, "What was sent."), signature=signed)
    assert status == 401


async def test_edits_apply_in_order_and_a_late_retry_of_an_older_edit_does_not(
    running: Running,
) -> None:
    created = post_body(running, "+1", version=1, updated_at="2024-03-01T12:00:00.000Z")
    newer = post_body(running, "-1, see my concern", version=3, updated_at="2024-03-01T14:00:00Z")
    older = post_body(running, "+0 for now", version=2, updated_at="2024-03-01T13:00:00Z")
    await deliver(running, created)
    await deliver(running, newer, event="post_edited")
    await deliver(running, older, event="post_edited")

    assert await settled(running.app) == {"stored": 3}
    post = await running.app.db(lambda store: store.post(webhook_post_key()))
    assert post is not None
    assert post.text == "-1, see my concern"
    edits = await running.app.db(lambda store: forum_store.edits_of(store, webhook_post_key()))
    assert [edit.old_text for edit in edits] == ["+1"]


async def test_events_that_carry_no_post_are_kept_but_not_applied(running: Running) -> None:
    ping = await deliver(running, b'{"ping":"OK"}', event="", event_type="ping")
    other = await deliver(
        running, post_body(running, "In a category we do not follow.", category_id=999)
    )
    assert ping[0] == 200
    assert other[0] == 200
    assert await settled(running.app) == {"ignored": 1, "skipped": 1}


async def test_without_a_secret_every_delivery_is_refused() -> None:
    handler = webhooks.DiscourseWebhooks({}, _never_called, lambda: None)
    server = await webhooks.start_webhook_server(handler, host="127.0.0.1", port=0)
    try:
        body = b'{"ping":"OK"}'
        headers = {"X-Discourse-Event-Signature": webhooks.signature(b"", body)}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{server.port}/hooks/discourse", data=body, headers=headers
            ) as response,
        ):
            assert response.status == 401
    finally:
        await server.close()


async def test_a_delivery_that_cannot_be_stored_is_not_acknowledged() -> None:
    async def failing(delivery: webhooks.Delivery) -> bool:
        raise OSError("disk full")

    forum = webhooks.WebhookForum("main", "https://forum.example.org", SECRET.encode())
    handler = webhooks.DiscourseWebhooks(
        {"main": forum}, failing, lambda: None, clock=lambda: datetime(2024, 1, 1, tzinfo=UTC)
    )
    server = await webhooks.start_webhook_server(handler, host="127.0.0.1", port=0)
    try:
        body = b'{"ping":"OK"}'
        headers = {"X-Discourse-Event-Signature": webhooks.signature(SECRET.encode(), body)}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{server.port}/hooks/discourse", data=body, headers=headers
            ) as response,
        ):
            assert response.status == 503  # Discourse will deliver it again
    finally:
        await server.close()


async def _never_called(delivery: webhooks.Delivery) -> bool:
    raise AssertionError("an unsigned delivery must never be stored")


async def test_the_app_backfills_the_forum_when_it_starts(running: Running) -> None:
    topic_key = f"discourse:main:topic:{running.topic_id}"
    for _ in range(200):
        posts = await running.app.db(lambda store: store.posts_in_thread(topic_key))
        if len(posts) == 2:
            break
        await asyncio.sleep(0.01)
    assert [p.author.address for p in posts] == ["alice", "bob"]


async def test_the_app_refuses_to_start_without_the_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    forum = ForumConfig(base_url="https://forum.example.org")
    discourse = DiscourseConfig(forums={"main": forum}, webhooks=WebhookServerConfig(port=0))
    app = App(
        Config(smtp=SmtpConfig(enabled=False), web=WebConfig(enabled=False)),
        tmp_path / "quorum.db",
        discourse=discourse,
    )
    with pytest.raises(ConfigError, match=API_KEY_ENV):
        await app.start()
    await app.stop()
