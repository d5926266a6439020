"""One RFC across channels: a forum topic, a dev@ thread and GitHub-mirror mails that link."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.app import App
from bot.config import CategoryConfig, Config, ForumConfig, SmtpConfig, WebConfig
from bot.core import rfc_links
from bot.core.discourse import ForumSite
from bot.core.mail import Envelope, parse_mail
from bot.model import Person, Post, Source
from bot.store import Store
from bot.store.rfc_links import (
    apply_regrouping,
    plan_stale,
    rebuild_post_links,
    refresh_rfc_links,
)
from bot.sync import direct_db
from bot.sync.forum import make_client, sync_forum
from tests.fakes.discourse import FakeDiscourse
from tests.mailgen import ARRIVAL, raw_mail

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
PR_ROOT = "<apache/tvm-rfcs/pull/95@github.com>"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscourse]:
    fake = FakeDiscourse(clock=lambda: START)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("QUORUM_DISCOURSE_API_KEY", FakeDiscourse().api_key)
    store = Store.open(tmp_path / "quorum.db")
    yield store
    store.close()


def seed_forum(fake: FakeDiscourse) -> tuple[int, int]:
    category = fake.add_category("rfc", "RFCs")
    topic = fake.add_topic(
        category,
        "[RFC] Relay dynamic shapes",
        [
            ("alice", "I propose dynamic shapes for Relay. The text is in apache/tvm-rfcs#95."),
            ("bob", "+1, this unblocks our models."),
        ],
    )
    return category, topic


async def sync_the_forum(fake: FakeDiscourse, store: Store, category: int) -> ForumSite:
    site = ForumSite("tvm", fake.base_url)
    config = ForumConfig(
        base_url=fake.base_url,
        api_username=fake.api_username,
        categories=[CategoryConfig(slug="rfc", id=category)],
    )
    async with make_client("tvm", config) as client:
        await sync_forum(client, direct_db(store), site, config)
    return site


def mails(fake: FakeDiscourse, topic: int) -> list[bytes]:
    forum_url = f"{fake.base_url}/t/rfc-relay-dynamic-shapes/{topic}"
    first_post = fake.posts_of(topic)[0].id
    host = "127.0.0.1"
    return [
        # dev@: an announcement pointing at the forum, and a reply naming the RFC number.
        raw_mail(
            f"Heads-up: please comment on the forum, {forum_url}\n",
            subject="Heads-up: a proposal for dynamic shapes",
            message_id="<dev-1@example.org>",
            date="Mon, 02 Nov 2026 09:00:00 +0000",
        ),
        raw_mail(
            "It is now RFC #95, votes will follow.\n",
            subject="Re: Heads-up: a proposal for dynamic shapes",
            message_id="<dev-2@example.org>",
            sender="Carol <carol@example.org>",
            date="Mon, 02 Nov 2026 10:00:00 +0000",
            extra="In-Reply-To: <dev-1@example.org>\nReferences: <dev-1@example.org>",
        ),
        # The pull request and a comment, mirrored from GitHub.
        raw_mail(
            "Relay dynamic shapes, as discussed on the forum.\n",
            subject="[apache/tvm-rfcs] [RFC] Relay dynamic shapes (#95)",
            message_id=PR_ROOT,
            sender="Alice Archer <notifications@github.com>",
            date="Tue, 03 Nov 2026 09:00:00 +0000",
        ),
        raw_mail(
            "Looks good to me.\n",
            subject="Re: [apache/tvm-rfcs] [RFC] Relay dynamic shapes (#95)",
            message_id="<apache/tvm-rfcs/pull/95/c123@github.com>",
            sender="Dan <notifications@github.com>",
            date="Tue, 03 Nov 2026 10:00:00 +0000",
            extra=f"In-Reply-To: {PR_ROOT}\nReferences: {PR_ROOT}",
        ),
        # Discourse's mailing-list mode mailed the first forum post to the list too.
        raw_mail(
            "I propose dynamic shapes for Relay. The text is in apache/tvm-rfcs#95.\n",
            subject="[TVM Discuss] [RFC] Relay dynamic shapes",
            message_id=f"<topic/{topic}/{first_post}.a1b2c3@{host}>",
            sender="alice via TVM Discuss <discuss@example.org>",
            date="Sun, 01 Nov 2026 09:05:00 +0000",
        ),
        # Unrelated: another RFC, and a thread that merely shares a word.
        raw_mail(
            "A different idea.\n",
            subject="[RFC] Unified memory planner",
            message_id="<other-1@example.org>",
            date="Wed, 04 Nov 2026 09:00:00 +0000",
        ),
    ]


def ingest_mail(store: Store, raws: list[bytes]) -> None:
    store.ingest([(parse_mail(raw, Envelope(ARRIVAL)), raw) for raw in raws])


@pytest.mark.parametrize("forum_first", [True, False])
async def test_forum_topic_dev_thread_and_pull_request_are_one_rfc(
    fake: FakeDiscourse, store: Store, forum_first: bool
) -> None:
    category, topic = seed_forum(fake)
    if forum_first:
        site = await sync_the_forum(fake, store, category)
        ingest_mail(store, mails(fake, topic))
    else:
        ingest_mail(store, mails(fake, topic))
        site = await sync_the_forum(fake, store, category)

    by_key = {thread.key: thread for thread in store.threads()}
    forum_thread = site.topic_key(topic)
    parts = {forum_thread, "<dev-1@example.org>", PR_ROOT, mirror_thread(store)}
    assert {key for key, t in by_key.items() if t.rfc == forum_thread} == parts
    assert by_key["<other-1@example.org>"].rfc is None

    (rfc,) = store.rfcs()
    assert rfc.id == forum_thread
    assert rfc.subject == "[RFC] Relay dynamic shapes"
    assert next(part.key for part in rfc.parts) == forum_thread
    assert rfc.to_dict()["parts"][0]["rfc"] == forum_thread

    # Every post of every part once; the list copy of the forum's first post is not a second.
    posts = store.posts_in_rfc("<dev-1@example.org>")
    assert len(posts) == 2 + 2 + 2
    assert [p.source for p in posts].count(Source.DISCOURSE) == 2
    assert posts == store.posts_in_rfc(forum_thread)


def mirror_thread(store: Store) -> str:
    (post,) = [p for p in store.iter_posts() if (p.message_id or "").startswith("<topic/")]
    return post.thread_key


async def test_a_mail_with_the_forum_topic_title_is_not_threaded_into_the_topic(
    fake: FakeDiscourse, store: Store
) -> None:
    category, topic = seed_forum(fake)
    site = await sync_the_forum(fake, store, category)
    reply = raw_mail(
        "Replying on the list instead.\n",
        subject="Re: [RFC] Relay dynamic shapes",
        message_id="<list-reply@example.org>",
        date="Mon, 02 Nov 2026 09:00:00 +0000",
    )
    ingest_mail(store, [reply])
    post = store.post("<list-reply@example.org>")
    assert post is not None
    assert post.thread_key != site.topic_key(topic)
    # ...but it is the same RFC, by its title.
    assert store.thread(post.thread_key).rfc == site.topic_key(topic)  # type: ignore[union-attr]


# -- the joining rules, pure -------------------------------------------------------------


def _post(key: str, subject: str, text: str = "", **extra: object) -> Post:
    return Post(
        source=Source.MAIL,
        key=key,
        message_id=key,
        thread_key=key,
        author=Person("A", "a@example.org"),
        created_at=START,
        subject=subject,
        text=text,
        **extra,  # type: ignore[arg-type]
    )


def _part(post: Post, offset: int = 0) -> rfc_links.RfcPart:
    tokens = rfc_links.post_tokens(post)
    return rfc_links.RfcPart(
        post.thread_key, START + timedelta(hours=offset), tokens.identity, tokens.mentions
    )


def test_titles_normalise_across_channels() -> None:
    forum = rfc_links.rfc_title("[RFC] Relay: dynamic shapes")
    assert forum == "relay dynamic shapes"
    assert rfc_links.rfc_title("Re: [RFC] Relay - Dynamic Shapes") == forum
    assert rfc_links.rfc_title("[apache/tvm-rfcs] [RFC] Relay: dynamic shapes (#95)") == forum
    assert rfc_links.rfc_title("RFC: Relay dynamic shapes") == forum
    assert rfc_links.rfc_title("[DISCUSS] Relay dynamic shapes") is None
    assert rfc_links.rfc_title("[RFC] Logging") is None


def test_link_tokens_read_forum_urls_github_refs_and_rfc_numbers() -> None:
    text = (
        "See https://discuss.example.org/t/some-slug/42/7, https://discuss.example.org/t/43,"
        " https://github.com/apache/tvm/pull/12 and apache/tvm-rfcs#95, RFC #95, not RFC 2822."
        " The discussion: https://github.com/vuejs/rfcs/discussions/369."
    )
    assert rfc_links.link_tokens(text) == {
        "forum:discuss.example.org:42",
        "forum:discuss.example.org:43",
        "github:apache/tvm#12",
        "github:vuejs/rfcs#369",
        "github:apache/tvm-rfcs#95",
        "rfc:95",
    }


def test_a_thread_linking_many_others_is_a_digest_and_joins_nothing() -> None:
    rfcs = [_post(f"<rfc-{i}@x>", f"[RFC] Proposal number {i} in detail") for i in range(4)]
    for i, rfc in enumerate(rfcs):
        rfcs[i] = _post(rfc.key, rfc.subject, url=f"https://discuss.example.org/t/p/{i + 1}")
    urls = " ".join(f"https://discuss.example.org/t/p/{i + 1}" for i in range(4))
    digest = _post("<digest@x>", "[DISCUSS] Roadmap", f"This quarter: {urls}")
    pair = _post("<pair@x>", "Heads-up", "Comment at https://discuss.example.org/t/p/1")
    joined = rfc_links.join_rfcs([_part(p, i) for i, p in enumerate([*rfcs, digest, pair])])
    assert joined == {"<rfc-0@x>": "<rfc-0@x>", "<pair@x>": "<rfc-0@x>"}


def test_linked_threads_without_an_rfc_among_them_are_not_an_rfc() -> None:
    issue = _post("<o/r/issues/5@github.com>", "[o/r] Crash on start (#5)")
    mail = _post("<m@x>", "Crash", "Same as https://github.com/o/r/issues/5")
    assert rfc_links.join_rfcs([_part(issue), _part(mail, 1)]) == {}


def test_posts_stored_before_rfc_joining_get_their_links_on_upgrade(store: Store) -> None:
    ingest_mail(
        store,
        [
            raw_mail(
                "Please review https://github.com/apache/tvm-rfcs/pull/95\n",
                subject="[RFC] Relay dynamic shapes",
                message_id="<old-1@example.org>",
            ),
            raw_mail(
                "The RFC text.\n",
                subject="[apache/tvm-rfcs] Relay dynamic shapes (#95)",
                message_id=PR_ROOT,
                sender="Alice Archer <notifications@github.com>",
            ),
        ],
    )
    # As a database from before the rfc_links migration would be.
    store.db.execute("DELETE FROM post_links")
    store.db.execute("DELETE FROM rfc_links")
    assert store.rfcs() == []

    rebuild_post_links(store)

    (rfc,) = store.rfcs()
    assert {part.key for part in rfc.parts} == {"<old-1@example.org>", PR_ROOT}


async def test_concerns_from_every_channel_of_an_rfc_land_in_one_ledger(
    fake: FakeDiscourse, store: Store
) -> None:
    from bot.config import Config
    from bot.features.concerns import discussion_threads, ledgers

    category, topic = seed_forum(fake)
    site = await sync_the_forum(fake, store, category)
    concern_on_the_list = raw_mail(
        "I am concerned that dynamic shapes slow down the static compilation path.\n",
        subject="Re: Heads-up: a proposal for dynamic shapes",
        message_id="<dev-3@example.org>",
        sender="Erin <erin@example.org>",
        date="Mon, 02 Nov 2026 11:00:00 +0000",
        extra="In-Reply-To: <dev-1@example.org>\nReferences: <dev-1@example.org>",
    )
    ingest_mail(store, [*mails(fake, topic), concern_on_the_list])
    forum_thread = site.topic_key(topic)

    keys = [thread.key for thread in discussion_threads(store)]
    assert forum_thread in keys
    assert "<dev-1@example.org>" not in keys  # read with its RFC, not on its own
    by_thread = {ledger.thread: ledger for ledger in ledgers(store, Config(), ARRIVAL)}
    [concern] = by_thread[forum_thread].concerns
    assert concern.raised_by.display == "Erin"
    assert concern.message_id == "<dev-3@example.org>"


def _linked_mails() -> list[bytes]:
    """Threads that join, split and chain over shared tokens, orphans included."""
    specs = [
        # (message id, subject, body, in-reply-to)
        ("<a1@x>", "[RFC] Relay dynamic shapes", "See apache/tvm-rfcs#95.", None),
        ("<a2@x>", "Re: [RFC] Relay dynamic shapes", "Agreed.", "<a1@x>"),
        # Replies citing what their thread already cites (regrouping is skipped for
        # them unless they arrive before the thread's first post).
        ("<a3@x>", "Re: [RFC] Relay dynamic shapes", "As apache/tvm-rfcs#95 says.", "<a2@x>"),
        ("<c3@x>", "Re: [RFC] Unified memory planner", "Per apache/tvm#12 and RFC #96.", "<c2@x>"),
        ("<p95@x>", "[apache/tvm-rfcs] [RFC] Relay dynamic shapes (#95)", "The text.", None),
        ("<b1@x>", "Heads-up: shapes", "Comment at https://f.example/t/shapes/7 please", None),
        ("<b2@x>", "Re: Heads-up: shapes", "It is RFC #95 now; apache/tvm#12 too.", "<b1@x>"),
        ("<c1@x>", "[RFC] Unified memory planner", "Related to apache/tvm#12.", None),
        ("<c2@x>", "Re: [RFC] Unified memory planner", "And RFC #96.", "<c1@x>"),
        (
            "<d1@x>",
            "Weekly digest",
            "apache/tvm#12, RFC #95, RFC #96, apache/tvm-rfcs#97, https://f.example/t/x/7",
            None,
        ),
        ("<e1@x>", "[RFC] Relay dynamic shapes", "Second thread, same title.", None),
        ("<f2@x>", "Re: orphan first", "Mentions apache/tvm-rfcs#97.", "<f1@x>"),
        ("<f1@x>", "[RFC] Orphan parent arrives late", "The parent.", None),
        # The issue apache/tvm#12, whose mentions above only name it until it comes: as
        # they all mention it, it is what joins them, whichever arrives first.
        ("<i12@x>", "[apache/tvm] Planner rewrite (Issue #12)", "The issue.", None),
    ]
    mirrored = {
        "<p95@x>": "<apache/tvm-rfcs/pull/95@github.com>",
        "<i12@x>": "<apache/tvm/issues/12@github.com>",
    }
    mails = []
    for day, (message_id, subject, body, parent) in enumerate(specs, start=1):
        extra = f"In-Reply-To: {parent}\nReferences: {parent}" if parent else ""
        message_id = mirrored.get(message_id, message_id)
        mails.append(
            raw_mail(
                body + "\n",
                subject=subject,
                message_id=message_id,
                date=f"Mon, {day:02d} Nov 2026 09:00:00 +0000",
                extra=extra,
            )
        )
    return mails


@pytest.mark.parametrize("seed", range(8))
def test_refreshing_only_the_reachable_threads_gives_what_a_full_refresh_gives(
    tmp_path: Path, seed: int
) -> None:
    """Each mail is ingested alone, so only the threads it can affect are recomputed;
    after every one the map must equal a recomputation over all threads."""

    mails = _linked_mails()
    random.Random(seed).shuffle(mails)
    store = Store.open(tmp_path / f"rfc-{seed}.db")
    links = "SELECT thread_key, rfc FROM rfc_links ORDER BY thread_key"
    groups_seen = 0
    for raw in mails:
        ingest_mail(store, [raw])
        incremental = store.db.execute(links).fetchall()
        refresh_rfc_links(store)
        assert store.db.execute(links).fetchall() == incremental
        groups_seen = max(groups_seen, len({rfc for _, rfc in incremental}))
    assert groups_seen >= 1  # the mails do form RFCs, so the comparison means something
    store.close()


@pytest.mark.parametrize("seed", range(8))
def test_regrouping_off_the_writer_gives_what_a_full_refresh_gives(
    tmp_path: Path, seed: int
) -> None:
    """As `quorum run` does: each ingest only marks threads, and a regrouping planned
    on a snapshot is applied only after the next mail came in (the computing process
    reads while the writer writes). Once the last marks are taken in, the map must
    equal a recomputation over all threads."""
    mails = _linked_mails()
    random.Random(seed).shuffle(mails)
    store = Store.open(tmp_path / f"rfc-{seed}.db")
    store.defer_rfc_links = True
    links = "SELECT thread_key, rfc FROM rfc_links ORDER BY thread_key"
    planned = None
    for raw in mails:
        ingest_mail(store, [raw])
        if planned is not None:
            apply_regrouping(store, planned)  # planned before the mail just ingested
        planned = plan_stale(store)
    while planned is not None:
        apply_regrouping(store, planned)
        planned = plan_stale(store)
    deferred = store.db.execute(links).fetchall()
    refresh_rfc_links(store)
    assert store.db.execute(links).fetchall() == deferred
    assert len({rfc for _, rfc in deferred}) >= 1
    store.close()


def _steps_of(store: Store, work: Callable[[], object]) -> int:
    """SQLite's VM steps (in tens) that ``work`` takes on ``store``: counted, not timed."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    store.db.conn.set_progress_handler(count, 10)
    try:
        work()
    finally:
        store.db.conn.set_progress_handler(None, 10)
    return steps


def _writer_steps(store: Store, raw: bytes) -> int:
    """SQLite's VM steps (in tens) that ingesting ``raw`` takes: rows read and
    written, counted rather than timed."""
    return _steps_of(store, partial(ingest_mail, store, [raw]))


def test_a_delivery_into_a_large_rfc_costs_the_writer_what_one_into_a_small_one_does(
    tmp_path: Path,
) -> None:
    """On a long history one RFC title is held by many threads (the 1,000,000-message
    bench repeats one archive a hundred times). A new thread joining it must cost the
    writer, which every sender's 250 waits for, no more than one joining a lone thread:
    the regrouping is planned off the writer and it only marks the thread."""
    path = tmp_path / "history.db"
    store = Store.open(path)
    group = 60
    mails = [
        raw_mail(
            "A proposal.\n",
            subject=f"[RFC] {title}",
            message_id=f"<{n}.{title.split()[0]}@x>",
            date=f"Mon, {1 + n % 28:02d} Nov 2026 09:00:00 +0000",
        )
        for n in range(group)
        for title in (f"Caching layer for widgets, part {n}", "Relay dynamic shapes")
    ]
    ingest_mail(store, mails)
    store.close()
    costs = {}
    for joining in ("Relay dynamic shapes", "Caching layer for widgets, part 7"):
        copy = tmp_path / f"{len(costs)}.db"
        copy.write_bytes(path.read_bytes())
        writer = Store.open(copy)
        writer.defer_rfc_links = True  # as `quorum run` opens it
        new = raw_mail(
            "Another thread on it.\n",
            subject=f"[RFC] {joining}",
            message_id="<late@x>",
            date="Tue, 01 Dec 2026 09:00:00 +0000",
        )
        costs[joining] = _writer_steps(writer, new)
        # The delivery is still taken in: the next regrouping joins it.
        regrouping = plan_stale(writer)
        assert regrouping is not None
        apply_regrouping(writer, regrouping)
        rfc = writer.db.execute("SELECT rfc FROM rfc_links WHERE thread_key = '<late@x>'")
        assert rfc.fetchone() is not None
        writer.close()
    large, small = costs["Relay dynamic shapes"], costs["Caching layer for widgets, part 7"]
    assert large <= small * 1.2 + 2, costs


def _history_citing(tmp_path: Path, link: str, threads: int) -> Path:
    """A store where ``threads`` threads each cite ``link`` (mentioned, nobody's
    identity), beside one quiet thread that cites nothing."""
    path = tmp_path / "history.db"
    store = Store.open(path)
    mails = [
        raw_mail(
            f"Same cause as {link}, I think.\n",
            subject=f"Build failure {n}",
            message_id=f"<t{n}@x>",
            date=f"Mon, {1 + n % 28:02d} Nov 2026 09:00:00 +0000",
        )
        for n in range(threads)
    ]
    quiet = raw_mail("A question.\n", subject="Quiet thread", message_id="<q@x>")
    ingest_mail(store, [*mails, quiet])
    store.close()
    return path


def _reply_citing(link: str) -> bytes:
    return raw_mail(
        f"Perhaps {link} again?\n",
        subject="Re: Quiet thread",
        message_id="<r@x>",
        date="Tue, 01 Dec 2026 09:00:00 +0000",
        extra="In-Reply-To: <q@x>\nReferences: <q@x>",
    )


def test_a_reply_citing_a_link_cited_all_over_the_history_costs_what_a_rare_one_does(
    tmp_path: Path,
) -> None:
    """A popular issue link is cited all over a long history (in the 1,000,000-message
    bench, 1,845 posts cite one). Whether a reply's links are new to its thread is read
    from the thread's posts, and its regrouping follows the links that can join threads
    (an identity, a mention of one), not every thread that mentions the same link:
    neither the writer nor the tick then pays in proportion to how often it was cited."""
    popular, rare = "apache/maven#1", "apache/maven#2"
    path = _history_citing(tmp_path, popular, threads=150)
    writer_steps, planning_steps = {}, {}
    for link in (popular, rare):
        copy = tmp_path / f"{link[-1]}.db"
        copy.write_bytes(path.read_bytes())
        writer = Store.open(copy)
        writer.defer_rfc_links = True  # as `quorum run` opens it
        writer_steps[link] = _writer_steps(writer, _reply_citing(link))
        planning_steps[link] = _steps_of(writer, partial(plan_stale, writer))
        # The reply's link is recorded all the same, for the regrouping to read.
        tokens = writer.db.execute("SELECT token FROM post_links WHERE post_key = '<r@x>'")
        assert tokens.fetchall() == [(f"github:{link}",)]
        writer.close()
    assert writer_steps[popular] <= writer_steps[rare] * 1.2 + 2, writer_steps
    assert planning_steps[popular] <= planning_steps[rare] * 1.2 + 2, planning_steps


async def test_quorum_run_joins_a_delivered_thread_into_its_rfc_at_the_next_refresh(
    tmp_path: Path,
) -> None:
    """In `quorum run` a delivery's ingest leaves the regrouping for later (it only
    marks the thread); the next views refresh joins the thread into its RFC."""
    config = Config(
        smtp=SmtpConfig(port=0, accept=["dev@lists.example.org"]), web=WebConfig(enabled=False)
    )
    app = App(config, tmp_path / "quorum.db")
    await app.start()
    try:
        first, second = (
            raw_mail(
                f"{text}\n",
                subject="[RFC] Relay dynamic shapes",
                message_id=message_id,
                date=f"Mon, {day:02d} Nov 2026 09:00:00 +0000",
            )
            for message_id, text, day in (("<a@x>", "A proposal.", 2), ("<b@x>", "Again.", 3))
        )
        await app.db(lambda store: ingest_mail(store, [first, second]))
        links = "SELECT thread_key, rfc FROM rfc_links ORDER BY thread_key"
        assert await app.db(lambda store: store.db.execute(links).fetchall()) == []
        await app.refresh_views(START + timedelta(days=3))
        joined = await app.db(lambda store: store.db.execute(links).fetchall())
        assert joined == [("<a@x>", "<a@x>"), ("<b@x>", "<a@x>")]
        marks = await app.db(
            lambda store: store.db.execute("SELECT count(*) FROM rfc_links_stale").fetchone()
        )
        assert marks == (0,)
    finally:
        await app.stop()
