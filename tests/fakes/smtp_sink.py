"""A loopback SMTP server that records every message it accepts, built on aiosmtpd.

It stands in for the submission server (or the list's MX) in tests of our outbound
mail: point the mail channel at ``await sink.start()`` and assert on ``sink.messages``,
which holds exactly what crossed the wire after a 250 to DATA.

Misbehaviour on request, as real servers do:

- ``refuse_next(code, stage=...)`` answers MAIL, RCPT or DATA with that code (4xx or
  5xx) for the next ``n`` transactions; nothing is recorded.
- ``drop_after_data()`` records the message (the server has it) and then drops the
  connection without answering: the client cannot know whether it was accepted. This
  is the case an exactly-once outbox must survive without sending again.
- ``credentials=(user, password)`` requires AUTH (PLAIN/LOGIN, allowed without TLS on
  loopback) before MAIL; ``auth_attempts`` lists the usernames tried and the result.
"""

from __future__ import annotations

import asyncio
import email
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from typing import Any, Literal, cast

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.fakes.server import LoopbackServer

Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted message: envelope and the bytes as sent (CRLF, dot-unstuffed)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    authenticated_as: str | None

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, email.message_from_bytes(self.raw, policy=default))


@dataclass(frozen=True)
class _Refusal:
    stage: Stage
    reply: str


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._sink.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        refusal = self._sink._take_refusal("MAIL")
        if refusal is not None:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self._sink._take_refusal("RCPT")
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self._sink._take_refusal("DATA")
        if refusal is not None:
            return refusal
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        self._sink.messages.append(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                raw=bytes(envelope.original_content or b""),
                authenticated_as=login.decode() if login else None,
            )
        )
        if self._sink._drops > 0:
            self._sink._drops -= 1
            # The message is ours now, but the client never hears so.
            if server.transport is not None:
                server.transport.abort()
            return "250 OK (never sent: the connection is gone)"
        return "250 2.0.0 OK: queued"


class SmtpSink(LoopbackServer):
    """An SMTP server on 127.0.0.1, on an ephemeral port, for one test."""

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self.messages: list[ReceivedMessage] = []
        self.auth_attempts: list[tuple[str, bool]] = []
        self._refusals: deque[_Refusal] = deque()
        self._drops = 0
        self._server: asyncio.Server | None = None
        self.host = "127.0.0.1"
        self.port = 0

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        handler = _Handler(self)
        self._server = await loop.create_server(
            lambda: SMTP(
                handler,
                hostname="sink.test",
                ident="Sink ESMTP",
                authenticator=self._authenticate,
                # Loopback tests speak plain text; AUTH is still checked, just not TLS.
                auth_require_tls=False,
                timeout=10,
            ),
            host=self.host,
            port=0,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.host, self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    # -- misbehaviour ----------------------------------------------------------------

    def refuse_next(
        self, code: int, text: str = "refused by the test", *, stage: Stage = "DATA", n: int = 1
    ) -> None:
        if not 400 <= code < 600:
            raise ValueError(f"a refusal is a 4xx or 5xx code, got {code}")
        self._refusals.extend([_Refusal(stage, f"{code} {text}")] * n)

    def drop_after_data(self, n: int = 1) -> None:
        self._drops += n

    def _take_refusal(self, stage: Stage) -> str | None:
        if self._refusals and self._refusals[0].stage == stage:
            return self._refusals.popleft().reply
        return None

    # -- AUTH ------------------------------------------------------------------------

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        ok = self.credentials is not None and (user, password) == self.credentials
        self.auth_attempts.append((user, ok))
        if not ok:
            # handled=False: aiosmtpd answers "535 5.7.8 Authentication credentials invalid".
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=data)
