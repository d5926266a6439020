"""Faults: the forum, Slack and the mail server misbehave during a run.

Run: .venv/bin/python -m bench.faults [--quick] [--rate 0.2] [--seed 1]

The app runs with a forum to follow and every channel live. The fake Discourse
answers a seeded fraction of requests with 429 (both of Discourse's kinds),
500, a connection reset or a slow answer (longer than our client waits); the
fake Slack Web API does the same with its kinds; the mail server refuses with
451 or takes a message and drops the connection before answering. The forum is
read by its scheduled polls, run back to back (a poll a fault cut short is taken
up by the next). Overdue questions on the forum and on the list make the app
send reminders to all three: on the first day its catch-up summary, on the days
after each question's own rungs. Each day the app catches up as a long downtime
would (its clock jumps an hour at a time until nothing waits for a retry).

Checked afterwards: every forum post and every mail is stored exactly once;
every reminder is sent or ``uncertain`` (interrupted after its point of no
return, never resent), none arrives twice, and no POST to the forum was even
repeated; the Discourse request budget held in every 60-second window.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import os
import random
import re
import smtplib
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import App
from bot.config import (
    CategoryConfig,
    Config,
    DiscourseConfig,
    DispatchConfig,
    ForumConfig,
    ModuleConfig,
    ResponsivenessConfig,
    WebhookServerConfig,
)
from bot.store import Store
from bot.store.outbox import Outbox, Status
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp_sink import SmtpSink, Stage

Row = tuple[str, str, str]
LIST = "dev@lists.example.org"
SLACK_TOKEN = "xoxb-quorum-faults"
CHANNELS = {"slack": "C0123456789", "pmc": "C0987654321"}
REQUESTS_PER_MINUTE = 60  # Discourse's default for an admin-created key
CLIENT_TIMEOUT = 1.0  # our clients give up after this ...
SLOW = 1.5  # ... and a slow fake answers after this: the request took effect anyway


class FlakySink(SmtpSink):
    """The loopback mail server, refusing (451) or dropping at a seeded-random rate."""

    def __init__(self, rate: float, seed: int) -> None:
        super().__init__()
        self.rate = rate
        self._random = random.Random(seed)
        self.faults: Counter[str] = Counter()

    def _take_refusal(self, stage: Stage) -> str | None:
        scripted = super()._take_refusal(stage)
        if scripted is not None or stage != "DATA" or self._random.random() >= self.rate:
            return scripted
        if self._random.random() < 0.5:
            self.faults["451"] += 1
            return "451 4.3.0 Try again later (injected)"
        # Takes the message and drops the connection: the sender cannot know.
        self.faults["drop"] += 1
        self._drops += 1
        return None


@dataclass
class FaultResult:
    rate: float
    seconds: float
    forum_posts: int
    mails: int
    actions: Counter[str]
    received: int  # reminders that reached the forum, the mail server or Slack
    faults: dict[str, Counter[str]]
    budget: int
    problems: list[str]
    # Not a loss or a duplicate, but a risk worth a look (see _repeated_creates).
    notes: list[str]


def _config(forum: FakeDiscourse, slack: FakeSlack, sink: SmtpSink, category: int) -> Config:
    site = ForumConfig(
        base_url=forum.base_url,
        api_username=forum.api_username,
        categories=[CategoryConfig(slug="rfc", id=category)],
        poll_interval_seconds=3600,  # the backfill is what is measured
        requests_per_minute=REQUESTS_PER_MINUTE,
        timeout_seconds=CLIENT_TIMEOUT,
        backoff_seconds=0.5,
        max_backoff_seconds=5,
    )
    return Config.model_validate(
        {
            "smtp": {"port": 0, "accept": [LIST], "max_messages_per_peer_per_minute": 0},
            "web": {"enabled": False},
            "modules": {
                "objstore": ModuleConfig(state="S0", maintainers=["Carol"], keywords=["objstore"]),
                "indexer": ModuleConfig(state="S1", maintainers=["Alice"], keywords=["indexer"]),
            },
            "responsiveness": ResponsivenessConfig(),
            "identities": {"Carol": ["carol"], "Alice": ["alice@example.org"]},
            "dispatch": DispatchConfig(dry_run=False, max_per_run=10_000, max_attempts=10),
            "mail_out": {"enabled": True, "host": sink.host, "port": sink.port, "starttls": False},
            "slack": {
                "enabled": True,
                "base_url": slack.base_url,
                "channels": CHANNELS,
                "users": {"Carol": "U0CAROL0001", "Alice": "U0ALICE0001"},
                "timeout_seconds": CLIENT_TIMEOUT,
            },
            "discourse": DiscourseConfig(
                forums={"tvm": site},
                webhooks=WebhookServerConfig(enabled=False),
                post_replies=True,
            ),
        }
    )


def seed_forum(forum: FakeDiscourse, topics: int, now: datetime) -> tuple[int, set[int]]:
    """Discussions, and in every third topic a question about objstore nobody answered."""
    category = forum.add_category("rfc", "RFCs")
    for n in range(topics):
        posts = [(f"user{n}", f"Topic {n} opens a discussion about caching, part {n}.")]
        posts += [(f"user{(n + k) % 7}", f"Reply {k} in topic {n}: more detail.") for k in (1, 2)]
        if n % 3 == 0:
            posts.append((f"asker{n}", f"Does the objstore backend keep versions ({n})?"))
        forum.add_topic(
            category,
            f"Discussion number {n} on the forum",
            posts,
            created_at=now - timedelta(days=9),
        )
    return category, set(forum.posts)


def mail_questions(count: int, now: datetime) -> list[bytes]:
    asked = (now - timedelta(days=6)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return [
        (
            f"From: Asker {i} <asker{i}@example.com>\r\nTo: {LIST}\r\n"
            f"Subject: Mail question {i} about the indexer\r\n"
            f"Message-ID: <faults-{i}@example.com>\r\nDate: {asked}\r\n\r\n"
            f"Hello, does the indexer keep option {i} after a reindex?\r\n"
        ).encode()
        for i in range(count)
    ]


def _deliver(port: int, messages: list[bytes]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for raw in messages:
            client.sendmail("asker@example.com", [LIST], raw)


async def run_async(topics: int, questions: int, rate: float, seed: int) -> FaultResult:
    now = datetime.now(UTC)
    clock = [now]
    forum = FakeDiscourse(
        fault_rate=rate,
        fault_seed=seed,
        fault_kinds=("429-header", "429-json", "500", "reset", "slow"),
        slow_delay=SLOW,
    )
    slack = FakeSlack(
        tokens=(SLACK_TOKEN,),
        channels={CHANNELS["slack"]: "dev", CHANNELS["pmc"]: "pmc"},
        fault_rate=rate,
        fault_seed=seed + 1,
        fault_kinds=("429", "500", "reset", "slow"),
        slow_delay=SLOW,
    )
    sink = FlakySink(rate, seed + 2)
    started = time.perf_counter()
    async with forum, slack, sink:
        category, seeded = seed_forum(forum, topics, now)
        config = _config(forum, slack, sink, category)
        with tempfile.TemporaryDirectory(prefix="quorum-faults-") as folder, _env(forum):
            app = App(config, Path(folder) / "quorum.db", clock=lambda: clock[0])
            endpoints = await app.start()
            try:
                assert endpoints.smtp is not None
                mails = mail_questions(questions, now)
                await asyncio.to_thread(_deliver, endpoints.smtp[1], mails)
                await _poll_forums(app, clock[0], len(seeded) + len(mails))
                await _wait_for_posts(app, len(seeded) + len(mails))
                await _deliver_everything(app, clock)
                actions = await app.db(_action_statuses)
                stored = await app.db(_stored_keys)
            finally:
                await app.stop()
        await forum.wait_idle()
        await slack.wait_idle()
    problems = _problems(forum, slack, sink, seeded, mails, stored, actions)
    return FaultResult(
        rate=rate,
        seconds=time.perf_counter() - started,
        forum_posts=len(seeded),
        mails=len(mails),
        actions=actions,
        received=_received(forum, slack, sink),
        faults={
            "discourse": Counter(r.fault for r in forum.requests if r.fault),
            "slack": Counter(r.fault for r in slack.requests if r.fault),
            "mail": sink.faults,
        },
        budget=forum.max_requests_in_window(60.0),
        problems=problems,
        notes=_repeated_creates(forum),
    )


@contextlib.contextmanager
def _env(forum: FakeDiscourse) -> Iterator[None]:
    """The secrets the app reads from its environment, for the fakes, for this run only."""
    saved = {k: os.environ.get(k) for k in ("QUORUM_DISCOURSE_API_KEY", "QUORUM_SLACK_TOKEN")}
    os.environ["QUORUM_DISCOURSE_API_KEY"] = forum.api_key
    os.environ["QUORUM_SLACK_TOKEN"] = SLACK_TOKEN
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def _poll_forums(app: App, now: datetime, count: int, polls: int = 100) -> None:
    """The forum's scheduled polls, back to back: `quorum run` schedules them (the first
    backfills), and a poll a fault cut short is taken up by the next one."""
    assert app.forums is not None
    for _ in range(polls):
        for name in app.forums.poll_intervals():
            await app.forums.poll(name, now)
        stats = await app.db(lambda s: s.stats())
        if stats.get("messages", 0) >= count:
            return


async def _wait_for_posts(app: App, count: int) -> None:
    stats: dict[str, int] = {}
    try:
        async with asyncio.timeout(600):
            while stats.get("messages", 0) < count or stats.get("pending", 1):
                await asyncio.sleep(0.1)
                stats = await app.db(lambda s: s.stats())
    except TimeoutError:
        raise TimeoutError(f"only {stats.get('messages')} of {count} posts were read") from None


async def _deliver_everything(app: App, clock: list[datetime], days: int = 10) -> None:
    """Decide the reminders, then dispatch an hour later each time until nothing waits;
    again on each of the next ``days`` days. A first start sends only its catch-up
    summary; each overdue question's own reminder follows on a later day (the ladder)."""
    for day in range(days + 1):
        if day:
            clock[0] += timedelta(days=1)
        await app.run_features(clock[0])
        for _ in range(30):
            clock[0] += timedelta(hours=1)  # past any retry's backoff (at most an hour)
            await app.run_dispatch(clock[0])
            waiting = await app.db(
                lambda s: [e for e in Outbox(s).log(limit=100_000) if e.status in _WAITING]
            )
            if not waiting:
                break


_WAITING = {Status.PENDING, Status.CAPPED, Status.SENDING, Status.FAILED}


def _action_statuses(store: Store) -> Counter[str]:
    return Counter(entry.status.value for entry in Outbox(store).log(limit=100_000))


def _stored_keys(store: Store) -> Counter[str]:
    rows = store.db.execute("SELECT key FROM posts")
    return Counter(row[0] for row in rows)


def _problems(
    forum: FakeDiscourse,
    slack: FakeSlack,
    sink: SmtpSink,
    seeded: set[int],
    mails: list[bytes],
    stored: Counter[str],
    actions: Counter[str],
) -> list[str]:
    problems = []
    expected = {f"discourse:tvm:{post_id}" for post_id in seeded}
    expected |= {f"<faults-{i}@example.com>" for i in range(len(mails))}
    missing = expected - stored.keys()
    if missing:
        problems.append(f"{len(missing)} post(s) or mail(s) not stored, e.g. {min(missing)}")
    if any(n > 1 for n in stored.values()):
        problems.append("a post was stored twice")
    unsettled = {k: n for k, n in actions.items() if k not in ("sent", "uncertain")}
    if unsettled:
        problems.append(f"reminders neither sent nor uncertain: {unsettled}")
    problems += _twice(forum, slack, sink)
    budget = forum.max_requests_in_window(60.0)
    if budget > REQUESTS_PER_MINUTE:
        problems.append(f"{budget} Discourse requests in 60 s, budget {REQUESTS_PER_MINUTE}")
    return problems


def _received(forum: FakeDiscourse, slack: FakeSlack, sink: SmtpSink) -> int:
    return len(_forum_markers(forum)) + len(sink.messages) + len(slack.messages)


def _forum_markers(forum: FakeDiscourse) -> Counter[str]:
    """The action key of every post the bot made, from the hidden marker it carries."""
    bot = forum.find_user(forum.api_username)
    return Counter(
        match.group(1)
        for post in forum.posts.values()
        if bot is not None and post.user_id == bot.id
        for match in [re.search(r"quorum-action: (\S+)", post.raw)]
        if match
    )


def _twice(forum: FakeDiscourse, slack: FakeSlack, sink: SmtpSink) -> list[str]:
    markers = _forum_markers(forum)
    mail_ids = Counter(email.message_from_bytes(m.raw)["Message-ID"] for m in sink.messages)
    slack_texts = Counter((m.channel, m.text) for m in slack.messages)
    problems = []
    for what, counts in (("forum", markers), ("mail", mail_ids), ("Slack", slack_texts)):
        twice = [key for key, n in counts.items() if n > 1]
        if twice:
            problems.append(f"{len(twice)} {what} reminder(s) arrived twice, e.g. {twice[0]}")
    return problems


def _repeated_creates(forum: FakeDiscourse) -> list[str]:
    """POSTs that created a post we had created already, answered from the create memo.

    The fake, like Discourse, answers the same create by the same user within 120 s
    with the first post, so a client that POSTs again after a timeout, a reset or a
    500 leaves no duplicate here: only the count of successful creates shows it.
    """
    creates = [r for r in forum.requests_to("/posts.json", "POST") if r.status == 200]
    posts = len(_forum_markers(forum))
    if len(creates) <= posts:
        return []
    return [
        f"{len(creates) - posts} reminder(s) POSTed to the forum again after a timeout, reset"
        f" or 500; Discourse's 120-second create memo kept them from appearing twice"
    ]


def run(quick: bool, rate: float, seed: int) -> FaultResult:
    topics, questions = (15, 10) if quick else (60, 40)
    return asyncio.run(run_async(topics, questions, rate, seed))


def _describe(result: FaultResult) -> str:
    injected = ", ".join(
        f"{where} {sum(c.values())} ({', '.join(f'{k}: {n}' for k, n in sorted(c.items()))})"
        for where, c in result.faults.items()
    )
    sent, uncertain = result.actions["sent"], result.actions["uncertain"]
    return (
        f"{result.forum_posts} forum posts and {result.mails} mails stored once; reminders:"
        f" {sent} sent, {uncertain} uncertain (of which {result.received - sent} arrived),"
        f" {result.received} received; faults injected: {injected}; {result.seconds:.0f} s"
    )


def rows(quick: bool) -> list[Row]:
    result = run(quick, rate=0.2, seed=1)
    verdict = "ok" if not result.problems else "FAILED: " + "; ".join(result.problems)
    if result.notes:
        verdict += "; note: " + "; ".join(result.notes)
    return [
        (f"faults at {result.rate:.0%}: nothing lost or twice", _describe(result), verdict),
        (
            "faults: Discourse requests in any 60 s",
            str(result.budget),
            f"budget {REQUESTS_PER_MINUTE}: "
            + ("held" if result.budget <= REQUESTS_PER_MINUTE else "EXCEEDED"),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller forum")
    parser.add_argument("--rate", type=float, default=0.2, help="fraction of calls that fail")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args.quick, args.rate, args.seed)
    print(_describe(result))
    print(f"Discourse requests in the busiest 60 s: {result.budget} (budget {REQUESTS_PER_MINUTE})")
    for note in result.notes:
        print(f"note: {note}")
    for problem in result.problems:
        print(f"PROBLEM: {problem}")
    if result.problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
