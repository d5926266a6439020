"""A loopback fake of Mailman 3's HyperKitty archive, for ``quorum fetch hyperkitty``.

Built from HyperKitty's ``hyperkitty/urls.py``, ``hyperkitty/views/mlist.py``
(``export_mbox``), ``hyperkitty/models/email.py`` (``Email.as_message``) and
``hyperkitty/api/mailinglist.py``. It serves under ``/archives`` (the URL root
most Mailman 3 sites use). What the client relies on:

- ``GET /archives/list/<list@domain>/export/<name>.mbox.gz?start=YYYY-MM-DD&end=YYYY-MM-DD``
  → ``application/gzip`` with ``Content-Disposition: attachment;
  filename="<name>.mbox.gz"``: every mail with ``start <= date < end`` (either may
  be left out), ordered by archival date, each *rebuilt from the database* as
  ``as_message`` does: ``From`` (name and address), ``To`` (the list),
  ``Subject``, ``Date``, ``Message-ID``, ``In-Reply-To`` (no ``References``), a
  ``multipart/mixed`` body with the text as a ``text/plain`` part, a ``From ``
  line ``From <address> <archived date %c>``, and two newlines after each mail.
  A date that does not parse is a 400 "Invalid dates".
- ``GET /archives/api/list/<list@domain>/`` → JSON ``{"url", "name", "display_name",
  "description", "subject_prefix", "archive_policy", "created_at", "threads", "emails"}``.
- A private list answers 403 (``check_mlist_private``); an unknown one 404.

HyperKitty keeps one mail per Message-ID and list, as its database does.
Seed with ``add(raw, list_address)`` or ``add_mbox``; ``private`` marks lists.
Misbehaviour and the request log: :class:`tests.fakes.faults.Faults`.
"""

from __future__ import annotations

import email
import email.utils
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.policy import compat32
from pathlib import Path

from aiohttp import web

from bot.adapters.archives import read_messages
from tests.fakes.faults import Faults
from tests.fakes.server import LoopbackHTTP


@dataclass(frozen=True, slots=True)
class _Email:
    list_address: str
    message_id: str
    sender_name: str
    sender_address: str
    subject: str
    date: datetime
    in_reply_to: str
    content: str


class FakeHyperKitty(LoopbackHTTP):
    API_PATH = "/archives"

    def __init__(self) -> None:
        super().__init__()
        self.faults = Faults()
        self._emails: dict[tuple[str, str], _Email] = {}
        self.lists: dict[str, datetime] = {}
        self.private: set[str] = set()

    @property
    def requests(self) -> list[str]:
        return self.faults.paths()

    def add(self, raw: bytes, list_address: str) -> None:
        message = email.message_from_bytes(raw, policy=compat32)
        name, address = email.utils.parseaddr(str(message.get("From", "")))
        message_id = str(message.get("Message-ID", "")).strip().strip("<>")
        date = email.utils.parsedate_to_datetime(str(message["Date"])).astimezone(UTC)
        self.lists.setdefault(list_address, date)
        self.lists[list_address] = min(self.lists[list_address], date)
        self._emails.setdefault(
            (list_address, message_id),
            _Email(
                list_address=list_address,
                message_id=message_id,
                sender_name=name,
                sender_address=address,
                subject=str(message.get("Subject", "")),
                date=date,
                in_reply_to=str(message.get("In-Reply-To", "")),
                content=_text(message),
            ),
        )

    def add_mbox(self, path: Path, list_address: str) -> None:
        for message in read_messages(path):
            self.add(message.raw, list_address)

    def _application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/archives/list/{mlist}/export/{filename}.mbox.gz", self._export)
        app.router.add_get("/archives/api/list/{mlist}/", self._list_detail)
        return app

    async def _export(self, request: web.Request) -> web.StreamResponse:
        async with self._busy():
            return await self.faults.serve(request, self._export_answer)

    async def _list_detail(self, request: web.Request) -> web.StreamResponse:
        async with self._busy():
            return await self.faults.serve(request, self._list_detail_answer)

    def _refused(self, mlist: str) -> web.Response | None:
        if mlist not in self.lists:
            return web.Response(status=404, text="Not Found")
        if mlist in self.private:
            return web.Response(status=403, text="Forbidden")
        return None

    async def _export_answer(self, request: web.Request) -> web.StreamResponse:
        mlist = request.match_info["mlist"]
        refused = self._refused(mlist)
        if refused is not None:
            return refused
        try:
            start = _day(request.query.get("start"))
            end = _day(request.query.get("end"))
        except ValueError:
            return web.Response(status=400, text="Invalid dates")
        chosen = sorted(
            (
                e
                for e in self._emails.values()
                if e.list_address == mlist
                and (start is None or e.date >= start)
                and (end is None or e.date < end)
            ),
            key=lambda e: e.date,
        )
        compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        body = b"".join(
            compressor.compress(_as_message(e).as_bytes(unixfrom=True))
            + compressor.compress(b"\n\n")
            for e in chosen
        )
        body += compressor.flush()
        filename = request.match_info["filename"]
        return web.Response(
            body=body,
            headers={
                "Content-Type": "application/gzip",
                "Content-Disposition": f'attachment; filename="{filename}.mbox.gz"',
            },
        )

    async def _list_detail_answer(self, request: web.Request) -> web.StreamResponse:
        mlist = request.match_info["mlist"]
        refused = self._refused(mlist)
        if refused is not None:
            return refused
        base = f"{self.base_url}/api/list/{mlist}"
        return web.json_response(
            {
                "url": f"{base}/",
                "name": mlist,
                "display_name": mlist.split("@")[0].title(),
                "description": "",
                "subject_prefix": "",
                "archive_policy": "public",
                "created_at": self.lists[mlist].isoformat().replace("+00:00", "Z"),
                "threads": f"{base}/threads/",
                "emails": f"{base}/emails/",
            }
        )


def _as_message(stored: _Email) -> EmailMessage:
    """``Email.as_message``: the mail rebuilt from what HyperKitty keeps of it."""
    msg = EmailMessage()
    msg.set_unixfrom(f"From {stored.sender_address} {stored.date.strftime('%c')}")
    sender = stored.sender_address
    if stored.sender_name and stored.sender_name != stored.sender_address:
        sender = f"{stored.sender_name} <{sender}>"
    msg["From"] = sender
    msg["To"] = stored.list_address
    msg["Subject"] = stored.subject
    msg["Date"] = stored.date.strftime("%a, %d %b %Y %H:%M:%S %z")
    msg["Message-ID"] = f"<{stored.message_id}>"
    if stored.in_reply_to:
        msg["In-Reply-To"] = stored.in_reply_to
    msg.set_content(stored.content, subtype="plain")
    msg.make_mixed()
    return msg


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _day(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
