"""List archives on the web, read a month at a time: Pony Mail Foal, HyperKitty, public-inbox.

Each client only speaks its archive's HTTP API and hands back a month as mbox
bytes, with the archive's own id and permalink of each mail where it has one.
What to fetch, storing and resuming is ``bot.sync.archives``'s job.

**Pony Mail Foal** (lists.apache.org): ``server/endpoints/stats.py`` and
``mbox.py``, reached as ``/api/<endpoint>.lua`` with query parameters.

- ``GET /api/stats.lua?list=dev&domain=tvm.apache.org&d=2022-01&emailsOnly`` →
  JSON ``{"hits", "emails": [{"id", "mid", "message-id", "epoch", ...}], ...}``
  (``emailsOnly`` drops the thread structure; at most ``max_hits``, 15,000, mails);
- ``... &since=EPOCH&quick`` → ``{"changed": false}`` when no mail of the month is
  newer than EPOCH (our cheap "anything new?");
- ``... &quick`` without a month → ``firstYear``/``firstMonth``: where the list starts;
- ``GET /api/mbox.lua?list=dev&domain=tvm.apache.org&d=2022-01`` → the month as
  mboxrd (``application/mbox``), oldest first, each mail's stored source.

A mail's permalink is ``/thread/<mid>``.

**HyperKitty** (Mailman 3): ``hyperkitty/views/mlist.py`` ``export_mbox`` and
``hyperkitty/api/mailinglist.py``.

- ``GET <root>/list/<list>/export/<name>.mbox.gz?start=YYYY-MM-DD&end=YYYY-MM-DD``
  → gzip of an mbox of mails dated ``start <= date < end``, ordered by archival;
  each mail is *rewritten* from HyperKitty's database (``Email.as_message``:
  From, To, Subject, Date, Message-ID, In-Reply-To, a multipart/mixed body), so
  its bytes are not those the list sent;
- ``GET <root>/api/list/<list>/`` → JSON with ``created_at``: where to start.

A mail's permalink is ``<root>/list/<list>/message/<hash>/``, the hash being
base32(SHA-1(Message-ID)).

**public-inbox** (lore.kernel.org): ``lib/PublicInbox/WWW.pm``, ``SearchView.pm``
``mbox_results`` and ``Mbox.pm`` ``mbox_all``.

- ``POST <inbox>/?q=d:YYYYMMDD..YYYYMMDD&x=m`` → gzip of an mboxrd of every match
  (newest first; ``From mboxrd@z Thu Jan  1 00:00:00 1970`` lines), the stored
  bytes of each mail; ``404 No results found`` for an empty month.

A mail's permalink is ``<inbox>/<Message-ID>/``.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from bot.adapters.http_fetch import Answer, FetchFailed, HttpFetcher
from bot.core.sources import (
    PONYMAIL_URL,
    ArchiveId,
    ListAddress,
    Month,
    bare_id,
    hyperkitty_hash,
)


@dataclass(frozen=True, slots=True)
class MonthArchive:
    """One month of an archive: its mail as an mbox, and the ids the archive gave them."""

    mbox: bytes
    ids: tuple[ArchiveId, ...] = ()
    # The source's "anything new since" value for this month (Pony Mail: newest epoch).
    marker: str | None = None


class ArchiveSource(Protocol):
    """What ``bot.sync.archives`` needs of an archive."""

    @property
    def key(self) -> str:
        """The name its fetch state is stored under."""

    @property
    def label(self) -> str:
        """How messages name it."""

    @property
    def authoritative(self) -> bool:
        """Whether it keeps one mail per Message-ID (see Store.copies_from)."""

    async def first_month(self) -> Month | None: ...

    async def unchanged(self, month: Month, marker: str) -> bool: ...

    async def fetch_month(self, month: Month) -> MonthArchive: ...

    def archive_id(self, message_id: str) -> ArchiveId | None:
        """The mail's id and permalink, when they follow from its Message-ID alone."""


class PonyMail:
    """A list on a Pony Mail Foal site (lists.apache.org or self-hosted)."""

    # It keeps two mails that share a Message-ID as two (with two ids).
    authoritative = False

    def __init__(self, http: HttpFetcher, address: ListAddress, base_url: str = PONYMAIL_URL):
        self.http = http
        self.address = address
        self.base_url = base_url.rstrip("/")
        self.key = f"ponymail:{self.base_url}:{address}"
        self.label = f"Pony Mail {address}"

    def _params(self, **extra: str) -> dict[str, str]:
        return {"list": self.address.local, "domain": self.address.domain, **extra}

    def _hints(self) -> dict[int, str]:
        return {
            404: f"no such list or archive: is {self.address} archived at {self.base_url}?",
            403: f"{self.address} is private on {self.base_url}; only public lists can be fetched",
        }

    async def _stats(self, what: str, **params: str) -> dict[str, Any]:
        answer = await self.http.request(
            "GET",
            f"{self.base_url}/api/stats.lua",
            params=self._params(**params),
            what=what,
            hints=self._hints(),
        )
        return _json_object(answer, what, f"is {self.base_url} a Pony Mail Foal site?")

    async def first_month(self) -> Month | None:
        stats = await self._stats(f"{self.label}, first month", quick="")
        year, month = stats.get("firstYear"), stats.get("firstMonth")
        if isinstance(year, int) and isinstance(month, int) and 1 <= month <= 12:
            return Month(year, month)
        return None

    async def unchanged(self, month: Month, marker: str) -> bool:
        stats = await self._stats(f"{self.label}, {month}", d=str(month), since=marker, quick="")
        return stats.get("changed") is False

    async def fetch_month(self, month: Month) -> MonthArchive:
        what = f"{self.label}, {month}"
        stats = await self._stats(what, d=str(month), emailsOnly="")
        emails = [e for e in stats.get("emails") or () if isinstance(e, dict)]
        if not emails and not stats.get("hits"):
            return MonthArchive(b"")  # nothing that month: no mbox to ask for
        answer = await self.http.request(
            "GET",
            f"{self.base_url}/api/mbox.lua",
            params=self._params(d=str(month)),
            what=what,
            hints=self._hints(),
        )
        ids = tuple(self._archive_id(e) for e in emails if _text(e.get("message-id")))
        epochs = [e["epoch"] for e in emails if isinstance(e.get("epoch"), int)]
        marker = str(max(epochs)) if epochs else None
        return MonthArchive(answer.body, tuple(i for i in ids if i is not None), marker)

    def _archive_id(self, email: dict[str, Any]) -> ArchiveId | None:
        mid = _text(email.get("mid")) or _text(email.get("id"))
        message_id = _text(email.get("message-id"))
        if not mid or not message_id:
            return None
        return ArchiveId(mid, f"<{bare_id(message_id)}>", f"{self.base_url}/thread/{mid}")

    def archive_id(self, message_id: str) -> ArchiveId | None:
        return None  # Pony Mail's ids come with each month (fetch_month)


class HyperKitty:
    """A list archived by Mailman 3's HyperKitty, at its root URL (…/archives, …/hyperkitty)."""

    # Its database keeps one mail per Message-ID and list.
    authoritative = True

    def __init__(self, http: HttpFetcher, address: ListAddress, root_url: str):
        self.http = http
        self.address = address
        self.root = root_url.rstrip("/")
        self.key = f"hyperkitty:{self.root}:{address}"
        self.label = f"HyperKitty {address}"

    def _hints(self) -> dict[int, str]:
        return {
            404: f"no list {self.address} at {self.root}: check the HyperKitty root URL"
            " (it ends in /archives or /hyperkitty) and the list address",
            403: f"{self.address} is private on {self.root}; only public archives can be fetched",
        }

    async def first_month(self) -> Month | None:
        what = f"{self.label}, first month"
        answer = await self.http.request(
            "GET",
            f"{self.root}/api/list/{self.address}/",
            params={"format": "json"},
            what=what,
            hints=self._hints(),
        )
        created = _text(
            _json_object(answer, what, "is this a HyperKitty root URL?").get("created_at")
        )
        try:
            return Month.of(datetime.fromisoformat(created.replace("Z", "+00:00")))
        except ValueError:
            return None

    async def unchanged(self, month: Month, marker: str) -> bool:
        return False  # HyperKitty has no cheap "anything new?": fetch the month again

    async def fetch_month(self, month: Month) -> MonthArchive:
        what = f"{self.label}, {month}"
        end = month.next()
        answer = await self.http.request(
            "GET",
            f"{self.root}/list/{self.address}/export/{self.address.local}-{month}.mbox.gz",
            params={"start": f"{month}-01", "end": f"{end}-01"},
            what=what,
            hints=self._hints(),
        )
        return MonthArchive(_gunzip(answer, what))

    def archive_id(self, message_id: str) -> ArchiveId | None:
        digest = hyperkitty_hash(message_id)
        return ArchiveId(digest, message_id, f"{self.root}/list/{self.address}/message/{digest}/")


class PublicInbox:
    """A public-inbox archive (lore.kernel.org style), by the inbox URL."""

    # It keeps every mail it was sent, duplicates of a Message-ID included.
    authoritative = False

    def __init__(self, http: HttpFetcher, inbox_url: str):
        self.http = http
        self.inbox = inbox_url.rstrip("/")
        self.key = f"public-inbox:{self.inbox}"
        self.label = f"public-inbox {self.inbox}"

    async def first_month(self) -> Month | None:
        return None  # public-inbox has no index of months: the user names the first

    async def unchanged(self, month: Month, marker: str) -> bool:
        return False

    async def fetch_month(self, month: Month) -> MonthArchive:
        what = f"{self.label}, {month}"
        # The end day is included or not depending on the server's date parser; asking
        # for it too costs a few duplicates, which the store recognises, and loses nothing.
        query = f"d:{month.start():%Y%m%d}..{month.end():%Y%m%d}"
        answer = await self.http.request(
            "POST",
            f"{self.inbox}/",
            params={"q": query, "x": "m"},
            data=b"",
            accept=frozenset({200, 404}),
            what=what,
            hints={404: f"no inbox at {self.inbox}: check the URL"},
        )
        if answer.status == 404:
            if b"No results" in answer.body:
                return MonthArchive(b"")
            raise FetchFailed(f"{what}: HTTP 404: no inbox at {self.inbox}: check the URL", 404)
        return MonthArchive(_gunzip(answer, what))

    def archive_id(self, message_id: str) -> ArchiveId | None:
        bare = bare_id(message_id)
        return ArchiveId(bare, message_id, f"{self.inbox}/{quote(bare, safe='@!$&()*+,;=:~._-')}/")


def _gunzip(answer: Answer, what: str) -> bytes:
    if not answer.body:
        return b""
    try:
        return gzip.decompress(answer.body) if answer.body[:2] == b"\x1f\x8b" else answer.body
    except (OSError, EOFError, zlib.error):
        raise FetchFailed(
            f"{what}: the answer is not a whole gzip file (cut off?); run the command again"
        ) from None


def _json_object(answer: Answer, what: str, check: str) -> dict[str, Any]:
    try:
        parsed = json.loads(answer.body)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise FetchFailed(f"{what}: {answer.url} answered something that is not JSON; {check}")
    return parsed


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
