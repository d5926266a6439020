"""A loopback fake of Pony Mail Foal's archive API, for ``quorum fetch ponymail``.

Built from apache/incubator-ponymail-foal (commit 88ce2a3): ``server/main.py``
(``/api/<endpoint>.lua`` takes query parameters, ``.json`` a JSON body),
``server/plugins/defuzzer.py`` (dates), ``server/endpoints/stats.py`` and
``server/endpoints/mbox.py``. What the client relies on:

- ``GET /api/stats.lua?list=L&domain=D&d=YYYY-MM&emailsOnly`` → JSON ``{"firstYear",
  "firstMonth", "lastYear", "lastMonth", "hits", "emails": [...], "searchlist":
  "<L.D>", "list": "L@D", "domain", "name", "unixtime"}``; each email is trimmed to
  the UI fields (``trim_email``): ``id``, ``mid``, ``message-id``, ``epoch``,
  ``from``, ``subject``, ``in-reply-to``, ``list``, ``list_raw``, ``private``,
  ``attachments``, ``body``, ``gravatar``, ``children``; oldest first.
- ``... &since=EPOCH`` → ``{"changed": false}`` when no email of the query is
  newer than EPOCH (else the usual answer). ``quick`` (stats only) keeps just ``epoch``.
- Without ``d``, ``firstYear``/``firstMonth`` still span the whole list
  (``get_activity_span`` runs on the dateless query).
- ``GET /api/mbox.lua?list=L&domain=D&d=YYYY-MM`` → ``application/mbox`` with
  ``Content-Disposition: attachment; filename=L_D_YYYY-MM.mbox``: each email's
  stored source (decoded as UTF-8 with replacement, as ``get_source`` does), a
  ``From MAILER-DAEMON ...`` line put first when the source has none, ``>``-quoted
  ``From `` lines (mboxrd, ``convert_source``), every message ending in a blank line.
- A month is matched on ``epoch`` (the Date header in UTC; the archiver falls back to
  the time it received the mail, which here is the mbox ``From `` line's date).
- No ``list``/``domain``: 400 ("You must specify a domain part ..."), as the
  defuzzer raises. Unknown endpoints: 404 "API Endpoint not found!".

Seed with ``add(raw, list_id="dev@tvm.apache.org")`` or ``add_mbox(path, ...)``.
Misbehaviour and the request log: :class:`tests.fakes.faults.Faults`.
"""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bot.adapters.archives import read_messages
from tests.fakes.faults import Faults
from tests.fakes.server import LoopbackHTTP

_FROM_LINE_DATE = re.compile(r"(\w{3} \w{3}\s+\d{1,2} \d{1,2}:\d{2}:\d{2} \d{4})")
_HEADER = re.compile(rb"^(Message-ID|Date|Subject|From|In-Reply-To):[ \t]*(.*)$", re.I | re.M)


@dataclass(frozen=True, slots=True)
class _Email:
    mid: str
    list_raw: str
    message_id: str
    epoch: int
    subject: str
    sender: str
    in_reply_to: str
    source: str


class FakePonyMail(LoopbackHTTP):
    def __init__(self) -> None:
        super().__init__()
        self.faults = Faults()
        self._emails: list[_Email] = []

    @property
    def requests(self) -> list[str]:
        return self.faults.paths()

    def add(self, raw: bytes, list_id: str, *, from_line: str | None = None) -> str:
        """Archive one mail on ``list_id`` (``dev@tvm.apache.org``); its Pony Mail id."""
        headers = {m[1].decode().lower(): m[2].decode("utf-8", "replace").strip()
                   for m in _HEADER.finditer(raw.split(b"\n\n", 1)[0])}  # fmt: skip
        epoch = _epoch(headers.get("date"), from_line)
        source = raw.decode("utf-8", "replace")
        if from_line:
            source = f"{from_line}\n{source}"
        local, _, domain = list_id.partition("@")
        mid = "r" + hashlib.sha1(raw).hexdigest()[:30]
        self._emails.append(
            _Email(
                mid=mid,
                list_raw=f"<{local}.{domain}>",
                message_id=headers.get("message-id", ""),
                epoch=epoch,
                subject=headers.get("subject", ""),
                sender=headers.get("from", ""),
                in_reply_to=headers.get("in-reply-to", ""),
                source=source,
            )
        )
        return mid

    def add_mbox(self, path: Path, list_id: str) -> int:
        count = 0
        for message in read_messages(path):
            self.add(message.raw, list_id, from_line=message.mbox_from_line)
            count += 1
        return count

    def _application(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{endpoint}", self._route)
        return app

    async def _route(self, request: web.Request) -> web.StreamResponse:
        async with self._busy():
            return await self.faults.serve(request, self._answer)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        endpoint = request.match_info["endpoint"]
        query = dict(request.query)
        if endpoint in ("stats.lua", "stats.json"):
            return self._stats(query)
        if endpoint in ("mbox.lua", "mbox.json"):
            return self._mbox(query)
        return web.Response(status=404, text="API Endpoint not found!")

    def _selected(self, query: dict[str, str]) -> list[_Email] | web.Response:
        local, domain = query.get("list", ""), query.get("domain", "")
        if not domain:
            return web.Response(
                status=400,
                text="You must specify a domain part of the mailing list(s) to search,"
                " or * for wildcard search.",
            )
        if not local:
            return web.Response(status=400, text="You must specify a list part ...")
        list_raw = f"<{local}.{domain}>"
        emails = [e for e in self._emails if e.list_raw == list_raw]
        month = query.get("d") or query.get("date")
        if month:
            start, end = _month_span(month)
            emails = [e for e in emails if start <= e.epoch < end]
        return sorted(emails, key=lambda e: e.epoch)

    def _stats(self, query: dict[str, str]) -> web.Response:
        local, domain = query.get("list", ""), query.get("domain", "")
        if not local or not domain:
            return web.json_response({})  # stats.py: both are required, else {}
        emails = self._selected(query)
        if isinstance(emails, web.Response):
            return emails
        if "since" in query:
            since = int(query["since"] or 0)
            if not any(e.epoch > since for e in emails):
                return web.json_response({"changed": False})
        span = [e for e in self._emails if e.list_raw == f"<{local}.{domain}>"] or emails
        oldest = datetime.fromtimestamp(min((e.epoch for e in span), default=0), UTC)
        youngest = datetime.fromtimestamp(max((e.epoch for e in span), default=0), UTC)
        trimmed = [{"epoch": e.epoch} if "quick" in query else _trimmed(e) for e in emails]
        payload = {
            "firstYear": oldest.year,
            "lastYear": youngest.year,
            "firstMonth": oldest.month,
            "lastMonth": youngest.month,
            "active_months": {},
            "hits": len(emails),
            "numparts": 0,
            "no_threads": 0,
            "emails": trimmed,
            "participants": {},
            "searchlist": f"<{local}.{domain}>",
            "domain": domain,
            "name": local,
            "list": f"{local}@{domain}",
            "searchParams": query,
            "unixtime": int(datetime.now(UTC).timestamp()),
        }
        return web.Response(text=json.dumps(payload, indent=2), content_type="application/json")

    def _mbox(self, query: dict[str, str]) -> web.Response:
        emails = self._selected(query)
        if isinstance(emails, web.Response):
            return emails
        stem = re.sub(r"[^-_a-zA-Z0-9]+", "_", f"{query['list']}_{query['domain']}")
        if query.get("d"):
            stem += "_" + query["d"]
        body = "".join(_mboxrd(e.source) for e in emails).encode("utf-8")
        return web.Response(
            body=body,
            headers={
                "Content-Type": "application/mbox",
                "Content-Disposition": f"attachment; filename={stem}.mbox",
            },
        )


def _trimmed(email_: _Email) -> dict[str, object]:
    return {
        "attachments": [],
        "body": "",
        "children": [],
        "epoch": email_.epoch,
        "from": email_.sender,
        "gravatar": "",
        "id": email_.mid,
        "in-reply-to": email_.in_reply_to,
        "list": email_.list_raw,
        "list_raw": email_.list_raw,
        "message-id": email_.message_id,
        "mid": email_.mid,
        "private": False,
        "subject": email_.subject,
    }


def _mboxrd(source: str) -> str:
    """``convert_source``: a From line first if missing, From-quoting, a blank line after."""
    if not source.startswith("From "):
        source = "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n" + source
    lines = []
    for number, line in enumerate(source.split("\n"), start=1):
        if number > 1 and re.match(r"^>*From\s+", line):
            line = ">" + line
        lines.append(line + "\n")
    text = "".join(lines)
    return text if text.endswith("\n\n") else text + "\n"


def _epoch(date_header: str | None, from_line: str | None) -> int:
    if date_header:
        try:
            return int(email.utils.parsedate_to_datetime(date_header).timestamp())
        except (TypeError, ValueError):
            pass
    match = _FROM_LINE_DATE.search(from_line or "")
    if match:
        moment = datetime.strptime(match[1], "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)
        return int(moment.timestamp())
    return 0


def _month_span(month: str) -> tuple[int, int]:
    year, number = (int(part) for part in month.split("-", 1))
    start = datetime(year, number, 1, tzinfo=UTC)
    days = calendar.monthrange(year, number)[1]
    end = datetime(year, number, days, tzinfo=UTC).timestamp() + 86400
    return int(start.timestamp()), int(end)
