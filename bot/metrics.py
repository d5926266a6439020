"""What `quorum run` exposes at /metrics, in the Prometheus text format (prometheus-client).

Two kinds of figures:

- events counted as they happen: SMTP answers by reply code, messages processed,
  scheduled jobs timed;
- states read at each scrape: the inbox backlog and how late processing is, the
  outbox by status and channel (both from the store, on the app's reader thread),
  each forum's request budget, errors and last good poll (from its client), and
  GitHub's quota, requests, errors and last good poll (from the GitHub service).

Each app has a registry of its own (never prometheus-client's global one), so
tests and benchmarks can run several apps in one process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.scheduler import Job
from bot.store import IngestCounts, Store
from bot.store.gauges import Backlog, actions_by_status_and_channel, inbox_backlog
from bot.store.outbox import Status

logger = logging.getLogger(__name__)

# A features tick takes milliseconds on a small list and seconds on a big one.
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
# A writer job is milliseconds; a delivery's 250 waits for the one under way.
WRITER_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0)
SMTP_SOURCE = "smtp"
GITHUB_SOURCE = "github"
# Reported at 0 before the first one: increase() needs a series before its first failure.
GITHUB_ERROR_KINDS = ("429", "5xx", "4xx", "connection")


@dataclass(frozen=True, slots=True)
class ForumReading:
    """One forum's client as /metrics reports it."""

    requests_left: int
    requests_per_window: int
    errors: Mapping[str, int]
    last_poll_ok: float | None  # Unix time


@dataclass(frozen=True, slots=True)
class GitHubReading:
    """GitHub's polls as /metrics reports them (None for what no poll has said yet)."""

    rate_limit_remaining: int | None  # the token's quota, as GitHub last stated it
    rate_limit: int | None
    rate_limit_reset: float | None  # Unix time
    requests_last_poll: int | None
    requests_per_poll: int  # github.max_requests
    errors: Mapping[str, int]  # since start
    last_poll_ok: float | None  # Unix time


@dataclass(frozen=True, slots=True)
class StoreReading:
    backlog: Backlog
    actions: Mapping[tuple[str, str], int] = field(default_factory=dict)


def read_store(store: Store) -> StoreReading:
    return StoreReading(inbox_backlog(store), actions_by_status_and_channel(store))


ReadStore = Callable[[Callable[[Store], StoreReading]], Awaitable[StoreReading]]


class Metrics:
    """The metrics of one running app, and one scrape of them."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.registry = CollectorRegistry()
        registry = self.registry
        self.smtp_answers = Counter(
            "quorum_smtp_deliveries",
            "Final SMTP answers, by outcome (accepted, refused) and reply code"
            " (250; 451 flood limit or store failure, 550 recipient, 552 size).",
            ["outcome", "code"],
            registry=registry,
        )
        self.processed = Counter(
            "quorum_messages_processed",
            "Accepted messages the worker parsed and stored, by result (new, known).",
            ["result"],
            registry=registry,
        )
        self.job_seconds = Histogram(
            "quorum_job_duration_seconds",
            "How long each scheduled job run took (features is the tick).",
            ["job"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.writer_job_seconds = Histogram(
            "quorum_writer_job_duration_seconds",
            "How long each job on the store's one writer thread held it, by what it did"
            " (a delivery's commit waits for the job under way: see writer_wait).",
            ["job"],
            buckets=WRITER_BUCKETS,
            registry=registry,
        )
        self.writer_wait_seconds = Histogram(
            "quorum_writer_wait_seconds",
            "How long jobs waited for the writer thread, by queue (first: deliveries'"
            " commits, which go ahead of the rest).",
            ["queue"],
            buckets=WRITER_BUCKETS,
            registry=registry,
        )
        self.job_failures = Counter(
            "quorum_job_failures", "Scheduled job runs that failed.", ["job"], registry=registry
        )
        self.job_last_success = Gauge(
            "quorum_job_last_success_timestamp_seconds",
            "When each scheduled job last finished without an error (Unix time).",
            ["job"],
            registry=registry,
        )
        self.source_last_success = Gauge(
            "quorum_source_last_success_timestamp_seconds",
            "When each source last delivered (smtp: the last 250) or was polled without"
            " an error (discourse:NAME, github), in Unix time.",
            ["source"],
            registry=registry,
        )
        self.inbox_backlog = Gauge(
            "quorum_inbox_backlog_messages",
            "Deliveries accepted (250) and not processed yet.",
            registry=registry,
        )
        self.processing_lag = Gauge(
            "quorum_processing_lag_seconds",
            "Age of the oldest accepted delivery not processed yet; 0 when none waits.",
            registry=registry,
        )
        self.outbox_actions = Gauge(
            "quorum_outbox_actions",
            "Actions in the outbox, by status and channel.",
            ["status", "channel"],
            registry=registry,
        )
        self.forum_requests_left = Gauge(
            "quorum_discourse_requests_left",
            "Requests the forum's budget allows right now (0 while the forum asked to wait).",
            ["forum"],
            registry=registry,
        )
        self.forum_requests_per_window = Gauge(
            "quorum_discourse_requests_per_window",
            "The forum's request budget (discourse.forums.NAME.requests_per_minute).",
            ["forum"],
            registry=registry,
        )
        self._forum_errors = _ForumErrors()
        registry.register(self._forum_errors)
        # A collector, not gauges: without [github] polling there is no series at all.
        self._github = _GitHub()
        registry.register(self._github)

    # -- events ---------------------------------------------------------------------------

    def writer_job(self, job: str, waited: float, held: float, *, first: bool) -> None:
        """One job on the writer thread: how long it waited for it, and held it."""
        self.writer_wait_seconds.labels(queue="first" if first else "rest").observe(waited)
        self.writer_job_seconds.labels(job=job).observe(held)

    def smtp_answer(self, code: str) -> None:
        """The SMTP endpoint's ``on_answer``: one final answer with this reply code."""
        outcome = "accepted" if code.startswith("2") else "refused"
        self.smtp_answers.labels(outcome=outcome, code=code).inc()
        if outcome == "accepted":
            self.source_last_success.labels(source=SMTP_SOURCE).set(time.time())

    def count_processed(self, counts: IngestCounts) -> None:
        if counts.new:
            self.processed.labels(result="new").inc(counts.new)
        if counts.known:
            self.processed.labels(result="known").inc(counts.known)

    def timed(self, job: Job) -> Job:
        """The same job, its every run timed and its last success recorded."""
        run = job.run
        name = job.name

        async def timed_run(now: datetime) -> object:
            started = time.perf_counter()
            try:
                result = await run(now)
            except Exception:
                self.job_failures.labels(job=name).inc()
                raise  # the scheduler logs it with the job's name
            finally:
                self.job_seconds.labels(job=name).observe(time.perf_counter() - started)
            self.job_last_success.labels(job=name).set(time.time())
            return result

        return replace(job, run=timed_run)

    # -- a scrape -------------------------------------------------------------------------

    async def scrape(
        self,
        read: ReadStore,
        forums: Mapping[str, ForumReading],
        github: GitHubReading | None = None,
    ) -> tuple[bytes, str]:
        """Read the store, the forums and GitHub, then the whole registry as Prometheus text."""
        reading = await read(read_store)
        self._set_store(reading)
        self._set_forums(forums)
        self._set_github(github)
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def _set_store(self, reading: StoreReading) -> None:
        backlog = reading.backlog
        self.inbox_backlog.set(backlog.messages)
        lag = 0.0
        if backlog.oldest is not None:
            lag = max(0.0, (self._clock() - backlog.oldest).total_seconds())
        self.processing_lag.set(lag)
        # Every status of every channel seen, 0 included: an alert on "uncertain > 0"
        # needs the series to exist before the first uncertain action does.
        self.outbox_actions.clear()
        channels = {channel for _, channel in reading.actions}
        for channel in channels:
            for status in Status:
                count = reading.actions.get((status.value, channel), 0)
                self.outbox_actions.labels(status=status.value, channel=channel).set(count)

    def _set_forums(self, forums: Mapping[str, ForumReading]) -> None:
        for name, forum in forums.items():
            self.forum_requests_left.labels(forum=name).set(forum.requests_left)
            self.forum_requests_per_window.labels(forum=name).set(forum.requests_per_window)
            if forum.last_poll_ok is not None:
                source = f"discourse:{name}"
                self.source_last_success.labels(source=source).set(forum.last_poll_ok)
        self._forum_errors.forums = dict(forums)

    def _set_github(self, github: GitHubReading | None) -> None:
        if github is not None and github.last_poll_ok is not None:
            self.source_last_success.labels(source=GITHUB_SOURCE).set(github.last_poll_ok)
        self._github.reading = github


class _ForumErrors(Collector):
    """Failed forum requests by kind: counted by each client, reported as a counter."""

    def __init__(self) -> None:
        self.forums: dict[str, ForumReading] = {}

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "quorum_discourse_request_errors",
            "Failed forum request attempts, by kind (429, 5xx, 4xx, not-json, connection).",
            labels=["forum", "kind"],
        )
        for name, forum in self.forums.items():
            for kind, count in sorted(forum.errors.items()):
                family.add_metric([name, kind], count)
        yield family


class _GitHub(Collector):
    """GitHub's polls: the token's quota, the last poll's requests, errors by kind."""

    def __init__(self) -> None:
        self.reading: GitHubReading | None = None

    def collect(self) -> Iterator[Metric]:
        reading = self.reading
        if reading is None:
            return
        # What GitHub has not stated yet is left out rather than shown as 0.
        known = (
            (
                "quorum_github_rate_limit_remaining",
                "Requests the token's GitHub quota has left, as the last answer stated it.",
                reading.rate_limit_remaining,
            ),
            (
                "quorum_github_rate_limit",
                "The token's GitHub quota an hour (X-RateLimit-Limit).",
                reading.rate_limit,
            ),
            (
                "quorum_github_rate_limit_reset_timestamp_seconds",
                "When the token's GitHub quota is whole again (X-RateLimit-Reset, Unix time).",
                reading.rate_limit_reset,
            ),
            (
                "quorum_github_requests_last_poll",
                "Requests the last GitHub poll made, retries included.",
                reading.requests_last_poll,
            ),
            (
                "quorum_github_requests_per_poll",
                "Requests one GitHub poll may make (github.max_requests).",
                reading.requests_per_poll,
            ),
        )
        for name, documentation, value in known:
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=value)
        errors = CounterMetricFamily(
            "quorum_github_request_errors",
            "Failed GitHub request attempts, by kind (429: rate limited, GitHub's 403 limits"
            " included; 5xx; 4xx; connection: no answer or a timeout).",
            labels=["kind"],
        )
        counts = {kind: 0 for kind in GITHUB_ERROR_KINDS} | dict(reading.errors)
        for kind, count in sorted(counts.items()):
            errors.add_metric([kind], count)
        yield errors
