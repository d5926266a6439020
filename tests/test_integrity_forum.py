"""No silent loss from the forum: what cannot be read is never taken as read.

A proxy or an API key's narrow scope refuses an endpoint; a static mirror of recorded
responses has no /posts.json. Each case is played against the loopback fake Discourse,
which refuses on request as such a forum would, and checked on what was stored."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

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
from bot.core.discourse import ForumSite
from bot.store import Store
from bot.store import forum as forum_store
from bot.sync import direct_db
from bot.sync.forum import make_client, sync_forum
from tests.corpus import corpus_path
from tests.fakes.discourse import FakeDiscourse

ROOT = Path(__file__).resolve().parent.parent
API_KEY_ENV = "QUORUM_DISCOURSE_API_KEY"
FORUM = "main"


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscourse]:
    running = FakeDiscourse()
    monkeypatch.setenv(API_KEY_ENV, running.api_key)
    await running.start()
    yield running
    await running.wait_idle()
    await running.stop()


@pytest.fixture(autouse=True)
def retry_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unread topics are due again at the next poll (not a minute later)."""
    monkeypatch.setattr(forum_store, "UNREAD_FIRST_RETRY", timedelta(0))


def settings(fake: FakeDiscourse, *categories: tuple[str, int]) -> ForumConfig:
    return ForumConfig(
        base_url=fake.base_url,
        api_username=fake.api_username,
        categories=[CategoryConfig(slug=slug, id=cid) for slug, cid in categories],
        backoff_seconds=0.01,
        max_backoff_seconds=0.05,
        timeout_seconds=2.0,
    )


async def sync(store: Store, fake: FakeDiscourse, config: ForumConfig) -> Any:
    async with make_client(FORUM, config) as client:
        return await sync_forum(client, direct_db(store), ForumSite(FORUM, fake.base_url), config)


def stored_ids(store: Store, fake: FakeDiscourse, topic_id: int) -> set[int]:
    topic = ForumSite(FORUM, fake.base_url).topic_key(topic_id)
    return {int(post.key.rsplit(":", 1)[1]) for post in store.posts_in_thread(topic)}


def regular_ids(fake: FakeDiscourse, topic_id: int) -> set[int]:
    return {post.id for post in fake.posts_of(topic_id) if post.post_type == 1}


def synced(store: Store, topic_id: int) -> bool:
    return forum_store.topic_marker(store, FORUM, topic_id) is not None


def a_page(request: aiohttp.web.Request) -> bool:
    return "page" in request.query


# -- the batch endpoint refused -----------------------------------------------------------


@pytest.mark.parametrize("status", [404, 403])
async def test_a_refused_batch_endpoint_falls_back_to_the_topics_pages(
    fake: FakeDiscourse, store: Store, status: int
):
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] A long discussion", 95)
    fake.refuse(f"/t/{topic}/posts.json", status)  # a proxy, or the API key's scope

    report = await sync(store, fake, settings(fake, ("rfcs", category)))

    assert stored_ids(store, fake, topic) == regular_ids(fake, topic)
    pages = sorted(int(r.query_values("page")[0]) for r in fake.requests_to(f"/t/{topic}.json")[1:])
    assert pages == [2, 3, 4, 5]
    assert synced(store, topic)
    assert forum_store.unread_topics(store) == []
    assert report.topics_unread == 0


async def test_posts_no_endpoint_gives_are_unread_never_synced_and_read_later(
    fake: FakeDiscourse, store: Store
):
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] A long discussion", 95)
    fake.refuse(f"/t/{topic}/posts.json", 404)
    fake.refuse(f"/t/{topic}.json", 404, when=a_page)
    config = settings(fake, ("rfcs", category))

    report = await sync(store, fake, config)

    assert len(stored_ids(store, fake, topic)) == 20  # the topic view's first chunk
    assert not synced(store, topic)
    [unread] = forum_store.unread_topics(store)
    assert (unread.topic_id, unread.attempts) == (topic, 1)
    assert unread.error.startswith("75 post(s) could not be read: Discourse answered 404")
    assert report.topics_unread == 1
    # Still refused at the next poll: tried again, still unread, nothing marked read.
    await sync(store, fake, config)
    assert forum_store.unread_topics(store)[0].attempts == 2
    # Once the forum answers again, the next poll reads the rest.
    fake.lift()
    await sync(store, fake, config)
    assert stored_ids(store, fake, topic) == regular_ids(fake, topic)
    assert forum_store.unread_topics(store) == []
    assert synced(store, topic)


async def test_a_topic_refused_whole_is_unread_not_synced(fake: FakeDiscourse, store: Store):
    category = fake.add_category("rfcs", "RFCs")
    hidden = fake.add_topic(category, "[RFC] Hidden from our key", 3)
    shown = fake.add_topic(category, "[RFC] Readable", 3)
    fake.refuse(f"/t/{hidden}.json", 403)
    config = settings(fake, ("rfcs", category))

    await sync(store, fake, config)

    assert stored_ids(store, fake, shown) == regular_ids(fake, shown)
    assert (synced(store, shown), synced(store, hidden)) == (True, False)
    assert [u.topic_id for u in forum_store.unread_topics(store)] == [hidden]
    fake.lift()
    await sync(store, fake, config)
    assert stored_ids(store, fake, hidden) == regular_ids(fake, hidden)
    assert forum_store.unread_topics(store) == []


# -- a forum without /posts.json ----------------------------------------------------------


async def test_a_forum_without_posts_json_is_backfilled_and_polled_from_topic_lists(
    fake: FakeDiscourse, store: Store, corpus: Path
):
    """As a static mirror of recorded responses: real topics, and no /posts.json."""
    recorded = [
        fake.load_perceval_fixture(corpus_path("discourse", "perceval", name))
        for name in ("discourse_topic_1148.json", "discourse_posts.json")
    ]
    fake.refuse("/posts.json", 404)
    config = settings(fake)

    await sync(store, fake, config)  # the backfill

    for topic in recorded:
        assert stored_ids(store, fake, topic) == regular_ids(fake, topic)
    cursor = forum_store.cursor(store, FORUM)
    assert cursor.backfilled
    assert cursor.last_post_id == max(max(regular_ids(fake, t)) for t in recorded)
    # A new post bumps its topic; polling the topic lists finds it.
    new = fake.add_post(recorded[0], "bob", "A new reply, long enough for Discourse.")
    await sync(store, fake, config)
    assert new.id in stored_ids(store, fake, recorded[0])
    assert fake.requests_to("/posts.json")  # asked each time, refused each time
    assert all(r.status == 404 for r in fake.requests_to("/posts.json"))


# -- shown in /healthz and `quorum stats` -------------------------------------------------


async def test_unread_topics_are_shown_in_healthz(
    fake: FakeDiscourse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] Hidden from our key", 3)
    fake.refuse(f"/t/{topic}.json", 403)
    discourse = DiscourseConfig(
        forums={FORUM: settings(fake, ("rfcs", category))},
        webhooks=WebhookServerConfig(enabled=False),
    )
    app = App(
        Config(smtp=SmtpConfig(enabled=False), web=WebConfig(port=0)),
        tmp_path / "q.db",
        discourse=discourse,
    )
    endpoints = await app.start()
    await app.start_schedule()  # as `quorum run`: the forum's poll is a scheduled job
    assert endpoints.web is not None
    host, port = endpoints.web
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                async with session.get(f"http://{host}:{port}/healthz") as response:
                    health = await response.json()
                if health["pollers"][FORUM]["unread_topics"]:
                    break
                await asyncio.sleep(0.05)
    finally:
        await app.stop()
    poller = health["pollers"][FORUM]
    assert poller["unread_topics"] == 1
    assert poller["unread"][0]["topic_id"] == topic
    assert "Discourse answered 403" in poller["unread"][0]["error"]


def test_unread_topics_are_shown_in_quorum_stats(tmp_path: Path):
    db = tmp_path / "q.db"
    store = Store.open(db)
    try:
        at = datetime(2026, 11, 20, 9, tzinfo=UTC)
        forum_store.record_unread(store, FORUM, 4711, "Discourse answered 404 to GET /t/x", now=at)
    finally:
        store.close()

    def stats(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "--db", str(db), "stats", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    numbers = json.loads(stats("--json"))
    assert numbers["forum_unread_topics"] == 1
    assert numbers["forum_unread"][0]["topic_id"] == 4711
    assert (
        "  unread: forum main topic 4711 since 2026-11-20 09:00 (1 tries):"
        " Discourse answered 404 to GET /t/x"
    ) in stats()


# -- the fake serves what real Discourse serves ------------------------------------------


async def test_the_fake_serves_the_pages_it_advertises_and_routes_without_json(
    fake: FakeDiscourse,
):
    category = fake.add_category("rfcs", "RFCs")
    for n in range(35):
        fake.add_topic(category, f"[RFC] Topic number {n}", 1)
    headers = {**fake.auth_headers, "Accept": "application/json"}
    base = fake.base_url
    async with aiohttp.ClientSession(headers=headers) as session:
        for first in ("/latest.json", f"/c/rfcs/{category}.json"):
            async with session.get(base + first) as response:
                more = (await response.json())["topic_list"]["more_topics_url"]
            async with session.get(base + more) as response:
                assert response.status == 200, more
                assert len((await response.json())["topic_list"]["topics"]) == 5
        topic = next(iter(fake.topics))
        for path in (f"/t/{topic}", f"/t/{fake.topic(topic).slug}/{topic}", "/posts", "/latest"):
            async with session.get(base + path) as response:
                assert response.status == 200, path
                assert response.content_type == "application/json"
        body = {"topic_id": topic, "raw": "A reply posted to /posts, without .json."}
        async with session.post(base + "/posts", json=body) as response:
            assert response.status == 200
            created = await response.json()
        assert fake.post(created["id"]).raw == body["raw"]
    html = {"Accept": "text/html"}
    async with (
        aiohttp.ClientSession(headers=fake.auth_headers) as browser,
        browser.get(base + "/latest", headers=html) as response,
    ):
        assert response.content_type == "text/html"


async def test_a_subcategory_is_served_under_its_parents_slug(fake: FakeDiscourse):
    child = fake.add_category("development/rfc", "RFCs")
    fake.add_topic(child, "[RFC] In a subcategory", 1)
    url = f"{fake.base_url}/c/development/rfc/{child}.json"
    async with (
        aiohttp.ClientSession(headers=fake.auth_headers) as session,
        session.get(url) as response,
    ):
        assert response.status == 200
        topics = (await response.json())["topic_list"]["topics"]
    assert [t["title"] for t in topics] == ["[RFC] In a subcategory"]
