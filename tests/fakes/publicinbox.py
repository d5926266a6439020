"""A loopback fake of a public-inbox archive (lore.kernel.org style), for ``quorum fetch``.

Built from public-inbox's ``lib/PublicInbox/WWW.pm`` (routing: a ``POST`` to
``/<inbox>/`` with ``q=`` is a search download), ``SearchView.pm``
(``mbox_results``: ``x=m`` selects the mbox; a request body starting ``x=`` with a
non-zero value would expand whole threads), ``SearchQuery.pm`` and ``Mbox.pm``
(``mbox_all``, ``msg_hdr``, ``msg_body``). What the client relies on:

- ``POST /<inbox>/?q=d:YYYYMMDD..YYYYMMDD&x=m`` → ``application/gzip`` with
  ``Content-Disposition: inline; filename=results-<q>.mbox.gz``: every mail whose
  Date falls in the range, newest first (``relevance => -2``: docid descending), each
  as ``From mboxrd@z Thu Jan  1 00:00:00 1970`` + its stored headers (less
  ``Lines``/``Bytes``/``Content-Length``/``Status``) + its body with ``>``-quoted
  ``From `` lines + a newline. The bytes are the mail as stored: not rewritten.
- No match: ``404`` with ``text/plain`` "No results found".
- ``d:`` takes ``YYYYMMDD`` (or ``YYYY-MM-DD``) bounds; here both are inclusive of
  whole days, the wider reading of public-inbox's approxidate ranges.
- ``GET`` of the same URL is an HTML search page; a ``GET`` of an unknown inbox 404s.

Seed with ``add(raw, inbox="git")`` or ``add_mbox``.
Misbehaviour and the request log: :class:`tests.fakes.faults.Faults`.
"""

from __future__ import annotations

import email.utils
import gzip
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot.adapters.archives import read_messages
from tests.fakes.faults import Faults
from tests.fakes.server import LoopbackHTTP

_DATE = re.compile(rb"^Date:[ \t]*(.*)$", re.I | re.M)
_DROPPED = re.compile(rb"^(Lines|Bytes|Content-Length|Status):.*\n", re.I | re.M)
_RANGE = re.compile(r"d:(\d{4}-?\d{2}-?\d{2})\.\.(\d{4}-?\d{2}-?\d{2})")


class FakePublicInbox(LoopbackHTTP):
    def __init__(self) -> None:
        super().__init__()
        self.faults = Faults()
        self._mail: dict[str, list[tuple[datetime, bytes]]] = {}

    @property
    def requests(self) -> list[str]:
        return self.faults.paths()

    def add(self, raw: bytes, inbox: str) -> None:
        match = _DATE.search(raw.split(b"\n\n", 1)[0])
        date = (
            email.utils.parsedate_to_datetime(match[1].decode()).astimezone(UTC)
            if match
            else (datetime(1970, 1, 1, tzinfo=UTC))
        )
        self._mail.setdefault(inbox, []).append((date, raw))

    def add_mbox(self, path: Path, inbox: str) -> None:
        for message in read_messages(path):
            self.add(message.raw, inbox)

    def _application(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{inbox}/", self._route)
        return app

    async def _route(self, request: web.Request) -> web.StreamResponse:
        async with self._busy():
            return await self.faults.serve(request, self._answer)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        inbox = request.match_info["inbox"]
        if inbox not in self._mail:
            return web.Response(status=404, text="404 Not Found\n")
        query = request.query.get("q")
        if request.method != "POST" or query is None or request.query.get("x") != "m":
            return web.Response(text="<html>search page</html>", content_type="text/html")
        chosen = self._search(inbox, query)
        if not chosen:
            return web.Response(status=404, text="No results found\n")
        body = b"".join(_mboxrd(raw) for _, raw in sorted(chosen, key=lambda m: m[0], reverse=True))
        return web.Response(
            body=gzip.compress(body),
            headers={
                "Content-Type": "application/gzip",
                "Content-Disposition": f"inline; filename=results-{query}.mbox.gz",
            },
        )

    def _search(self, inbox: str, query: str) -> list[tuple[datetime, bytes]]:
        match = _RANGE.search(query)
        if match is None:
            return list(self._mail[inbox])
        start = _day(match[1])
        end = _day(match[2]) + timedelta(days=1)
        return [(d, raw) for d, raw in self._mail[inbox] if start <= d < end]


def _mboxrd(raw: bytes) -> bytes:
    head, _, body = raw.partition(b"\n\n")
    head = _DROPPED.sub(b"", head + b"\n")
    body = re.sub(rb"^(>*From )", rb">\1", body, flags=re.M)
    return b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + head + b"\n" + body + b"\n"


def _day(text: str) -> datetime:
    return datetime.strptime(text.replace("-", ""), "%Y%m%d").replace(tzinfo=UTC)
