"""The fake Slack Web API, exercised by the real slack_sdk AsyncWebClient over loopback.

These tests pin down the behaviours other tests rely on: that the fake authenticates,
records what crossed the wire, and misbehaves (429, 500, reset, slow) in the ways the
official client's retry handlers are built to survive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-quorum-test-1"
CHANNEL_ID = "C0QUORUM01"
CHANNEL_NAME = "quorum-dev"
USER_ID = "U0ALICE"

BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*[VOTE]* Release 1.2: 3 binding +1"}}
]

# Retries in these tests should cost nothing but the Retry-After the fake asks for.
NO_WAIT = FixedValueRetryIntervalCalculator(0.0)
# asyncio may wake a sleeper up to one clock tick early; never enough to matter here.
CLOCK_SLACK = 0.01


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(
        tokens=[TOKEN], channels={CHANNEL_ID: CHANNEL_NAME}, users={USER_ID: "alice"}
    ) as running:
        yield running


def client_for(
    fake: FakeSlack,
    *,
    token: str | None = TOKEN,
    retry_handlers: Sequence[AsyncRetryHandler] = (),
    timeout: float = 5,
) -> AsyncWebClient:
    # Retry handlers default to none (not slack_sdk's connection-error one) so that each
    # test states exactly which retries it expects. No session is passed: the client then
    # opens and closes one per call, leaving nothing unclosed for warnings-as-errors.
    return AsyncWebClient(
        token=token,
        base_url=fake.base_url,
        timeout=timeout,  # type: ignore[arg-type]  # aiohttp accepts float seconds
        retry_handlers=list(retry_handlers),
    )


# -- auth -----------------------------------------------------------------------------


async def test_auth_test_identifies_the_bot(fake: FakeSlack) -> None:
    response = await client_for(fake).auth_test()

    assert response["ok"] is True
    assert response["user_id"] == FakeSlack.BOT_USER_ID
    assert response["bot_id"] == FakeSlack.BOT_ID
    assert fake.requests_for("auth.test")[0].status == 200


async def test_bad_token_is_invalid_auth(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client_for(fake, token="xoxb-not-ours").chat_postMessage(
            channel=CHANNEL_ID, text="hello"
        )

    assert raised.value.response["error"] == "invalid_auth"
    assert raised.value.response.status_code == 200
    assert fake.messages == []


async def test_missing_token_is_not_authed(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client_for(fake, token=None).auth_test()

    assert raised.value.response["error"] == "not_authed"


async def test_form_encoded_token_is_accepted(fake: FakeSlack) -> None:
    # Slack also takes the token as a POST form field; other clients may send it so.
    response = await client_for(fake, token=None).api_call("auth.test", data={"token": TOKEN})

    assert response["ok"] is True


# -- chat.postMessage / chat.update ---------------------------------------------------


async def test_post_message_is_recorded_with_text_and_blocks(fake: FakeSlack) -> None:
    response = await client_for(fake).chat_postMessage(
        channel=CHANNEL_ID, text="Release 1.2 vote passed", blocks=BLOCKS
    )

    assert response["channel"] == CHANNEL_ID
    assert response["message"]["text"] == "Release 1.2 vote passed"
    assert response["message"]["blocks"] == BLOCKS
    [recorded] = fake.messages
    assert recorded.channel == CHANNEL_ID
    assert recorded.text == "Release 1.2 vote passed"
    assert recorded.blocks == BLOCKS
    assert recorded.thread_ts is None
    assert recorded.ts == response["ts"]


async def test_thread_reply_records_thread_ts(fake: FakeSlack) -> None:
    client = client_for(fake)
    parent = await client.chat_postMessage(channel=CHANNEL_ID, text="[RFC] New scheduler")

    reply = await client.chat_postMessage(
        channel=CHANNEL_ID, text="Open concerns: 2", thread_ts=parent["ts"]
    )

    assert reply["message"]["thread_ts"] == parent["ts"]
    assert fake.messages[1].thread_ts == parent["ts"]
    assert fake.messages[1].ts != parent["ts"]


async def test_channel_name_resolves_to_its_id(fake: FakeSlack) -> None:
    response = await client_for(fake).chat_postMessage(channel=f"#{CHANNEL_NAME}", text="hi")

    assert response["channel"] == CHANNEL_ID
    assert fake.messages[0].channel == CHANNEL_ID


async def test_unknown_channel_is_channel_not_found(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client_for(fake).chat_postMessage(channel="C0NOWHERE", text="hello")

    assert raised.value.response["error"] == "channel_not_found"
    assert fake.messages == []


async def test_message_without_text_or_blocks_is_no_text(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client_for(fake).api_call("chat.postMessage", json={"channel": CHANNEL_ID})

    assert raised.value.response["error"] == "no_text"


async def test_update_edits_the_message_in_place(fake: FakeSlack) -> None:
    client = client_for(fake)
    posted = await client.chat_postMessage(channel=CHANNEL_ID, text="Vote: 1 binding +1")
    new_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "3 binding +1"}}]

    updated = await client.chat_update(
        channel=CHANNEL_ID, ts=posted["ts"], text="Vote: 3 binding +1", blocks=new_blocks
    )

    assert updated["ts"] == posted["ts"]
    assert updated["text"] == "Vote: 3 binding +1"
    [recorded] = fake.messages
    assert recorded.text == "Vote: 3 binding +1"
    assert recorded.blocks == new_blocks
    assert recorded.edits == 1


async def test_update_of_unknown_ts_is_message_not_found(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client_for(fake).chat_update(channel=CHANNEL_ID, ts="1.000001", text="x")

    assert raised.value.response["error"] == "message_not_found"


async def test_form_encoded_blocks_are_decoded(fake: FakeSlack) -> None:
    # In a form body Slack takes blocks as a JSON-encoded string.
    await client_for(fake).api_call(
        "chat.postMessage",
        data={"channel": CHANNEL_ID, "blocks": '[{"type": "divider"}]'},
    )

    assert fake.messages[0].blocks == [{"type": "divider"}]


# -- conversations.info / users.info --------------------------------------------------


async def test_conversations_info_knows_configured_channels(fake: FakeSlack) -> None:
    response = await client_for(fake).conversations_info(channel=CHANNEL_ID)

    assert response["channel"]["name"] == CHANNEL_NAME


async def test_users_info_knows_configured_users(fake: FakeSlack) -> None:
    client = client_for(fake)

    response = await client.users_info(user=USER_ID)
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U0NOBODY")

    assert response["user"]["name"] == "alice"
    assert raised.value.response["error"] == "user_not_found"


# -- misbehaviour ---------------------------------------------------------------------


async def test_rate_limit_is_honoured_and_delivers_exactly_once(fake: FakeSlack) -> None:
    fake.fail_next(1, "429", retry_after=1)
    client = client_for(fake, retry_handlers=[AsyncRateLimitErrorRetryHandler()])

    response = await client.chat_postMessage(channel=CHANNEL_ID, text="reminder")

    assert response["ok"] is True
    first, second = fake.requests
    assert (first.status, first.error, second.status) == (429, "ratelimited", 200)
    assert second.time - first.time >= 1 - CLOCK_SLACK
    assert [m.text for m in fake.messages] == ["reminder"]


async def test_rate_limit_without_retry_handler_raises_with_retry_after(
    fake: FakeSlack,
) -> None:
    fake.fail_next(1, "429", retry_after=1)

    with pytest.raises(SlackApiError) as raised:
        await client_for(fake).chat_postMessage(channel=CHANNEL_ID, text="reminder")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    assert raised.value.response["error"] == "ratelimited"
    assert fake.messages == []


async def test_server_error_raises_without_retry_handler(fake: FakeSlack) -> None:
    fake.fail_next(1, "500")

    with pytest.raises(SlackApiError) as raised:
        await client_for(fake).chat_postMessage(channel=CHANNEL_ID, text="reminder")

    assert raised.value.response.status_code == 500
    assert fake.messages == []


async def test_server_error_is_retried_by_server_error_handler(fake: FakeSlack) -> None:
    fake.fail_next(1, "500")
    handler = AsyncServerErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT)

    await client_for(fake, retry_handlers=[handler]).chat_postMessage(
        channel=CHANNEL_ID, text="reminder"
    )

    assert [r.status for r in fake.requests] == [500, 200]
    assert len(fake.messages) == 1


async def test_reset_raises_connection_error_without_retry_handler(fake: FakeSlack) -> None:
    fake.fail_next(1, "reset")

    with pytest.raises(aiohttp.ClientConnectionError):
        await client_for(fake).chat_postMessage(channel=CHANNEL_ID, text="reminder")

    assert fake.requests[0].status is None
    assert fake.messages == []


async def test_reset_is_retried_by_connection_error_handler(fake: FakeSlack) -> None:
    fake.fail_next(1, "reset")
    handler = AsyncConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT)

    await client_for(fake, retry_handlers=[handler]).chat_postMessage(
        channel=CHANNEL_ID, text="reminder"
    )

    assert [r.fault for r in fake.requests] == ["reset", None]
    assert len(fake.messages) == 1


async def test_slow_call_still_posts_after_the_client_gives_up(fake: FakeSlack) -> None:
    # The case an outbox must survive: the client saw a timeout, yet Slack posted.
    fake.fail_next(1, "slow", delay=1.0)

    with pytest.raises(TimeoutError):
        await client_for(fake, timeout=0.3).chat_postMessage(channel=CHANNEL_ID, text="late")
    await fake.wait_idle()

    assert fake.requests[0].fault == "slow"
    assert [m.text for m in fake.messages] == ["late"]


async def test_seeded_random_faults_still_deliver_each_message_once() -> None:
    async with FakeSlack(
        tokens=[TOKEN], fault_rate=0.3, fault_seed=7, fault_kinds=("500", "reset")
    ) as fake:
        handlers = [
            AsyncServerErrorRetryHandler(max_retry_count=20, interval_calculator=NO_WAIT),
            AsyncConnectionErrorRetryHandler(max_retry_count=20, interval_calculator=NO_WAIT),
        ]
        client = client_for(fake, retry_handlers=handlers)

        for n in range(20):
            await client.chat_postMessage(channel=CHANNEL_ID, text=f"message {n}")

    assert [m.text for m in fake.messages] == [f"message {n}" for n in range(20)]
    assert any(r.fault is not None for r in fake.requests)
    assert len(fake.requests) == 20 + sum(r.fault is not None for r in fake.requests)


def test_fail_next_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FakeSlack().fail_next(1, "503")  # type: ignore[arg-type]
