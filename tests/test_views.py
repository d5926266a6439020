"""Derived state: a new post recomputes what it reaches, nothing else; nothing waits for it.

The store keeps one view per RFC and per vote (bot.store.views) and a refresh
(bot.features.views) recomputes only the views a change, the clock or a new
configuration reaches. On a store of a few thousand messages these tests count
the recomputations after one new post, check the result against a full rebuild,
and show that an SMTP delivery is answered while a refresh is computing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot import computing
from bot.app import App
from bot.config import Config, RfcsConfig, SmtpConfig, VotesConfig, WebConfig
from bot.core.mail import Envelope, parse_mail
from bot.core.rfcs import RfcState
from bot.features import concerns as concern_feature
from bot.features import views
from bot.features import votes as vote_feature
from bot.store import Store
from bot.store import views as stored
from tests.mailgen import raw_mail
from tests.stores import ingest

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
THREADS = 250
REPLIES = 11  # 250 threads of 12 posts: 3,000 messages


def _date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _history(store: Store) -> None:
    """Three thousand messages: RFCs with concerns, plain discussions and votes."""
    raws: list[bytes] = []
    for n in range(THREADS):
        opened = START + timedelta(hours=6 * n)
        kind = ("[RFC] ", "", "[VOTE] ")[n % 3]
        subject = f"{kind}Topic {n}"
        root = f"<t{n}@example.org>"
        raws.append(
            raw_mail(
                f"I propose topic {n}. Thoughts?\n",
                subject=subject,
                message_id=root,
                sender=f"Proposer {n} <p{n}@example.org>",
                date=_date(opened),
            )
        )
        for r in range(REPLIES):
            body = (
                "+1\n"
                if kind == "[VOTE] "
                else (
                    "I am concerned that this breaks the loader.\n" if r == 0 else "Fair enough.\n"
                )
            )
            raws.append(
                raw_mail(
                    body,
                    subject=f"Re: {subject}",
                    message_id=f"<t{n}r{r}@example.org>",
                    sender=f"Member {r} <m{r}@example.org>",
                    date=_date(opened + timedelta(minutes=10 * (r + 1))),
                    extra=f"In-Reply-To: {root}\nReferences: {root}",
                )
            )
    store.ingest([(parse_mail(raw, Envelope(arrived_at=START)), raw) for raw in raws])


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("views") / "quorum.db"
    store = Store.open(db)
    _history(store)
    store.close()
    return db


@pytest.fixture
def store(history: Path, tmp_path: Path) -> Iterator[Store]:
    copy = tmp_path / "quorum.db"
    source = Store.open(history)
    source.db.execute(f"VACUUM INTO '{copy}'")
    source.close()
    opened = Store.open(copy)
    yield opened
    opened.close()


NOW = START + timedelta(hours=6 * THREADS + 1)


def test_the_first_refresh_builds_every_view_and_the_next_one_nothing(store: Store):
    first = views.refresh(store, Config(), NOW)
    assert store.stats()["messages"] == THREADS * (REPLIES + 1)
    assert len(first.votes) == THREADS // 3 + (1 if THREADS % 3 > 2 else 0)
    assert len(first.rfcs) >= THREADS  # every thread a view (votes too: concerns in votes)
    assert views.refresh(store, Config(), NOW).recomputed == 0


def _reply(store: Store, parent: str, subject: str, name: str, text: str) -> None:
    """A reply from ``name`` to ``parent``, five minutes before NOW."""
    ingest(
        store,
        raw_mail(
            f"{text}\n",
            subject=subject,
            message_id=f"<{name.lower()}-reply@example.org>",
            sender=f"{name} <{name.lower()}@example.org>",
            date=_date(NOW - timedelta(minutes=5)),
            extra=f"In-Reply-To: {parent}\nReferences: {parent}",
        ),
    )


def test_one_new_reply_recomputes_only_its_own_rfc(store: Store):
    views.refresh(store, Config(), NOW)
    _reply(
        store,
        "<t30@example.org>",
        "Re: [RFC] Topic 30",
        "Carol",
        "I doubt the migration plan holds.",
    )
    again = views.refresh(store, Config(), NOW)
    assert [row.key for row in again.rfcs] == ["<t30@example.org>"]
    assert again.votes == []
    view = stored.rfc_payload(store, "<t30@example.org>")
    assert view is not None
    assert any(c["raised_by"] == "Carol" for c in view["concern_list"])


def test_a_ballot_recomputes_its_vote_and_the_rfc_on_its_topic(store: Store):
    views.refresh(store, Config(), NOW)
    _reply(
        store, "<t32@example.org>", "Re: [VOTE] Topic 32", "Dave", "-1, the loader is not ready."
    )
    again = views.refresh(store, Config(), NOW)
    assert [row.thread for row in again.votes] == ["<t32@example.org>"]
    # The vote thread's own discussion view (its concerns), and nothing else.
    assert [row.key for row in again.rfcs] == ["<t32@example.org>"]


def test_a_ballot_dated_ahead_is_counted_when_its_time_comes(store: Store):
    """A sender's clock two hours fast: a view counts posts up to when it is computed, so
    the ballot counts from its date on, with no other mail to recompute the vote."""
    views.refresh(store, Config(), NOW)
    vote = "<t248@example.org>"
    ingest(
        store,
        raw_mail(
            "-1, the loader is not ready.\n",
            subject="Re: [VOTE] Topic 248",
            message_id="<ahead@example.org>",
            sender="Dave <dave@example.org>",
            date=_date(NOW + timedelta(hours=2)),
            extra=f"In-Reply-To: {vote}\nReferences: {vote}",
        ),
    )
    views.refresh(store, Config(), NOW)
    before = stored.vote_payload(store, vote)
    assert before is not None
    assert before["tally"]["minus"] == 0
    later = views.refresh(store, Config(), NOW + timedelta(hours=2, minutes=1))
    assert vote in [row.thread for row in later.votes]
    assert vote in [row.key for row in later.rfcs]
    after = stored.vote_payload(store, vote)
    assert after is not None
    assert after["tally"]["minus"] == 1


def test_the_clock_recomputes_only_the_views_it_changes(store: Store):
    views.refresh(store, Config(), NOW)
    # Topic 249 had its last post an hour ago: it goes quiet 30 days later, nothing else
    # changes between now and then except threads that go quiet in that time too.
    later = NOW + timedelta(days=30, hours=2)
    due = {
        row[0]
        for row in store.db.execute(
            "SELECT key FROM rfc_views WHERE due_at <= ?", [later.isoformat(timespec="seconds")]
        )
    }
    again = views.refresh(store, Config(), later)
    assert {row.key for row in again.rfcs} == due
    assert 0 < len(due) < THREADS
    quiet = stored.rfc_payload(store, "<t249@example.org>")
    assert quiet is not None
    assert quiet["state"] == RfcState.QUIET.value


def test_incremental_views_equal_a_full_rebuild(store: Store):
    views.refresh(store, Config(), NOW)
    ingest(
        store,
        raw_mail(
            "My concern is the release date.\n",
            subject="Re: Topic 31",
            message_id="<another@example.org>",
            sender="Erin <erin@example.org>",
            date=_date(NOW - timedelta(minutes=1)),
            extra="In-Reply-To: <t31@example.org>\nReferences: <t31@example.org>",
        ),
    )
    views.refresh(store, Config(), NOW)
    incremental = stored.rfc_payloads(store)
    stored.set_meta(store, "fingerprint", "")  # as after an upgrade: every view is rebuilt
    rebuilt = views.refresh(store, Config(), NOW)
    assert rebuilt.recomputed > THREADS
    assert stored.rfc_payloads(store) == incremental


def _votes_ending_in_the_window() -> set[str]:
    """The generated votes whose 72-hour period ended in the 7 days before NOW."""
    window = vote_feature.RESULT_DUE_WINDOW
    return {
        f"<t{n}@example.org>"
        for n in range(2, THREADS, 3)
        if NOW - window <= START + timedelta(hours=6 * n + 72) <= NOW
    }


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Count the calls of ``module.name`` (which still runs)."""
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_vote_closing_counts_only_the_votes_whose_period_ended_in_its_window(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    """The tick asks the stored vote views which votes ended lately (a range of an
    index) and counts only those again, not every vote a post touched in 37 days."""
    views.refresh(store, Config(), NOW)
    counted = _counting(monkeypatch, vote_feature, "report_vote")
    actions = vote_feature.result_due_actions(store, Config(), NOW)
    ended = _votes_ending_in_the_window()
    assert 0 < len(ended) < THREADS // 3
    # None of the generated votes was announced: each one that ended owes a RESULT.
    assert {action.target for action in actions} == ended
    assert {action.kind for action in actions} == {"result-due"}
    assert len(counted) == len(ended)


async def test_a_features_tick_takes_in_one_batch_of_views_however_large_the_backlog(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    """Under a stream of mail the views' backlog renews itself: a tick that waited for
    it ran past 60 s at 10,000 messages. The tick takes in one batch (the views the
    clock made stale first) and leaves the rest to the views job."""
    views.refresh(store, Config(), NOW)
    _reply(store, "<t30@example.org>", "Re: [RFC] Topic 30", "Carol", "I doubt the plan.")
    # A backlog as a busy list leaves: every RFC view waiting to be recomputed.
    with store.db.conn:
        stored.mark_dirty(store, stored.RFC, stored.all_heads(store))
    waiting = stored.dirty_count(store)
    assert waiting > 2 * views.BATCH
    path = Path(store.db.execute("PRAGMA database_list").fetchone()[2])
    recomputed = _counting(monkeypatch, views, "read_rfc")
    counted_votes = _counting(monkeypatch, vote_feature, "report_vote")
    _compute_in_this_process(monkeypatch)
    config = Config(
        smtp=SmtpConfig(enabled=False), web=WebConfig(enabled=False), votes=VotesConfig()
    )
    app = App(config, path)
    await app.start()
    try:
        await app.run_features(NOW)
    finally:
        await app.stop()
    assert len(recomputed) == views.BATCH
    assert stored.dirty_count(store) == waiting - views.BATCH  # the views job's, later
    assert len(counted_votes) == len(_votes_ending_in_the_window())


def test_command_replies_are_read_from_the_views_not_from_new_ledgers(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    """A help command is answered from its RFC's stored view; the tick builds no ledger
    of the discussions active in the window (the views built each one already)."""
    _reply(store, "<t30@example.org>", "Re: [RFC] Topic 30", "Carol", "@quorum help")
    views.refresh(store, Config(), NOW)
    built = _counting(monkeypatch, concern_feature, "build_ledger")
    replies = concern_feature.command_replies(store, Config(), NOW)
    assert [action.target for action in replies] == ["<carol-reply@example.org>"]
    assert built == []
    # Two days later the command is old news: no reply is owed any more.
    assert concern_feature.command_replies(store, Config(), NOW + timedelta(days=3)) == []


def _compute_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The computing process's work, on a thread here, where the tests' patches apply."""

    def in_this_process(db_path: Path, config: Config) -> ThreadPoolExecutor:
        def opened() -> None:
            computing._store, computing._config = Store.open_reader(db_path), config

        return ThreadPoolExecutor(max_workers=1, initializer=opened)

    monkeypatch.setattr(computing, "computing_process", in_this_process)
    monkeypatch.setattr(computing, "_store", None)
    monkeypatch.setattr(computing, "_config", None)


def _checkpoint(store: Store) -> tuple[int, int]:
    """A passive checkpoint of the WAL: (frames in it, frames copied back). Tried again
    while another checkpoint (the app's own) holds the lock."""
    for _ in range(200):
        busy, log, copied = store.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if not busy:
            return log, copied
        time.sleep(0.01)
    raise AssertionError("the checkpoint lock stayed busy")


async def test_the_wal_is_checkpointed_while_a_refresh_computes_a_view(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    """`quorum run`'s refresh reads each view's inputs in a short read transaction and
    computes the view outside it, so the WAL is copied back meanwhile. (A read
    transaction held through the computation let the WAL grow for seconds; every
    delivery's commit then stalled while it was copied back at once.)"""
    views.refresh(store, Config(), NOW)
    _reply(store, "<t30@example.org>", "Re: [RFC] Topic 30", "Carol", "I doubt the plan.")
    path = Path(store.db.execute("PRAGMA database_list").fetchone()[2])
    seen: list[tuple[int, int]] = []
    real = views.read_rfc

    def computing_a_view(*args: Any, **kwargs: Any) -> Any:
        with store.db.conn:  # another writer goes on writing meanwhile
            stored.set_meta(store, "probe", str(len(seen)))
        seen.append(_checkpoint(store))
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "read_rfc", computing_a_view)
    _compute_in_this_process(monkeypatch)
    app = App(Config(smtp=SmtpConfig(enabled=False), web=WebConfig(enabled=False)), path)
    await app.start()
    try:
        assert await app.refresh_views(NOW) == 1
    finally:
        await app.stop()
    assert seen
    assert all(log == copied for log, copied in seen)  # nothing held back by a reader


def test_a_new_configuration_rebuilds_in_batches(store: Store):
    views.refresh(store, Config(), NOW)
    changed = Config(rfcs=RfcsConfig(quiet_after_days=10))
    first = views.refresh(store, changed, NOW, limit=50)
    assert first.recomputed == 50
    assert sum(len(keys) for keys in first.left.values()) > 0
    rest = views.refresh(store, changed, NOW)
    assert rest.recomputed > 0
    assert views.refresh(store, changed, NOW).recomputed == 0


def test_a_first_build_in_batches_handles_each_waiting_view_about_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    """A first build (a fresh import, a new configuration) goes a batch at a time. Each
    batch must read and mark only the views it recomputes, not every view still
    waiting: that made the first build grow with the square of the history (more
    than 30 minutes at 1,000,000 messages)."""
    handled = {"read": 0, "marked": 0}
    dirty, mark_dirty = stored.dirty, stored.mark_dirty

    def counted_dirty(store: Store, kind: str, limit: int | None = None) -> list[str]:
        keys = dirty(store, kind, limit)
        handled["read"] += len(keys)
        return keys

    def counted_mark(store: Store, kind: str, keys: Any) -> None:
        keys = list(keys)
        handled["marked"] += len(keys)
        mark_dirty(store, kind, keys)

    monkeypatch.setattr(stored, "dirty", counted_dirty)
    monkeypatch.setattr(stored, "mark_dirty", counted_mark)
    monkeypatch.setattr(views, "BATCH", 10)
    built = views.catch_up(store, Config(), NOW)
    assert built >= THREADS
    assert views.refresh(store, Config(), NOW).recomputed == 0  # and nothing was lost
    # Every view marked once when the build starts, then each read and marked again
    # at most a few times (a batch of votes and one of RFCs are read side by side).
    assert handled["read"] + handled["marked"] <= 4 * built, handled


def _appears(path: Path, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _held_plan(store: Store, config: Config, *, flags: Path, **kwargs: Any) -> views.Plan:
    """views.plan, held until the test says so (it runs in the computing process, so
    the two speak through files)."""
    (flags / "computing").touch()
    if not _appears(flags / "release"):
        raise AssertionError("the test never released the refresh")
    return views.plan(store, config, **kwargs)


async def test_a_delivery_is_answered_while_a_refresh_is_computing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The refresh computes in a process of its own: a delivery's commit never waits
    for it, and neither does the event loop that answers SMTP."""
    import smtplib

    flags = tmp_path / "flags"
    flags.mkdir()
    monkeypatch.setattr(views, "plan", partial(_held_plan, flags=flags))
    config = Config(
        smtp=SmtpConfig(port=0, accept=["dev@lists.example.org"]), web=WebConfig(enabled=False)
    )
    app = App(config, tmp_path / "quorum.db")
    await app.start()
    try:
        refreshing = asyncio.create_task(app.refresh_views(NOW))
        assert await asyncio.to_thread(_appears, flags / "computing")
        assert app._smtp_server is not None
        port = app._smtp_server.sockets[0].getsockname()[1]

        def send() -> int:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.ehlo("tester.example")
                client.mail("alice@example.org")
                client.rcpt("dev@lists.example.org")
                return client.data(raw_mail(message_id="<during@example.org>"))[0]

        # Answered while the refresh is still held: it does not hold the writer.
        assert await asyncio.wait_for(asyncio.to_thread(send), 10) == 250
        assert not refreshing.done()
        (flags / "release").touch()
        await asyncio.wait_for(refreshing, 20)
    finally:
        (flags / "release").touch()
        await app.stop()
