"""The inbound SMTP endpoint, served by aiosmtpd on the application's own event loop.

It is deliberately not a relay: only the configured list and bot addresses
are accepted, and a message is acknowledged with 250 only once its bytes are
durable. Everything else (parsing, threading, features) happens after the
answer, in the worker, so a slow feature can never make a sender time out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr

from aiosmtpd.smtp import SMTP, Envelope, Session

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message as the SMTP dialogue delivered it."""

    raw: bytes
    received_at: datetime
    peer: str
    mail_from: str
    rcpt_to: list[str]


Persist = Callable[[Delivery], Awaitable[int]]


class InboundHandler:
    """aiosmtpd handler: recipient policy, then durable storage, then 250."""

    def __init__(self, accept: list[str], persist: Persist, on_stored: Callable[[], None]) -> None:
        self._accept = frozenset(address.lower() for address in accept)
        self._persist = persist
        self._on_stored = on_stored
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        _, bare = parseaddr(address)
        if bare.lower() not in self._accept:
            logger.info("refused recipient %s from %s", address, session.peer)
            return f"550 5.7.1 <{address}>: recipient not accepted here (this is not a relay)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        delivery = Delivery(
            raw=bytes(raw),
            received_at=datetime.now(UTC),
            peer=_peer(session),
            mail_from=envelope.mail_from or "",
            rcpt_to=list(envelope.rcpt_tos),
        )
        self.in_flight += 1
        self.idle.clear()
        try:
            inbox_id = await self._persist(delivery)
        except Exception:
            logger.exception("could not store a message from %s", delivery.peer)
            return "451 4.3.0 Message not stored, please try again later"
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self.idle.set()
        self._on_stored()
        return f"250 2.0.0 OK: queued as {inbox_id}"


def _peer(session: Session) -> str:
    peer = session.peer
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


async def start_smtp_server(
    handler: InboundHandler, *, host: str, port: int, max_message_bytes: int, hostname: str
) -> asyncio.Server:
    """Listen on host:port in the running loop; aiosmtpd answers 552 above the size limit."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(
            handler,
            data_size_limit=max_message_bytes,
            hostname=hostname,
            ident="Quorum ESMTP",
            timeout=60,
        ),
        host=host,
        port=port,
    )


async def drain(handler: InboundHandler, grace_seconds: float = 10.0) -> None:
    """Wait for deliveries that are being stored right now, so none is cut off at shutdown."""
    try:
        async with asyncio.timeout(grace_seconds):
            await handler.idle.wait()
    except TimeoutError:
        logger.warning("%d delivery(ies) still being stored at shutdown", handler.in_flight)
