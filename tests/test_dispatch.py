"""The dispatcher, end to end: real mail over loopback SMTP and the real Slack client.

Every "exactly once" claim is checked by counting what the fakes received.
A crash is a ``Crash`` (a BaseException, like a killed process: nothing in the
dispatcher catches it) raised at a chosen point inside a channel, after which a
new Dispatcher on the same database takes over.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest

from bot.adapters.outbound_mail import MailChannel, proves_delivery
from bot.adapters.slack import ROUTES as SLACK_ROUTES
from bot.adapters.slack import SlackChannel
from bot.config import MailOutConfig, Section, SlackConfig
from bot.core.reminders import Audience
from bot.dispatch import (
    Channel,
    DispatchConfig,
    Dispatcher,
    PointOfNoReturn,
    Rendered,
    cap_warning,
    decide_cap,
    is_live,
    post_link,
    retry_time,
)
from bot.model import Action, Person, Post, Source
from bot.store import Store
from bot.store.outbox import Due, Outbox, Status
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp_sink import SmtpSink
from tests.mailgen import raw_mail
from tests.stores import StoreThread, ingest, reply_to

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BOT = "quorum@example.org"
LIST = "dev@lists.example.org"
KEY = b"a test key for Message-IDs"
TOKEN = "xoxb-quorum-test"
SLACK_CHANNEL = "C0REMINDERS"
LIVE = DispatchConfig(dry_run=False)

CrashPoint = Literal["before-sending", "after-point-of-no-return", "after-sending"]


class Crash(BaseException):
    """The process dies here."""


class CrashingChannel:
    """A real channel that dies once, at one point of a delivery."""

    def __init__(self, inner: Channel[Any], at: CrashPoint) -> None:
        self.inner = inner
        self.at = at
        self.name = inner.name
        self.enabled = inner.enabled

    def render(self, action: Action, target: Post | None, now: datetime) -> Rendered[Any]:
        return self.inner.render(action, target, now)

    async def send(self, action: Action, rendered: Rendered[Any], point: PointOfNoReturn) -> str:
        if self.at == "before-sending":
            raise Crash

        async def point_then_maybe_crash() -> None:
            await point()
            if self.at == "after-point-of-no-return":
                raise Crash

        await self.inner.send(action, rendered, point_then_maybe_crash)
        raise Crash  # after-sending: delivered, but never marked


# -- fixtures -------------------------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(tokens=[TOKEN], channels={SLACK_CHANNEL: "dev-reminders"}) as running:
        yield running


@pytest.fixture
def posts(store: Store) -> list[Post]:
    return [
        ingest(store, raw_mail(subject=f"[RFC] Topic {n}", message_id=f"<rfc{n}@example.org>"))
        for n in range(3)
    ]


def mail_channel(sink: SmtpSink, *, enabled: bool = True) -> MailChannel:
    settings = MailOutConfig(
        enabled=enabled, host=sink.host, port=sink.port, starttls=False, timeout_seconds=5
    )
    return MailChannel(
        settings,
        bot_name="quorum",
        bot_address=BOT,
        list_address=LIST,
        project="Example project",
        message_id_key=KEY,
    )


def slack_channel(fake: FakeSlack, *, enabled: bool = True) -> SlackChannel:
    settings = SlackConfig(
        enabled=enabled, base_url=fake.base_url, channels={"slack": SLACK_CHANNEL}
    )
    return SlackChannel(
        settings,
        name="slack",
        bot_name="quorum",
        project="Example project",
        environ={"QUORUM_SLACK_TOKEN": TOKEN},
    )


def dispatcher(
    writer: StoreThread, *channels: Channel[Any], config: DispatchConfig = LIVE
) -> Dispatcher:
    return Dispatcher(
        writer, {c.name: c for c in channels}, config, clock=lambda: NOW, echo_proof=echo_proof
    )


def echo_proof(key: str, message_id: str, list_id: str | None) -> bool:
    """As `quorum run` checks a copy: the list distributed it, our key signed its id."""
    return list_id == "<dev.lists.example.org>" and proves_delivery(key, message_id, secret=KEY)


def reminder(post: Post, n: int = 0) -> Action:
    return Action(
        kind="remind",
        target=post.key,
        text="Alice Archer has not answered yet.",
        key=f"reminder:{post.key}:{n}",
        channel="slack",
        reason="policy S1: answer within 7 days",
    )


async def record(writer: StoreThread, *actions: Action) -> None:
    await writer(lambda store: Outbox(store).record_all(actions, NOW))


async def statuses(writer: StoreThread) -> dict[str, Status]:
    entries = await writer(lambda store: Outbox(store).log(limit=1000))
    return {entry.key: entry.status for entry in entries}


# -- pure decisions -------------------------------------------------------------------


def _due(key: str, kind: str = "reply", route: str = "mail") -> Due:
    return Due(key, kind, route, NOW)


def test_cap_takes_the_oldest_deliverable_and_holds_the_rest():
    due = [_due("a"), _due("b", route="discourse"), _due("c"), _due("d", kind="remind")]

    decision = decide_cap(due, 2, {"mail"})

    assert decision.take == ("a", "c")
    assert [d.key for d in decision.hold] == ["d"]
    assert [d.key for d in decision.waiting] == ["b"]


def test_cap_warning_names_the_kinds_that_overflowed():
    held = [_due("a", "remind"), _due("b", "remind"), _due("c", "reply")]

    warning = cap_warning(held, 20)

    assert warning is not None
    assert "max_per_run = 20" in warning
    assert "3 action(s) held back" in warning
    assert "(remind: 2, reply: 1)" in warning
    assert cap_warning([], 20) is None


def test_retries_back_off_and_give_up():
    assert retry_time(1, NOW, 5) == NOW + timedelta(minutes=1)
    assert retry_time(3, NOW, 5) == NOW + timedelta(minutes=4)
    assert retry_time(4, NOW, 99) == NOW + timedelta(minutes=8)
    assert retry_time(12, NOW, 99) == NOW + timedelta(hours=1)
    assert retry_time(5, NOW, 5) is None


def test_sending_needs_both_switches(sink: SmtpSink):
    assert not is_live(DispatchConfig(), mail_channel(sink, enabled=True))
    assert not is_live(LIVE, mail_channel(sink, enabled=False))
    assert is_live(LIVE, mail_channel(sink, enabled=True))


def test_post_link_prefers_the_posts_url_then_the_archive():
    post = Post(Source.MAIL, "<a/b@x.org>", "<a/b@x.org>", "t", Person("A"), NOW, "s", "")
    forum = replace(post, url="https://forum.example.org/t/7/2")

    # Quoted, so an id can sit in a query string or a path segment.
    assert post_link(post, "https://archive.example.org/?q=msgid:{message_id}") == (
        "https://archive.example.org/?q=msgid:a%2Fb@x.org"
    )
    assert post_link(post, "") is None
    assert post_link(forum, "https://archive.example.org/{message_id}") == forum.url


# -- delivery -------------------------------------------------------------------------


async def test_the_same_run_twice_delivers_each_action_once(
    writer: StoreThread, sink: SmtpSink, slack: FakeSlack, posts: list[Post]
):
    await record(writer, *(reply_to(p) for p in posts), reminder(posts[0]))
    running = dispatcher(writer, mail_channel(sink), slack_channel(slack))

    first = await running.run_once(NOW)
    second = await running.run_once(NOW)
    again = await dispatcher(writer, mail_channel(sink), slack_channel(slack)).run_once(NOW)

    assert first.sent == 4
    assert second.outcomes == again.outcomes == ()
    assert len(sink.messages) == 3
    assert len(slack.messages) == 1
    assert set((await statuses(writer)).values()) == {Status.SENT}


@pytest.mark.parametrize("kind", ["mail", "slack"])
async def test_crash_before_sending_still_delivers_exactly_once(
    writer: StoreThread, sink: SmtpSink, slack: FakeSlack, posts: list[Post], kind: str
):
    channel = mail_channel(sink) if kind == "mail" else slack_channel(slack)
    actions = (
        [reply_to(p) for p in posts[:2]]
        if kind == "mail"
        else [reminder(posts[0], n) for n in (1, 2)]
    )
    await record(writer, *actions)

    with pytest.raises(Crash):
        await dispatcher(writer, CrashingChannel(channel, "before-sending")).run_once(NOW)
    assert set((await statuses(writer)).values()) == {Status.SENDING}

    report = await dispatcher(writer, channel).run_once(NOW)

    assert report.recovery is not None
    assert sorted(report.recovery.requeued) == sorted(a.key for a in actions)
    assert report.sent == 2
    assert len(sink.messages if kind == "mail" else slack.messages) == 2
    assert set((await statuses(writer)).values()) == {Status.SENT}


@pytest.mark.parametrize("kind", ["mail", "slack"])
async def test_crash_after_sending_never_sends_again(
    writer: StoreThread, sink: SmtpSink, slack: FakeSlack, posts: list[Post], kind: str
):
    channel = mail_channel(sink) if kind == "mail" else slack_channel(slack)
    action = reply_to(posts[0]) if kind == "mail" else reminder(posts[0])
    await record(writer, action)

    with pytest.raises(Crash):
        await dispatcher(writer, CrashingChannel(channel, "after-sending")).run_once(NOW)
    restarted = dispatcher(writer, channel)
    first = await restarted.run_once(NOW)
    second = await restarted.run_once(NOW + timedelta(hours=1))

    assert first.recovery is not None
    assert first.recovery.uncertain == (action.key,)
    assert first.outcomes == second.outcomes == ()
    assert any(action.key in warning for warning in first.warnings)
    assert len(sink.messages if kind == "mail" else slack.messages) == 1
    assert (await statuses(writer))[action.key] == Status.UNCERTAIN


async def test_uncertain_mail_is_settled_by_the_lists_copy_of_it(
    writer: StoreThread, sink: SmtpSink, posts: list[Post]
):
    action = reply_to(posts[0])
    await record(writer, action)
    with pytest.raises(Crash):
        await dispatcher(writer, CrashingChannel(mail_channel(sink), "after-sending")).run_once(NOW)
    restarted = dispatcher(writer, mail_channel(sink))
    await restarted.run_once(NOW)

    # The list distributes our reply (adding its List-Id); it comes back to our endpoint.
    copy = b"List-Id: Developers <dev.lists.example.org>\r\n" + sink.messages[0].raw
    await writer(lambda store: ingest(store, copy))
    report = await restarted.run_once(NOW)

    assert report.confirmed == (action.key,)
    assert (await statuses(writer))[action.key] == Status.SENT
    assert len(sink.messages) == 1


async def test_crash_at_the_point_of_no_return_waits_for_a_person(
    writer: StoreThread, sink: SmtpSink, posts: list[Post]
):
    """The price of never sending twice: this window's message is not guessed at."""
    action = reply_to(posts[0])
    await record(writer, action)
    crashing = CrashingChannel(mail_channel(sink), "after-point-of-no-return")
    with pytest.raises(Crash):
        await dispatcher(writer, crashing).run_once(NOW)
    restarted = dispatcher(writer, mail_channel(sink))
    await restarted.run_once(NOW)
    assert (len(sink.messages), (await statuses(writer))[action.key]) == (0, Status.UNCERTAIN)

    await writer(lambda store: Outbox(store).resolve(action.key, delivered=False, now=NOW))
    report = await restarted.run_once(NOW)

    assert report.sent == 1
    assert len(sink.messages) == 1


async def test_the_cap_holds_and_names_the_rule(
    writer: StoreThread, sink: SmtpSink, posts: list[Post], caplog: pytest.LogCaptureFixture
):
    flood = [reply_to(posts[0], key=f"flood:{n}") for n in range(5)]
    await record(writer, *flood)
    running = dispatcher(
        writer, mail_channel(sink), config=DispatchConfig(dry_run=False, max_per_run=2)
    )

    with caplog.at_level(logging.WARNING, logger="bot.dispatch"):
        first = await running.run_once(NOW)

    assert (first.sent, dict(first.held)) == (2, {"reply": 3})
    assert len(sink.messages) == 2
    assert "max_per_run = 2 reached: 3 action(s) held back for the next run (reply: 3)" in (
        caplog.text
    )
    assert list((await statuses(writer)).values()).count(Status.CAPPED) == 3

    second = await running.run_once(NOW)
    third = await running.run_once(NOW)
    assert (second.sent, third.sent, dict(third.held)) == (2, 1, {})
    assert len(sink.messages) == 5


async def test_dry_run_is_the_default_and_sends_nothing(
    writer: StoreThread,
    sink: SmtpSink,
    slack: FakeSlack,
    posts: list[Post],
    caplog: pytest.LogCaptureFixture,
):
    await record(writer, reply_to(posts[0]), reminder(posts[0]))
    channels = (mail_channel(sink, enabled=True), slack_channel(slack, enabled=True))

    with caplog.at_level(logging.DEBUG, logger="bot.dispatch"):
        report = await dispatcher(writer, *channels, config=DispatchConfig()).run_once(NOW)

    assert report.count(Status.DRY_RUN) == 2
    assert sink.messages == []
    assert slack.requests == []
    # The rendered message is shown at debug level only: no mail body in an info line.
    shown = [r for r in caplog.records if "Subject: Re: [RFC] Topic 0" in r.getMessage()]
    assert [r.levelno for r in shown] == [logging.DEBUG]
    entries = await writer(lambda store: Outbox(store).log())
    assert {e.status for e in entries} == {Status.DRY_RUN}
    assert all(e.rendered for e in entries)
    # Dry-run is final: enabling the channel later does not flush old decisions.
    assert (await dispatcher(writer, *channels).run_once(NOW)).outcomes == ()


async def test_a_disabled_channel_stays_dry_while_others_send(
    writer: StoreThread, sink: SmtpSink, slack: FakeSlack, posts: list[Post]
):
    await record(writer, reply_to(posts[0]), reminder(posts[0]))

    report = await dispatcher(
        writer, mail_channel(sink, enabled=False), slack_channel(slack)
    ).run_once(NOW)

    assert {o.channel: o.status for o in report.outcomes} == {
        "mail": Status.DRY_RUN,
        "slack": Status.SENT,
    }
    assert (len(sink.messages), len(slack.messages)) == (0, 1)


async def test_an_action_for_a_missing_channel_waits(
    writer: StoreThread, sink: SmtpSink, posts: list[Post]
):
    forum = Action("reply", posts[0].key, "Hi", "forum:1", channel="discourse")
    await record(writer, forum)

    report = await dispatcher(writer, mail_channel(sink)).run_once(NOW)

    assert dict(report.waiting) == {"discourse": 1}
    assert "not configured (discourse: 1)" in report.warnings[0]
    assert (await statuses(writer))["forum:1"] == Status.PENDING


async def test_one_bad_action_does_not_stop_the_others(
    writer: StoreThread, sink: SmtpSink, posts: list[Post]
):
    orphan = Action("reply", "<never-stored@example.org>", "Hi", "orphan", channel="mail")
    await record(writer, orphan, reply_to(posts[1]))

    report = await dispatcher(writer, mail_channel(sink)).run_once(NOW)

    by_key = {o.key: o for o in report.outcomes}
    assert by_key["orphan"].status == Status.FAILED
    assert by_key["orphan"].detail.endswith("is not stored; not retried")
    assert by_key[reply_to(posts[1]).key].status == Status.SENT
    assert len(sink.messages) == 1


# -- configuration --------------------------------------------------------------------

EXAMPLE_TOML = """
[dispatch]
# Master switch. While true nothing is sent anywhere: every message is rendered,
# logged and recorded as "dry-run" (see `quorum log`). Set false to let the
# enabled channels below send.
dry_run = true
# At most this many actions are handled per run; the rest wait for later runs
# and a warning names the kind of action that overflowed.
max_per_run = 20
# A delivery refused for a passing reason (SMTP 4xx, Slack rate limit, network
# down before sending) is retried with backoff until tried this many times.
max_attempts = 5

[mail_out]
# Reply to the list by SMTP submission. Also needs dispatch.dry_run = false.
enabled = false
host = "localhost"
# 587 with starttls = true (submission), or 465 with tls = true; not both.
port = 587
starttls = true
tls = false
# Empty: no AUTH. The password is read from the environment variable named here.
username = ""
password_env = "QUORUM_SMTP_PASSWORD"
timeout_seconds = 30

[slack]
# Post reminders and escalations to Slack. Also needs dispatch.dry_run = false.
enabled = false
# Environment variable holding the bot token (xoxb-...); the app needs chat:write.
token_env = "QUORUM_SLACK_TOKEN"
base_url = "https://slack.com/api/"
timeout_seconds = 30
# How often a rate-limited (HTTP 429) call is retried after Slack's Retry-After.
rate_limit_retries = 2

# Slack channel ID (not #name) per kind of message: "slack" gets reminders to
# maintainers, "pmc" escalations. Without an ID, those messages wait (with a warning).
[slack.channels]
# slack = "C0123456789"
# pmc = "C0987654321"

# Person (as in [identities] or the roster) = Slack user ID, to @-mention them.
[slack.users]
# "Alice Archer" = "U0123456789"
"""


def test_example_settings_are_the_defaults():
    data = tomllib.loads(EXAMPLE_TOML)

    assert DispatchConfig.model_validate(data["dispatch"]) == DispatchConfig()
    assert MailOutConfig.model_validate(data["mail_out"]) == MailOutConfig()
    assert SlackConfig.model_validate(data["slack"]) == SlackConfig()


def test_channel_names_are_the_ones_the_core_routes_to():
    routes = {route.value for route in Audience}

    assert {"mail", "list"} | SLACK_ROUTES <= routes | {source.value for source in Source}


@pytest.mark.parametrize("model", [DispatchConfig, MailOutConfig, SlackConfig])
def test_settings_follow_the_config_rules(model: type[Section]):
    # Defined outside bot.config (which imports them), so check they did not drift.
    assert model.model_config == Section.model_config


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (DispatchConfig, {"max_per_run": 0}, "greater than or equal to 1"),
        (DispatchConfig, {"dry_run": "no"}, "valid boolean"),
        (MailOutConfig, {"password": "hunter2"}, "Extra inputs are not permitted"),
        (MailOutConfig, {"starttls": True, "tls": True}, "exclude each other"),
        (SlackConfig, {"channels": {"slack": "#dev"}}, "not #names"),
        (SlackConfig, {"channels": {"reminders": "C0123"}}, "unknown reminders"),
        (SlackConfig, {"users": {"Alice": "alice"}}, "U0123ABCD"),
    ],
)
def test_bad_settings_are_refused(model: type[Section], data: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        model.model_validate(data)
