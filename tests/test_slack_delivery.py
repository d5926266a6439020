"""Slack reminders with the real slack_sdk AsyncWebClient against the loopback FakeSlack."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.adapters.slack import (
    SlackChannel,
    SlackConfig,
    mention,
    message_for,
    slack_channels,
)
from bot.config import DispatchConfig
from bot.dispatch import Dispatcher, DispatchReport
from bot.model import Action, Post
from bot.store import Store
from bot.store.outbox import Outbox, Status
from tests.fakes.slack import FakeSlack
from tests.mailgen import raw_mail
from tests.stores import StoreThread, ingest

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOKEN = "xoxb-quorum-test-token"
REMINDERS = "C0REMINDERS"
USERS = {"Bob Bauer": "U0BOB", "Bob": "U0OTHERBOB", "Carol Cortés": "U0CAROL"}
ARCHIVE = "https://lists.example.org/thread/{message_id}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(tokens=[TOKEN], channels={REMINDERS: "dev-reminders"}) as running:
        yield running


@pytest.fixture
def post(store: Store) -> Post:
    return ingest(store, raw_mail(subject="[RFC] Indexer <v2>", message_id="<rfc9@example.org>"))


def channel_for(fake: FakeSlack, *, token: str = TOKEN, **settings: Any) -> SlackChannel:
    config = SlackConfig.model_validate(
        {
            "enabled": True,
            "base_url": fake.base_url,
            "channels": {"slack": REMINDERS},
            "users": USERS,
            "timeout_seconds": 5.0,
            **settings,
        }
    )
    return SlackChannel(
        config,
        name="slack",
        bot_name="quorum",
        project="Example project",
        archive_url=ARCHIVE,
        environ={"QUORUM_SLACK_TOKEN": token},
    )


def reminder(post: Post) -> Action:
    return Action(
        kind="remind",
        target=post.key,
        text="Bob Bauer, this RFC has waited 9 days for an answer.",
        key=f"reminder:{post.key}:bob:2026-W47",
        channel="slack",
        reason="policy for S1 modules: maintainers answer within 7 days",
    )


async def deliver(
    writer: StoreThread,
    channel: SlackChannel,
    action: Action,
    config: DispatchConfig = DispatchConfig(dry_run=False),  # noqa: B008  (frozen)
) -> tuple[Dispatcher, DispatchReport]:
    await writer(lambda store: Outbox(store).record(action, NOW))
    running = Dispatcher(writer, {"slack": channel}, config, clock=lambda: NOW)
    return running, await running.run_once(NOW)


async def status_of(writer: StoreThread, key: str) -> tuple[Status, str, datetime | None]:
    entry = await writer(lambda store: Outbox(store).get(key))
    assert entry is not None
    return entry.status, entry.last_error or "", entry.retry_at


# -- the message ----------------------------------------------------------------------


def test_block_kit_names_the_policy_links_the_post_and_says_who_the_bot_is(post: Post):
    text, blocks = message_for(
        reminder(post), post, users=USERS, bot_name="quorum", project="Example", archive_url=ARCHIVE
    )

    assert blocks == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "<@U0BOB>, this RFC has waited 9 days for an answer.\n"
                "*Why:* policy for S1 modules: maintainers answer within 7 days\n"
                "*Waiting:* <https://lists.example.org/thread/rfc9@example.org"
                "|[RFC] Indexer &lt;v2&gt;>",
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "I'm quorum, the Example decision bot. Answer on the thread itself;"
                    " write `@quorum help` on the list to talk to me.",
                }
            ],
        },
    ]
    assert text == (
        "<@U0BOB>, this RFC has waited 9 days for an answer."
        " Why: policy for S1 modules: maintainers answer within 7 days"
    )


def test_a_reminder_without_a_post_has_no_link():
    action = Action("remind", "module:indexer", "Three votes are open.", "k", "slack")

    _, blocks = message_for(
        action, None, users={}, bot_name="quorum", project="Example", archive_url=""
    )

    assert blocks[0]["text"]["text"] == "Three votes are open."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bob Bauer and Bob", "<@U0BOB> and <@U0OTHERBOB>"),
        ("bob bauer, please", "<@U0BOB>, please"),
        ("Bobby and Bob's", "Bobby and <@U0OTHERBOB>'s"),
        ("Carol Cortés &amp; Bob", "<@U0CAROL> &amp; <@U0OTHERBOB>"),
        ("nobody here", "nobody here"),
    ],
)
def test_people_are_mentioned_by_their_slack_ids(text: str, expected: str):
    assert mention(text, USERS) == expected


def test_text_from_people_cannot_forge_mentions_or_links(post: Post):
    action = Action("remind", post.key, "<!channel> see <https://evil.example|here> & more", "k")

    text, blocks = message_for(
        action, post, users={}, bot_name="quorum", project="Example", archive_url=""
    )

    assert text.startswith("&lt;!channel&gt; see &lt;https://evil.example|here&gt; &amp; more")
    assert "<!channel>" not in blocks[0]["text"]["text"]


def test_one_channel_object_per_configured_slack_channel():
    settings = SlackConfig(channels={"slack": "C0REMIND", "pmc": "C0PMC"})

    built = slack_channels(settings, bot_name="quorum", project="Example")

    assert [(c.name, c.channel_id) for c in built] == [("pmc", "C0PMC"), ("slack", "C0REMIND")]
    with pytest.raises(ValueError, match=r"slack\.channels\.pmc is not set"):
        SlackChannel(SlackConfig(), name="pmc", bot_name="quorum", project="Example")


# -- over the wire --------------------------------------------------------------------


async def test_a_reminder_is_posted_once_with_blocks_and_fallback_text(
    writer: StoreThread, fake: FakeSlack, post: Post
):
    running, report = await deliver(writer, channel_for(fake), reminder(post))
    again = await running.run_once(NOW + timedelta(hours=1))

    [message] = fake.messages
    assert message.channel == REMINDERS
    assert message.text is not None
    assert message.text.startswith("<@U0BOB>, this RFC has waited 9 days")
    assert message.blocks is not None
    assert [block["type"] for block in message.blocks] == ["section", "context"]
    assert report.outcomes[0].detail == message.ts
    assert again.outcomes == ()
    status, _, _ = await status_of(writer, reminder(post).key)
    assert status == Status.SENT


async def test_a_bad_token_is_refused_and_not_retried(
    writer: StoreThread, fake: FakeSlack, post: Post
):
    await deliver(writer, channel_for(fake, token="xoxb-revoked"), reminder(post))

    assert fake.messages == []
    assert [r.error for r in fake.requests_for("chat.postMessage")] == ["invalid_auth"]
    assert await status_of(writer, reminder(post).key) == (
        Status.FAILED,
        "Slack HTTP 200: invalid_auth",
        None,
    )


async def test_rate_limited_once_waits_for_retry_after_then_posts_once(
    writer: StoreThread, fake: FakeSlack, post: Post
):
    fake.fail_next(1, "429", retry_after=1)

    await deliver(writer, channel_for(fake), reminder(post))

    attempts = fake.requests_for("chat.postMessage")
    assert [r.status for r in attempts] == [429, 200]
    assert attempts[1].time - attempts[0].time >= 1 - 0.01  # asyncio may wake a tick early
    assert len(fake.messages) == 1
    assert (await status_of(writer, reminder(post).key))[0] == Status.SENT


async def test_still_rate_limited_is_retried_by_the_outbox_later(
    writer: StoreThread, fake: FakeSlack, post: Post
):
    fake.fail_next(1, "429", retry_after=0)

    running, _ = await deliver(writer, channel_for(fake, rate_limit_retries=0), reminder(post))
    status, why, retry_at = await status_of(writer, reminder(post).key)
    assert (status, why, retry_at) == (
        Status.FAILED,
        "Slack HTTP 429: ratelimited",
        NOW + timedelta(minutes=1),
    )

    await running.run_once(NOW + timedelta(minutes=1))
    assert len(fake.messages) == 1


@pytest.mark.parametrize("fault", ["500", "reset"])
async def test_an_unclear_failure_is_uncertain_and_never_repeated(
    writer: StoreThread, fake: FakeSlack, post: Post, fault: Any
):
    fake.fail_next(1, fault)

    running, report = await deliver(writer, channel_for(fake), reminder(post))
    later = await running.run_once(NOW + timedelta(days=1))

    assert (await status_of(writer, reminder(post).key))[0] == Status.UNCERTAIN
    assert any(reminder(post).key in warning for warning in report.warnings)
    assert later.outcomes == ()
    assert len(fake.requests_for("chat.postMessage")) == 1


async def test_a_timeout_that_posted_anyway_is_not_posted_again(
    writer: StoreThread, fake: FakeSlack, post: Post
):
    fake.fail_next(1, "slow", delay=0.6)

    running, _ = await deliver(writer, channel_for(fake, timeout_seconds=0.2), reminder(post))
    await fake.wait_idle()
    await running.run_once(NOW + timedelta(days=1))

    status, why, _ = await status_of(writer, reminder(post).key)
    assert status == Status.UNCERTAIN
    assert "TimeoutError" in why
    assert len(fake.messages) == 1


async def test_slack_out_of_reach_is_retried_later(writer: StoreThread, post: Post):
    async with FakeSlack(tokens=[TOKEN]) as gone:
        channel = channel_for(gone)  # its port is closed once the block ends

    await deliver(writer, channel, reminder(post))

    status, why, retry_at = await status_of(writer, reminder(post).key)
    assert (status, retry_at) == (Status.FAILED, NOW + timedelta(minutes=1))
    assert why.startswith("cannot reach Slack")


async def test_a_missing_token_names_the_variable_and_sends_nothing(
    writer: StoreThread, fake: FakeSlack, post: Post
):
    await deliver(writer, channel_for(fake, token_env="QUORUM_NO_SUCH_TOKEN"), reminder(post))

    assert fake.requests == []
    status, why, _ = await status_of(writer, reminder(post).key)
    assert (status, why) == (Status.FAILED, "$QUORUM_NO_SUCH_TOKEN is empty")


async def test_the_token_is_never_logged(
    writer: StoreThread, fake: FakeSlack, post: Post, caplog: pytest.LogCaptureFixture
):
    fake.fail_next(1, "500")
    with caplog.at_level(logging.DEBUG):
        await deliver(writer, channel_for(fake), reminder(post))

    assert TOKEN not in caplog.text
    dump = await writer(lambda store: str(list(store.db.query("SELECT * FROM actions"))))
    assert TOKEN not in dump


async def test_dry_run_makes_no_call_at_all(writer: StoreThread, fake: FakeSlack, post: Post):
    _, report = await deliver(writer, channel_for(fake), reminder(post), DispatchConfig())

    assert fake.requests == []
    assert report.outcomes[0].status == Status.DRY_RUN
    assert report.outcomes[0].rendered is not None
    assert report.outcomes[0].rendered.startswith(f"Slack {REMINDERS}:")
