"""The outbox table: recorded once, claimed once, and settled safely after a crash."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest

from bot.model import Action, Post
from bot.store import Store
from bot.store import to_text as store_text
from bot.store.outbox import Outbox, Status, apply_migrations
from bot.store.outbox import to_text as outbox_text
from tests.mailgen import raw_mail
from tests.stores import ingest, reply_to

T = TypeVar("T")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


# -- fixtures -------------------------------------------------------------------------


@pytest.fixture
def post(store: Store) -> Post:
    return ingest(store, raw_mail(subject="[RFC] Storage", message_id="<rfc1@example.org>"))


# -- recording ------------------------------------------------------------------------


def test_same_key_is_recorded_once(store: Store, post: Post):
    outbox = Outbox(store)
    action = reply_to(post)

    assert outbox.record(action, NOW) is True
    assert outbox.record(action, NOW + timedelta(hours=1)) is False
    assert outbox.record_all([action, reply_to(post, key="other")], NOW) == 1

    assert outbox.counts() == {"pending": 2}
    entry = outbox.get(action.key)
    assert entry is not None
    assert (entry.created_at, entry.attempts) == (NOW, 0)  # the first recording stands


def test_timestamps_are_written_as_the_store_writes_them():
    moment = datetime(2026, 11, 20, 13, 0, 59, 999, tzinfo=timezone(timedelta(hours=1)))

    assert outbox_text(moment) == store_text(moment) == "2026-11-20T12:00:59+00:00"


def test_migrations_are_their_own_set_and_repeatable(store: Store):
    apply_migrations(store.db)  # a second time changes nothing
    sets = {row["migration_set"] for row in store.db.query("SELECT * FROM _sqlite_migrations")}
    assert {"quorum", "outbox"} <= sets


# -- claiming -------------------------------------------------------------------------


def test_claim_routes_by_target_and_takes_each_row_once(store: Store, post: Post):
    outbox = Outbox(store)
    outbox.record(reply_to(post), NOW)
    outbox.record(
        Action(kind="remind", target=post.key, text="x", key="slack:1", channel="slack"), NOW
    )

    due = outbox.due(NOW)
    assert [(d.key, d.route) for d in due] == [(f"reply:{post.key}", "mail"), ("slack:1", "slack")]

    claimed = outbox.claim([d.key for d in due], NOW)
    assert [(c.route, c.attempts, c.target) for c in claimed] == [
        ("mail", 1, post),
        ("slack", 1, post),
    ]
    assert outbox.claim([d.key for d in due], NOW) == []
    assert outbox.due(NOW) == []
    assert outbox.get(f"reply:{post.key}").status == Status.SENDING  # type: ignore[union-attr]


def test_held_rows_stay_queued_with_a_note(store: Store, post: Post):
    outbox = Outbox(store)
    outbox.record(reply_to(post), NOW)

    assert outbox.hold([f"reply:{post.key}"], "held back by the cap", NOW) == 1

    entry = outbox.get(f"reply:{post.key}")
    assert entry is not None
    assert (entry.status, entry.last_error) == (Status.CAPPED, "held back by the cap")
    assert [d.key for d in outbox.due(NOW)] == [f"reply:{post.key}"]


def test_failed_row_is_due_again_only_at_its_retry_time(store: Store, post: Post):
    outbox = Outbox(store)
    action = reply_to(post)
    outbox.record(action, NOW)
    outbox.claim([action.key], NOW)

    outbox.mark_failed(action.key, "SMTP 451 try later", NOW + timedelta(minutes=1), NOW)

    assert outbox.due(NOW + timedelta(seconds=59)) == []
    assert [d.key for d in outbox.due(NOW + timedelta(minutes=1))] == [action.key]
    [again] = outbox.claim([action.key], NOW + timedelta(minutes=1))
    assert again.attempts == 2


def test_failed_row_without_retry_time_is_final(store: Store, post: Post):
    outbox = Outbox(store)
    action = reply_to(post)
    outbox.record(action, NOW)
    outbox.claim([action.key], NOW)
    outbox.mark_failed(action.key, "SMTP 550 no such list", None, NOW)

    assert outbox.due(NOW + timedelta(days=30)) == []


# -- after a crash --------------------------------------------------------------------


def test_recover_requeues_claimed_rows_and_makes_in_flight_rows_uncertain(store: Store, post: Post):
    outbox = Outbox(store)
    never_left = reply_to(post, key="a")
    maybe_left = reply_to(post, key="b")
    outbox.record_all([never_left, maybe_left], NOW)
    outbox.claim(["a", "b"], NOW)
    outbox.mark_in_flight("b", NOW, remote_id="<quorum.b@example.org>", rendered="Subject: x")

    recovery = outbox.recover(NOW + timedelta(minutes=5))

    assert (recovery.requeued, recovery.uncertain) == (("a",), ("b",))
    assert [d.key for d in outbox.due(NOW)] == ["a"]
    uncertain = outbox.get("b")
    assert uncertain is not None
    assert uncertain.status == Status.UNCERTAIN
    assert "not resent" in (uncertain.last_error or "")
    assert uncertain.rendered == "Subject: x"


def test_uncertain_mail_is_confirmed_by_its_echo_from_the_list(store: Store, post: Post):
    outbox = Outbox(store)
    outbox.record(reply_to(post, key="a"), NOW)
    outbox.claim(["a"], NOW)
    outbox.mark_in_flight("a", NOW, remote_id="<quorum.a@example.org>")
    outbox.recover(NOW)
    checked: list[tuple[str, str, str | None]] = []

    def proves(key: str, message_id: str, list_id: str | None) -> bool:
        checked.append((key, message_id, list_id))
        return list_id == "<dev.lists.example.org>"

    assert outbox.confirm_echoes(NOW, proves) == []

    ingest(
        store,
        raw_mail(
            message_id="<quorum.a@example.org>",
            subject="Re: [RFC] Storage",
            extra="List-Id: <dev.lists.example.org>",
        ),
    )

    assert outbox.confirm_echoes(NOW) == []  # nothing settles without a check
    assert outbox.confirm_echoes(NOW, proves) == ["a"]
    assert checked == [("a", "<quorum.a@example.org>", "<dev.lists.example.org>")]
    entry = outbox.get("a")
    assert entry is not None
    assert (entry.status, entry.sent_at, entry.remote_id) == (
        Status.SENT,
        NOW,
        "<quorum.a@example.org>",
    )


def test_a_person_resolves_uncertain_rows(store: Store, post: Post):
    outbox = Outbox(store)
    outbox.record_all([reply_to(post, key="a"), reply_to(post, key="b")], NOW)
    outbox.claim(["a", "b"], NOW)
    for key in ("a", "b"):
        outbox.mark_in_flight(key, NOW)
    outbox.recover(NOW)

    assert outbox.resolve("a", delivered=True, now=NOW, note="seen in #dev") is True
    assert outbox.resolve("b", delivered=False, now=NOW) is True
    assert outbox.resolve("b", delivered=False, now=NOW) is False  # pending: nothing to resolve

    assert outbox.counts() == {"sent": 1, "pending": 1}
    assert [d.key for d in outbox.due(NOW)] == ["b"]


# -- the log --------------------------------------------------------------------------


def test_log_says_what_was_decided_why_and_what_became_of_it(store: Store, post: Post):
    outbox = Outbox(store)
    first = Action("reply", post.key, "Noted.", "k1", reason="command: help")
    second = Action("remind", post.key, "Ping", "k2", channel="slack", reason="S1: 7 days")
    outbox.record(first, NOW)
    outbox.record(second, NOW + timedelta(minutes=1))
    outbox.claim(["k1"], NOW)
    outbox.mark_sent("k1", "<quorum.k1@example.org>", NOW)

    entries = outbox.log()

    assert [(e.key, e.status, e.reason) for e in entries] == [
        ("k2", Status.PENDING, "S1: 7 days"),
        ("k1", Status.SENT, "command: help"),
    ]
    as_json = entries[1].to_dict()
    assert as_json["status"] == "sent"
    assert as_json["sent_at"] == NOW.isoformat()
    assert as_json["remote_id"] == "<quorum.k1@example.org>"
    assert as_json["channel"] == "mail"


# -- a person settles what the bot could not --------------------------------------------


def _quorum(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )


@pytest.mark.parametrize(
    ("verdict", "status"), [("--delivered", Status.SENT), ("--not-delivered", Status.PENDING)]
)
def test_an_uncertain_action_is_settled_from_the_command_line(
    tmp_path: Path, store: Store, post: Post, verdict: str, status: Status
):
    outbox = Outbox(store)
    action = reply_to(post)
    outbox.record(action, NOW)
    outbox.mark_uncertain(action.key, "timed out after sending", NOW)

    listed = _quorum(tmp_path / "quorum.db", "log", "--status", "uncertain")
    assert f"key: {action.key}" in listed.stdout  # what the person needs to name it

    done = _quorum(tmp_path / "quorum.db", "resolve", action.key, verdict, "--note", "checked")
    assert done.returncode == 0, done.stderr
    entry = Outbox(store).get(action.key)
    assert entry is not None
    assert entry.status == status


def test_resolving_what_is_not_uncertain_names_the_problem(
    tmp_path: Path, store: Store, post: Post
):
    outbox = Outbox(store)
    outbox.record(reply_to(post), NOW)
    pending = _quorum(tmp_path / "quorum.db", "resolve", f"reply:{post.key}", "--delivered")
    assert pending.returncode != 0
    assert "is pending; only uncertain or failed ones are resolved" in pending.stderr
    missing = _quorum(tmp_path / "quorum.db", "resolve", "no-such-key", "--delivered")
    assert missing.returncode != 0
    assert "no action with key 'no-such-key'" in missing.stderr
    assert "Traceback" not in pending.stderr + missing.stderr
