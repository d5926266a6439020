"""``POST /hooks/discourse``: Discourse webhooks, verified, stored, then acknowledged.

Discourse signs each delivery with ``X-Discourse-Event-Signature: sha256=<hex>``,
the HMAC-SHA256 of the raw body keyed with the webhook's secret. A delivery
without a valid signature gets 401 and nothing is stored. A valid one is
committed (through ``persist``) before the 200, like the SMTP endpoint's 250,
and processed afterwards by the worker, which ``notify`` wakes. The same
delivery sent twice is stored once, and answered 200 both times so that
Discourse stops retrying.

No outbound call happens in here: the handler only verifies and stores.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from aiohttp import web

from bot.logs import event

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Discourse-Event-Signature"
INSTANCE_HEADER = "X-Discourse-Instance"
EVENT_ID_HEADER = "X-Discourse-Event-Id"
EVENT_TYPE_HEADER = "X-Discourse-Event-Type"
EVENT_HEADER = "X-Discourse-Event"
DEFAULT_PATH = "/hooks/discourse"


@dataclass(frozen=True, slots=True)
class WebhookForum:
    """A forum whose webhooks we accept: its name, its address and its secret."""

    name: str
    base_url: str
    secret: bytes


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery whose signature checked out, ready to be stored."""

    forum: str
    body: bytes
    event_id: str | None
    event_type: str
    event: str
    received_at: datetime


Persist = Callable[[Delivery], Awaitable[bool]]


def signature(secret: bytes, body: bytes) -> str:
    """The header value Discourse sends for ``body``: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(forum: WebhookForum, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is the forum's signature of ``body``, compared in constant time."""
    if not given or not forum.secret:
        return False
    try:
        given_bytes = given.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(signature(forum.secret, body).encode("ascii"), given_bytes)


class DiscourseWebhooks:
    """The request handler: which forum signed a delivery, and storing it before the 200."""

    def __init__(
        self,
        forums: Mapping[str, WebhookForum],
        persist: Persist,
        notify: Callable[[], None],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._forums = dict(forums)
        self._persist = persist
        self._notify = notify
        self._clock = clock

    def signer_of(self, body: bytes, given: str | None, instance: str | None) -> str | None:
        """The name of the forum whose secret signed ``body``, or None.

        ``X-Discourse-Instance`` (the forum's base URL) says which secret to try
        first; it is not trusted on its own, only the signature is.
        """
        named = [f for f in self._forums.values() if _same_site(f.base_url, instance)]
        others = [f for f in self._forums.values() if f not in named]
        for forum in (*named, *others):
            if verify(forum, body, given):
                return forum.name
        return None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = request.headers
        forum = self.signer_of(body, headers.get(SIGNATURE_HEADER), headers.get(INSTANCE_HEADER))
        if forum is None:
            # The body is never logged: it is not ours until it is signed.
            logger.warning(
                "webhook refused: missing or wrong signature (from %s)",
                request.remote,
                extra=event("webhook.refused", code=401, peer=request.remote),
            )
            return web.json_response({"error": "invalid signature"}, status=401)
        delivery = Delivery(
            forum=forum,
            body=body,
            event_id=headers.get(EVENT_ID_HEADER),
            event_type=headers.get(EVENT_TYPE_HEADER, ""),
            event=headers.get(EVENT_HEADER, ""),
            received_at=self._clock(),
        )
        try:
            stored = await self._persist(delivery)
        except Exception:
            # Not stored, so not acknowledged: Discourse retries the delivery later.
            logger.exception("storing a %s webhook from %s failed", delivery.event, forum)
            return web.json_response({"error": "not stored"}, status=503)
        self._notify()
        return web.json_response({"stored": stored, "duplicate": not stored})


def _same_site(base_url: str, instance: str | None) -> bool:
    return (
        bool(instance)
        and base_url.rstrip("/").casefold() == (instance or "").rstrip("/").casefold()
    )


@dataclass
class WebhookServer:
    """The running endpoint and where it listens (the port may be ephemeral in tests)."""

    runner: web.AppRunner
    host: str
    port: int

    async def close(self) -> None:
        await self.runner.cleanup()


class Handler(Protocol):
    """A webhook endpoint's request handler (Discourse's, GitHub's)."""

    async def handle(self, request: web.Request) -> web.Response: ...


async def start_webhook_server(
    handler: Handler,
    *,
    host: str,
    port: int,
    path: str = DEFAULT_PATH,
    max_body_bytes: int = 2 * 1024 * 1024,
) -> WebhookServer:
    """Serve ``POST path`` on ``host:port``; larger bodies are refused with 413 unread."""
    app = web.Application(client_max_size=max_body_bytes)
    app.router.add_post(path, handler.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    return WebhookServer(runner, str(bound_host), int(bound_port))
