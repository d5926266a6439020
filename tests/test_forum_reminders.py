"""A question on the forum that the module's maintainers leave unanswered gets one
reminder, posted in the topic through the outbox, however often the tick runs."""

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
    ModuleConfig,
    ResponsivenessConfig,
    WebhookServerConfig,
)
from tests.fakes.discourse import FakeDiscourse

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscourse]:
    async with FakeDiscourse() as forum:
        yield forum


def _config(fake: FakeDiscourse, category: int) -> Config:
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
            "modules": {
                "objstore": ModuleConfig(state="S0", maintainers=["Carol"], keywords=["objstore"])
            },
            "responsiveness": ResponsivenessConfig(),
            "identities": {"Carol": ["carol"]},
            "dispatch": DispatchConfig(dry_run=False),
            "discourse": DiscourseConfig(
                forums={"tvm": forum},
                webhooks=WebhookServerConfig(enabled=False),
                post_replies=True,
            ),
        }
    )


async def test_forum_question_gets_one_reminder_in_its_topic(
    fake: FakeDiscourse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QUORUM_DISCOURSE_API_KEY", fake.api_key)
    category = fake.add_category("rfc", "RFCs")
    # An hour past the S0 reminder threshold of 7 days: due now, not a backlog.
    asked = NOW - timedelta(days=7, hours=1)
    topic = fake.add_topic(
        category,
        "Objstore and S3 versioning",
        [("frank", "Does the objstore backend keep S3 object versions? We rely on them.")],
        created_at=asked,
    )
    app = App(_config(fake, category), tmp_path / "q.db", clock=lambda: NOW)
    await app.start()
    try:
        assert app.forums is not None
        await app.forums.poll("tvm", NOW)  # the scheduled poll's first run: a backfill
        assert (await app.db(lambda store: store.stats()))["messages"] == 1
        await app.run_features(NOW)
        await app.run_features(NOW)  # the same tick again: nothing new
        await app.run_dispatch(NOW)
    finally:
        await app.stop()

    created = fake.requests_to("/posts.json", method="POST")
    assert len(created) == 1
    bot = fake.find_user(fake.api_username)
    assert bot is not None
    [reply] = [post for post in fake.posts_of(topic) if post.user_id == bot.id]
    assert reply.reply_to_post_number == 1  # it answers the waiting post
    assert "S0 policy: remind after 7 days" in reply.raw
    assert "<!-- quorum-action: remind:thread:module=objstore:1:" in reply.raw
