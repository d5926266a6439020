"""The inbound SMTP endpoint, served by aiosmtpd on the application's own event loop.

It is deliberately not a relay: only the configured list and bot addresses
are accepted, and a message is acknowledged with 250 only once its bytes are
durable. Everything else (parsing, threading, features) happens after the
answer, in the worker, so a slow feature can never make a sender time out.

Four things here are about load rather than protocol:

- the message data is read in blocks up to the terminating dot, not line by
  line as aiosmtpd does (which costs a coroutine step per line and was most of
  the endpoint's CPU time under load);
- plain ``<user@example.org>`` paths in MAIL and RCPT are read with one regular
  expression; aiosmtpd's full RFC 5322 parser (a third of the CPU time of a
  transaction) still reads anything else;
- persisting through a :class:`GroupCommit`, deliveries of concurrent sessions
  are committed together: one writer job and one transaction for all that
  arrived while the previous commit ran, each still answered 250 only after
  that commit;
- per envelope sender and per peer address, a token bucket answers a flood
  with ``451 4.7.1`` at MAIL FROM, before any data is read.

Two things are about sessions that misbehave: a reverse path that is not an
address (``MAIL FROM:garbage``) gets ``501 5.1.7``; and a client is cut after
``idle_timeout`` seconds without a byte, during DATA too, while one that keeps
sending may take up to ``data_timeout`` (10 minutes, RFC 5321 §4.5.3.2) for its
message, however slow its line.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any, Final

from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session, syntax

from bot.logs import event

logger = logging.getLogger(__name__)

# The end of the data: a line holding only a dot (RFC 5321 §4.1.1.4).
_END: Final = b"\r\n.\r\n"
# At most this many deliveries share one commit, so one transaction stays short.
GROUP_COMMIT_MAX: Final = 256
# A dot-atom local part at a domain of plain labels, in angle brackets, and what follows.
_ATOM: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH: Final = re.compile(
    rf"[ \t]*<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(.*)\Z", re.DOTALL
)
# Flood-limit memory: at most this many senders (and as many peers) are remembered.
RATE_LIMIT_KEYS: Final = 10_000
# A session without a byte for this long is cut; a DATA that keeps sending may last
# DATA_TIMEOUT_SECONDS (RFC 5321 §4.5.3.2: 3 minutes per block, 10 for the whole).
IDLE_TIMEOUT_SECONDS: Final = 60.0
DATA_TIMEOUT_SECONDS: Final = 600.0
# A reverse path (RFC 5321 §4.1.2): the null path, or a local part (dot-atom or quoted
# string) at a domain (labels, or an address literal). UTF-8 is allowed (SMTPUTF8).
_U: Final = r"\u0080-\U0010ffff"
_REVERSE_PATH: Final = re.compile(
    rf"(?:<>)?|(?:[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~{_U}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~{_U}-]+)*"
    rf'|"(?:[^"\\\r\n]|\\.)*")'
    rf"@(?:[A-Za-z0-9{_U}](?:[A-Za-z0-9{_U}-]*[A-Za-z0-9{_U}])?"
    rf"(?:\.[A-Za-z0-9{_U}](?:[A-Za-z0-9{_U}-]*[A-Za-z0-9{_U}])?)*\.?|\[[^\[\]\\\s]+\])"
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message as the SMTP dialogue delivered it."""

    raw: bytes
    received_at: datetime
    peer: str
    mail_from: str
    rcpt_to: list[str]


Persist = Callable[[Delivery], Awaitable[int]]
# Commits several deliveries in one transaction; returns their inbox ids in order.
PersistMany = Callable[[list[Delivery]], Awaitable[list[int]]]


# -- flood limits -----------------------------------------------------------------------


class RateLimiter:
    """A token bucket per key (``per_minute`` tokens, refilled evenly), in bounded memory.

    A bucket untouched for a minute is full again, so forgetting the least
    recently used keys first changes nothing for them; only more than
    ``max_keys`` keys active within one minute lose their history, and the
    per-peer limit still bounds that sender.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = RATE_LIMIT_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def allows(self, key: str) -> bool:
        """Whether ``key`` may send one more message now (nothing is taken)."""
        if not self.enabled:
            return True
        if key in self._buckets:
            # A sender that keeps trying is remembered: the idle ones are forgotten first.
            self._buckets.move_to_end(key)
        return self._tokens(key, self._clock()) >= 1.0

    def take(self, key: str) -> None:
        """Count one message for ``key``."""
        if not self.enabled:
            return
        now = self._clock()
        self._buckets[key] = (self._tokens(key, now) - 1.0, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.per_minute), now))
        refilled = tokens + (now - at) * self.per_minute / 60.0
        return min(float(self.per_minute), refilled)


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Messages a minute allowed per envelope sender and per peer address (0: no limit)."""

    per_sender: int = 0
    per_peer: int = 0


class DeliveryRate:
    """Deliveries a second over about the last ``window`` seconds (an exponential decay).

    Constant memory and time, however many deliveries: each one adds one to a
    level that decays by e every ``window`` seconds, so the level is about the
    number of deliveries in the last window.
    """

    def __init__(self, window: float = 0.1) -> None:
        self._window = window
        self._level = 0.0
        self._at = 0.0

    def record(self, now: float) -> None:
        self._level = self._decayed(now) + 1.0
        self._at = now

    def per_second(self, now: float) -> float:
        return self._decayed(now) / self._window

    def _decayed(self, now: float) -> float:
        return self._level * math.exp(-max(0.0, now - self._at) / self._window)


# -- group commit -----------------------------------------------------------------------


class GroupCommit:
    """Commits the deliveries of concurrent sessions together.

    While one commit runs, the deliveries that arrive wait; the next commit
    takes all of them (up to ``max_batch``) in one call. A session is answered
    only after the commit that holds its delivery returned, so 250 still means
    durable.

    A delivery larger than ``large_bytes`` goes to ``persist_large`` instead, on
    its own: storing it takes several short writes, which other deliveries'
    commits must not queue behind.
    """

    def __init__(
        self,
        persist_many: PersistMany,
        max_batch: int = GROUP_COMMIT_MAX,
        *,
        persist_large: Persist | None = None,
        large_bytes: int = 0,
    ) -> None:
        self._persist_many = persist_many
        self._max_batch = max_batch
        self._persist_large = persist_large
        self._large_bytes = large_bytes
        self._waiting: list[tuple[Delivery, asyncio.Future[int]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def __call__(self, delivery: Delivery) -> int:
        if self._persist_large is not None and len(delivery.raw) > self._large_bytes:
            return await self._persist_large(delivery)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, future))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_all(), name="smtp-group-commit")
        return await future

    async def _commit_all(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._commit(batch)
        finally:
            self._committer = None

    async def _commit(self, batch: list[tuple[Delivery, asyncio.Future[int]]]) -> None:
        try:
            ids = await self._persist_many([delivery for delivery, _ in batch])
        except Exception as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), inbox_id in zip(batch, ids, strict=True):
            # A session whose client went away meanwhile has a cancelled future: the
            # message is stored anyway, and a re-delivery is deduplicated by ingest.
            if not future.done():
                future.set_result(inbox_id)


# -- the handler --------------------------------------------------------------------------


class InboundHandler:
    """aiosmtpd handler: flood limits, recipient policy, then durable storage, then 250."""

    def __init__(
        self,
        accept: list[str],
        persist: Persist,
        on_stored: Callable[[], None],
        *,
        limits: FloodLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_answer: Callable[[str], None] | None = None,
    ) -> None:
        self._accept = frozenset(address.lower() for address in accept)
        # Told the reply code of every final answer (250, 451, 550, 552): /metrics counts them.
        self._on_answer = on_answer
        self._persist = persist
        self._on_stored = on_stored
        limits = limits or FloodLimits()
        self._per_sender = RateLimiter(limits.per_sender, clock=clock)
        self._per_peer = RateLimiter(limits.per_peer, clock=clock)
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        # How fast deliveries are being stored: the worker defers processing in a flood.
        self.rate = DeliveryRate()
        self._clock = clock

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if not valid_reverse_path(address):
            logger.info("refused sender %r from %s: not an address", address[:200], session.peer)
            return "501 5.1.7 Bad sender address syntax"
        refusal = self._flood_refusal(_peer_host(session), _sender_key(address))
        if refusal is not None:
            self.answered(refusal[:3])
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    def _flood_refusal(self, peer: str, sender: str) -> str | None:
        """451 when this sender or peer is over its limit; otherwise count the message."""
        for limiter, key, who in (
            (self._per_peer, peer, peer),
            (self._per_sender, sender, f"<{sender}>"),
        ):
            if not limiter.allows(key):
                logger.warning(
                    "flood limit: refused a message from %s (peer %s)",
                    sender,
                    peer,
                    extra=event("smtp.refused", code="451", sender=sender, peer=peer),
                )
                return (
                    f"451 4.7.1 Too many messages from {who}: at most {limiter.per_minute}"
                    " a minute are accepted; try again later"
                )
        self._per_peer.take(peer)
        self._per_sender.take(sender)
        return None

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
            logger.info(
                "refused recipient %s from %s",
                address,
                session.peer,
                extra=event("smtp.refused", code="550", recipient=address, peer=_peer(session)),
            )
            self.answered("550")
            return f"550 5.7.1 <{address}>: recipient not accepted here (this is not a relay)"
        # A recipient named again is accepted once: the envelope stays as small as `accept`.
        if all(parseaddr(known)[1].lower() != bare.lower() for known in envelope.rcpt_tos):
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
            logger.exception(
                "could not store a message from %s",
                delivery.peer,
                extra=event("smtp.store_failed", code="451", peer=delivery.peer),
            )
            self.answered("451")
            return "451 4.3.0 Message not stored, please try again later"
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self.idle.set()
        self.rate.record(self._clock())
        self._on_stored()
        self.answered("250")
        logger.debug(
            "accepted %d bytes from %s as inbox %d",
            len(delivery.raw),
            delivery.peer,
            inbox_id,
            extra=event("smtp.accepted", code="250", inbox_id=inbox_id, peer=delivery.peer),
        )
        return f"250 2.0.0 OK: queued as {inbox_id}"

    def answered(self, code: str) -> None:
        if self._on_answer is not None:
            self._on_answer(code)


def valid_reverse_path(address: str) -> bool:
    """A MAIL FROM path as aiosmtpd parsed it: ``<>`` (or empty), or local@domain."""
    return _REVERSE_PATH.fullmatch(address) is not None


def _peer(session: Session) -> str:
    peer = session.peer
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


def _peer_host(session: Session) -> str:
    """The peer's address without the port: every connection from one host counts together."""
    peer = session.peer
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer)


def _sender_key(address: str) -> str:
    """The envelope sender as one key: case-folded, ``<>`` (bounces) kept as it is."""
    _, bare = parseaddr(address)
    return bare.lower() or "<>"


# -- the protocol -------------------------------------------------------------------------


class InboundSMTP(SMTP):
    """aiosmtpd's SMTP, with a DATA reader that takes the message in blocks and a
    fast path for plain ``<user@example.org>`` paths in MAIL and RCPT.

    Same answers as aiosmtpd (354, then 552 beyond the size limit, else the
    handler's answer), except that long lines are accepted as they are: an
    MTA may relay them, and refusing would lose the message. aiosmtpd's idle
    timer only restarts at a command; here, during DATA, every packet that
    arrives restarts it, up to ``data_timeout`` for the whole message.
    """

    def __init__(
        self, *args: Any, data_timeout: float = DATA_TIMEOUT_SECONDS, **kwargs: Any
    ) -> None:
        # The rest is aiosmtpd's SMTP's own arguments, checked by its signature.
        super().__init__(*args, **kwargs)
        self.data_timeout = data_timeout
        # While DATA is being read: when it must end, whatever the pace (loop time).
        self._data_deadline: float | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._data_deadline is not None:
            # Bytes are flowing: the idle timer starts again, but never past the deadline.
            left = self._data_deadline - self.loop.time()
            self._reset_timeout(max(min(self._timeout_duration, left), 0.001))

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd runs the full RFC 5322 parser on every path, a third of the CPU
        # time of a whole transaction; the common form needs one regular expression.
        simple = plain_path(arg)
        if simple is None:
            return super()._getaddr(arg)
        address, rest = simple
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, rest

    def _set_post_data_state(self) -> None:
        # A typed front for smtp_DATA's calls; aiosmtpd's own starts a fresh envelope.
        super()._set_post_data_state()  # type: ignore[no-untyped-call]  # unannotated in aiosmtpd

    @syntax("DATA")
    async def smtp_DATA(self, arg: str | None) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        self._data_deadline = self.loop.time() + self.data_timeout
        try:
            content = await read_data(self._reader, self.data_size_limit)
        except asyncio.CancelledError:
            # The connection went away during DATA: nothing was acknowledged.
            self._writer.close()
            raise
        finally:
            self._data_deadline = None
        if content is None:
            logger.info(
                "refused a message over %d bytes",
                self.data_size_limit,
                extra=event("smtp.refused", code="552", limit=self.data_size_limit),
            )
            if isinstance(self.event_handler, InboundHandler):
                self.event_handler.answered("552")
            self._set_post_data_state()
            await self.push(
                f"552 5.3.4 Error: Too much mail data (more than {self.data_size_limit} bytes)"
            )
            return
        self._reset_timeout()
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)


def plain_path(arg: str) -> tuple[str, str] | None:
    """``<dot-atom@domain>`` and what follows it, as aiosmtpd's parser returns them;
    None for anything else (quoted local parts, source routes, comments, ``<>``)."""
    match = _PLAIN_PATH.match(arg)
    if match is None:
        return None
    rest = match.group(2)
    if rest and not rest[0].isspace():
        return None
    rest = rest.lstrip()
    if rest.startswith("("):
        return None
    return match.group(1), rest


async def read_data(reader: asyncio.StreamReader, limit: int | None) -> bytes | None:
    """The message up to the lone dot, dot-unstuffed; None if it was larger than ``limit``.

    An oversized message is read to its end and dropped, so memory stays
    bounded by ``limit`` and the session can go on. The CRLF that ended the
    DATA command counts as the start of the first line, so an empty message
    (a dot right away) ends the data too.
    """
    data = bytearray(b"\r\n")
    size = 0  # bytes of data read, dot-stuffed as on the wire
    too_big = False
    while True:
        pending = _partial_end(data)
        if pending:
            # The terminator may straddle what we hold: read just enough to know.
            chunk = await reader.readexactly(len(_END) - pending)
            found = data.endswith(_END[:pending]) and chunk == _END[pending:]
        else:
            chunk, found = await _read_until_end(reader)
        size += len(chunk)
        # The last three bytes read may be the dot and CRLF that end the data, not content.
        too_big = too_big or bool(limit and size - (len(_END) - 2) > limit)
        if too_big:
            # Keep only a tail, enough to see a terminator that straddles reads.
            data = bytearray(b"xx" + (bytes(data) + chunk)[-(len(_END) - 1) :])
        else:
            data += chunk
        if found:
            break
    if too_big:
        return None
    # data is CRLF + message + ".CRLF"; a leading dot on any line was doubled by the sender.
    # In place and with one copy where possible: a message of megabytes is read on the
    # event loop, and every copy holds up every other session.
    del data[-(len(_END) - 2) :]
    if b"\r\n." in data:
        data = data.replace(b"\r\n.", b"\r\n")
    return bytes(memoryview(data)[2:])


async def _read_until_end(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
    """Up to and including the terminator, or as much as the reader's limit allows."""
    try:
        return await reader.readuntil(_END), True
    except asyncio.LimitOverrunError as overrun:
        # Everything but the last few bytes: a terminator cut in two is found next time.
        return await reader.readexactly(overrun.consumed), False


def _partial_end(data: bytearray) -> int:
    """How many bytes of a terminator ``data`` ends with (0 when none could straddle)."""
    for length in range(len(_END) - 1, 0, -1):
        if data.endswith(_END[:length]):
            return length
    return 0


async def start_smtp_server(
    handler: InboundHandler,
    *,
    host: str,
    port: int,
    max_message_bytes: int,
    hostname: str,
    idle_timeout: float = IDLE_TIMEOUT_SECONDS,
    data_timeout: float = DATA_TIMEOUT_SECONDS,
) -> asyncio.Server:
    """Listen on host:port in the running loop; the endpoint answers 552 above the size limit.

    8BITMIME and SMTPUTF8 are offered: raw UTF-8 headers are what modern clients send.
    """
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: InboundSMTP(
            handler,
            data_size_limit=max_message_bytes,
            hostname=hostname,
            ident="Quorum ESMTP",
            timeout=idle_timeout,
            data_timeout=data_timeout,
            enable_SMTPUTF8=True,
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
