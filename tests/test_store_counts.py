"""The figures `quorum stats`, /api/stats, /healthz and /metrics show are counters the
store keeps as it is written, read a row each: they agree with counting every row,
and reading them counts nothing."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.ingest import process_inbox
from bot.model import Action
from bot.store import Store
from bot.store.gauges import actions_by_status_and_channel, inbox_backlog
from bot.store.outbox import Outbox
from tests.mailgen import raw_mail
from tests.stores import ARRIVED, ingest, sample_store


def _recounted(db: Path) -> dict[str, object]:
    with sqlite3.connect(db) as conn:
        one = conn.execute
        return {
            "messages": one("SELECT count(*) FROM posts").fetchone()[0],
            "threads": one("SELECT count(*) FROM threads").fetchone()[0],
            "defects": one("SELECT count(DISTINCT post_key) FROM defects").fetchone()[0],
            "pending": one("SELECT count(*) FROM inbox").fetchone()[0],
            "kinds": dict(one("SELECT kind, count(*) FROM defects GROUP BY kind").fetchall()),
            "actions": {
                (status, channel): n
                for status, channel, n in one(
                    "SELECT status, channel, count(*) FROM actions GROUP BY status, channel"
                )
            },
        }


def _shown(store: Store) -> dict[str, object]:
    return {
        **store.stats(),
        "kinds": store.defect_counts(),
        "actions": actions_by_status_and_channel(store),
    }


def test_the_counters_agree_with_counting_and_reading_them_counts_nothing(tmp_path: Path):
    db = sample_store(tmp_path / "q.db")
    store = Store.open(db)
    statements: list[str] = []
    try:
        # A mail without a Date or a Message-ID is kept, with its defects recorded.
        ingest(store, raw_mail("No date.\n", subject="Undated", message_id=None, date=None))
        ingest(store, raw_mail("Again.\n", subject="Re: Undated", message_id="<m2@example.org>"))
        for index in range(3):
            store.enqueue_inbound(
                raw_mail(f"Queued {index}.\n", message_id=f"<q{index}@example.org>"),
                received_at=ARRIVED,
                peer="t",
                mail_from="",
                rcpt_to=[str(index)],
            )
        assert inbox_backlog(store).messages == 3
        outbox = Outbox(store)
        reminders = [
            Action(kind="remind", target="<q0@example.org>", text="x", key=f"k{i}", channel="slack")
            for i in range(4)
        ]
        outbox.record_all(reminders, ARRIVED)
        outbox.mark_dry_run("k1", "rendered", ARRIVED + timedelta(minutes=1))
        queued = store.stats()["pending"]
        process_inbox(store)
        store.db.conn.set_trace_callback(statements.append)
        shown = _shown(store)
        backlog = inbox_backlog(store)
    finally:
        store.close()
    recounted = _recounted(db)
    assert shown == recounted
    assert shown["defects"] > 0
    assert shown["pending"] == backlog.messages == 0
    assert queued == 3
    assert shown["actions"] == {("pending", "slack"): 3, ("dry-run", "slack"): 1}
    assert not [sql for sql in statements if "count(" in sql.lower()], statements


def test_a_thread_spans_its_posts_whatever_order_they_arrive_in(tmp_path: Path):
    # A reply dated before the mail it answers (a sender's clock, a late archive import)
    # moves the thread's start: the RFC's age and a vote's window are read from it.
    store = Store.open(tmp_path / "q.db")
    dates = {"<r@x>": "09:00", "<a@x>": "10:00", "<b@x>": "08:00", "<c@x>": "11:00"}
    try:
        for key in ("<r@x>", "<a@x>", "<b@x>", "<c@x>"):
            parent = "" if key == "<r@x>" else "In-Reply-To: <r@x>"
            raw = raw_mail(
                "Words.\n",
                subject="[RFC] Order" if key == "<r@x>" else "Re: [RFC] Order",
                message_id=key,
                date=f"Mon, 02 Nov 2026 {dates[key]}:00 +0000",
                extra=parent,
            )
            ingest(store, raw)
        [thread] = store.threads()
        assert (thread.first_at.hour, thread.last_at.hour) == (8, 11)
        with sqlite3.connect(tmp_path / "q.db") as conn:
            kept = conn.execute("SELECT post_count, first_at, last_at FROM threads").fetchone()
            counted = conn.execute(
                "SELECT count(*), min(created_at), max(created_at) FROM posts"
            ).fetchone()
        assert kept == counted
    finally:
        store.close()
