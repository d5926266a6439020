"""GitHub as a direct source: webhooks into the running app, polls against a fake GitHub API.

A comment read from GitHub and the same comment mirrored to dev@ must be one post,
whichever arrives first; a delivery without a valid signature must leave nothing;
a poll must cost nothing when nothing changed and resume after a failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.discourse import RetryPolicy
from bot.adapters.github import GitHubClient, api_headers
from bot.adapters.http_fetch import HttpFetcher, RequestBudget
from bot.app import App
from bot.config import Config, GitHubConfig, GitHubWebhookConfig, SmtpConfig, WebConfig
from bot.core.concerns import build_ledger
from bot.core.github import (
    Issue,
    comment_item,
    issue_of,
    mirror_mail,
    review_item,
    root_item,
)
from bot.core.mail import Envelope, parse_mail
from bot.store import Store
from bot.store import sources as source_store
from bot.sync import direct_db
from bot.sync.github import GitHubReport, poll_github
from tests.fakes.github import FakeGitHub

REPO = "apache/tvm"
SECRET = b"It's a Secret to Everybody"
SECRET_ENV = "QUORUM_GITHUB_WEBHOOK_SECRET"
NOW = datetime(2024, 8, 1, tzinfo=UTC)


def _seed(fake: FakeGitHub) -> dict[str, dict]:
    """A release vote held as an issue, and a pull request with a review and a line comment."""
    fake.add_issue(REPO, 17179, "[VOTE] Release Apache TVM v0.17.0.rc0", "ysh329",
                   "This is a call for vote.", "2024-07-20T08:00:00Z")  # fmt: skip
    vote = fake.add_comment(REPO, 17179, "tqchen", "+1", "2024-07-21T08:00:00Z")
    fake.add_issue(REPO, 95, "[RFC] Relax", "areusch", "Proposal.", "2024-07-22T08:00:00Z",
                   pull=True)  # fmt: skip
    review = fake.add_review(REPO, 95, "jroesch", "Looks good to me.", "2024-07-23T08:00:00Z")
    line = fake.add_review_comment(REPO, 95, "masahi", "Why a copy here?", "2024-07-24T08:00:00Z")
    return {"vote": vote, "review": review, "line": line}


# -- the mirror mail ------------------------------------------------------------------------


def test_a_comment_written_as_its_mirror_mail_reads_like_the_mirror_github_sends():
    fake = FakeGitHub()
    comment = _seed(fake)["vote"]
    issue = Issue(REPO, 17179, "[VOTE] Release Apache TVM v0.17.0.rc0", is_pull=False)
    ours = parse_mail(mirror_mail(comment_item(issue, comment)), Envelope(NOW))
    theirs = parse_mail(
        (
            f"From: tqchen <notifications@github.com>\nTo: apache/tvm <tvm@noreply.github.com>\n"
            f"Subject: Re: [apache/tvm] [VOTE] Release Apache TVM v0.17.0.rc0 (Issue #17179)\n"
            f"Date: Sun, 21 Jul 2024 08:00:00 +0000\n"
            f"Message-ID: <apache/tvm/issues/17179/c{comment['id']}@github.com>\n"
            f"In-Reply-To: <apache/tvm/issues/17179@github.com>\n"
            f"References: <apache/tvm/issues/17179@github.com>\nX-GitHub-Sender: tqchen\n"
            f"Content-Type: text/plain; charset=UTF-8\n\n+1\n-- \n"
            f"Reply to this email directly or view it on GitHub:\n{comment['html_url']}\n"
            f"You are receiving this because you are subscribed to this thread.\n\n"
            f"Message ID: <apache/tvm/issues/17179/c{comment['id']}@github.com>\n"
        ).encode(),
        Envelope(NOW),
    )
    for field in ("key", "message_id", "thread_key", "author", "created_at", "subject", "text"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert ours.url == theirs.url == comment["html_url"]


# -- webhooks into the running app ----------------------------------------------------------


@dataclass
class Running:
    app: App
    url: str
    smtp: tuple[str, int]
    fake: FakeGitHub
    items: dict[str, dict]


@pytest.fixture
async def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    github = GitHubConfig(
        repos=[REPO], poll_minutes=0, webhook=GitHubWebhookConfig(enabled=True, port=0)
    )
    config = Config(
        smtp=SmtpConfig(port=0, accept=["dev@tvm.apache.org"]),
        web=WebConfig(enabled=False),
        github=github,
    )
    app = App(config, tmp_path / "quorum.db")
    endpoints = await app.start()
    assert endpoints.github is not None
    assert endpoints.smtp is not None
    host, port = endpoints.github
    fake = FakeGitHub()
    items = _seed(fake)
    try:
        yield Running(app, f"http://{host}:{port}/hooks/github", endpoints.smtp, fake, items)
    finally:
        await app.stop()


async def _post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status, await r.json()


async def _settled(app: App) -> None:
    """Wait until the worker processed everything stored (deliveries, SMTP inbox)."""
    for _ in range(200):
        pending = await app.db(
            lambda s: s.db.execute(
                "SELECT (SELECT count(*) FROM github_deliveries WHERE processed_at IS NULL)"
                " + (SELECT count(*) FROM inbox)"
            ).fetchone()[0]
        )
        if pending == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the worker did not process the deliveries")


async def _posts(app: App) -> list[str]:
    return await app.db(lambda s: sorted(p.key for p in s.iter_posts()))


async def test_webhook_with_a_bad_signature_gets_401_and_nothing_is_stored(running: Running):
    headers, body = running.fake.delivery("issue_comment", REPO, 17179, b"not the secret",
                                          item=running.items["vote"])  # fmt: skip
    status, answer = await _post(running.url, headers, body)
    assert status == 401
    assert answer == {"error": "invalid signature"}
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert (await _post(running.url, unsigned, body))[0] == 401
    stored = await running.app.db(
        lambda s: s.db.execute("SELECT count(*) FROM github_deliveries").fetchone()[0]
    )
    assert stored == 0
    assert await _posts(running.app) == []


async def test_replayed_delivery_is_stored_once(running: Running):
    headers, body = running.fake.delivery("issue_comment", REPO, 17179, SECRET,
                                          item=running.items["vote"])  # fmt: skip
    first = await _post(running.url, headers, body)
    again = await _post(running.url, headers, body)  # GitHub's "Redeliver" keeps the GUID
    assert first == (200, {"stored": True, "duplicate": False})
    assert again == (200, {"stored": False, "duplicate": True})
    await _settled(running.app)
    comment_id = running.items["vote"]["id"]
    assert await _posts(running.app) == [
        "<apache/tvm/issues/17179/c" + str(comment_id) + "@github.com>",
        "<apache/tvm/issues/17179@github.com>",
    ]


async def test_events_of_other_repositories_and_kinds_are_acknowledged_not_stored(
    running: Running,
):
    headers, body = running.fake.delivery("issues", REPO, 17179, SECRET)
    payload = json.loads(body)
    payload["repository"]["full_name"] = "someone/else"
    other = json.dumps(payload).encode()
    headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(SECRET, other, hashlib.sha256).hexdigest()
    assert (await _post(running.url, headers, other))[1] == {
        "ignored": "repository someone/else is not followed"
    }
    headers, body = running.fake.delivery("issues", REPO, 17179, SECRET)
    headers["X-GitHub-Event"] = "star"
    assert (await _post(running.url, headers, body))[1] == {"ignored": "star"}
    await _settled(running.app)
    assert await _posts(running.app) == []


def _mirror_mail(item: dict, number: int, title: str) -> bytes:
    """The comment as GitHub mirrors it to dev@ (the shape of the corpus's mirrors)."""
    return (
        f"From: {item['user']['login']} <notifications@github.com>\r\n"
        f"To: apache/tvm <tvm@noreply.github.com>\r\n"
        f"Subject: Re: [apache/tvm] {title} (Issue #{number})\r\n"
        f"Date: Sun, 21 Jul 2024 08:00:00 +0000\r\n"
        f"Message-ID: <apache/tvm/issues/{number}/c{item['id']}@github.com>\r\n"
        f"In-Reply-To: <apache/tvm/issues/{number}@github.com>\r\n"
        f"References: <apache/tvm/issues/{number}@github.com>\r\n"
        f"X-GitHub-Sender: {item['user']['login']}\r\n"
        f"Content-Type: text/plain; charset=UTF-8\r\n\r\n{item['body']}\r\n-- \r\n"
        f"Reply to this email directly or view it on GitHub:\r\n{item['html_url']}\r\n"
        f"You are receiving this because you are subscribed to this thread.\r\n"
    ).encode()


def _send(smtp: tuple[str, int], raw: bytes) -> None:
    with smtplib.SMTP(*smtp, timeout=10) as client:
        client.sendmail("notifications@github.com", ["dev@tvm.apache.org"], raw)


@pytest.mark.parametrize("first", ["webhook", "mirror mail"])
async def test_a_comment_by_webhook_and_by_mirror_mail_is_one_post(running: Running, first: str):
    item = running.items["vote"]
    mirror = _mirror_mail(item, 17179, "[VOTE] Release Apache TVM v0.17.0.rc0")
    headers, body = running.fake.delivery("issue_comment", REPO, 17179, SECRET, item=item)
    if first == "mirror mail":
        await asyncio.to_thread(_send, running.smtp, mirror)
        await _settled(running.app)
    assert (await _post(running.url, headers, body))[0] == 200
    await _settled(running.app)
    if first == "webhook":
        await asyncio.to_thread(_send, running.smtp, mirror)
        await _settled(running.app)
    key = f"<apache/tvm/issues/17179/c{item['id']}@github.com>"
    assert await _posts(running.app) == [key, "<apache/tvm/issues/17179@github.com>"]
    stored = await running.app.db(lambda s: s.post(key))
    assert stored is not None
    assert stored.author.name == "tqchen"
    assert stored.text.strip() == "+1"
    assert stored.thread_key == "<apache/tvm/issues/17179@github.com>"
    defects = await running.app.db(lambda s: s.defect_counts())
    assert "message-id-clash" not in defects


async def test_review_and_line_comment_webhooks_join_the_pull_request(running: Running):
    for event, item in (
        ("pull_request", None),
        ("pull_request_review", running.items["review"]),
        ("pull_request_review_comment", running.items["line"]),
    ):
        headers, body = running.fake.delivery(event, REPO, 95, SECRET, item=item)
        assert (await _post(running.url, headers, body))[0] == 200
    await _settled(running.app)
    posts = await running.app.db(lambda s: s.posts_in_thread("<apache/tvm/pull/95@github.com>"))
    assert [p.author.name for p in posts] == ["areusch", "jroesch", "masahi"]
    # An approving review opens as GitHub's own mail of it opens, whichever way it came.
    assert posts[1].text.strip() == "@jroesch approved this pull request.\n\nLooks good to me."
    assert posts[2].text.startswith("In src/a.py:3:")


def test_a_review_requesting_changes_reads_as_an_objection_however_it_arrived():
    fake = FakeGitHub()
    _seed(fake)
    comment = (
        "We spent last year getting secrets out of the config file. This puts a long-lived"
        " key back in it, in plain text. Please read it from the environment."
    )
    issue = issue_of(REPO, fake.repo(REPO).issues[95])
    root = parse_mail(mirror_mail(root_item(issue, fake.repo(REPO).issues[95])), Envelope(NOW))

    def concerns(state: str) -> list[str]:
        review = fake.add_review(REPO, 95, "jroesch", comment, "2024-07-25T08:00:00Z", state)
        item = review_item(issue, review)
        assert item is not None
        post = parse_mail(mirror_mail(item), Envelope(NOW))
        ledger = build_ledger(issue.root_id, [root, post], NOW)
        return [c.text for c in ledger.concerns if c.post == post.key]

    [concern] = concerns("CHANGES_REQUESTED")
    assert "long-lived key back in it" in concern
    # The same words in a review that only comments are read as any reply is.
    assert concerns("COMMENTED") == []


# -- polling the REST API -------------------------------------------------------------------


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    fake = FakeGitHub(token="ghp_readonly")
    async with fake:
        yield fake


async def _poll(
    store: Store,
    fake: FakeGitHub,
    *,
    token: str = "ghp_readonly",
    budget: int = 100,
    sleeps: Sleeps | None = None,
    clock: float | None = None,
) -> GitHubReport:
    http = HttpFetcher(
        budget=RequestBudget(budget),
        retry=RetryPolicy(max_attempts=3, backoff_seconds=0.01, max_wait_seconds=600),
        headers=api_headers(token),
        sleep=sleeps or Sleeps(),
        **({"clock": lambda: clock} if clock is not None else {}),
    )
    async with http:
        return await poll_github(
            direct_db(store),
            GitHubClient(http, fake.base_url),
            [REPO],
            since=None,
            now=NOW,
            requests_used=lambda: http.budget.used,
        )


async def test_poll_reads_issues_comments_reviews_and_codeowners(store: Store, github: FakeGitHub):
    items = _seed(github)
    github.repo(REPO).files[".github/CODEOWNERS"] = "/python/tvm/relay/ @jroesch\n"
    report = await _poll(store, github)
    assert report.error is None
    keys = sorted(p.key for p in store.iter_posts())
    assert keys == sorted(
        [
            "<apache/tvm/issues/17179@github.com>",
            f"<apache/tvm/issues/17179/c{items['vote']['id']}@github.com>",
            "<apache/tvm/pull/95@github.com>",
            f"<apache/tvm/pull/95/review/{items['review']['id']}@github.com>",
            f"<apache/tvm/pull/95/r{items['line']['id']}@github.com>",
        ]
    )
    assert all(
        r.headers.get("Authorization") == "Bearer ghp_readonly" for r in github.faults.requests
    )
    assert source_store.stored_file(store, REPO, "CODEOWNERS") == "/python/tvm/relay/ @jroesch\n"


async def test_a_poll_with_nothing_new_is_answered_304_and_costs_no_quota(
    store: Store, github: FakeGitHub
):
    _seed(github)
    github.repo(REPO).files["CODEOWNERS"] = "* @tqchen\n"
    await _poll(store, github)
    await _poll(store, github)  # the cursors moved: these first pages are new URLs
    remaining = github.remaining
    third = await _poll(store, github)
    assert third.counts.read == 0
    # Issues, comments, line comments and CODEOWNERS all answered 304 (no pull request
    # changed, so no reviews were asked for): a poll that finds nothing costs no quota.
    assert [r.status for r in github.faults.requests[-third.requests :]] == [304] * 4
    assert github.remaining == remaining
    github.add_comment(REPO, 17179, "vinx13", "+1 (binding)", "2024-07-30T08:00:00Z")
    github.repo(REPO).files["CODEOWNERS"] = "* @vinx13\n"
    fourth = await _poll(store, github)
    assert (fourth.counts.new, fourth.error) == (1, None)
    assert source_store.stored_file(store, REPO, "CODEOWNERS") == "* @vinx13\n"


async def test_poll_failing_mid_listing_resumes_from_its_cursor_without_duplicates(
    store: Store, github: FakeGitHub
):
    _seed(github)
    for day in range(1, 5):  # enough comments for several pages
        for n in range(60):
            github.add_comment(REPO, 17179, f"user{n}", f"+1 from {n}",
                               f"2024-07-2{day}T{n // 60:02d}:{n % 60:02d}:00Z")  # fmt: skip
    github.faults.fail_next(
        3, "500", path="issues/comments?sort=updated&direction=asc&per_page=100&page=2"
    )
    failed = await _poll(store, github)
    assert failed.error is not None
    assert "HTTP 500 3 times" in failed.error
    # The issue and the pull request, its review, and the first page of 100 comments.
    assert store.stats()["messages"] == 2 + 1 + 100
    resumed = await _poll(store, github)
    assert resumed.error is None
    # ... the other 141 comments and the line comment, each once.
    assert resumed.counts.new == 141 + 1
    assert store.stats()["messages"] == 2 + 1 + 241 + 1


async def test_secondary_rate_limit_retry_after_is_honoured(store: Store, github: FakeGitHub):
    _seed(github)
    github.faults.fail_next(1, "secondary", path="/issues?", retry_after="61")
    sleeps = Sleeps()
    report = await _poll(store, github, sleeps=sleeps)
    assert report.error is None
    assert sleeps.waits == [61.0]


async def test_spent_quota_waits_for_the_reset_or_says_when_to_come_back(
    store: Store, github: FakeGitHub
):
    _seed(github)
    github.remaining = 1
    github.reset_at = 1_000_300

    class Reset(Sleeps):
        async def __call__(self, seconds: float) -> None:
            await super().__call__(seconds)
            github.remaining = github.quota  # time passed: the quota is back

    sleeps = Reset()
    # The first answer spends the quota: the next request waits until X-RateLimit-Reset.
    report = await _poll(store, github, sleeps=sleeps, clock=1_000_000.0)
    assert report.error is None
    assert sleeps.waits == [pytest.approx(300.0)]
    assert store.stats()["messages"] == 5
    github.remaining = 0
    github.reset_at = 1_000_000 + 3600
    late = await _poll(store, github, clock=1_000_000.0)
    assert late.error is not None
    assert "rate limited for 3600 s; run again after 1970-01-12 14:46 UTC" in late.error


async def test_a_refused_token_says_to_check_the_token(store: Store, github: FakeGitHub):
    _seed(github)
    report = await _poll(store, github, token="wrong")
    assert report.error is not None
    assert "HTTP 401: the token was refused" in report.error


async def test_quorum_run_polls_github_on_its_writer(
    tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
):
    _seed(github)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_readonly")
    settings = GitHubConfig(repos=[REPO], api_url=github.base_url, poll_minutes=5)
    config = Config(smtp=SmtpConfig(enabled=False), web=WebConfig(enabled=False), github=settings)
    app = App(config, tmp_path / "quorum.db")
    await app.start()
    try:
        assert "github-poll" in [job.name for job in app.jobs()]
        assert app.github is not None
        report = await app.github.poll(NOW)
        assert report.error is None
        assert report.counts.new == 5
        assert len(await _posts(app)) == 5
    finally:
        await app.stop()
