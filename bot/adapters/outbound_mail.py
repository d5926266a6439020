"""Replies and reminders to the list, by SMTP submission (aiosmtplib).

Everything that decides what the mail says is pure and lives in small
functions (subject, references, headers, Message-ID); whether we may answer
at all is ``bot.core.rules`` (loop safety). The channel renders with them and
submits.

Our mail must never start a loop and must thread correctly: it carries
``Auto-Submitted`` (``auto-replied`` for answers, ``auto-generated`` for
reminders), ``X-Loop`` with ``responsiveness.loop_id`` (the bot's address by
default), ``In-Reply-To`` and ``References`` from the post it is about, exactly one ``Re:``, and a
Message-ID derived from the action's key, so the list's copy of it, coming
back through our own ingest, proves the delivery. We do not set
``Precedence``: it is not standard (RFC 3834 §3.1.8 leaves it to
``Auto-Submitted``), the list adds ``Precedence: list`` itself, and some list
managers hold or drop ``bulk``/``junk`` mail.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr
from typing import Final

import aiosmtplib

from bot.config import MailOutConfig
from bot.core.links import Archive, reference
from bot.core.rules import BotIdentity, refusal_reason
from bot.dispatch import DeliveryRefused, PointOfNoReturn, Rendered
from bot.model import Action, Post
from bot.render import render

logger = logging.getLogger(__name__)

# Outbox channel names this class serves: "mail" answers a mail where it was posted
# (Action.channel "" on a mail target), "list" is a note to the list (responsiveness
# escalations), which starts a thread when its target is not a post.
CHANNEL: Final = "mail"
LIST_CHANNEL: Final = "list"
# Kinds that answer a message (RFC 3834 "auto-replied"); anything else the bot sends
# on its own schedule (remind, escalate, digest ...) is "auto-generated".
REPLY_KINDS: Final = frozenset({"reply"})
# Action kinds as bot.core.reminders names its stages.
_TEMPLATES: Final = {
    "remind": "email/reminder.txt.j2",
    "escalate": "email/reminder.txt.j2",
    # The digest carries its own signature.
    "digest": "email/note.txt.j2",
}
_DEFAULT_TEMPLATE: Final = "email/reply.txt.j2"
MAX_SUBJECT: Final = 90
# Long threads: keep the root and the most recent ids (RFC 5322 §3.6.4 allows trimming).
MAX_REFERENCES: Final = 20

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MESSAGE_ID = re.compile(r"^<[^<>\s\x00-\x1f\x7f]+@[^<>\s\x00-\x1f\x7f]+>$")
_REPLY_MARKER = re.compile(r"(?:re|aw|sv|antw)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE)
_TAG = re.compile(r"\[[^\]\r\n]*\]\s*")


# -- pure parts -----------------------------------------------------------------------


def one_line(value: str) -> str:
    """A value safe inside a header: CR, LF and other controls become one space."""
    return " ".join(_CONTROL.sub(" ", value).split())


def valid_message_id(value: str | None) -> str | None:
    """``<left@right>`` or nothing: an id with a line break or space is refused, not fixed."""
    if value and _MESSAGE_ID.match(value):
        return value
    return None


def reply_subject(subject: str) -> str:
    """Exactly one ``Re:``, in front: ``[dev] Re: RE: [VOTE] x`` -> ``Re: [dev] [VOTE] x``."""
    rest = one_line(subject)
    tags: list[str] = []
    while True:
        marker = _REPLY_MARKER.match(rest)
        tag = _TAG.match(rest)
        if marker:
            rest = rest[marker.end() :]
        elif tag:
            tags.append(tag.group(0).strip())
            rest = rest[tag.end() :]
        else:
            break
    core = " ".join([*tags, rest]).strip()
    return f"Re: {core}" if core else "Re: (no subject)"


def references_for(target: Post) -> list[str]:
    """The target's References plus the target itself, valid ids only, trimmed."""
    chain = [ref for ref in target.references if valid_message_id(ref)]
    own = valid_message_id(target.message_id)
    if own and own not in chain:
        chain.append(own)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return chain


def message_id_for(key: str, bot_address: str, *, secret: bytes) -> str:
    """The same action always gets the same Message-ID: a resend is recognisable.

    The id carries an HMAC of the action key under ``secret`` (128 bits of
    HMAC-SHA256), so nobody without the key can make a mail whose Message-ID
    passes for one of ours: only a real copy of our mail proves its delivery.
    """
    domain = bot_address.rpartition("@")[2] or "quorum.invalid"
    return f"<quorum.{_tag(key, secret)}@{one_line(domain)}>"


def proves_delivery(key: str, message_id: str, *, secret: bytes) -> bool:
    """Whether ``message_id`` is the one :func:`message_id_for` gives action ``key``."""
    local = message_id.strip("<>").partition("@")[0]
    return hmac.compare_digest(local, f"quorum.{_tag(key, secret)}")


def _tag(key: str, secret: bytes) -> str:
    return hmac.new(secret, key.encode(), "sha256").hexdigest()[:32]


def auto_submitted_for(kind: str) -> str:
    return "auto-replied" if kind in REPLY_KINDS else "auto-generated"


def loop_refusal(target: Post, bot: BotIdentity) -> str | None:
    """Why loop safety forbids mailing about ``target`` (bot.core.rules decides), or None."""
    reason = refusal_reason(target, bot)
    return f"loop safety: not answering, {reason}" if reason else None


def note_subject(text: str) -> str:
    """A new thread's subject: the first line of what the bot says."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    subject = one_line(first)
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 1].rsplit(" ", 1)[0] + "…"
    return subject or "(no subject)"


def reply_headers(
    target: Post | None,
    *,
    action: Action,
    message_id: str,
    sender: tuple[str, str],
    list_address: str,
    now: datetime,
    loop_id: str = "",
) -> list[tuple[str, str]]:
    """Every header of our mail, in order. Values echoed from others are made one line.

    ``X-Loop`` carries ``loop_id``, or the bot's address when it is empty.

    With a target post it is a reply in that thread; without one (a note about a
    module) it starts a thread of its own.
    """
    name, address = one_line(sender[0]), one_line(sender[1])
    subject = reply_subject(target.subject) if target else note_subject(action.text)
    headers = [
        ("From", formataddr((name, address))),
        ("To", one_line(list_address)),
        ("Subject", subject),
        ("Date", format_datetime(now)),
        ("Message-ID", message_id),
    ]
    parent = valid_message_id(target.message_id) if target else None
    if parent:
        headers.append(("In-Reply-To", parent))
    references = references_for(target) if target else []
    if references:
        headers.append(("References", " ".join(references)))
    loop = one_line(loop_id) or address
    headers += [("Auto-Submitted", auto_submitted_for(action.kind)), ("X-Loop", loop)]
    return headers


def compose(headers: Sequence[tuple[str, str]], body: str) -> EmailMessage:
    """A text/plain UTF-8 message. The SMTP policy refuses any header with CR/LF left in it."""
    message = EmailMessage(policy=SMTP_POLICY)
    for name, value in headers:
        message[name] = value
    message.set_content(body, charset="utf-8")
    return message


def body_for(
    action: Action,
    target: Post | None,
    *,
    bot_name: str,
    project: str,
    archive_url: str | Archive,
) -> str:
    template = _TEMPLATES.get(action.kind, _DEFAULT_TEMPLATE)
    link = None
    if target is not None:
        archive = archive_url if isinstance(archive_url, Archive) else Archive.of(archive_url)
        link = reference(
            target,
            archive,
            author=target.author.display,
            subject=target.subject,
            at=target.created_at,
        )
    return render(
        template,
        text=action.text,
        reason=action.reason,
        link=link,
        bot_name=bot_name,
        project=project,
    )


def preview_of(headers: Sequence[tuple[str, str]], body: str) -> str:
    return "".join(f"{name}: {value}\n" for name, value in headers) + "\n" + body


# -- the channel ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailPayload:
    sender: str
    recipient: str
    message: bytes


class MailChannel:
    """Submits mail to the list; ``send`` passes the point of no return just before DATA."""

    def __init__(
        self,
        settings: MailOutConfig,
        *,
        name: str = CHANNEL,
        bot_name: str,
        bot_address: str,
        list_address: str,
        project: str,
        archive_url: str | Archive = "",
        environ: Mapping[str, str] | None = None,
        message_id_key: bytes,
        loop_id: str = "",
    ) -> None:
        self.name = name
        # Signs our Message-IDs (see message_id_for); never logged.
        self._message_id_key = message_id_key
        self.settings = settings
        self._bot = (bot_name, bot_address)
        # Our X-Loop value (responsiveness.loop_id, else our address): mail that comes
        # back carrying it is ours.
        self._loop_id = loop_id.strip() or bot_address
        self._identity = BotIdentity(addresses=frozenset({bot_address}), loop_id=self._loop_id)
        self._list = list_address
        self._project = project
        self._archive_url = archive_url
        self._environ = os.environ if environ is None else environ

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def render(self, action: Action, target: Post | None, now: datetime) -> Rendered[MailPayload]:
        if target is None and self.name != LIST_CHANNEL:
            # A reply without the post it answers would land in no thread.
            raise DeliveryRefused(
                f"a reply needs the post it answers; {action.target!r} is not stored",
                permanent=True,
            )
        bot_name, bot_address = self._bot
        message_id = message_id_for(action.key, bot_address, secret=self._message_id_key)
        headers = reply_headers(
            target,
            action=action,
            message_id=message_id,
            sender=self._bot,
            list_address=self._list,
            now=now,
            loop_id=self._loop_id,
        )
        body = body_for(
            action, target, bot_name=bot_name, project=self._project, archive_url=self._archive_url
        )
        message = compose(headers, body)
        return Rendered(
            payload=MailPayload(bot_address, self._list, message.as_bytes()),
            preview=preview_of(headers, body),
            remote_id=message_id,
            refusal=loop_refusal(target, self._identity) if target else None,
        )

    async def send(
        self,
        action: Action,
        rendered: Rendered[MailPayload],
        point_of_no_return: PointOfNoReturn,
    ) -> str:
        payload = rendered.payload
        client = aiosmtplib.SMTP(
            hostname=self.settings.host,
            port=self.settings.port,
            use_tls=self.settings.tls,
            # Explicit False: aiosmtplib's default (None) upgrades whenever offered.
            start_tls=self.settings.starttls,
            username=self.settings.username or None,
            password=self._password(),
            local_hostname=payload.sender.rpartition("@")[2] or None,
            timeout=self.settings.timeout_seconds,
        )
        try:
            # Connecting, TLS, AUTH, MAIL and RCPT commit nothing: failures here are retried.
            await client.connect()
            await client.mail(payload.sender)
            await client.rcpt(payload.recipient)
            await point_of_no_return()
            await client.data(payload.message)
        except aiosmtplib.SMTPResponseException as answer:
            # The server answered, so it did not take the message.
            raise DeliveryRefused(
                f"SMTP {answer.code} {answer.message}", permanent=answer.code >= 500
            ) from None
        finally:
            await _close(client)
        return rendered.remote_id or ""

    def _password(self) -> str | None:
        if not self.settings.username:
            return None
        value = self._environ.get(self.settings.password_env)
        if not value:
            raise DeliveryRefused(
                f"mail_out.username is set but ${self.settings.password_env} is empty",
                permanent=True,
            )
        return value


async def _close(client: aiosmtplib.SMTP) -> None:
    """QUIT politely; after DATA the message is the server's, so a failing QUIT is no matter."""
    if not client.is_connected:
        return
    try:
        await client.quit()
    except Exception:
        # Never let QUIT hide what happened before it (a refusal, an uncertain DATA).
        client.close()
