"""Raw mail bytes to a :class:`~bot.model.Post`, whatever state the mail is in.

Real archives hold mail with undeclared and wrong charsets, missing or
duplicated Message-IDs, unparseable dates and HTML-only bodies. The rule here
is that nothing is dropped: every repair is recorded as a :class:`Defect` on
the post, and the post is kept.

We parse with the ``compat32`` policy on purpose: it is several times faster
than ``policy.default`` on real list mail and never raises on bad headers, and
we decode headers ourselves so every fallback is explicit and recorded.

Most list mail has plain ASCII headers and one text/plain part, or a flat
multipart with one, and for that even ``compat32`` does far more than we need
(it builds a message object per header of a long relay chain, and feeds every
line of every part through its parser). :func:`parse_mail` reads such mail with
a small parser of its own (:func:`_parse_fast`) that accepts only what it reads
exactly as ``compat32`` would: header fields, simple Content-Type parameters,
boundaries. Anything else goes to ``compat32``: the whole message when the
headers are odd (8-bit, bare CR, malformed lines), only the body when the body
is (base64, a lone HTML part, nested parts). Both paths feed the same code that
builds the Post, and ``tests/test_mail_differential.py`` checks that they agree
on every message of the real corpus.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.utils
import hashlib
import quopri
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

from bot.core.text import extract_mentions, html_to_text, split_body
from bot.model import Defect, Person, Post, Source

# Kept with a post's headers when a list or forum relayed it from its own address: the
# relay, and where the author's address came from (bot.core.people reads it).
HEADER_RELAYED_BY = "X-Quorum-Relayed-By"

MAX_MIME_PARTS = 200
# Bounded work per message. A header field longer than this is cut to its first and
# last halves (real MTAs cap the whole header block lower: Postfix at 100 KB), so no
# step of reading a message scans megabytes in one go; and at most this many References
# are kept, the first (the thread's root) and the latest, as RFC 5322 §3.6.4 suggests
# for trimming them. Real threads stay far below both (16 References at most in the corpus).
MAX_HEADER_FIELD_BYTES = 32 * 1024
MAX_REFERENCES = 50
# The readable text kept (and read for votes, concerns and commands) is cut here; the
# raw message is kept whole. A discussion mail is a few KB; a pasted log rarely 100 KB.
MAX_TEXT_CHARS = 512 * 1024
_FALLBACK_CHARSETS = ("utf-8", "cp1252")
_ID_TOKEN = re.compile(r"<([^<>\s]+)>")
_GITHUB_ID = re.compile(
    r"^<?(?P<repo>[\w.-]+/[\w.-]+)/(?P<kind>issues|pull|repo-discussions)/(?P<number>\d+)(?:/[^@>]*)?"
    r"@github\.com>?$"
)
_GITHUB_URL = re.compile(
    r"https://github\.com/(?P<repo>[\w.-]+/[\w.-]+)/(?P<kind>issues|pull)/(?P<number>\d+)"
)
# ASF's GitBox relays GitHub activity from a shared address (GITBOX_RELAYS), as "[GitHub]
# login verb ..." or "[GitHub] [repo] login verb ..." (its default subjects until 2023), and
# since then as "[PR] title (repo)", "Re: [I] title (repo)" with the login as the display
# name: "login (via GitHub)" <git@apache.org>.
GITBOX_RELAYS = frozenset({"git@git.apache.org", "git@apache.org", "gitbox@apache.org"})
_GITBOX_SUBJECT = re.compile(
    r"^\s*\[GitHub\]\s+(?:\[[\w.-]+\]\s+)?(?P<login>[\w-]+(?:\[bot\])?)\s", re.IGNORECASE
)
_VIA_GITHUB = re.compile(r"^\s*(?P<login>[\w-]+(?:\[bot\])?)\s+\(via GitHub\)\s*$", re.IGNORECASE)
_RELAY_NAMES = frozenset({"gitbox", "github", "asf github bot", "git", ""})
_MBOX_FROM_DATE = re.compile(
    r"(?P<date>(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}\s+\d{4})"
)
# How compat32 (surrogateescape) carries a raw 8-bit byte in a str.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_OBFUSCATED_ADDRESS = re.compile(r"^(\S+) at (\S+)")
# An address inside a display name ("Alice <alice@example.org>" encoded as one word).
_ADDRESS_IN_TEXT = re.compile(r"[^\s<>@\"]+@[^\s<>@\"]+")
# One RFC 2047 encoded word, and the blanks between two of them (which do not count).
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_BETWEEN_ENCODED_WORDS = re.compile(r"(?<=\?=)[ \t\n]+(?==\?)")
# Where a header field starts: a line break not followed by a continuation's blank.
_FIELD_START = re.compile(rb"\n(?![ \t])")
_LOOP_HEADERS = (
    "X-Loop",
    "Precedence",
    "Return-Path",
    "X-GitHub-Reason",
    "X-Mailer",
    "Content-Type",
    # Vacation responders that set neither Auto-Submitted nor Precedence mark themselves so.
    "X-Autoreply",
    "X-Autorespond",
)
# What deciding who sent a message needs (bot.core.people): the GitHub login of a
# mirrored comment, and the evidence that mail came through the list. Received and
# Authentication-Results repeat; the topmost ones (written by our own servers) matter.
_IDENTITY_HEADERS = ("X-GitHub-Sender",)
_TRACE_HEADERS = ("Received", "Authentication-Results")
_TRACE_KEEP = 5
_TRACE_MAX_CHARS = 500

# A list or forum that sends every post from its own address names the author in the
# display name: "Bob Baker via dev <dev@lists.example.org>" (Mailman's and Google Groups'
# DMARC rewrite), "Bob Baker via Example Forum <forum@...>" (Discourse's mailing-list
# mode), "'Bob' via golang-dev <golang-dev@googlegroups.com>".
_RELAYED_NAME = re.compile(
    r"^\s*['\"]?(?P<name>.+?)['\"]?\s+via\s+(?P<relay>\S.*?)\s*$", re.IGNORECASE
)
# A code-review forge sends every comment from its own address, naming the reviewer:
# Gerrit as "Lukas Brandt (Code Review)" <gerrit@...>, GitLab as "Oskar Lindqvist
# (@olindqvist)" <gitlab@...>. Read so only where the forge's own headers say it sent it.
_FORGE_NAME = re.compile(
    r"^\s*['\"]?(?P<name>.+?)['\"]?\s+\((?:code\s+review|@[\w.-]+)\)\s*$", re.IGNORECASE
)
_FORGE_HEADERS = ("X-Gerrit-MessageType", "X-GitLab-Project")
# groups.io writes the author's address into its own: "bob=example.com@groups.io".
_ENCODED_SENDER = re.compile(r"^(?P<user>[^=@\s]+)=(?P<domain>[\w-]+(?:\.[\w-]+)+)@[^@\s]+$")
# A reply-by-email address of a forum is the topic's, never the author's.
_REPLY_KEY = re.compile(r"^(?:reply|replies)\+", re.IGNORECASE)

# What the fast path reads itself (see _parse_fast): header fields, "name:value" lines
# with their continuation lines, named as compat32's feedparser accepts them ...
_HEADER_FIELD = re.compile(r"([!-9;-~]+):(.*\n(?:[ \t].*\n)*)")
# ... and Content-Types with plain parameters: no RFC 2231, escapes, comments or quoted
# separators, so compat32's parameter parsing comes down to this (values unquoted).
_SIMPLE_CONTENT_TYPE = re.compile(
    r"[ \t\n]*([a-z0-9.+-]+/[a-z0-9.+-]+)[ \t\n]*"
    r"(?:;[ \t\n]*[a-z][a-z0-9-]*[ \t\n]*=[ \t\n]*"
    r"(?:[\w'()+,./:=?-]+|\"[\w'()+,./:=?-]+\")[ \t\n]*)*"
    r";?[ \t\n]*",
    re.IGNORECASE | re.ASCII,
)
_CONTENT_TYPE_PARAM = re.compile(
    r";[ \t\n]*([a-z][a-z0-9-]*)[ \t\n]*=[ \t\n]*\"?([\w'()+,./:=?-]+)", re.IGNORECASE | re.ASCII
)
# Transfer encodings whose payload compat32 hands over as the bytes themselves.
_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})
# The only ones compat32 accepts on a multipart without recording a defect.
_MULTIPART_ENCODINGS = frozenset({"7bit", "8bit", "binary"})


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the transport knew about a message besides its bytes."""

    arrived_at: datetime
    mbox_from_line: str | None = None
    # "smtp" or "archive": what the transport vouches for depends on it (bot.core.people).
    via: str = ""


def normalise_message_id(value: str | None) -> tuple[str | None, tuple[Defect, ...]]:
    """The first ``<...>`` token of a Message-ID header, with what had to be trimmed."""
    if value is None or not value.strip():
        return None, (Defect("missing-message-id", "no Message-ID header or an empty one"),)
    cleaned = value.strip()
    token = _ID_TOKEN.search(cleaned)
    if token is None:
        bare = cleaned.split()[0].strip("<>")
        return f"<{bare}>", (Defect("malformed-message-id", f"no angle brackets: {cleaned!r}"),)
    normalised = f"<{token.group(1)}>"
    if cleaned != normalised:
        return normalised, (Defect("message-id-junk", f"trimmed {cleaned!r}"),)
    return normalised, ()


def content_key(raw: bytes) -> str:
    """A stable key for a message that has no usable Message-ID of its own."""
    return "sha256:" + hashlib.sha256(_canonical_bytes(raw)).hexdigest()


def body_hash(raw: bytes) -> str:
    """Hash of the body alone: the same message relayed twice differs only in its headers."""
    return _body_hash(_canonical_bytes(raw))


def _body_hash(canonical: bytes) -> str:
    _, _, body = canonical.partition(b"\n\n")
    return hashlib.sha256(body).hexdigest()


def _canonical_bytes(raw: bytes) -> bytes:
    # SMTP delivers CRLF, archives store LF: the same message must hash the same.
    # (Looking for a CR first is much cheaper than a replace() that finds nothing.)
    return raw.replace(b"\r\n", b"\n") if b"\r" in raw else raw


class _Headers(Protocol):
    """The header access Post building needs, as compat32 answers it (values as str)."""

    def get(self, name: str) -> str | None: ...

    def get_all(self, name: str) -> list[str]: ...


class _MessageHeaders:
    """A compat32 message's headers as sent: 8-bit bytes surrogate-escaped, not replaced.

    ``Message.get`` would turn a raw UTF-8 header (8BITMIME mail) into U+FFFD
    characters; the raw values keep the bytes, and :func:`decode_header_value`
    reads them as UTF-8 (RFC 6532), or records the charset it had to guess.
    """

    def __init__(self, message: Message) -> None:
        self._items = [(name.lower(), str(value)) for name, value in message.raw_items()]

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for field, value in self._items if field == wanted), None)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for field, value in self._items if field == wanted]


class _FieldHeaders:
    """Header fields read by :func:`_read_simple_headers`, answering as compat32 would.

    compat32 keeps a field's continuation lines and drops the blanks after the
    colon and the final line break; the first of repeated fields wins ``get``.
    """

    def __init__(self, names: list[str], values: list[str]) -> None:
        # Each name lower-cased once, here: get_all used to lower every name of the
        # block on every call, and list mail has dozens of fields (Received chains).
        self._lowered = [name.lower() for name in names]
        self._values = values
        # Built from the last field to the first, so the first occurrence wins.
        self._first = dict(zip(reversed(self._lowered), reversed(values), strict=True))

    def get(self, name: str) -> str | None:
        value = self._first.get(name.lower())
        # _field_value(value), inline: asked about 20 times a message.
        return None if value is None else value.lstrip(" \t").rstrip("\r\n")

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        if wanted not in self._first:
            return []  # the common answer, without a walk over the fields
        return [
            _field_value(value)
            for field, value in zip(self._lowered, self._values, strict=True)
            if field == wanted
        ]


def _field_value(source: str) -> str:
    # compat32's header_source_parse; the source starts after the colon.
    return source.lstrip(" \t").rstrip("\r\n")


def parse_mail(raw: bytes, envelope: Envelope) -> Post:
    """Normalise one message. Never raises on bad input; records defects instead."""
    canonical, trimmed = bound_header_fields(_canonical_bytes(raw))
    post = _parse(raw, canonical, envelope)
    return replace(post, defects=(*trimmed, *post.defects)) if trimmed else post


def _parse(raw: bytes, canonical: bytes, envelope: Envelope) -> Post:
    try:
        return _parse_fast(raw, canonical, envelope) or _parse_compat32(raw, canonical, envelope)
    except RecursionError:
        # compat32 recurses once per MIME level; about a thousand levels exhaust the
        # stack. Keep the message by its headers and say why its text is missing.
        head = canonical.partition(b"\n\n")[0] + b"\n\n"
        post = _parse_compat32(raw, head, envelope)
        too_deep = Defect("mime-too-deep", "MIME nested too deeply to read; headers kept")
        return replace(
            post, text="", quoted=(), quote_at=(), mentions=(), defects=(*post.defects, too_deep)
        )


def bound_header_fields(canonical: bytes) -> tuple[bytes, tuple[Defect, ...]]:
    """The message with every header field cut to MAX_HEADER_FIELD_BYTES, and what was cut.

    A field over the limit keeps its first and last halves, cut at blanks and
    joined by a fold, so it is still one valid field (800,000 References ids
    keep their first and last few thousand). Only the header block is looked at,
    and only when it is longer than one field may be: ordinary mail costs a find.
    """
    end = canonical.find(b"\n\n")
    block_end = len(canonical) if end < 0 else end + 1
    if block_end <= MAX_HEADER_FIELD_BYTES:
        return canonical, ()
    starts = [0, *(match.end() for match in _FIELD_START.finditer(canonical, 0, block_end))]
    if starts[-1] != block_end:
        starts.append(block_end)
    pieces: list[bytes] = []
    defects: list[Defect] = []
    for start, stop in pairwise(starts):
        field = canonical[start:stop]
        if len(field) > MAX_HEADER_FIELD_BYTES:
            field = _cut_field(field)
            name = field.partition(b":")[0][:80].decode("ascii", "replace")
            defects.append(
                Defect("header-trimmed", f"{name}: {stop - start:,} bytes; kept the first and last")
            )
        pieces.append(field)
    if not defects:
        return canonical, ()
    return b"".join(pieces) + canonical[block_end:], tuple(defects)


def _cut_field(field: bytes) -> bytes:
    """A field's first and last halves of MAX_HEADER_FIELD_BYTES, joined by a fold.

    Each half is cut between tokens where it can be (at a blank, after a ">" or
    before a "<"), so no Message-ID is cut in two.
    """
    half = MAX_HEADER_FIELD_BYTES // 2
    head, tail = field[:half], field[-half:]
    end = max(head.rfind(b" "), head.rfind(b"\t"), head.rfind(b"\n"), head.rfind(b">") + 1)
    if end > head.find(b":"):
        head = head[:end]
    starts = [tail.find(token) for token in (b" ", b"\t", b"\n", b"<")]
    start = min((at for at in starts if at >= 0), default=0)
    return head.rstrip() + b"\n " + tail[start:].lstrip()


def unparseable_post(raw: bytes, envelope: Envelope, error: BaseException) -> Post:
    """A message the normaliser failed on (a bug): kept by its bytes, never dropped."""
    return Post(
        source=Source.MAIL,
        key=content_key(raw),
        message_id=None,
        thread_key="",
        author=Person(name="", address=""),
        created_at=envelope.arrived_at,
        subject="",
        text="",
        body_hash=body_hash(raw),
        defects=(Defect("unparseable", f"{type(error).__name__}: {str(error)[:200]}"),),
        via=envelope.via,
    )


def _parse_fast(raw: bytes, canonical: bytes, envelope: Envelope) -> Post | None:
    """The fast path: None when the header block needs compat32 (see the module doc)."""
    simple = _read_simple_headers(canonical)
    if simple is None:
        return None
    headers, payload = simple
    read_body = _body_reader(headers, payload)
    if read_body is not None:
        return _build_post(raw, canonical, envelope, headers, read_body, [])
    # Anything else (base64, HTML, nested parts ...): compat32 parses the body alone,
    # under the only headers that decide how it reads one. The header block had no
    # defects, so the message's defects are the body's.
    message = email.message_from_bytes(_mime_headers(headers) + payload, policy=compat32)
    return _build_post(
        raw,
        canonical,
        envelope,
        headers,
        lambda defects: _body(message, defects),
        _mime_defects(message),
    )


def _parse_compat32(raw: bytes, canonical: bytes, envelope: Envelope) -> Post:
    """The general path: whatever the mail is, as Python's compat32 parser reads it."""
    message = email.message_from_bytes(canonical, policy=compat32)
    return _build_post(
        raw,
        canonical,
        envelope,
        _MessageHeaders(message),
        lambda defects: _body(message, defects),
        _mime_defects(message),
    )


def _mime_defects(message: Message) -> list[Defect]:
    return [Defect("mime", type(d).__name__) for d in message.defects[:5]]


def _build_post(
    raw: bytes,
    canonical: bytes,
    envelope: Envelope,
    headers: _Headers,
    read_body: Callable[[list[Defect]], str],
    defects: list[Defect],
) -> Post:
    """The Post for a message, from its headers and a reader of its text (both paths)."""
    message_id, id_defects = normalise_message_id(_header(headers, "Message-ID", defects))
    defects.extend(id_defects)
    subject = _header(headers, "Subject", defects) or ""
    if not subject:
        defects.append(Defect("missing-subject"))
    author, relayed_by = _relayed_author(_author(headers, defects), headers)
    created_at = _date(headers, envelope, defects)
    body_text = read_body(defects)
    if len(body_text) > MAX_TEXT_CHARS:
        defects.append(
            Defect("text-truncated", f"read the first {MAX_TEXT_CHARS:,} of {len(body_text):,}")
        )
        body_text = body_text[:MAX_TEXT_CHARS]
    split = split_body(body_text)
    in_reply_to = _first_id(_header(headers, "In-Reply-To", defects))
    references = _references(_header(headers, "References"), defects)
    gitbox_login = _gitbox_login(author)
    github_root, github_url = _github(
        message_id, subject, body_text, split.github_url, gitbox=gitbox_login is not None
    )
    if github_root is not None:
        author = _github_author(author, subject, headers.get("X-GitHub-Sender"), gitbox_login)
    return Post(
        source=Source.MAIL,
        key=message_id or content_key(raw),
        message_id=message_id,
        thread_key=github_root or "",
        author=author,
        created_at=created_at,
        subject=_fold(subject),
        text=split.new,
        quoted=split.quoted,
        quote_at=split.quote_at,
        mentions=extract_mentions(split.new),
        in_reply_to=in_reply_to,
        references=references,
        url=github_url,
        list_id=_first_id(_header(headers, "List-Id")),
        auto_submitted=_is_auto_submitted(headers),
        body_hash=_body_hash(canonical),
        defects=tuple(defects),
        headers=_loop_headers(headers) | ({HEADER_RELAYED_BY: relayed_by} if relayed_by else {}),
        via=envelope.via,
    )


def _read_simple_headers(canonical: bytes) -> tuple[_FieldHeaders, bytes] | None:
    """The header fields and the body, when compat32 would read the headers without fuss.

    That is: ASCII without a CR (compat32 takes a bare CR for a line break), every
    line a field or a continuation, and a blank line after them, so compat32
    records no defect and reads the fields just as _HEADER_FIELD does.
    """
    end = canonical.find(b"\n\n")
    if end < 0:
        return None
    block = canonical[: end + 1]
    if not block.isascii() or b"\r" in block:
        return None
    # [text before the first field, name, value, text between, name, value, ...]
    parts = _HEADER_FIELD.split(block.decode("ascii"))
    if any(parts[::3]):
        return None  # a line that is neither a field nor a continuation
    return _FieldHeaders(parts[1::3], parts[2::3]), canonical[end + 2 :]


_BodyReader = Callable[[list[Defect]], str]


def _body_reader(headers: _FieldHeaders, body: bytes) -> _BodyReader | None:
    """What :func:`_body` would read from this body, for the forms we read exactly.

    A single text/plain part, or a flat multipart whose text we can read so;
    None for anything else.
    """
    content_type = _simple_content_type(headers.get("Content-Type"))
    if content_type is None:
        return None
    kind, params = content_type
    if kind == "text/plain":
        return _text_reader(headers, params, body, html=False)
    if kind.startswith("multipart/") and kind != "multipart/digest":
        return _multipart_reader(headers, params, body)
    return None


def _simple_content_type(value: str | None) -> tuple[str, dict[str, str]] | None:
    """The type and parameters compat32 reads from a Content-Type, when it is simple.

    compat32's default, text/plain, when there is none; None when the value needs
    compat32's full parameter parsing. Parameter names are lower case, the first
    of repeated ones wins, as with ``Message.get_param``.
    """
    if value is None:
        return "text/plain", {}
    match = _SIMPLE_CONTENT_TYPE.fullmatch(value)
    if match is None:
        return None
    params: dict[str, str] = {}
    for name, param in _CONTENT_TYPE_PARAM.findall(value):
        params.setdefault(name.lower(), param)
    return match[1].lower(), params


def _text_reader(
    headers: _FieldHeaders, params: dict[str, str], payload: bytes, *, html: bool
) -> _BodyReader | None:
    """:func:`_decode_part` of a text part, if compat32 would hand its payload over as is.

    That is with no transfer encoding, 7bit, 8bit, binary or quoted-printable.
    ``html`` converts the text as :func:`_body` does HTML-only mail.
    """
    encoding = (headers.get("Content-Transfer-Encoding") or "").lower()
    if encoding not in _IDENTITY_ENCODINGS and encoding != "quoted-printable":
        return None
    charset = params["charset"].lower() if "charset" in params else None

    def read(defects: list[Defect]) -> str:
        if html:
            defects.append(Defect("html-only", "converted HTML to text"))
        data = payload
        if encoding == "quoted-printable":
            try:
                data = quopri.decodestring(payload)
            except (ValueError, AssertionError):  # as _decode_part
                defects.append(Defect("bad-transfer-encoding"))
        text = _decode_text(
            data, charset, params.get("format", ""), params.get("delsp", ""), defects
        )
        return html_to_text(text) if html else text

    return read


def _multipart_reader(
    headers: _FieldHeaders, params: dict[str, str], body: bytes
) -> _BodyReader | None:
    """:func:`_body` of a multipart whose parts are all single and simply typed.

    compat32 reads such a multipart without recording a defect: a boundary, an
    encoding it accepts, no bare CR, a start and a close boundary, no empty part.
    Like _body, it reads the first text/plain part that is not an attachment, or
    else the first text/html one.
    """
    encoding = headers.get("Content-Transfer-Encoding")
    encoding = "8bit" if encoding is None else encoding.lower()
    if "boundary" not in params or encoding not in _MULTIPART_ENCODINGS or b"\r" in body:
        return None
    parts = _multipart_parts(body, params["boundary"].encode("ascii"))
    if parts is None or len(parts) >= MAX_MIME_PARTS - 1:
        return None
    plain: tuple[_FieldHeaders, bytes] | None = None
    html: tuple[_FieldHeaders, bytes] | None = None
    for part in parts:
        read = _read_part(part)
        if read is None:
            return None
        kind = _content_type_of(read[0])
        if kind.startswith(("multipart/", "message/")):
            return None  # compat32 would parse inside it
        if (read[0].get("Content-Disposition") or "").lower().startswith("attachment"):
            continue
        if kind == "text/plain" and plain is None:
            plain = read
        elif kind == "text/html" and html is None:
            html = read
    chosen = plain or html
    if chosen is None:
        return lambda defects: ""
    content_type = _simple_content_type(chosen[0].get("Content-Type"))
    if content_type is None:
        return None
    return _text_reader(chosen[0], content_type[1], chosen[1], html=chosen is html)


def _multipart_parts(body: bytes, boundary: bytes) -> list[bytes] | None:
    """The parts between the boundary lines, as compat32 cuts them; None when in doubt.

    A boundary line is the delimiter at the start of a line, maybe followed by
    "--" (the close delimiter) and blanks. The line break before a boundary line
    belongs to the boundary, so it stays with the part here: see _read_part.
    """
    delimiter = b"--" + boundary
    parts: list[bytes] = []
    start = -1  # where the current part begins, once the first boundary is seen
    for at in _lines_starting_with(body, delimiter):
        line_end = body.find(b"\n", at)
        line_end = len(body) if line_end < 0 else line_end
        rest = body[at + len(delimiter) : line_end]
        close = rest[:2] == b"--" and not rest[2:].strip(b" \t")
        if not close and rest.strip(b" \t"):
            continue  # the delimiter followed by more: not a boundary line
        if start < 0 and close:
            return None  # a close delimiter first: compat32 finds no start boundary
        if start >= 0:
            if at == start:
                return None  # two boundary lines in a row: compat32 skips them
            parts.append(body[start:at])
        if close:
            return parts
        start = line_end + 1
    return None  # no close delimiter: compat32 records a defect


def _lines_starting_with(data: bytes, prefix: bytes) -> Iterator[int]:
    if data.startswith(prefix):
        yield 0
    at = data.find(b"\n" + prefix)
    while at >= 0:
        yield at + 1
        at = data.find(b"\n" + prefix, at + 1)


def _read_part(part: bytes) -> tuple[_FieldHeaders, bytes] | None:
    """A body part's headers and payload, without the line break that is the boundary's."""
    if part.startswith(b"\n"):
        headers, body = _FieldHeaders([], []), part[1:]
    else:
        simple = _read_simple_headers(part)
        if simple is None:
            return None
        headers, body = simple
    return headers, body.removesuffix(b"\n")


def _content_type_of(headers: _FieldHeaders) -> str:
    """``Message.get_content_type`` for a part outside a multipart/digest."""
    value = headers.get("Content-Type")
    if value is None:
        return "text/plain"
    kind = value.partition(";")[0].strip().lower()
    return kind if kind.count("/") == 1 else "text/plain"


def _mime_headers(headers: _FieldHeaders) -> bytes:
    """The headers compat32 reads a body by, as a header block of their own."""
    lines = [
        f"{name}: {value}\n"
        for name in ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition")
        if (value := headers.get(name)) is not None
    ]
    return ("".join(lines) + "\n").encode("ascii")


def _header(headers: _Headers, name: str, defects: list[Defect] | None = None) -> str | None:
    """A header decoded from RFC 2047 and raw 8-bit bytes, or None when absent."""
    value = headers.get(name)
    if value is None:
        return None
    return decode_header_value(value, name, defects)


def decode_header_value(value: str, name: str = "", defects: list[Defect] | None = None) -> str:
    """Decode encoded-words; read raw 8-bit text (surrogate-escaped by compat32) as UTF-8."""
    if not value.isascii():
        return _decode_raw_text(value, name, defects)
    if "=?" not in value:
        # What decode_header returns when there is no encoded word, without its regex.
        parts: list[tuple[str | bytes, str | None]] = [(value, None)]
    else:
        try:
            parts = email.header.decode_header(value)
        except (ValueError, LookupError, AssertionError, email.errors.HeaderParseError):
            # HeaderParseError: base64 that is not ("=?x?b?/////?="), found by bench/fuzz.py.
            _record(defects, "bad-encoded-word", name)
            parts = [(value, None)]
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(_recover_surrogates(chunk, name, defects))
        else:
            out.append(_decode_bytes(chunk, charset, name, defects))
    # decode_header drops the space between an encoded word and plain text inconsistently.
    return _fold("".join(out) if len(parts) > 1 else out[0] if out else "")


def _decode_raw_text(value: str, name: str, defects: list[Defect] | None) -> str:
    """A header with raw 8-bit bytes, and maybe encoded words too, as text."""
    text = _recover_surrogates(value, name, defects)
    if "=?" in text:
        text = _ENCODED_WORD.sub(
            lambda word: _decode_word(word[0], name, defects),
            _BETWEEN_ENCODED_WORDS.sub("", text),
        )
    return _fold(text)


def _decode_word(word: str, name: str, defects: list[Defect] | None) -> str:
    """One encoded word as text (its blanks kept), or as written if it does not decode."""
    try:
        [(chunk, charset)] = email.header.decode_header(word)
    except (ValueError, LookupError, AssertionError, email.errors.HeaderParseError):
        _record(defects, "bad-encoded-word", name)
        return word
    if isinstance(chunk, str):
        return chunk
    return _decode_bytes(chunk, charset, name, defects)


def _recover_surrogates(text: str, name: str, defects: list[Defect] | None) -> str:
    """Raw 8-bit bytes in a header as text: UTF-8 as RFC 6532 allows, else a recorded guess."""
    if text.isascii() or not _ESCAPED_BYTE.search(text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    decoded, charset = _guess_charset(raw)
    _record(
        defects, "undeclared-charset", f"raw 8-bit bytes in {name or 'header'}, read as {charset}"
    )
    return decoded


def _decode_bytes(
    data: bytes, charset: str | None, where: str, defects: list[Defect] | None
) -> str:
    if charset and charset.lower() not in ("unknown-8bit", "x-unknown", "unknown"):
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            _record(defects, "wrong-charset", f"not valid {charset} in {where or 'body'}")
        except (LookupError, ValueError):
            # ValueError: a NUL in the charset name ("embedded null character").
            _record(defects, "unknown-charset", f"{charset!r} in {where or 'body'}")
    else:
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            _record(defects, "undeclared-charset", f"8-bit bytes in {where or 'body'}")
    return _decode_fallback(data)


def _decode_fallback(data: bytes) -> str:
    return _guess_charset(data)[0]


def _guess_charset(data: bytes) -> tuple[str, str]:
    """The text of undeclared 8-bit bytes, and the charset that read it."""
    for charset in _FALLBACK_CHARSETS:
        try:
            return data.decode(charset), charset
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _record(defects: list[Defect] | None, kind: str, detail: str) -> None:
    if defects is not None and Defect(kind, detail) not in defects:
        defects.append(Defect(kind, detail))


def _fold(value: str) -> str:
    # Same as re.sub(r"\s+", " ", value).strip(): str.split and \s agree on whitespace.
    return " ".join(value.split())


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    token = _ID_TOKEN.search(value)
    return f"<{token.group(1)}>" if token else None


def _references(value: str | None, defects: list[Defect]) -> tuple[str, ...]:
    """The References ids; past MAX_REFERENCES the first and the latest ones, recorded."""
    ids = [f"<{token}>" for token in _ID_TOKEN.findall(value or "")]
    if len(ids) <= MAX_REFERENCES:
        return tuple(ids)
    defects.append(
        Defect(
            "references-capped", f"kept the first and the last {MAX_REFERENCES - 1} of {len(ids)}"
        )
    )
    return (ids[0], *ids[-(MAX_REFERENCES - 1) :])


def _author(headers: _Headers, defects: list[Defect]) -> Person:
    """Who sent it: the address as written in the header, then the decoded display name.

    The address is parsed from the header as sent, before anything is decoded:
    an RFC 2047 encoded word can only ever be (part of) a display name, so a name
    such as ``=?utf-8?b?...?=`` that decodes to "Alice <alice@example.org>" never
    supplies or replaces the address. Such a name is kept as the text it decodes
    to, with an ``address-in-display-name`` defect.
    """
    value = headers.get("From")
    if value is None or not value.strip():
        defects.append(Defect("missing-from"))
        return Person(name="", address="")
    # Pipermail and HyperKitty archives obfuscate addresses as "user at example.com".
    if " at " in value:  # what the pattern needs; the sub costs a message 1 µs
        value = _OBFUSCATED_ADDRESS.sub(r"\1@\2", value)
    raw_name, address = _parseaddr(value)
    if "@" not in address and "=?" in address:
        # Only an encoded word, no address: it is a name, and the sender is unknown.
        raw_name, address = address, ""
    name = decode_header_value(raw_name.strip('"'), "From", defects) if raw_name else ""
    address = _recover_surrogates(address, "From", defects).lower()
    if not address and not name:
        text = decode_header_value(value, "From", defects)
        defects.append(Defect("malformed-from", text[:200]))
        return Person(name=text.strip(), address="")
    if not address:
        defects.append(Defect("malformed-from", f"no address: {name[:200]}"))
    foreign = [found for found in _ADDRESS_IN_TEXT.findall(name) if found.lower() != address]
    if foreign:
        defects.append(
            Defect(
                "address-in-display-name",
                f"the name {name[:200]!r} names {foreign[0][:100]}; the sender is {address or '?'}",
            )
        )
    return Person(name=name, address=address)


def _relayed_author(sender: Person, headers: _Headers) -> tuple[Person, str]:
    """The author of mail a list or forum sent from its own address, and how it was read.

    ``sender`` is the From header's person. When its name says "Bob Baker via dev", the
    address is the relay's, shared by every author: the person keeps the name the From
    header shows (what readers and labels call him) at the address the relay passes on
    for him (``X-Original-From``; else a ``Reply-To`` or ``Cc`` under his name, where
    Mailman's DMARC rewrite puts him; else the one groups.io encodes in its own), else
    no address. The second value says so for ``HEADER_RELAYED_BY`` ("" when the From
    address is his). A code-review forge's "Bob Baker (Code Review)" (Gerrit) and "Bob
    Baker (@bbaker)" (GitLab), with the forge's headers, are read the same way.
    """
    relayed = _RELAYED_NAME.match(sender.name)
    forge = _FORGE_NAME.match(sender.name) if relayed is None else None
    if relayed is not None and sender.address:
        name, relay = relayed["name"].strip(), f"{relayed['relay']} <{sender.address}>"
    elif forge is not None and any(headers.get(h) for h in _FORGE_HEADERS):
        name, relay = forge["name"].strip(), f"a code-review forge <{sender.address}>"
    else:
        return sender, ""
    for header in ("X-Original-From", "Reply-To", "Cc"):
        address = _passed_on(headers.get(header), header, name, sender.address)
        if address:
            return Person(name=sender.name, address=address), f"{relay}; address from {header}"
    encoded = _ENCODED_SENDER.match(sender.address)
    if encoded:
        address = f"{encoded['user']}@{encoded['domain']}"
        return Person(name=sender.name, address=address), f"{relay}; address from its From"
    return Person(name=sender.name, address=""), f"{relay}; no address of the author's"


def _passed_on(value: str | None, header: str, name: str, relay: str) -> str:
    """The author's address in a header the relay filled: X-Original-From's, or in a
    Reply-To or Cc the one under the author's name (not the list's, not a forum's
    reply-by-email key)."""
    for raw_name, address in email.utils.getaddresses([value or ""]):
        address = address.lower()
        if "@" not in address or address == relay or _REPLY_KEY.match(address):
            continue
        shown = decode_header_value(raw_name, header) if raw_name else ""
        if header == "X-Original-From" or shown.casefold() == name.casefold():
            return address
    return ""


# A list has far fewer authors than messages, and parseaddr is slow.
_parseaddr = lru_cache(maxsize=4096)(email.utils.parseaddr)


def _date(headers: _Headers, envelope: Envelope, defects: list[Defect]) -> datetime:
    value = _header(headers, "Date")
    if value and value.strip():
        parsed = _parse_date(value)
        if parsed is not None:
            return parsed
        defects.append(Defect("invalid-date", value[:200]))
    else:
        defects.append(Defect("missing-date"))
    for received in headers.get_all("Received"):
        stamp = _parse_date(received.rpartition(";")[2])
        if stamp is not None:
            defects.append(Defect("date-from-received"))
            return stamp
    stamp = _mbox_line_date(envelope.mbox_from_line)
    if stamp is not None:
        defects.append(Defect("date-from-mbox"))
        return stamp
    defects.append(Defect("date-from-arrival"))
    return envelope.arrived_at


def _mbox_line_date(line: str | None) -> datetime | None:
    """The ctime-style date an mbox ``From `` separator line carries."""
    match = _MBOX_FROM_DATE.search(line or "")
    if match is None:
        return None
    try:
        stamp = datetime.strptime(" ".join(match["date"].split()), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC)


def _parse_date(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _body(message: Message, defects: list[Defect]) -> str:
    """The readable text: text/plain preferred, HTML converted, attachments skipped."""
    plain: Message | None = None
    html: Message | None = None
    for count, part in enumerate(message.walk()):
        if count >= MAX_MIME_PARTS:
            defects.append(Defect("too-many-parts", f"stopped after {MAX_MIME_PARTS}"))
            break
        if part.is_multipart() or _is_attachment(part):
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and plain is None:
            plain = part
        elif content_type == "text/html" and html is None:
            html = part
    if plain is not None:
        return _decode_part(plain, defects)
    if html is not None:
        defects.append(Defect("html-only", "converted HTML to text"))
        return html_to_text(_decode_part(html, defects))
    if not message.is_multipart() and message.get_content_maintype() == "text":
        return _decode_part(message, defects)
    return ""


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).lower()
    return disposition.startswith("attachment")


def _decode_part(part: Message, defects: list[Defect]) -> str:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, AssertionError):
        defects.append(Defect("bad-transfer-encoding"))
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("ascii", "surrogateescape") if isinstance(raw, str) else b""
    if not isinstance(payload, bytes):
        return ""
    return _decode_text(
        payload,
        part.get_content_charset(),
        str(part.get_param("format", "")),
        str(part.get_param("delsp", "")),
        defects,
    )


def _decode_text(
    payload: bytes, charset: str | None, format_param: str, delsp: str, defects: list[Defect]
) -> str:
    """A text part's payload as text: charset fallbacks recorded, format=flowed joined."""
    text = _decode_bytes(payload, charset, "body", defects)
    if format_param.lower() == "flowed":
        text = unflow(text, delsp=delsp.lower() == "yes")
    return text


def unflow(text: str, *, delsp: bool = False) -> str:
    """Join format=flowed soft line breaks (RFC 3676): a line ending in a space continues."""
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if line != "-- " and line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            current += line[:-1] if delsp else line
            continue
        out.append(current + line)
        current = ""
    if current:
        out.append(current)
    return "\n".join(out)


def _github(
    message_id: str | None,
    subject: str,
    body: str,
    footer_url: str | None,
    *,
    gitbox: bool = False,
) -> tuple[str | None, str | None]:
    """The thread root and URL of mail mirrored from a GitHub issue, pull request or
    discussion (``<owner/repo/repo-discussions/369/comments/4567@github.com>``); with
    ``gitbox``, mail GitBox relayed for a login, whose body links what it is about."""
    if message_id:
        match = _GITHUB_ID.match(message_id)
        if match:
            root = f"<{match['repo']}/{match['kind']}/{match['number']}@github.com>"
            url = footer_url or _github_url_from(match["repo"], match["kind"], match["number"])
            return root, url
    if gitbox or _GITBOX_SUBJECT.match(subject) or (message_id or "").endswith("@git.apache.org>"):
        url_match = _GITHUB_URL.search(body)
        if url_match:
            root = f"<{url_match['repo']}/{url_match['kind']}/{url_match['number']}@github.com>"
            return root, footer_url or url_match.group(0)
    return None, None


def _gitbox_login(author: Person) -> str | None:
    """The login GitBox names as the sender ("jdoe (via GitHub)" <git@apache.org>): only
    from GitBox's own addresses, so that nobody else's display name becomes a login."""
    if author.address.casefold() not in GITBOX_RELAYS:
        return None
    named = _VIA_GITHUB.match(author.name)
    return named["login"] if named else None


def _github_url_from(repo: str, kind: str, number: str) -> str:
    path = "discussions" if kind == "repo-discussions" else kind
    return f"https://github.com/{repo}/{path}/{number}"


def _github_author(
    author: Person, subject: str, sender: str | None = None, gitbox_login: str | None = None
) -> Person:
    """GitHub mirrors send from a relay address; the person is the login GitHub names in
    ``X-GitHub-Sender`` (else the login GitBox gives as the sender, else the display name),
    kept as their noreply address. A profile name that is not the login is shown with it,
    "Josh Triplett (joshtriplett)": on GitHub people are known, mentioned and labelled by
    login."""
    login = (sender or "").strip()
    if re.fullmatch(r"[\w-]+(?:\[bot\])?", login):
        name = author.name
        if not name or name.casefold() == login.casefold():
            name = login
        elif login.casefold() not in name.casefold():
            name = f"{name} ({login})"
        return Person(name=name, address=f"{login}@users.noreply.github.com")
    if gitbox_login:
        return Person(name=gitbox_login, address=f"{gitbox_login}@users.noreply.github.com")
    if author.name.lower() not in _RELAY_NAMES:
        return Person(name=author.name, address=f"{author.name}@users.noreply.github.com")
    gitbox = _GITBOX_SUBJECT.match(subject)
    if gitbox:
        login = gitbox["login"]
        return Person(name=login, address=f"{login}@users.noreply.github.com")
    return author


def _is_auto_submitted(headers: _Headers) -> bool:
    value = (headers.get("Auto-Submitted") or "").strip().lower()
    return bool(value) and not value.startswith("no")


def _loop_headers(headers: _Headers) -> dict[str, str]:
    """The few headers loop prevention, bounce detection and identity need later, decoded.

    Repeated trace headers are kept topmost first, one per line, the first few only.
    """
    values = {name: headers.get(name) for name in (*_LOOP_HEADERS, *_IDENTITY_HEADERS)}
    kept = {
        name: _fold(_recover_surrogates(value, name, None))
        for name, value in values.items()
        if value is not None
    }
    for name in _TRACE_HEADERS:
        found = [
            _fold(_recover_surrogates(value, name, None))[:_TRACE_MAX_CHARS]
            for value in (headers.get_all(name) or [])[:_TRACE_KEEP]
        ]
        if found:
            kept[name] = "\n".join(found)
    return kept
