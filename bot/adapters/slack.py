"""Reminders and escalations to Slack, with the official slack_sdk AsyncWebClient.

Slack has no idempotency key for ``chat.postMessage``, so this channel is
careful about which failures may be retried:

- HTTP 429 is retried by slack_sdk's rate-limit handler after ``Retry-After``:
  Slack did not process a rate-limited call.
- No connection at all (DNS, refused) is a refusal: the call never left.
- An ``ok: false`` answer (``channel_not_found``, ``invalid_auth`` ...) is a
  refusal: Slack answered and posted nothing.
- A timeout, a dropped connection, an HTTP 5xx, ``internal_error`` or
  ``fatal_error`` may have posted the message: the outbox records it as
  uncertain and never resends it by itself. This is also why slack_sdk's
  connection-error retry handler is not used: it would repeat such calls.

Each message carries Slack message metadata (``quorum_action`` with the key),
invisible to readers, so a person resolving an uncertain action, or a future
check with the ``channels:history`` scope, can find it. We deliberately need
only ``chat:write``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SLACK_ROUTES, SlackConfig
from bot.core.links import Archive, reference
from bot.dispatch import DeliveryRefused, DeliveryUncertain, PointOfNoReturn, Rendered, post_link
from bot.model import Action, Post
from bot.render import render

logger = logging.getLogger(__name__)

# Outbox channel names that go to Slack, as bot.core.reminders names them:
# "slack" for reminders to maintainers, "pmc" for escalations to the PMC's channel.
ROUTES: Final = SLACK_ROUTES
METADATA_EVENT: Final = "quorum_action"
TEMPLATE: Final = "slack/reminder.json.j2"
# Block Kit limits a section's text to 3000 characters; leave room for why and link.
MAX_TEXT: Final = 2000
# Slack's answer when it did not (and will not) act on the call.
_NOT_PROCESSED: Final = frozenset({"ratelimited", "service_unavailable", "request_timeout"})
# Slack's answer when part of the call may have taken effect.
_MAYBE_PROCESSED: Final = frozenset({"internal_error", "fatal_error"})
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


# -- pure parts -----------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters; everything else in mrkdwn is left as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def mention(text: str, users: Mapping[str, str]) -> str:
    """Replace the names of configured people with ``<@U123>`` mentions (whole words).

    Runs on escaped text; one pass over all names (longest first), so a name
    inside another never double-replaces.
    """
    names = sorted((escape(name) for name in users if name.strip()), key=len, reverse=True)
    if not names:
        return text
    by_name = {escape(name).casefold(): uid for name, uid in users.items()}
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.IGNORECASE
    )
    return pattern.sub(lambda m: f"<@{by_name[m.group(1).casefold()]}>", text)


def link(url: str, label: str) -> str:
    """``<url|label>``; a ``|`` or ``>`` in either would end the link early."""
    safe_url = escape(url).replace("|", "%7C")
    return f"<{safe_url}|{escape(label).replace('|', '¦')}>"


def message_for(
    action: Action,
    target: Post | None,
    *,
    users: Mapping[str, str],
    bot_name: str,
    project: str,
    archive_url: str | Archive,
) -> tuple[str, list[dict[str, Any]]]:
    """The plain-text fallback and the Block Kit blocks, from templates/slack/."""
    text = mention(escape(clip(action.text.strip(), MAX_TEXT)), users)
    reason = escape(clip(action.reason.strip(), 500))
    url = post_link(target, archive_url) if target else None
    label = ""
    if target is not None:
        label = target.subject or reference(
            target, Archive(), author=target.author.display, at=target.created_at
        )
    waiting = link(url, label) if url else escape(label)
    fallback = " ".join(part for part in (text, f"Why: {reason}" if reason else "") if part)
    rendered = render(
        TEMPLATE,
        text=text,
        reason=reason,
        link=waiting,
        fallback=fallback,
        bot_name=escape(bot_name),
        project=escape(project),
    )
    payload = json.loads(rendered)
    return payload["text"], payload["blocks"]


def readable(blocks: list[dict[str, Any]]) -> str:
    """The blocks as a person reads them in Slack (dry-run and `quorum log` show this)."""
    parts: list[str] = []
    for block in blocks:
        if block.get("type") == "section":
            parts.append(str(block.get("text", {}).get("text", "")))
        for element in block.get("elements", []):
            parts.append(f"-- \n{element.get('text', '')}")
    return "\n".join(parts)


def metadata_for(action: Action) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"key": action.key}}


# -- the channel ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlackPayload:
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any]


class SlackChannel:
    """One outbox channel ("slack" or "pmc") posting to one Slack channel.

    Posts with ``chat.postMessage``; the point of no return is the HTTP call itself.
    """

    def __init__(
        self,
        settings: SlackConfig,
        *,
        name: str,
        bot_name: str,
        project: str,
        archive_url: str | Archive = "",
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if name not in settings.channels:
            raise ValueError(f"slack.channels.{name} is not set")
        self.name = name
        self.channel_id = settings.channels[name]
        self.settings = settings
        self._bot_name = bot_name
        self._project = project
        self._archive_url = archive_url
        self._environ = os.environ if environ is None else environ

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def render(self, action: Action, target: Post | None, now: datetime) -> Rendered[SlackPayload]:
        channel = self.channel_id
        text, blocks = message_for(
            action,
            target,
            users=self.settings.users,
            bot_name=self._bot_name,
            project=self._project,
            archive_url=self._archive_url,
        )
        payload = SlackPayload(channel, text, blocks, metadata_for(action))
        return Rendered(payload=payload, preview=f"Slack {channel}:\n{readable(blocks)}")

    async def send(
        self,
        action: Action,
        rendered: Rendered[SlackPayload],
        point_of_no_return: PointOfNoReturn,
    ) -> str:
        client = self._client()
        payload = rendered.payload
        await point_of_no_return()
        try:
            response = await client.chat_postMessage(
                channel=payload.channel,
                text=payload.text,
                blocks=payload.blocks,
                metadata=payload.metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            raise _classify(error) from None
        except aiohttp.ClientConnectorError as error:
            # Not even connected: the request never left, so it is safe to retry.
            raise DeliveryRefused(f"cannot reach Slack: {error.os_error}") from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise DeliveryUncertain(f"{type(error).__name__} during chat.postMessage") from None
        return str(response["ts"])

    def _client(self) -> AsyncWebClient:
        token = self._environ.get(self.settings.token_env)
        if not token:
            raise DeliveryRefused(f"${self.settings.token_env} is empty", permanent=True)
        # No session passed: the client opens and closes one per call, nothing leaks.
        return AsyncWebClient(
            token=token,
            base_url=self.settings.base_url,
            timeout=self.settings.timeout_seconds,  # type: ignore[arg-type]  # aiohttp takes float
            retry_handlers=[
                AsyncRateLimitErrorRetryHandler(max_retry_count=self.settings.rate_limit_retries)
            ],
        )


def slack_channels(
    settings: SlackConfig,
    *,
    bot_name: str,
    project: str,
    archive_url: str | Archive = "",
    environ: Mapping[str, str] | None = None,
) -> list[SlackChannel]:
    """One channel object per configured outbox channel, for the dispatcher's mapping."""
    return [
        SlackChannel(
            settings,
            name=name,
            bot_name=bot_name,
            project=project,
            archive_url=archive_url,
            environ=environ,
        )
        for name in sorted(settings.channels)
    ]


def _classify(error: SlackApiError) -> Exception:
    """What a failed call means for the outbox; the text never includes the token."""
    status = error.response.status_code
    code = str(error.response.get("error", "unknown_error"))
    described = f"Slack HTTP {status}: {code}"
    if status == 429 or code in _NOT_PROCESSED:
        return DeliveryRefused(described)
    if status >= 500 or code in _MAYBE_PROCESSED:
        return DeliveryUncertain(described)
    return DeliveryRefused(described, permanent=True)
