"""/metrics as Prometheus scrapes it: a running app, real SMTP deliveries, a fake forum.

The scrape is parsed with prometheus-client's own parser of the text format,
so what the tests read is what a Prometheus server would store.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from bot.config import (
    CategoryConfig,
    Config,
    DiscourseConfig,
    ForumConfig,
    SmtpConfig,
    WebConfig,
    WebhookServerConfig,
)
from bot.metrics import Metrics
from bot.model import Action
from bot.store import Store
from bot.store.outbox import Outbox
from tests.fakes.discourse import FakeDiscourse
from tests.mailgen import raw_mail

LIST = "dev@lists.example.org"
API_KEY_ENV = "QUORUM_TEST_METRICS_API_KEY"
TOKEN_ENV = "QUORUM_TEST_METRICS_TOKEN"
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
    last = "quorum_source_last_success_timestamp_seconds"
    assert _value(samples, last, source="smtp") > 0
    assert _value(samples, last, source="discourse:main") > 0
    errors = "quorum_discourse_request_errors_total"
    assert _value(samples, errors, forum="main", kind="5xx") == 1
    assert _value(samples, "quorum_discourse_requests_per_window", forum="main") == 40
    left = _value(samples, "quorum_discourse_requests_left", forum="main")
    assert 0 <= left < 40  # the backfill spent some of the minute's budget


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
