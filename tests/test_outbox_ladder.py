"""What the outbox tells the ladder: what each obligation's messages were, and when they
were delivered (sent, or recorded in dry-run). Nothing is recomputed from time alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.reminders import Delivery
from bot.model import Action
from bot.store import Store
from bot.store.outbox import Outbox, m002_action_items

NOW = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=1)
ITEM = "indexer:<q@example.org>"


def _remind(channel: str, about: tuple[str, ...] = (ITEM,)) -> Action:
    key = f"remind:{channel}:module=indexer:1:<q@example.org>"
    return Action("remind", "indexer", "text", key, channel=channel, about=about)


def test_a_queued_reminder_is_recorded_but_not_delivered(store: Store):
    outbox = Outbox(store)
    outbox.record_all([_remind("slack")], NOW)
    assert outbox.ladder(NOW - timedelta(days=90)) == {
        ITEM: [Delivery("remind", "slack", NOW, None, dry_run=False)]
    }


def test_sent_and_dry_run_both_count_as_delivered_with_their_time(store: Store):
    outbox = Outbox(store)
    outbox.record_all([_remind("slack"), _remind("list")], NOW)
    outbox.mark_sent("remind:slack:module=indexer:1:<q@example.org>", "1234.5", LATER)
    outbox.mark_dry_run("remind:list:module=indexer:1:<q@example.org>", "preview", LATER)
    found = sorted(outbox.ladder(NOW - timedelta(days=1))[ITEM], key=lambda d: d.channel)
    assert found == [
        Delivery("remind", "list", NOW, LATER, dry_run=True),
        Delivery("remind", "slack", NOW, LATER, dry_run=False),
    ]
    # Before the window asked for: not read.
    assert outbox.ladder(LATER) == {}
    # As of a moment before the delivery: recorded, not delivered yet.
    [early] = outbox.ladder(NOW - timedelta(days=1), NOW)[ITEM][:1]
    assert early.delivered_at is None
    assert outbox.ladder(NOW - timedelta(days=1), NOW - timedelta(minutes=1)) == {}


def test_a_summary_covers_every_obligation_it_lists(store: Store):
    outbox = Outbox(store)
    summary = Action(
        "catch-up", "catch-up", "text", "catch-up:pmc:project:0:x", "pmc", about=("a:1", "b:2")
    )
    outbox.record_all([summary], NOW)
    assert set(outbox.ladder(NOW)) == {"a:1", "b:2"}


def test_reminders_recorded_before_the_ladder_keep_their_history(store: Store):
    outbox = Outbox(store)
    # As Quorum recorded them before action_items existed: no items.
    outbox.record_all([_remind("slack", about=()), _remind("thread", about=())], NOW)
    store.db["action_items"].drop()
    m002_action_items(store.db)  # the migration, as an upgraded store runs it
    assert [d.channel for d in outbox.ladder(NOW)[ITEM]] == ["slack", "thread"]
