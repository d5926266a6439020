"""The one status post per RFC topic: written once, edited in place as the RFC moves,
exactly once through the outbox, and never read back as anyone's concern."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.config import (
    CategoryConfig,
    Config,
    DiscourseConfig,
    DispatchConfig,
    ForumConfig,
    WebhookServerConfig,
)
from bot.core.concerns import build_ledger
from bot.core.discourse import HEADER_POST_NUMBER
from bot.features.concerns import ledger_settings, ledgers
from bot.model import Person, Post, Source
from bot.store import Store
from tests.fakes.discourse import FakeDiscourse

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
FORUM = "main"
PROPOSAL = "I propose that the indexer loads its segments lazily, on first use."
CONCERN = (
    "I am concerned that lazy loading hides corrupt segments until a query hits them,"
    " so a broken index is found by users instead of at startup."
)
ANSWER = "Startup will still verify every segment's checksum; only reading the data waits."


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscourse]:
    async with FakeDiscourse() as forum:
        yield forum


def _config(fake: FakeDiscourse, category: int, *, dry_run: bool = False) -> Config:
    forum = ForumConfig(
        base_url=fake.base_url,
        api_username=fake.api_username,
        categories=[CategoryConfig(slug="rfc", id=category)],
        poll_interval_seconds=3600,
    )
    return Config.model_validate(
        {
            "smtp": {"enabled": False},
            "web": {"enabled": False},
            # Not the forum user's name: the bot knows its forum posts by the API user.
            "bot": {"name": "chair", "address": "chair@example.org"},
            "dispatch": DispatchConfig(dry_run=dry_run),
            "discourse": DiscourseConfig(
                forums={FORUM: forum},
                webhooks=WebhookServerConfig(enabled=False),
                post_replies=True,
                status_posts=True,
            ),
        }
    )


async def _tick(app: App, now: datetime) -> None:
    """What `quorum run` does on its schedule: read the forum, then the features."""
    assert app.forums is not None
    await app.forums.poll(FORUM, now)
    await app.run_features(now)


def _bot_posts(fake: FakeDiscourse, topic: int) -> list:
    bot = fake.find_user(fake.api_username)
    return [post for post in fake.posts_of(topic) if bot is not None and post.user_id == bot.id]


def _rfc_topic(fake: FakeDiscourse) -> tuple[int, int]:
    """An RFC topic with a proposal and a concern, five hours old: (category, topic)."""
    category = fake.add_category("rfc", "RFCs")
    topic = fake.add_topic(
        category,
        "[RFC] Lazy segment loading for the indexer",
        [("alice", PROPOSAL), ("bob", CONCERN)],
        created_at=NOW - timedelta(hours=5),
    )
    return category, topic


async def test_one_status_post_follows_the_rfc_and_is_edited_in_place(
    fake: FakeDiscourse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QUORUM_DISCOURSE_API_KEY", fake.api_key)
    category, topic = _rfc_topic(fake)
    app = App(_config(fake, category), tmp_path / "q.db", clock=lambda: NOW)
    await app.start()
    try:
        await _tick(app, NOW)
        [status] = _bot_posts(fake, topic)
        assert "**Where this RFC stands:** blocked" in status.raw
        assert "raised by bob" in status.raw
        assert "lazy loading hides corrupt segments" in status.raw.casefold()
        assert "edits this post instead of writing new ones" in status.raw
        assert fake.api_username != "chair"

        await _tick(app, NOW + timedelta(minutes=5))  # nothing changed: no request at all
        assert len(fake.requests_to("/posts.json", method="POST")) == 1
        assert fake.requests_to(f"/posts/{status.id}.json", method="PUT") == []

        fake.add_post(topic, "alice", ANSWER, reply_to_post_number=2, created_at=NOW)
        await _tick(app, NOW + timedelta(minutes=10))
        [edited] = _bot_posts(fake, topic)  # still one post: the same one, edited
        assert edited.id == status.id
        assert "**Where this RFC stands:** waiting" in edited.raw
        assert "answered by alice" in edited.raw
        assert len(fake.requests_to("/posts.json", method="POST")) == 1

        # The status post, polled back with the topic, is nobody's concern.
        found = await app.read(lambda store: ledgers(store, app.config, NOW))
        raisers = {c.raised_by.display for ledger in found for c in ledger.concerns}
        assert raisers == {"bob"}
    finally:
        await app.stop()


async def test_in_dry_run_the_status_is_recorded_not_posted(
    fake: FakeDiscourse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QUORUM_DISCOURSE_API_KEY", fake.api_key)
    category, topic = _rfc_topic(fake)
    app = App(_config(fake, category, dry_run=True), tmp_path / "q.db", clock=lambda: NOW)
    await app.start()
    try:
        await _tick(app, NOW)
    finally:
        await app.stop()
    assert _bot_posts(fake, topic) == []
    store = Store.open(tmp_path / "q.db")
    try:
        rows = list(store.db.query("SELECT kind, status, text FROM actions"))
    finally:
        store.close()
    [row] = [r for r in rows if r["kind"] == "status"]
    assert row["status"] == "dry-run"
    assert "blocked" in row["text"]


def test_the_bots_forum_posts_raise_nothing_whatever_they_say():
    """Its user on each forum is one of the bot's identities (quoted concerns in a status
    post, a reminder that repeats a question), as its mail address is."""
    config = Config.model_validate(
        {
            "bot": {"name": "chair", "address": "chair@example.org"},
            "discourse": {"forums": {FORUM: {"base_url": "https://forum.example.org"}}},
        }
    )
    topic = "discourse:main:topic:7"

    def forum_post(number: int, username: str, text: str) -> Post:
        return Post(
            source=Source.DISCOURSE,
            key=f"discourse:main:{700 + number}",
            message_id=None,
            thread_key=topic,
            author=Person(name="", address=username),
            created_at=NOW + timedelta(minutes=number),
            subject="[RFC] Lazy segment loading",
            text=text,
            headers={HEADER_POST_NUMBER: str(number)},
        )

    posts = [
        forum_post(1, "alice", PROPOSAL),
        forum_post(2, "quorum", CONCERN),  # the forum's default API user
    ]
    ledger = build_ledger(topic, posts, NOW + timedelta(hours=1), ledger_settings(config))
    assert ledger.concerns == ()
