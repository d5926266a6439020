"""/metrics as Prometheus scrapes it: a running app, real SMTP deliveries, a fake forum,
real polls of a fake GitHub.

The scrape is parsed with prometheus-client's own parser of the text format,
so what the tests read is what a Prometheus server would store.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bench.history import long_writer_jobs
from bot.app import App, job_name
from bot.config import (
    CategoryConfig,
    Config,
    DiscourseConfig,
    ForumConfig,
    GitHubConfig,
    SmtpConfig,
    WebConfig,
    WebhookServerConfig,
)
from bot.metrics import Metrics
from bot.model import Action
from bot.store import Store
from bot.store.outbox import Outbox
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.github import FakeGitHub
from tests.mailgen import raw_mail

LIST = "dev@lists.example.org"
API_KEY_ENV = "QUORUM_TEST_METRICS_API_KEY"
TOKEN_ENV = "QUORUM_TEST_METRICS_TOKEN"
GITHUB_TOKEN_ENV = "QUORUM_TEST_METRICS_GITHUB_TOKEN"
REPO = "apache/tvm"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Running:
    app: App
    fake: FakeDiscourse
    smtp_port: int
    metrics_url: str


def _config(*, metrics: bool = True) -> Config:
    return Config(
        smtp=SmtpConfig(port=0, accept=[LIST]),
        web=WebConfig(port=0, metrics=metrics, metrics_token_env=TOKEN_ENV),
    )


@pytest.fixture
async def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    fake = FakeDiscourse()
    category = fake.add_category("rfcs", "RFCs")
    fake.add_topic(category, "[RFC] Metrics please", 2)
    fake.fail_next(1, "500")  # the first poll meets one server error, then succeeds
    await fake.start()
    monkeypatch.setenv(API_KEY_ENV, fake.api_key)
    forum = ForumConfig(
        base_url=fake.base_url,
        api_username=fake.api_username,
        api_key_env=API_KEY_ENV,
        categories=[CategoryConfig(slug="rfcs", id=category)],
        backoff_seconds=0.01,
        requests_per_minute=40,
    )
    discourse = DiscourseConfig(forums={"main": forum}, webhooks=WebhookServerConfig(enabled=False))
    app = App(_config(), tmp_path / "quorum.db", discourse=discourse)
    endpoints = await app.start()
    assert endpoints.smtp is not None
    assert endpoints.web is not None
    host, port = endpoints.web
    try:
        yield Running(app, fake, endpoints.smtp[1], f"http://{host}:{port}/metrics")
    finally:
        await app.stop()
        await fake.stop()


def _deliver(port: int, rcpt: str) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("tester.example")
        client.mail("alice@example.org")
        code, _ = client.rcpt(rcpt)
        if code != 250:
            return code
        raw = raw_mail(subject="[RFC] Metrics", message_id="<metrics-1@example.org>")
        return client.data(raw.replace(b"\n", b"\r\n"))[0]


async def _scrape(url: str, token: str | None = None) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


def _samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    assert key in samples, f"{name}{labels} not scraped; have {sorted(k[0] for k in samples)}"
    return samples[key]


async def _until(condition: object, what: str) -> None:
    for _ in range(500):
        if callable(condition) and await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_scrape_after_a_delivery_counts_it_and_shows_every_source(running: Running):
    app = running.app
    assert await asyncio.to_thread(_deliver, running.smtp_port, LIST) == 250
    assert await asyncio.to_thread(_deliver, running.smtp_port, "relay@elsewhere.org") == 550

    async def settled() -> bool:
        stats = await app.db(lambda store: store.stats())
        return stats["messages"] >= 1 and stats["pending"] == 0 and bool(app.forums.last_poll_ok)

    assert app.forums is not None
    await app.forums.poll("main", app.clock())  # the scheduled poll's first run
    await _until(settled, "the delivery to be processed and the forum polled")
    now = app.clock()
    await app.db(
        lambda store: Outbox(store).record(
            Action(kind="reply", target="<metrics-1@example.org>", text="hi", key="k1"), now
        )
    )
    await app.start_schedule()  # catches up: features and dispatch run once, timed

    status, content_type, text = await _scrape(running.metrics_url)

    assert status == 200
    assert content_type.startswith("text/plain; version=")  # the Prometheus text format
    samples = _samples(text)
    total = "quorum_smtp_deliveries_total"
    assert _value(samples, total, outcome="accepted", code="250") == 1
    assert _value(samples, total, outcome="refused", code="550") == 1
    assert _value(samples, "quorum_messages_processed_total", result="new") == 1
    assert _value(samples, "quorum_inbox_backlog_messages") == 0
    assert _value(samples, "quorum_processing_lag_seconds") == 0
    # The dispatch run (dry-run by default) settled the recorded reply.
    assert _value(samples, "quorum_outbox_actions", status="dry-run", channel="mail") == 1
    assert _value(samples, "quorum_outbox_actions", status="uncertain", channel="mail") == 0
    assert _value(samples, "quorum_job_duration_seconds_count", job="features") >= 1
    assert _value(samples, "quorum_job_last_success_timestamp_seconds", job="dispatch") > 0
    # Every writer job is timed by what it did: the delivery's commit waited in the first
    # queue, and its job is named after the method that stored it.
    jobs = "quorum_writer_job_duration_seconds_count"
    assert _value(samples, jobs, job="_persist_deliveries") == 1
    assert _value(samples, "quorum_writer_wait_seconds_count", queue="first") >= 1
    assert _value(samples, "quorum_writer_wait_seconds_count", queue="rest") >= 1
    last = "quorum_source_last_success_timestamp_seconds"
    assert _value(samples, last, source="smtp") > 0
    assert _value(samples, last, source="discourse:main") > 0
    errors = "quorum_discourse_request_errors_total"
    assert _value(samples, errors, forum="main", kind="5xx") == 1
    assert _value(samples, "quorum_discourse_requests_per_window", forum="main") == 40
    left = _value(samples, "quorum_discourse_requests_left", forum="main")
    assert 0 <= left < 40  # the backfill spent some of the minute's budget
    # No [github] section: no GitHub series at all, not a row of zeros.
    assert not [name for name, _ in samples if name.startswith("quorum_github")]
    assert (last, frozenset({("source", "github")})) not in samples


async def test_metrics_with_a_token_variable_set_need_its_bearer(
    running: Running, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv(TOKEN_ENV, "scrape-me-please")
    app = App(_config(), tmp_path / "guarded.db")
    endpoints = await app.start()
    assert endpoints.web is not None
    url = f"http://{endpoints.web[0]}:{endpoints.web[1]}/metrics"
    try:
        assert (await _scrape(url))[0] == 401
        assert (await _scrape(url, token="wrong"))[0] == 401
        status, _, text = await _scrape(url, token="scrape-me-please")
    finally:
        await app.stop()
    assert status == 200
    assert "quorum_inbox_backlog_messages" in text


async def test_metrics_are_off_by_default(tmp_path: Path):
    app = App(Config(smtp=SmtpConfig(enabled=False), web=WebConfig(port=0)), tmp_path / "q.db")
    endpoints = await app.start()
    assert endpoints.web is not None
    try:
        status, _, _ = await _scrape(f"http://{endpoints.web[0]}:{endpoints.web[1]}/metrics")
    finally:
        await app.stop()
    assert status == 404


async def test_processing_lag_is_the_age_of_the_oldest_unprocessed_delivery(tmp_path: Path):
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    store = Store.open(tmp_path / "quorum.db")
    for seconds in (90, 30):
        store.enqueue_inbound(
            raw_mail(),
            received_at=now - timedelta(seconds=seconds),
            peer="127.0.0.1:2525",
            mail_from="a@example.org",
            rcpt_to=[LIST],
        )
    metrics = Metrics(clock=lambda: now)

    async def read(call):  # type: ignore[no-untyped-def]
        return call(store)

    try:
        body, _ = await metrics.scrape(read, {})
    finally:
        store.close()
    samples = _samples(body.decode())
    assert _value(samples, "quorum_inbox_backlog_messages") == 2
    assert _value(samples, "quorum_processing_lag_seconds") == 90


# -- GitHub polls --------------------------------------------------------------------------


@dataclass
class PollingGitHub:
    app: App
    fake: FakeGitHub
    metrics_url: str


@pytest.fixture
async def polling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PollingGitHub]:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(GITHUB_TOKEN_ENV, "ghp_metrics")
    fake = FakeGitHub(token="ghp_metrics", quota=750)  # not GitHub's 5000: read, not assumed
    fake.add_issue(REPO, 17179, "[VOTE] Release v0.17.0", "ysh329", "Please vote.",
                   "2024-07-20T08:00:00Z")  # fmt: skip
    fake.add_comment(REPO, 17179, "tqchen", "+1", "2024-07-21T08:00:00Z")
    await fake.start()
    github = GitHubConfig(
        repos=[REPO],
        api_url=fake.base_url,
        token_env=GITHUB_TOKEN_ENV,
        poll_minutes=60,  # the job exists; the tests run its polls themselves
        max_requests=300,
    )
    app, metrics_url = await _started_with(github, tmp_path)
    try:
        yield PollingGitHub(app, fake, metrics_url)
    finally:
        await app.stop()
        await fake.stop()


async def _started_with(github: GitHubConfig, tmp_path: Path) -> tuple[App, str]:
    """A started app with /metrics on and [github] as given; and its /metrics URL."""
    config = Config(
        smtp=SmtpConfig(enabled=False),
        web=WebConfig(port=0, metrics=True, metrics_token_env=TOKEN_ENV),
        github=github,
    )
    app = App(config, tmp_path / "quorum.db")
    endpoints = await app.start()
    assert endpoints.web is not None
    host, port = endpoints.web
    return app, f"http://{host}:{port}/metrics"


async def _github_poll(polling: PollingGitHub) -> tuple[str | None, Samples]:
    """One run of the `github-poll` job, then a scrape: the poll's error, and the samples."""
    assert polling.app.github is not None
    report = await polling.app.github.poll(polling.app.clock())
    status, _, text = await _scrape(polling.metrics_url)
    assert status == 200
    return report.error, _samples(text)


async def test_github_polls_show_the_quota_github_stated_and_the_requests_they_made(
    polling: PollingGitHub,
):
    fake = polling.fake
    status, _, text = await _scrape(polling.metrics_url)
    assert status == 200
    before = _samples(text)
    # Polling is configured, nothing polled yet: the budget is known, the quota is not.
    assert _value(before, "quorum_github_requests_per_poll") == 300
    assert _value(before, "quorum_github_request_errors_total", kind="5xx") == 0
    assert not [name for name, _ in before if name.startswith("quorum_github_rate_limit")]
    assert not [name for name, _ in before if name == "quorum_github_requests_last_poll"]

    error, samples = await _github_poll(polling)

    assert error is None
    assert fake.remaining < 750  # the poll spent quota: what is scraped is the fake's word
    assert _value(samples, "quorum_github_rate_limit_remaining") == fake.remaining
    assert _value(samples, "quorum_github_rate_limit") == 750
    assert _value(samples, "quorum_github_rate_limit_reset_timestamp_seconds") == fake.reset_at
    assert _value(samples, "quorum_github_requests_last_poll") == len(fake.requests)
    first = _value(samples, "quorum_source_last_success_timestamp_seconds", source="github")
    assert first > 0
    for kind in ("429", "5xx", "4xx", "connection"):
        assert _value(samples, "quorum_github_request_errors_total", kind=kind) == 0

    # The next poll's figures are its own (not summed): its requests, the quota it left.
    asked, remaining = len(fake.requests), fake.remaining
    error, samples = await _github_poll(polling)
    assert error is None
    assert _value(samples, "quorum_github_requests_last_poll") == len(fake.requests) - asked
    assert _value(samples, "quorum_github_rate_limit_remaining") == fake.remaining < remaining
    again = _value(samples, "quorum_source_last_success_timestamp_seconds", source="github")
    assert again >= first


async def test_github_request_errors_are_counted_by_kind_and_a_stopped_poll_is_no_success(
    polling: PollingGitHub,
):
    fake = polling.fake
    fake.faults.fail_next(1, "429", path="/issues?")
    fake.faults.fail_next(1, "500", path="/issues/comments?")
    fake.faults.fail_next(1, "secondary", path="/pulls/comments?")  # GitHub's 403 limit

    error, samples = await _github_poll(polling)

    assert error is None  # each retried once, and the poll went through
    errors = "quorum_github_request_errors_total"
    assert _value(samples, errors, kind="429") == 2
    assert _value(samples, errors, kind="5xx") == 1
    assert _value(samples, errors, kind="4xx") == 0
    assert _value(samples, "quorum_github_requests_last_poll") == len(fake.requests)
    last = "quorum_source_last_success_timestamp_seconds"
    succeeded = _value(samples, last, source="github")
    stated = _value(samples, "quorum_github_rate_limit_remaining")
    assert stated == fake.remaining

    # A proxy in front answers 429 without GitHub's headers, every attempt: the poll stops,
    # and the quota shown is still the last one GitHub stated.
    fake.faults.fail_next(4, "429", path="/issues?")
    error, samples = await _github_poll(polling)

    assert error is not None
    assert "HTTP 429 4 times" in error
    assert _value(samples, errors, kind="429") == 2 + 4  # counted since start, not per poll
    assert _value(samples, "quorum_github_requests_last_poll") == 4
    assert _value(samples, "quorum_github_rate_limit_remaining") == stated
    # The alert on a stale source fires: this poll was no success.
    assert _value(samples, last, source="github") == succeeded

    # The token's quota is spent for an hour: the poll stops at its first answer.
    fake.remaining = 0
    error, samples = await _github_poll(polling)

    assert error is not None
    assert "rate limited for" in error
    assert _value(samples, "quorum_github_rate_limit_remaining") == 0
    assert _value(samples, errors, kind="429") == 2 + 4 + 1
    assert _value(samples, errors, kind="5xx") == 1
    assert _value(samples, "quorum_github_requests_last_poll") == 1
    assert _value(samples, last, source="github") == succeeded


async def test_github_followed_by_webhooks_alone_has_no_github_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    github = GitHubConfig(repos=[REPO], poll_minutes=0)  # never polled: no quota spent
    app, metrics_url = await _started_with(github, tmp_path)
    try:
        status, _, text = await _scrape(metrics_url)
    finally:
        await app.stop()
    assert status == 200
    assert "quorum_inbox_backlog_messages" in text
    assert "quorum_github" not in text


def test_writer_jobs_are_named_by_what_they_do_and_the_long_ones_counted():
    class Jobs:
        def deliver(self) -> object:
            return lambda store: store

    assert job_name(Jobs().deliver()) == "deliver"
    assert job_name(partial(partial(Store.stats), 1)) == "stats"
    metrics = Metrics(lambda: datetime(2026, 12, 7, tzinfo=UTC))
    for held in (0.001, 0.004, 0.03, 0.2):
        metrics.writer_job("apply", waited=0.0, held=held, first=False)
    metrics.writer_job("_persist_deliveries", waited=0.002, held=0.001, first=True)
    text = generate_latest(metrics.registry).decode()
    # What the growth benchmark reports: the jobs that held the writer over 10 ms.
    assert long_writer_jobs(text, over=0.01) == {"apply": 2}
    assert long_writer_jobs(text, over=0.1) == {"apply": 1}
