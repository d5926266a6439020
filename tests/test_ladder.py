"""The ladder a community would accept, on a fake clock, through real channels.

A store where an S0 obligation is already 20 days old when the bot first ticks:
the first tick lists it in a catch-up summary to the PMC and escalates nothing;
the reminder comes when the catch-up policy says (the S0 reminder threshold after
the summary), the escalation no earlier than 7 days (escalate - remind) after the
reminder; a maintainer's answer on the forum part of the same RFC stops it.

The RFC lives on two channels: a Discourse topic (read from the fake Discourse
over HTTP) and a dev@ thread whose question links the topic. Every tick is
`quorum tick`'s engine with delivery on: mail to a real SMTP sink, Slack to the
fake Slack Web API. Assertions are on what crossed the wire.
"""

from __future__ import annotations

import email
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config
from bot.core.discourse import ForumSite
from bot.features.attention import attention
from bot.store import Store
from bot.sync import direct_db
from bot.sync.forum import make_client, sync_forum
from bot.tick import run_ticks
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp_sink import SmtpSink
from tests.mailgen import raw_mail
from tests.stores import ingest

ASKED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
FIRST_TICK = ASKED + timedelta(days=20)  # S0: remind at 7 days, escalate at 14
DAY = timedelta(days=1)
TOKEN = "xoxb-quorum-test"
REMINDERS, PMC = "C0123456789", "C0987654321"
CAROL = "U0CAROL01"


@dataclass
class World:
    forum: FakeDiscourse
    sink: SmtpSink
    slack: FakeSlack
    db: Path
    config: Config
    topic: int

    def slack_in(self, channel: str) -> list[str]:
        return [m.text or "" for m in self.slack.messages if m.channel == channel]

    def mails(self) -> list[email.message.Message]:
        """Mail to the list, the Monday digest aside (it has a schedule of its own)."""
        found = [email.message_from_bytes(m.raw) for m in self.sink.messages]
        return [m for m in found if "Weekly digest" not in str(m["Subject"])]

    def said(self) -> int:
        return len(self.slack.messages) + len(self.mails())


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    forum = FakeDiscourse(clock=lambda: ASKED)
    sink = SmtpSink()
    slack = FakeSlack(tokens=(TOKEN,), channels={REMINDERS: "dev", PMC: "pmc"})
    await forum.start()
    await sink.start()
    await slack.start()
    monkeypatch.setenv("QUORUM_SLACK_TOKEN", TOKEN)
    monkeypatch.setenv("QUORUM_DISCOURSE_API_KEY", forum.api_key)
    try:
        forum.add_user("alice")
        forum.add_user("carol", name="Carol Cortés")
        category = forum.add_category("objstore", "Object Store")
        topic = forum.add_topic(
            category,
            "[RFC] Multipart uploads for the object store",
            [("alice", "I propose multipart uploads for large objects in objstore.")],
            created_at=ASKED - DAY,
        )
        config = _config(forum, sink, slack, category)
        db = tmp_path / "q.db"
        store = Store.open(db)
        try:
            await _sync(forum, store, config)
            topic_url = f"{forum.base_url}/t/multipart-uploads/{topic}"
            ingest(
                store,
                raw_mail(
                    "Should objstore switch to multipart uploads above 5 GB, or keep single"
                    f" PUTs? The RFC is discussed on the forum: {topic_url}\n",
                    subject="Multipart uploads above 5 GB?",
                    message_id="<frank-multipart@example.com>",
                    sender="Frank Fischer <frank@example.com>",
                    date="Thu, 01 Oct 2026 09:00:00 +0000",
                    extra="List-Id: <dev.lists.example.org>",
                ),
                arrived_at=ASKED,
            )
        finally:
            store.close()
        yield World(forum, sink, slack, db, config, topic)
    finally:
        await slack.stop()
        await sink.stop()
        await forum.stop()


def _config(forum: FakeDiscourse, sink: SmtpSink, slack: FakeSlack, category: int) -> Config:
    return Config.model_validate(
        {
            "project": {
                "archive_url": "https://lists.example.org/dev/",
                "archive": "public-inbox",
            },
            "smtp": {"enabled": False},
            "web": {"enabled": False},
            "identities": {"Carol Cortés": ["carol@example.org", "carol"]},
            "modules": {
                "objstore": {
                    "state": "S0",
                    "maintainers": ["Carol Cortés"],
                    "keywords": ["objstore"],
                }
            },
            "responsiveness": {},
            "dispatch": {"dry_run": False},
            "mail_out": {
                "enabled": True,
                "host": sink.host,
                "port": sink.port,
                "starttls": False,
            },
            "slack": {
                "enabled": True,
                "base_url": slack.base_url,
                "channels": {"slack": REMINDERS, "pmc": PMC},
                "users": {"Carol Cortés": CAROL},
            },
            "discourse": {
                "forums": {
                    "tvm": {
                        "base_url": forum.base_url,
                        "api_username": forum.api_username,
                        "categories": [{"slug": "objstore", "id": category}],
                    }
                },
                "webhooks": {"enabled": False},
            },
        }
    )


async def _sync(forum: FakeDiscourse, store: Store, config: Config) -> None:
    assert config.discourse is not None
    settings = config.discourse.forums["tvm"]
    async with make_client("tvm", settings) as client:
        await sync_forum(client, direct_db(store), ForumSite("tvm", forum.base_url), settings)


async def _tick(world: World, at: datetime) -> None:
    await run_ticks(world.config, world.db, [at], send=True)


async def _tick_days(world: World, first: datetime, days: int) -> dict[datetime, int]:
    """Tick once a day; how many messages each day's tick sent."""
    sent: dict[datetime, int] = {}
    for day in range(days):
        before = world.said()
        await _tick(world, first + day * DAY)
        sent[first + day * DAY] = world.said() - before
    return sent


async def test_a_20_day_old_obligation_is_caught_up_then_climbs_one_rung_at_a_time(
    world: World,
) -> None:
    await _tick(world, FIRST_TICK)

    # Day one: one catch-up summary to the PMC, nothing to the maintainers or the list.
    [summary] = world.slack_in(PMC)
    assert summary.startswith("Catch-up for Example project: 1 post waited past")
    assert 'Frank Fischer\'s question "Multipart uploads above 5 GB?" of 2026-10-01' in summary
    assert "waiting 20 days" in summary
    assert "https://lists.example.org/dev/frank-multipart@example.com/" in summary
    assert world.slack_in(REMINDERS) == []
    assert world.mails() == []

    # The reminder comes 7 days (the S0 reminder threshold) after the summary, not before.
    quiet = await _tick_days(world, FIRST_TICK + DAY, 6)
    assert set(quiet.values()) == {0}
    await _tick(world, FIRST_TICK + 7 * DAY)
    [reminder] = world.slack_in(REMINDERS)
    assert f"Reminder for <@{CAROL}> (objstore maintainers)" in reminder
    assert "It was listed in the catch-up summary in the PMC channel on 2026-10-21." in reminder
    [reply] = world.mails()
    assert reply["Subject"] == "Re: Multipart uploads above 5 GB?"
    assert reply["In-Reply-To"] == "<frank-multipart@example.com>"
    assert len(world.slack_in(PMC)) == 1  # no escalation with the reminder

    # The escalation no earlier than 7 days (escalate 14 - remind 7) after the reminder.
    reminded_on = FIRST_TICK + 7 * DAY
    sent = await _tick_days(world, reminded_on + DAY, 7)
    escalated_on = next(day for day, count in sent.items() if count)
    assert escalated_on - reminded_on == 7 * DAY
    [_, escalation] = world.slack_in(PMC)
    assert escalation.startswith("Escalation: the maintainers of objstore")
    assert "The maintainers were reminded on 2026-10-28 on Slack and in the thread." in escalation
    note = world.mails()[-1]
    assert note["To"] == "dev@lists.example.org"
    assert note["Subject"].startswith("Escalation: the maintainers of objstore")


async def test_a_maintainer_answering_on_the_forum_part_of_the_rfc_stops_the_ladder(
    world: World,
) -> None:
    await _tick(world, FIRST_TICK)
    await _tick(world, FIRST_TICK + 7 * DAY)
    assert len(world.slack_in(REMINDERS)) == 1  # reminded

    # Carol answers in the forum topic, not in the dev@ thread where Frank asked.
    world.forum.add_post(
        world.topic,
        "carol",
        "Multipart above 5 GB, yes: S3 refuses single PUTs beyond that anyway.",
        created_at=FIRST_TICK + 8 * DAY,
    )
    store = Store.open(world.db)
    try:
        await _sync(world.forum, store, world.config)
    finally:
        store.close()

    sent = await _tick_days(world, FIRST_TICK + 9 * DAY, 30)
    assert set(sent.values()) == {0}  # no escalation, no flag, ever
    assert len(world.slack_in(PMC)) == 1  # the catch-up summary only
    store = Store.open(world.db)
    try:
        needs = attention(store, world.config, FIRST_TICK + 20 * DAY)
    finally:
        store.close()
    assert [item for item in needs.items if item.module == "objstore"] == []
