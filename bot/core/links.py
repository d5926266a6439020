"""Links people can click: where a post can be read, and how to name it when nothing links it.

Every message, page and CLI line that names a post links it, in this order:

1. the post's own URL: a GitHub comment mirrored to the list (the URL is in the
   mail's footer), a Discourse post, or the permalink of a mail Quorum fetched
   from an archive (Pony Mail's permalinks are its own hashes, known only then);
2. the list archive (``project.archive_url``), by the mail's Message-ID:

   - ``template``: a URL with ``{message_id}`` in it (without ``<>``, URL-quoted);
   - ``public-inbox`` (lore.kernel.org and the like): ``<inbox>/<Message-ID>/``;
   - ``mail-archive`` (www.mail-archive.com): its Message-ID lookup,
     ``/search?l=mid&q=<Message-ID>``;
   - ``hyperkitty`` (Mailman 3): ``<list>/message/<hash>/``, the hash being
     base32(SHA-1(Message-ID)), as HyperKitty computes it;
   - ``ponymail`` (lists.apache.org): its thread view, which looks a Message-ID
     up when it is not one of its permalinks (``/thread/<Message-ID>``);

3. a mail without a Message-ID: the archive's search for its subject and day,
   where the archive has one;
4. nothing known: the post is named by its Message-ID, or, without one, by who
   wrote it when and its subject. Never by Quorum's internal content-hash key.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.core.sources import hyperkitty_hash


class ArchiveKind(StrEnum):
    NONE = "none"
    TEMPLATE = "template"
    PUBLIC_INBOX = "public-inbox"
    MAIL_ARCHIVE = "mail-archive"
    HYPERKITTY = "hyperkitty"
    PONYMAIL = "ponymail"


# What `project.archive` accepts: a kind, or "auto" (read from the URL).
ARCHIVE_CHOICES = ("auto", *(kind.value for kind in ArchiveKind if kind is not ArchiveKind.NONE))
MAIL_ARCHIVE_ORIGIN = "https://www.mail-archive.com"


class Linkable(Protocol):
    """What naming a post needs: a PostLink, a Post, a concern reference."""

    @property
    def url(self) -> str | None: ...
    @property
    def message_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class PostRef:
    """A post known only by what links it (a concern's post, a vote thread)."""

    url: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Archive:
    """The list archive, as ``[project]`` describes it."""

    kind: ArchiveKind = ArchiveKind.NONE
    url: str = ""
    list_address: str = ""
    # Set when archive_url was given but names no archive Quorum can link into.
    unknown: str = ""

    @classmethod
    def of(cls, url: str, kind: str = "auto", list_address: str = "") -> Archive:
        url = url.strip()
        if not url:
            return cls(list_address=list_address)
        chosen = detect(url) if kind == "auto" else ArchiveKind(kind)
        if chosen is ArchiveKind.NONE:
            return cls(list_address=list_address, unknown=url)
        base = url if chosen is ArchiveKind.TEMPLATE else url.rstrip("/")
        return cls(chosen, base, list_address)

    def message_url(self, message_id: str | None) -> str | None:
        """The archive's page for the mail with this Message-ID, if the archive has one."""
        if not message_id or self.kind is ArchiveKind.NONE:
            return None
        bare = message_id.strip().strip("<>")
        if not bare:
            return None
        match self.kind:
            case ArchiveKind.TEMPLATE:
                if "{message_id}" not in self.url:
                    return None
                return self.url.replace("{message_id}", quote(bare, safe="@"))
            case ArchiveKind.PUBLIC_INBOX:
                return f"{self.url}/{quote(bare, safe='@')}/"
            case ArchiveKind.MAIL_ARCHIVE:
                origin = _origin(self.url, MAIL_ARCHIVE_ORIGIN)
                return f"{origin}/search?l=mid&q={quote(bare, safe='')}"
            case ArchiveKind.HYPERKITTY:
                return f"{self._hyperkitty_list()}/message/{hyperkitty_hash(bare)}/"
            case ArchiveKind.PONYMAIL:
                return f"{_origin(self.url, self.url)}/thread/{quote(f'<{bare}>', safe='@')}"
        return None

    def search_url(self, subject: str, at: datetime) -> str | None:
        """Where the archive finds a mail by subject and day (a mail without a Message-ID)."""
        words = " ".join(subject.split())
        if not words:
            return None
        match self.kind:
            case ArchiveKind.PUBLIC_INBOX:
                query = f's:"{words}" d:{at:%Y%m%d}..{at + timedelta(days=1):%Y%m%d}'
                return f"{self.url}/?q={quote_plus(query)}"
            case ArchiveKind.MAIL_ARCHIVE if self.list_address:
                query = quote_plus(f'subject:"{words}"')
                origin = _origin(self.url, MAIL_ARCHIVE_ORIGIN)
                return f"{origin}/search?l={quote(self.list_address, safe='@')}&q={query}"
            case ArchiveKind.HYPERKITTY:
                return f"{self._hyperkitty_list()}/search?q={quote_plus(words)}"
            case ArchiveKind.PONYMAIL if self.list_address:
                month = f"{at.year}-{at.month}"
                target = f"{self.list_address}:{month}:{words}"
                return f"{_origin(self.url, self.url)}/list?{quote(target, safe='@:')}"
        return None

    def problem(self) -> str | None:
        """Why no archive link can be made, for `quorum check-config` (None: links work)."""
        if self.unknown:
            return (
                f"project.archive_url {self.unknown!r} has no {{message_id}} and is no archive"
                " Quorum knows: set project.archive to one of public-inbox, mail-archive,"
                " hyperkitty or ponymail (or put {message_id} where the Message-ID goes)"
            )
        if self.kind is ArchiveKind.NONE:
            return (
                "project.archive_url is empty: list mail that has no link of its own is named"
                " by its Message-ID, not linked (README: Links)"
            )
        if self.kind is ArchiveKind.TEMPLATE and "{message_id}" not in self.url:
            return f"project.archive_url {self.url!r} has no {{message_id}} to replace"
        if self.kind is ArchiveKind.HYPERKITTY and "/list/" not in self.url:
            return (
                f"project.archive_url {self.url!r}: a HyperKitty archive is linked by its list,"
                " e.g. https://mail.example.org/archives/list/dev@example.org"
            )
        return None

    def _hyperkitty_list(self) -> str:
        if "/list/" in self.url or not self.list_address:
            return self.url
        return f"{self.url}/list/{self.list_address}"


def detect(url: str) -> ArchiveKind:
    """The archive a URL names, from its form: what `project.archive = "auto"` means."""
    if "{message_id}" in url:
        return ArchiveKind.TEMPLATE
    match = _URL.match(url)
    host = match["host"].lower() if match else ""
    path = match["path"].lower() if match else url.lower()
    if host == "lists.apache.org" or "ponymail" in host:
        return ArchiveKind.PONYMAIL
    if host.endswith("mail-archive.com"):
        return ArchiveKind.MAIL_ARCHIVE
    if "/hyperkitty" in path or "/archives/list/" in path:
        return ArchiveKind.HYPERKITTY
    if host in {"lore.kernel.org", "public-inbox.org", "yhetil.org", "inbox.sourceware.org"}:
        return ArchiveKind.PUBLIC_INBOX
    return ArchiveKind.NONE


def _origin(url: str, fallback: str) -> str:
    """``https://host`` of a URL (of ``fallback`` when the URL has none)."""
    for candidate in (url, fallback):
        match = _URL.match(candidate)
        if match:
            return f"{match['scheme']}://{match['host']}"
    return fallback


# The core reads no urllib (tests/test_architecture.py): URLs are taken apart and
# quoted here, the way urllib.parse does for the few cases links need.
_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[^/?#\s]+)(?P<path>[^?#\s]*)", re.I)
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str, safe: str = "/") -> str:
    """Percent-encode ``text`` as UTF-8, keeping unreserved characters and ``safe``."""
    keep = _UNRESERVED | frozenset(safe)
    return "".join(
        chr(byte) if chr(byte) in keep else f"%{byte:02X}" for byte in text.encode("utf-8")
    )


def quote_plus(text: str) -> str:
    """As :func:`quote` for a query value, spaces as ``+``."""
    return "+".join(quote(part, safe="") for part in text.split(" "))


# --------------------------------------------------------------------------
# One post
# --------------------------------------------------------------------------


def link_for(
    post: Linkable, archive: Archive, *, subject: str = "", at: datetime | None = None
) -> str | None:
    """The URL that shows ``post`` to a person, or None when none can be made."""
    if post.url:
        return post.url
    found = archive.message_url(post.message_id)
    if found is None and not post.message_id and at is not None:
        found = archive.search_url(subject, at)
    return found


def shown_message_id(message_id: str | None) -> str | None:
    """A Message-ID as people write it (``<a@b>``), or None."""
    if not message_id:
        return None
    bare = message_id.strip().strip("<>")
    return f"<{bare}>" if bare else None


def message_id_of_key(key: str) -> str | None:
    """The Message-ID a mail's store key is (``<a@b>``), or None for other keys."""
    return key if key.startswith("<") and key.endswith(">") else None


def reference(
    post: Linkable,
    archive: Archive,
    *,
    author: str = "",
    subject: str = "",
    at: datetime | None = None,
) -> str:
    """How a line names a post: its link; else its Message-ID; else who wrote what when.

    Never Quorum's internal key: a mail without a Message-ID reads "Frank's mail of
    2026-11-15 (no Message-ID)".
    """
    found = link_for(post, archive, subject=subject, at=at)
    if found:
        return found
    shown = shown_message_id(post.message_id)
    if shown:
        return f"Message-ID {shown}"
    who = f"{author}'s mail" if author else "a mail"
    when = f" of {at:%Y-%m-%d}" if at is not None else ""
    return f"{who}{when} (it has no Message-ID)"
