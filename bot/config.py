"""Settings: one TOML file, validated once at start.

Unknown keys are rejected with their full path, so a typo never silently
falls back to a default. Secrets are never in the file: sections name the
environment variable that holds them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError

DEFAULT_DB = Path("var/quorum.db")
_SECRET_WORDS = ("password", "token", "secret", "api_key", "apikey")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ProjectConfig(Section):
    """Which community this is."""

    name: str = "Example project"
    list_address: str = "dev@lists.example.org"
    # The list archive: a URL with {message_id} (replaced, without <>), or the address of
    # an archive of a kind `archive` names (README: "Links").
    archive_url: str = ""
    # How the archive addresses mail: "auto" (from the URL), "template" ({message_id}),
    # "public-inbox", "mail-archive", "hyperkitty" or "ponymail".
    archive: Literal[
        "auto", "template", "public-inbox", "mail-archive", "hyperkitty", "ponymail"
    ] = "auto"
    # IANA time zone for the digest's schedule and for how dates are shown; stored times
    # stay UTC.
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone such as Europe/Berlin or UTC"
            ) from None
        return value

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class BotConfig(Section):
    """How the bot names itself in the messages it sends."""

    name: str = "quorum"
    address: str = "quorum@example.org"


class SmtpConfig(Section):
    """The inbound SMTP endpoint."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=0, le=65535)
    accept: list[str] = Field(
        default_factory=lambda: ["dev@lists.example.org", "quorum@example.org"],
        min_length=1,
    )
    max_message_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Flood limits, per minute: one envelope sender, and one peer IP address. Beyond them
    # MAIL FROM is answered "451 4.7.1" and a well-behaved MTA retries later, so nothing
    # is lost. 0 turns a limit off. Behind an MTA (or subscribed to a list) every message
    # comes from the same peer, and with Mailman from the same envelope sender (the
    # list's bounce address): keep these above the list's busiest minute.
    max_messages_per_sender_per_minute: int = Field(default=120, ge=0)
    max_messages_per_peer_per_minute: int = Field(default=600, ge=0)

    @field_validator("accept")
    @classmethod
    def _lowercase(cls, value: list[str]) -> list[str]:
        return [address.strip().lower() for address in value]


class ImportConfig(Section):
    """Archives imported when `quorum run` starts (paths relative to the config file)."""

    on_start: list[str] = Field(default_factory=list)


RuleName = Literal[
    "simple-majority",
    "majority-approval",
    "consensus-approval",
    "lazy-two-thirds",
    "lazy-consensus",
]


class VoteKindConfig(Section):
    """How one kind of vote is decided, and which subjects are of that kind."""

    rule: RuleName
    # Case-insensitive words in the vote subject that select this kind, each as a word of
    # its own or inflected ("commit": "commits", "committer"; the stem "deprecat":
    # "deprecation"), never inside another word ("commit" is not in "committee").
    match: list[str] = Field(default_factory=list)
    min_binding_plus: int = Field(default=3, ge=0)
    min_duration_hours: float = Field(default=72, gt=0)


# A call marked lazy ("[LAZY VOTE]", "[LAZY CONSENSUS]") passes unless someone objects.
LAZY_VOTE_KIND = VoteKindConfig(rule="lazy-consensus", match=["lazy"], min_binding_plus=0)


def _default_vote_kinds() -> dict[str, VoteKindConfig]:
    # ASF defaults: releases need a majority, code changes consensus, and
    # strategy decisions such as a new module a lazy 2/3 majority. The lazy kind comes
    # first, so "[LAZY VOTE] Release ..." is lazy, not a release vote.
    return {
        "lazy": LAZY_VOTE_KIND,
        "release": VoteKindConfig(rule="majority-approval", match=["release"]),
        "code": VoteKindConfig(rule="consensus-approval", match=["merge", "commit", "patch"]),
        "strategy": VoteKindConfig(
            rule="lazy-two-thirds", match=["module", "deprecat", "establish", "graduat"]
        ),
        "procedural": VoteKindConfig(rule="majority-approval"),
    }


class VotesConfig(Section):
    """Vote counting: rules per kind of vote, and how to read unclear ballots."""

    # Used when no kind's `match` words are in the subject.
    default_kind: str = "procedural"
    kinds: dict[str, VoteKindConfig] = Field(default_factory=_default_vote_kinds)
    # "binding": "more + than -" counts binding votes only; "all": every vote.
    majority_basis: Literal["binding", "all"] = "binding"
    # A ballot with no explicit value ("works for me") is always reported as
    # ambiguous. Set this to count such ballots as +1, as many release managers do.
    count_ambiguous_as_plus_one: bool = False

    @field_validator("kinds")
    @classmethod
    def _some_kind(cls, value: dict[str, VoteKindConfig]) -> dict[str, VoteKindConfig]:
        if not value:
            raise ValueError("at least one vote kind is needed")
        return value


class ConcernsConfig(Section):
    """The concern ledger and the `@quorum concern/resolve/withdraw` commands."""

    # Who may resolve someone else's concern: "author-or-maintainer" (roster members),
    # "author-only" or "anyone". Only the author may ever withdraw a concern.
    resolvers: Literal["author-or-maintainer", "author-only", "anyone"] = "author-or-maintainer"
    # A language model may propose concerns too (README: "Concerns by a language model"):
    # "summarizer" asks the [summarizer] endpoint (its url, model, api_key_env,
    # timeout_seconds, max_tokens); "off" reads the cues alone.
    extractor: Literal["off", "summarizer"] = "off"
    # Posts the extractor sends per run (every 10 minutes); the rest wait for the next.
    extractor_posts_per_run: int = Field(default=50, ge=1, le=10_000)


class RfcsConfig(Section):
    """Which threads are RFCs, and how their state ages (README: "RFC states")."""

    # No post for this long makes an RFC quiet: what was left open is history.
    quiet_after_days: float = Field(default=30, gt=0)
    # An unanswered concern blocks the RFC for this long after it was raised.
    blocking_days: float = Field(default=30, gt=0)
    # Subjects that name a proposal besides [RFC], [pre-RFC] and [DISCUSS] (regular
    # expressions, case-insensitive); the defaults also know FLIP-321, KIP-500 and the like.
    subject_patterns: list[str] = Field(default_factory=list)
    # GitHub repositories (their name, a regular expression) whose pull requests and issues
    # are proposals; besides */rfcs, */*-rfcs, tc39/proposal-* and */enhancements.
    repositories: list[str] = Field(default_factory=list)
    # The lists whose discussions (with concerns) are shown beside the RFCs, by List-Id
    # ("dev.tvm.apache.org") or address; empty: every list except users@, commits@,
    # issues@, notifications@, builds@ and the like.
    lists: list[str] = Field(default_factory=list)

    @field_validator("subject_patterns", "repositories")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{pattern!r} is not a regular expression: {error}") from None
        return value


class RosterMember(Section):
    """Someone whose votes bind, and since/until when."""

    name: str
    joined: dt.date | None = None
    left: dt.date | None = None


class RosterConfig(Section):
    """Who casts binding votes (for example the PMC). Empty: binding is unknown."""

    members: list[RosterMember] = Field(default_factory=list)


ModuleStateName = Literal["S0", "S1", "S2", "deprecated"]


class MaintainersFrom(Section):
    """`maintainers = { from = "CODEOWNERS" }`: the module's maintainers follow the repository.

    The owners of the CODEOWNERS rules that cover the module's `paths` are its
    maintainers (GitHub logins, or people when [identities] or `quorum people` know them).
    """

    source: Literal["CODEOWNERS"] = Field(alias="from")
    # A CODEOWNERS file, relative to the config file. Empty: the one `quorum fetch github`
    # read from `repo` (default: the first of github.repos).
    file: str = ""
    repo: str = ""


class ModuleConfig(Section):
    """One module: maturity state, maintainers (person names as in [identities]), match rules."""

    state: ModuleStateName
    maintainers: list[str] | MaintainersFrom = Field(default_factory=list)
    # Whole words in subject or body, case-insensitive.
    keywords: list[str] = Field(default_factory=list)
    # "[objstore]" subject tags, written without brackets.
    tags: list[str] = Field(default_factory=list)
    # Glob-ish paths mentioned in posts: "contrib/objstore/**", "src/*.py".
    paths: list[str] = Field(default_factory=list)
    # Discourse categories and tags (and GitHub labels) as the source names them.
    categories: list[str] = Field(default_factory=list)

    @field_validator("maintainers", "keywords", "tags", "paths", "categories")
    @classmethod
    def _no_blank_entries(cls, value: list[str] | MaintainersFrom) -> list[str] | MaintainersFrom:
        if isinstance(value, MaintainersFrom):
            return value
        cleaned = [entry.strip() for entry in value]
        if any(not entry for entry in cleaned):
            raise ValueError("empty entries are not allowed")
        return cleaned


class StagePolicyConfig(Section):
    """When each stage is due, in days of waiting; paused time (quiet periods, holds) excluded."""

    remind_after_days: float = Field(gt=0)
    escalate_after_days: float = Field(gt=0)
    flag_after_days: float = Field(gt=0)

    @model_validator(mode="after")
    def _growing(self) -> StagePolicyConfig:
        if not self.remind_after_days < self.escalate_after_days < self.flag_after_days:
            raise ValueError("needs remind_after_days < escalate_after_days < flag_after_days")
        return self


def _stage_policy(remind: float, escalate: float, flag: float) -> Callable[[], StagePolicyConfig]:
    return lambda: StagePolicyConfig(
        remind_after_days=remind, escalate_after_days=escalate, flag_after_days=flag
    )


class EscalationPolicyConfig(Section):
    """Quorum's policy per module state (not the ASF's); every reminder names it."""

    s0: StagePolicyConfig = Field(default_factory=_stage_policy(7, 14, 30))
    s1: StagePolicyConfig = Field(default_factory=_stage_policy(5, 10, 21))
    s2: StagePolicyConfig = Field(default_factory=_stage_policy(3, 7, 14))
    deprecated: StagePolicyConfig = Field(default_factory=_stage_policy(14, 28, 60))


class QuietPeriodConfig(Section):
    """A maintainer's declared absence. Dates are whole UTC days, `until` included."""

    person: str
    start: dt.datetime | dt.date
    until: dt.datetime | dt.date
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> QuietPeriodConfig:
        if _as_date(self.until) < _as_date(self.start):
            raise ValueError("`until` is before `start`")
        return self


def _as_date(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


class ResponsivenessConfig(Section):
    """Who owes an answer and when the bot nudges them. No section: the feature is off."""

    policy: EscalationPolicyConfig = Field(default_factory=EscalationPolicyConfig)
    quiet: list[QuietPeriodConfig] = Field(default_factory=list)
    # Obligations and response figures are read from conversations active in this many
    # days: older ones are history, and a tick costs what the window holds, not the
    # list's whole past.
    window_days: float = Field(default=90, gt=0)
    # X-Loop value the bot stamps on its mail; empty means the bot's address.
    loop_id: str = ""
    # A backlog (first start, an import of old mail, downtime): obligations past the
    # reminder threshold that Quorum was not watching when it fell due are listed once in
    # a catch-up summary ("summary"), reminded at once ("remind"), or left alone ("ignore").
    catch_up: Literal["summary", "remind", "ignore"] = "summary"
    # Obligations opened longer ago than this are history: no message, no attention.
    max_age_days: float = Field(default=90, gt=0)
    # Where a post must be to open an obligation: lists by List-Id or address, forum
    # categories by slug or id. Empty lists: the development lists as [rfcs] lists says
    # (else every list but users@, commits@ and the like); empty categories: every one
    # followed. Answers count from anywhere.
    lists: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)

    @field_validator("lists", "categories")
    @classmethod
    def _plain(cls, value: list[str]) -> list[str]:
        cleaned = [entry.strip().strip("<>").lower() for entry in value]
        if any(not entry for entry in cleaned):
            raise ValueError("empty entries are not allowed")
        return cleaned


DEFAULT_DIGEST_SCHEDULE = "0 9 * * mon"


class DigestConfig(Section):
    """The digest to the list: when it goes out (in project.timezone)."""

    # Cron-style: minute hour day month weekday; Mondays 09:00 by default.
    schedule: str = DEFAULT_DIGEST_SCHEDULE

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        # Read by APScheduler's own parser, so what passes here is what will run.
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as error:
            raise ValueError(
                f"{value!r} is not a cron schedule (minute hour day month weekday,"
                f" e.g. '0 9 * * mon'): {error}"
            ) from None
        return value


class GitHubWebhookConfig(Section):
    """`POST /hooks/github`: GitHub's webhooks, signed with the secret in `secret_env`."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8091, ge=0, le=65535)
    path: str = "/hooks/github"
    secret_env: str = "QUORUM_GITHUB_WEBHOOK_SECRET"  # noqa: S105  (a name)
    # GitHub caps a delivery at 25 MB.
    max_body_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)


class GitHubConfig(Section):
    """Repositories read directly: issues, pull requests, comments, reviews, CODEOWNERS."""

    repos: list[str] = Field(min_length=1)
    # A read-only token (fine-grained: Issues and Pull requests read; or classic with no
    # scope for public repositories). Without it GitHub allows 60 requests an hour.
    token_env: str = "GITHUB_TOKEN"  # noqa: S105  (a name)
    api_url: str = "https://api.github.com"
    # How often `quorum run` polls (0: never; webhooks, or `quorum fetch github` by hand).
    poll_minutes: float = Field(default=10, ge=0)
    # Read pull-request reviews too: one request per pull request updated since the last poll.
    reviews: bool = True
    # Requests one fetch or poll may make; the next one continues where it stopped.
    max_requests: int = Field(default=2000, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)
    # A rate limit asking for a longer wait than this ends the fetch (it says when to retry).
    max_wait_seconds: float = Field(default=900, ge=0)
    webhook: GitHubWebhookConfig = Field(default_factory=GitHubWebhookConfig)

    @field_validator("repos")
    @classmethod
    def _owner_and_name(cls, value: list[str]) -> list[str]:
        for repo in value:
            owner, _, name = repo.partition("/")
            if not owner or not name or "/" in name or repo != repo.strip():
                raise ValueError(f"{repo!r}: write repositories as owner/name")
        return value


class TrustConfig(Section):
    """What proves that mail arriving over SMTP came through the list (README: "Trust model").

    GitHub mirror mail is identified by its GitHub login only when it came through
    the list; imported archives are trusted as far as the archive is.
    """

    # Hosts the list delivers from ("mail.apache.org", "*.apache.org"): a Received
    # header among the first `received_hops` must say the mail came from one of them.
    list_hosts: list[str] = Field(default_factory=list)
    # If given, the mail's List-Id must be one of these too ("dev.tvm.apache.org").
    list_ids: list[str] = Field(default_factory=list)
    # Authentication-Results headers from these authserv-ids (your MTA's) are honoured.
    authserv_ids: list[str] = Field(default_factory=list)
    # How many of the topmost Received headers your own servers write.
    received_hops: int = Field(default=1, ge=1, le=10)

    @field_validator("list_hosts", "list_ids", "authserv_ids")
    @classmethod
    def _plain_entries(cls, value: list[str]) -> list[str]:
        cleaned = [entry.strip().strip("<>").lower() for entry in value]
        if any(not entry or any(c.isspace() for c in entry) for entry in cleaned):
            raise ValueError("entries must be non-empty host names or ids without spaces")
        return cleaned


# -- the sections of the adapters and the outbox --------------------------------------

# Discourse's own front end asks for 20 posts at a time; the server sets no cap.
MIN_POST_BATCH = 20
_FORUM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Where Discourse delivers webhooks unless configured otherwise.
DISCOURSE_WEBHOOK_PATH = "/hooks/discourse"
# Outbox channels a Slack channel id may be given for: reminders, and escalations to the PMC.
SLACK_ROUTES = frozenset({"slack", "pmc"})
_SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
DEFAULT_SUMMARIZER_KEY_ENV = "QUORUM_SUMMARIZER_API_KEY"


class CategoryConfig(Section):
    """A category to follow, as in its URL: /c/{slug}/{id}."""

    # "parent/child" for a subcategory. Subcategories are not included with their parent.
    slug: str = Field(min_length=1)
    id: int = Field(ge=1)


class ForumConfig(Section):
    """One Discourse forum: where it is, who we are there, and how gently to ask."""

    base_url: str
    api_username: str = "quorum"
    # Names of environment variables; the secrets themselves never go in the file.
    api_key_env: str = "QUORUM_DISCOURSE_API_KEY"
    webhook_secret_env: str = "QUORUM_DISCOURSE_WEBHOOK_SECRET"  # noqa: S105 (a name)
    # Empty: every category the API user can see.
    categories: list[CategoryConfig] = Field(default_factory=list)
    # Read the categories' history on first start (else start from the newest post).
    backfill: bool = True
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    # Discourse allows an admin API key 60 requests a minute by default.
    requests_per_minute: int = Field(default=30, ge=1, le=600)
    post_batch_size: int = Field(default=50, ge=MIN_POST_BATCH, le=200)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_seconds: float = Field(default=1.0, ge=0)
    max_backoff_seconds: float = Field(default=60.0, ge=0)
    # A 429 asking for a longer wait ends the poll; the next poll tries again.
    max_wait_seconds: float = Field(default=300.0, ge=0)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", value):
            raise ValueError("must be an http(s) URL such as https://discuss.example.org")
        return value.rstrip("/")

    @property
    def category_ids(self) -> frozenset[int]:
        return frozenset(category.id for category in self.categories)

    def wants(self, category_id: int | None) -> bool:
        return not self.categories or category_id in self.category_ids


class WebhookServerConfig(Section):
    """The endpoint Discourse delivers webhooks to (POST {path})."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8026, ge=0, le=65535)
    path: str = DISCOURSE_WEBHOOK_PATH
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value


class DiscourseConfig(Section):
    """The `[discourse]` section: the forums to follow and the webhook endpoint."""

    forums: dict[str, ForumConfig] = Field(min_length=1)
    webhooks: WebhookServerConfig = Field(default_factory=WebhookServerConfig)
    # Let the outbox reply in forum topics (also needs dispatch.dry_run = false).
    post_replies: bool = False
    # Keep one status post in each RFC's forum topic (state, unsettled concerns, votes),
    # edited in place as the RFC moves. Sent through the outbox like replies: it also
    # needs post_replies and dispatch.dry_run = false to reach the forum.
    status_posts: bool = False

    @field_validator("forums")
    @classmethod
    def _names(cls, value: dict[str, ForumConfig]) -> dict[str, ForumConfig]:
        for name in value:
            if not _FORUM_NAME.match(name):
                raise ValueError(
                    f"forum name {name!r}: use lowercase letters, digits, - and _"
                    " (it is part of every stored key)"
                )
        return value


class DispatchConfig(Section):
    """``[dispatch]``: the outbox's safety switches."""

    # Master switch: while true nothing is sent anywhere, whatever the channels say;
    # each message is rendered, logged and recorded as "dry-run" instead.
    dry_run: bool = True
    # At most this many actions are handled per run; the rest wait for the next run.
    max_per_run: int = Field(default=20, ge=1)
    # A delivery refused for a passing reason (4xx, rate limit, network down before
    # sending) is retried with backoff until it has been tried this many times.
    max_attempts: int = Field(default=5, ge=1)


class MailOutConfig(Section):
    """``[mail_out]``: SMTP submission for replies and reminders to the list."""

    enabled: bool = False
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    # STARTTLS on the submission port (587), or implicit TLS (465): at most one.
    starttls: bool = True
    tls: bool = False
    username: str = ""
    # Name of the environment variable holding the password (never the password).
    password_env: str = "QUORUM_SMTP_PASSWORD"  # noqa: S105  (a name)
    timeout_seconds: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _one_tls_mode(self) -> MailOutConfig:
        if self.starttls and self.tls:
            raise ValueError("starttls and tls exclude each other: 587 uses starttls, 465 tls")
        return self


class SlackConfig(Section):
    """``[slack]``: where reminders and escalations go, and whom to mention."""

    enabled: bool = False
    # Name of the environment variable holding the bot token (xoxb-...).
    token_env: str = "QUORUM_SLACK_TOKEN"  # noqa: S105  (a name)
    base_url: str = "https://slack.com/api/"
    # Outbox channel -> Slack channel ID (C... or G...): "slack" receives reminders,
    # "pmc" escalations. An outbox channel without an ID here is not posted to.
    channels: dict[str, str] = Field(default_factory=dict)
    # Person, as named in identities/roster -> Slack user ID (U... or W...).
    users: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=30, gt=0)
    # How often a rate-limited call is retried after Slack's Retry-After.
    rate_limit_retries: int = Field(default=2, ge=0)

    @field_validator("base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk appends the method name to the base URL as it is.
        return value if value.endswith("/") else value + "/"

    @field_validator("channels")
    @classmethod
    def _channel_ids(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - SLACK_ROUTES)
        if unknown:
            expected = ", ".join(sorted(SLACK_ROUTES))
            raise ValueError(f"unknown {', '.join(unknown)}; expected {expected}")
        bad = [
            f"{route} = {cid!r}" for route, cid in value.items() if not _SLACK_CHANNEL_ID.match(cid)
        ]
        if bad:
            raise ValueError(f"channel IDs look like C0123ABCD (not #names): {', '.join(bad)}")
        return value

    @field_validator("users")
    @classmethod
    def _user_ids(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [f"{name} = {uid!r}" for name, uid in value.items() if not _SLACK_USER_ID.match(uid)]
        if bad:
            raise ValueError(f"user IDs look like U0123ABCD: {', '.join(bad)}")
        return value


class SummarizerConfig(Section):
    """The optional summarizer endpoint (``[summarizer]``); off unless enabled."""

    enabled: bool = False
    # Base URL of an OpenAI-compatible API; "/chat/completions" is appended.
    url: str = "http://127.0.0.1:11434/v1"
    model: str = ""
    # The NAME of the environment variable holding the key, never the key itself.
    api_key_env: str = Field(
        default=DEFAULT_SUMMARIZER_KEY_ENV, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"
    )
    # The whole call, retry included: the summary is never late by more than this.
    timeout_seconds: float = Field(default=30, gt=0, le=600)
    max_tokens: int = Field(default=800, ge=1, le=100_000)
    temperature: float = Field(default=0.2, ge=0, le=2)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _model_when_enabled(self) -> Self:
        if self.enabled and not self.model.strip():
            raise ValueError("model is required when the summarizer is enabled")
        return self


class WebConfig(BaseModel):
    """[web]: the dashboard `quorum run` serves. Reading is open; changing needs the token."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    enabled: bool = True
    # Keep 127.0.0.1 unless a reverse proxy on another host serves the dashboard.
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # NAME of the environment variable holding the bearer token for state-changing
    # routes (never the token itself). Unset: those routes always answer 401.
    token_env: str = "QUORUM_WEB_TOKEN"  # noqa: S105  (a name)

    # -- behind a reverse proxy, and scraped by Prometheus (see README) ------------------
    # The path the dashboard is published at ("/quorum/"): every link, form and asset
    # carries it. Requests are answered with or without it, so the proxy may strip it.
    root_path: str = "/"
    # Addresses or networks of the reverse proxies whose X-Forwarded-For/-Proto/-Host
    # are believed; from anyone else those headers are ignored.
    trusted_proxies: list[str] = Field(default_factory=list)
    # GET /metrics in the Prometheus text format; off by default.
    metrics: bool = False
    # NAME of the variable holding a bearer token /metrics then requires (unset: open).
    metrics_token_env: str = "QUORUM_METRICS_TOKEN"  # noqa: S105  (a name)

    @field_validator("root_path")
    @classmethod
    def _root_path(cls, value: str) -> str:
        return normalise_root_path(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return [entry.strip() for entry in value]

    @property
    def prefix(self) -> str:
        """``root_path`` without its final slash: "" at the root, else "/quorum"."""
        return self.root_path.rstrip("/")

    def proxy_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalise_root_path(value: str) -> str:
    """ "/quorum", "/quorum/" -> "/quorum/"; refuses what cannot be a URL path prefix."""
    path = value.strip()
    if not path.startswith("/"):
        raise ValueError(f"must start with '/' (got {value!r}; for example \"/quorum/\")")
    if any(char in path for char in "?#%\\ ") or "//" in path or "/../" in path + "/":
        raise ValueError(f'must be a plain path such as "/quorum/" (got {value!r})')
    return path.rstrip("/") + "/"


class Config(BaseModel):
    """The whole configuration; every section is optional and has defaults."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    project: ProjectConfig = Field(default_factory=ProjectConfig)
    bot: BotConfig = Field(default_factory=BotConfig)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    imports: ImportConfig = Field(default_factory=ImportConfig, alias="import")
    votes: VotesConfig = Field(default_factory=VotesConfig)
    roster: RosterConfig = Field(default_factory=RosterConfig)
    concerns: ConcernsConfig = Field(default_factory=ConcernsConfig)
    rfcs: RfcsConfig = Field(default_factory=RfcsConfig)
    # One person, many names: "Alice Archer" = ["alice@example.org", "aarcher", ...].
    identities: dict[str, list[str]] = Field(default_factory=dict)
    trust: TrustConfig = Field(default_factory=TrustConfig)
    # validate_default: concerns.extractor may need its model even when the section is absent.
    summarizer: SummarizerConfig = Field(default_factory=SummarizerConfig, validate_default=True)
    # [modules.NAME] tables, in file order.
    modules: dict[str, ModuleConfig] = Field(default_factory=dict)
    responsiveness: ResponsivenessConfig | None = None
    digest: DigestConfig = Field(default_factory=DigestConfig)
    # Discourse forums to follow; the forum features run only when this section exists.
    discourse: DiscourseConfig | None = None
    # GitHub repositories read directly (webhooks and polling); absent: none.
    github: GitHubConfig | None = None
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig)
    mail_out: MailOutConfig = Field(default_factory=MailOutConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    # Where the config file lives; relative paths inside it are resolved against this.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("summarizer")
    @classmethod
    def _model_for_the_extractor(cls, value: SummarizerConfig, info: Any) -> SummarizerConfig:
        concerns = info.data.get("concerns")
        if concerns is not None and concerns.extractor == "summarizer" and not value.model.strip():
            raise ValueError('model is required when concerns.extractor is "summarizer"')
        return value

    def resolve(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.base_dir / candidate


def load_config(path: Path | None) -> Config:
    """Read and validate a config file; ``None`` gives the built-in defaults."""
    if path is None:
        return Config()
    data = _read_toml(path)
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(path, error)) from None
    return config.model_copy(update={"base_dir": path.resolve().parent})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read config file: {error}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def _describe(path: Path, error: ValidationError) -> str:
    """One line per problem, each naming the key path: what a person needs to fix it."""
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"{path}: {key}: {_explain(problem, key)}")
    return "\n".join(lines)


def _explain(problem: Any, key: str) -> str:
    kind = problem["type"]
    if kind == "extra_forbidden":
        leaf = key.rsplit(".", 1)[-1].lower()
        if any(word in leaf for word in _SECRET_WORDS):
            return (
                "unknown key; secrets are never read from the config file,"
                " set them in the environment (see README)"
            )
        return "unknown key"
    if kind == "missing":
        return "missing value"
    given = problem.get("input")
    return f"{problem['msg'].lower()} (got {given!r})"


def secret(name: str) -> str | None:
    """A secret from the environment. Callers must never log the value."""
    value = os.environ.get(name)
    return value if value else None
