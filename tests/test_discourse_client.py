"""Our Discourse client and forum sync against the loopback fake: what crossed the wire."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.adapters.discourse import (
    DiscourseClient,
    DiscourseRequestError,
    DiscourseUnavailable,
    RequestBudget,
    RetryPolicy,
)
from bot.config import CategoryConfig, ForumConfig
from bot.core.discourse import ForumSite
from bot.errors import ConfigError
from bot.store import IngestCounts, Store
from bot.store import forum as forum_store
from bot.sync import direct_db
from bot.sync.forum import (
    expected_topic_requests,
    make_client,
    post_reply,
    publish_status,
    sync_forum,
)
from tests.fakes.discourse import FakeDiscourse, RecordedRequest, cook

T = TypeVar("T")
API_KEY_ENV = "QUORUM_DISCOURSE_API_KEY"
FORUM = "main"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscourse]:
    fake = FakeDiscourse()
    await fake.start()
    yield fake
    await fake.wait_idle()
    await fake.stop()


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_KEY_ENV, FakeDiscourse().api_key)


def config_for(fake: FakeDiscourse, *categories: tuple[str, int], **overrides: Any) -> ForumConfig:
    """Test settings: tiny backoffs so faults cost milliseconds."""
    settings: dict[str, Any] = {
        "base_url": fake.base_url,
        "api_username": fake.api_username,
        "categories": [CategoryConfig(slug=slug, id=cid) for slug, cid in categories],
        "backoff_seconds": 0.01,
        "max_backoff_seconds": 0.05,
        "timeout_seconds": 2.0,
    }
    return ForumConfig(**(settings | overrides))


def site_of(fake: FakeDiscourse) -> ForumSite:
    return ForumSite(FORUM, fake.base_url)


async def sync(store: Store, fake: FakeDiscourse, config: ForumConfig, **kwargs: Any) -> Any:
    async with make_client(FORUM, config, **kwargs) as client:
        return await sync_forum(client, direct_db(store), site_of(fake), config)


def topic_requests(fake: FakeDiscourse, topic_id: int) -> list[RecordedRequest]:
    paths = {f"/t/{topic_id}.json", f"/t/{topic_id}/posts.json"}
    return [r for r in fake.requests if r.path in paths]


def stored_keys(store: Store, fake: FakeDiscourse, topic_id: int) -> list[str]:
    return [p.key for p in store.posts_in_thread(site_of(fake).topic_key(topic_id))]


def regular_post_ids(fake: FakeDiscourse, topic_id: int) -> list[int]:
    return [p.id for p in fake.posts_of(topic_id) if p.post_type == 1]


# -- backfill ----------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [20, 25, 50, 100])
async def test_backfill_reads_a_95_post_topic_with_one_view_and_batches_by_id(
    fake: FakeDiscourse, store: Store, batch: int
) -> None:
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] A long discussion", 95)
    config = config_for(fake, ("rfcs", category), post_batch_size=batch)

    report = await sync(store, fake, config)

    seen = topic_requests(fake, topic)
    assert len(seen) <= 1 + math.ceil(75 / batch)
    assert len(seen) == expected_topic_requests(95, batch)
    batches = [r for r in seen if r.path.endswith("/posts.json")]
    assert all(len(r.query_values("post_ids[]")) <= batch for r in batches)
    assert all(r.query_values("include_raw") == ["true"] for r in batches)
    # The whole forum: the newest post (for the cursor), one topic list page, the topic.
    assert len(fake.requests) == 2 + len(seen)
    keys = stored_keys(store, fake, topic)
    assert len(keys) == len(set(keys)) == 95
    assert report.counts.new == 95
    cursor = forum_store.cursor(store, FORUM)
    assert cursor.backfilled
    assert cursor.last_post_id == max(fake.posts)


async def test_backfill_skips_small_actions_and_other_categories(
    fake: FakeDiscourse, store: Store
) -> None:
    rfcs = fake.add_category("rfcs", "RFCs")
    chat = fake.add_category("chat", "Chat")
    topic = fake.add_topic(rfcs, "[RFC] Closing soon", 30)
    fake.add_small_action(topic, "closed.enabled")
    fake.add_post(topic, "alice", "Reopened for one more comment, sorry.")
    elsewhere = fake.add_topic(chat, "Lunch plans for the summit", 3)

    report = await sync(store, fake, config_for(fake, ("rfcs", rfcs)))

    assert len(stored_keys(store, fake, topic)) == 31
    assert stored_keys(store, fake, elsewhere) == []
    assert report.skipped_posts == 1
    assert fake.requests_to(f"/t/{elsewhere}") == []


async def test_a_forum_that_caps_post_ids_gets_smaller_batches(store: Store) -> None:
    fake = FakeDiscourse(max_post_ids=20)
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] Behind a strict proxy", 95)
    async with fake:
        await sync(store, fake, config_for(fake, ("rfcs", category), post_batch_size=50))
    sizes = [len(r.query_values("post_ids[]")) for r in topic_requests(fake, topic)[1:]]
    statuses = [r.status for r in topic_requests(fake, topic)[1:]]
    assert list(zip(sizes, statuses, strict=True)) == [
        (50, 400),
        (25, 400),
        (20, 200),
        (20, 200),
        (20, 200),
        (15, 200),
    ]
    assert len(stored_keys(store, fake, topic)) == 95


async def test_an_interrupted_backfill_resumes_without_rereading_unchanged_topics(
    fake: FakeDiscourse, store: Store
) -> None:
    category = fake.add_category("rfcs", "RFCs")
    topics = [fake.add_topic(category, f"[RFC] Proposal number {i}", 25) for i in range(3)]
    config = config_for(fake, ("rfcs", category), max_attempts=1)
    fake.fail_next(1, "500", path=f"/t/{topics[0]}.json")  # listed newest first: read last
    with pytest.raises(DiscourseUnavailable):
        await sync(store, fake, config)
    assert forum_store.cursor(store, FORUM).last_post_id is None

    mark = len(fake.requests)
    await sync(store, fake, config)

    again = fake.requests[mark:]
    assert {r.path for r in again if r.path.startswith("/t/")} == {
        f"/t/{topics[0]}.json",
        f"/t/{topics[0]}/posts.json",
    }
    assert sum(len(stored_keys(store, fake, t)) for t in topics) == 75


# -- polling -----------------------------------------------------------------------------


async def test_after_a_restart_polling_fetches_only_new_posts(
    fake: FakeDiscourse, tmp_path: Path
) -> None:
    rfcs = fake.add_category("rfcs", "RFCs")
    chat = fake.add_category("chat", "Chat")
    first_topic = fake.add_topic(rfcs, "[RFC] Shared memory planner", 30)
    config = config_for(fake, ("rfcs", rfcs))
    with _open(tmp_path) as store:
        await sync(store, fake, config)

    fake.add_post(first_topic, "dave", "One more reply after the bot restarted.")
    second_topic = fake.add_topic(rfcs, "[RFC] Another proposal entirely", 2)
    fake.add_topic(chat, "Unrelated chatter in another category", 2)
    mark = len(fake.requests)
    with _open(tmp_path) as store:
        report = await sync(store, fake, config)
        assert [(r.method, r.path) for r in fake.requests[mark:]] == [("GET", "/posts.json")]
        assert report.counts.new == 3
        assert len(stored_keys(store, fake, first_topic)) == 31
        assert len(stored_keys(store, fake, second_topic)) == 2
        assert forum_store.cursor(store, FORUM).last_post_id == max(fake.posts)

        mark = len(fake.requests)
        quiet = await sync(store, fake, config)
        assert len(fake.requests) == mark + 1
        assert quiet.counts.new == 0


async def test_polling_pages_back_to_the_cursor(fake: FakeDiscourse, store: Store) -> None:
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] Busy week on the forum", 5)
    config = config_for(fake, ("rfcs", category))
    await sync(store, fake, config)
    for i in range(120):
        fake.add_post(topic, "erin", f"Reply number {i} in a busy week of discussion.")

    mark = len(fake.requests)
    report = await sync(store, fake, config)

    polls = fake.requests[mark:]
    assert [r.path for r in polls] == ["/posts.json"] * 3
    newest_first = regular_post_ids(fake, topic)[::-1]
    assert polls[0].query_values("before") == []
    assert polls[1].query_values("before") == [str(newest_first[49])]
    assert polls[2].query_values("before") == [str(newest_first[99])]
    assert report.counts.new == 120
    assert len(stored_keys(store, fake, topic)) == 125


async def test_a_topic_moved_into_a_followed_category_is_read_in_full(
    fake: FakeDiscourse, store: Store
) -> None:
    rfcs = fake.add_category("rfcs", "RFCs")
    chat = fake.add_category("chat", "Chat")
    fake.add_topic(rfcs, "[RFC] Already followed", 2)
    moved = fake.add_topic(chat, "Started as a chat, became an RFC", 80)
    config = config_for(fake, ("rfcs", rfcs))
    await sync(store, fake, config)
    assert stored_keys(store, fake, moved) == []

    fake.topic(moved).category_id = rfcs  # a moderator moves it
    fake.add_post(moved, "gina", "Moved here: let us treat this as an RFC now.")
    mark = len(fake.requests)
    report = await sync(store, fake, config)

    # The poll's page holds its newest 50; the view its first 20; one batch the rest.
    assert [r.path for r in fake.requests[mark:]] == [
        "/posts.json",
        f"/t/{moved}.json",
        f"/t/{moved}/posts.json",
    ]
    assert report.counts.new == 81
    assert len(stored_keys(store, fake, moved)) == 81
    quiet = len(fake.requests)
    await sync(store, fake, config)
    assert len(fake.requests) == quiet + 1


async def test_polling_sees_edits_of_recent_posts_and_keeps_the_old_text(
    fake: FakeDiscourse, store: Store
) -> None:
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(
        category, "[RFC] Something to vote on", [("alice", "+1 from me, looks good.")]
    )
    config = config_for(fake, ("rfcs", category))
    await sync(store, fake, config)
    post = fake.posts_of(topic)[0]
    post.raw = "-1 after all: the migration plan is missing."
    post.cooked = cook(post.raw)
    post.version += 1
    post.updated_at = fake.clock()

    report = await sync(store, fake, config)
    replay = await sync(store, fake, config)

    key = site_of(fake).post_key(post.id)
    stored = store.post(key)
    assert stored is not None
    assert stored.text == post.raw
    assert report.counts.edited == 1
    assert replay.counts.edited == 0
    edits = forum_store.edits_of(store, key)
    assert [e.old_text for e in edits] == ["+1 from me, looks good."]


# -- faults ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "times"), [("429-header", 1), ("429-json", 1), ("500", 2), ("reset", 2), ("slow", 2)]
)
async def test_backfill_survives_faults_without_loss_or_duplicates(
    fake: FakeDiscourse, store: Store, kind: Any, times: int
) -> None:
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] Resilience under load", 95)
    config = config_for(fake, ("rfcs", category), post_batch_size=25, timeout_seconds=0.1)
    # Discourse asks for whole seconds; 1 is the shortest wait it sends.
    fake.fail_next(times, kind, path=f"/t/{topic}/posts.json", retry_after=1, delay=0.25)

    await sync(store, fake, config)
    await fake.wait_idle()  # a slow answer is logged when it is finally sent

    assert stored_keys(store, fake, topic) == [
        site_of(fake).post_key(i) for i in regular_post_ids(fake, topic)
    ]
    faulted = [r for r in fake.requests if r.fault == kind]
    assert len(faulted) == times
    if kind.startswith("429"):
        after = fake.requests[fake.requests.index(faulted[0]) + 1]
        assert after.time - faulted[0].time >= 1.0  # the wait the forum asked for


async def test_a_fault_while_paging_never_moves_the_cursor_past_unstored_posts(
    fake: FakeDiscourse, store: Store
) -> None:
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] Paging under faults", 5)
    config = config_for(fake, ("rfcs", category), max_attempts=2)
    await sync(store, fake, config)
    before = forum_store.cursor(store, FORUM).last_post_id
    for i in range(80):
        fake.add_post(topic, "frank", f"Reply {i}: more thoughts on paging faults.")

    # Once the first page is stored, the forum fails every request.
    async def failing_after_first_page(call: Callable[[Store], T]) -> T:
        result = call(store)
        if isinstance(result, IngestCounts):
            fake.fail_next(2, "500", path="/posts.json")
        return result

    async with make_client(FORUM, config) as client:
        with pytest.raises(DiscourseUnavailable):
            await sync_forum(client, failing_after_first_page, site_of(fake), config)
    assert forum_store.cursor(store, FORUM).last_post_id == before
    assert len(stored_keys(store, fake, topic)) == 55

    report = await sync(store, fake, config)
    assert report.counts.new == 30
    assert len(stored_keys(store, fake, topic)) == 85
    assert forum_store.cursor(store, FORUM).last_post_id == max(fake.posts)


async def test_the_request_budget_is_never_exceeded(fake: FakeDiscourse, store: Store) -> None:
    category = fake.add_category("rfcs", "RFCs")
    for i in range(3):
        fake.add_topic(category, f"[RFC] Budgeted proposal {i}", 45)
    fake.fail_next(1, "500", path="/t/")
    fake.fail_next(1, "reset", path="/t/")
    config = config_for(fake, ("rfcs", category), post_batch_size=20)
    budget = RequestBudget(3, window=0.15)

    await sync(store, fake, config, budget=budget)

    # 1 newest post, 1 topic list page, 3 x (1 view + 2 batches), 2 retries.
    assert len(fake.requests) == 13
    assert fake.max_requests_in_window(0.15) <= 3
    assert store.stats()["messages"] == 135


# -- auth --------------------------------------------------------------------------------


async def test_a_wrong_api_key_is_refused_once_not_retried(
    fake: FakeDiscourse, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(API_KEY_ENV, "not-the-key")
    with pytest.raises(DiscourseRequestError) as refused:
        await sync(store, fake, config_for(fake))
    assert refused.value.status == 403
    # /posts.json refused, then the topic list it falls back to (an API key's scope may
    # refuse the one and not the other): each asked once, neither retried.
    assert [r.path for r in fake.requests] == ["/posts.json", "/latest.json"]
    assert "not-the-key" not in str(refused.value)


def test_a_missing_api_key_is_a_config_error(
    fake: FakeDiscourse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_KEY_ENV)
    with pytest.raises(ConfigError, match=API_KEY_ENV):
        make_client(FORUM, config_for(fake))


# -- posting -----------------------------------------------------------------------------

STATUS_1 = "**Quorum status**: 2 open concerns, vote not started."
STATUS_2 = "**Quorum status**: 1 open concern, vote not started."


async def test_replies_are_posted_with_topic_raw_and_reply_number(fake: FakeDiscourse) -> None:
    topic = fake.add_topic(None, "[RFC] Posting from the bot", 3)
    async with make_client(FORUM, config_for(fake)) as client:
        created = await post_reply(client, topic, "Noted: this goes into the summary.", 2)
    post = fake.post(created.id)
    assert post.topic_id == topic
    assert post.reply_to_post_number == 2
    assert post.raw == "Noted: this goes into the summary."
    assert fake.users[post.user_id].username == fake.api_username


async def test_the_status_post_is_edited_in_place_not_posted_again(
    fake: FakeDiscourse, store: Store
) -> None:
    topic = fake.add_topic(None, "[RFC] One status post", 3)
    db = direct_db(store)
    async with make_client(FORUM, config_for(fake)) as client:
        first = await publish_status(client, db, FORUM, topic, STATUS_1)
        same = await publish_status(client, db, FORUM, topic, STATUS_1)
        edited = await publish_status(client, db, FORUM, topic, STATUS_2)

    assert (first.action, same.action, edited.action) == ("created", "unchanged", "edited")
    assert first.post_id == same.post_id == edited.post_id
    assert len(fake.posts_of(topic)) == 4
    assert fake.post(first.post_id).raw == STATUS_2
    assert fake.post(first.post_id).version == 2
    assert len(fake.requests_to("/posts.json", "POST")) == 1
    assert len(fake.requests_to(f"/posts/{first.post_id}.json", "PUT")) == 1


async def test_a_deleted_status_post_is_posted_again(fake: FakeDiscourse, store: Store) -> None:
    topic = fake.add_topic(None, "[RFC] Status post deleted by a moderator", 1)
    db = direct_db(store)
    async with make_client(FORUM, config_for(fake)) as client:
        first = await publish_status(client, db, FORUM, topic, STATUS_1)
        fake.posts.pop(first.post_id)
        fake.topic(topic).post_ids.remove(first.post_id)
        second = await publish_status(client, db, FORUM, topic, STATUS_2)
    assert second.action == "created"
    assert second.post_id != first.post_id
    status = forum_store.status_post(store, FORUM, topic)
    assert status is not None
    assert status.post_id == second.post_id


async def test_a_reply_that_timed_out_is_retried_without_posting_twice(
    fake: FakeDiscourse,
) -> None:
    topic = fake.add_topic(None, "[RFC] Slow forum day", 1)
    fake.fail_next(1, "slow", path="/posts.json", delay=0.25)
    async with make_client(FORUM, config_for(fake, timeout_seconds=0.1)) as client:
        created = await post_reply(
            client, topic, "Posted once even though the first try timed out."
        )
    await fake.wait_idle()
    assert len(fake.requests_to("/posts.json", "POST")) == 2
    assert [p.id for p in fake.posts_of(topic)][-1] == created.id
    assert len(fake.posts_of(topic)) == 2


def _open(tmp_path: Path) -> closing[Store]:
    return closing(Store.open(tmp_path / "quorum.db"))


def _client_with_window(fake: FakeDiscourse, window: float, backoff: float) -> DiscourseClient:
    return DiscourseClient(
        fake.base_url,
        api_key=fake.api_key,
        api_username=fake.api_username,
        budget=RequestBudget(1000, 60.0),
        retry=RetryPolicy(backoff_seconds=backoff, create_retry_window=window),
        timeout_seconds=0.1,
    )


async def test_a_create_that_may_have_gone_through_is_not_repeated_too_late(
    fake: FakeDiscourse,
) -> None:
    """Discourse only recognises a repeated create for a while; after that, a repeat
    could post twice, so the client gives up and says so (the outbox marks it uncertain)."""
    topic = fake.add_topic(None, "[RFC] Very slow forum day", 1)
    fake.fail_next(1, "slow", path="/posts.json", delay=0.3)
    async with _client_with_window(fake, window=0.2, backoff=0.5) as client:
        with pytest.raises(DiscourseUnavailable, match="may have been applied already"):
            await client.create_post(topic, "Sent once, answered too late.")
    await fake.wait_idle()
    assert len(fake.requests_to("/posts.json", "POST")) == 1
    assert len(fake.posts_of(topic)) == 2  # the first post and the one that went through


async def test_a_refused_create_is_repeated_however_late(fake: FakeDiscourse) -> None:
    topic = fake.add_topic(None, "[RFC] Busy forum day", 1)
    fake.fail_next(2, "429-header", path="/posts.json", retry_after=0)
    async with _client_with_window(fake, window=0.0, backoff=0.01) as client:
        await client.create_post(topic, "Posted after two refusals.")
    assert len(fake.requests_to("/posts.json", "POST")) == 3
    assert len(fake.posts_of(topic)) == 2
