"""Reminders end to end: the sample archive, the example config, channels enabled
against a real SMTP sink and the fake Slack Web API. Each message arrives once."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Config, load_config
from bot.dispatch import DispatchReport
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parent.parent
# Half an hour after Frank's question (2026-11-15 19:00) passed the S1 reminder threshold
# of 5 days: a tick of a bot that was watching. (Days later it would be a backlog, listed
# in a catch-up summary instead: tests/test_ladder.py.)
NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)
TOKEN = "xoxb-quorum-test"


def _live_config(smtp: tuple[str, int], slack_url: str) -> Config:
    example = load_config(ROOT / "config" / "example.toml")
    return example.model_copy(
        update={
            "smtp": example.smtp.model_copy(update={"enabled": False}),
            "web": example.web.model_copy(update={"enabled": False}),
            "dispatch": example.dispatch.model_copy(update={"dry_run": False}),
            "mail_out": example.mail_out.model_copy(
                update={"enabled": True, "host": smtp[0], "port": smtp[1], "starttls": False}
            ),
            "slack": example.slack.model_copy(update={"enabled": True, "base_url": slack_url}),
        }
    )


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[SmtpSink, FakeSlack]]:
    sink = SmtpSink()
    slack = FakeSlack(tokens=(TOKEN,), channels={"C0123456789": "dev", "C0987654321": "pmc"})
    await sink.start()
    await slack.start()
    yield sink, slack
    await slack.stop()
    await sink.stop()


async def _app(config: Config, db: Path) -> App:
    app = App(config, db, clock=lambda: NOW)
    await app.start()
    await app.import_on_start()
    return app


async def test_reminders_arrive_once_even_when_the_tick_runs_twice(
    tmp_path: Path, fakes: tuple[SmtpSink, FakeSlack], monkeypatch: pytest.MonkeyPatch
):
    sink, slack = fakes
    monkeypatch.setenv("QUORUM_SLACK_TOKEN", TOKEN)
    config = _live_config((sink.host, sink.port), slack.base_url)
    app = await _app(config, tmp_path / "q.db")
    try:
        await app.run_features(NOW)
        await app.run_features(NOW)  # the same tick again
        await app.run_dispatch(NOW)
    finally:
        await app.stop()
    # A restarted bot decides the same reminders and sends nothing new.
    again = await _app(config, tmp_path / "q.db")
    try:
        await again.run_features(NOW)
    finally:
        await again.stop()

    assert len(sink.messages) == 1
    reply = email.message_from_bytes(sink.messages[0].raw)
    assert reply["Subject"] == "Re: Question about the 2.1.0 upgrade notes"
    assert reply["Auto-Submitted"] == "auto-generated"
    assert reply["X-Loop"] == "quorum@example.org"
    body = reply.get_payload(decode=True).decode()
    assert "S1 policy: remind after 5 days" in body
    assert len(slack.messages) == 1
    message = slack.messages[0]
    assert message.channel == "C0123456789"
    assert "<@U0123456789>" in (message.text or "")  # Alice is mentioned by her Slack id


async def test_dry_run_prints_every_reminder_with_its_reason(tmp_path: Path):
    config = load_config(ROOT / "config" / "example.toml")
    config = config.model_copy(
        update={
            "smtp": config.smtp.model_copy(update={"enabled": False}),
            "web": config.web.model_copy(update={"enabled": False}),
        }
    )
    reports: list[DispatchReport] = []
    app = await _app(config, tmp_path / "q.db")
    app.on_dispatch = reports.append
    try:
        await app.run_features(NOW)
    finally:
        await app.stop()
    outcomes = [o for report in reports for o in report.outcomes]
    assert {(o.kind, o.channel, o.status.value) for o in outcomes} == {
        ("remind", "slack", "dry-run"),
        ("remind", "mail", "dry-run"),
    }
    assert all("S1 policy: remind after 5 days" in (o.rendered or "") for o in outcomes)
