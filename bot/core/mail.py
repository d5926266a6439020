"""Raw mail bytes to a :class:`~bot.model.Post`, whatever state the mail is in.

Real archives hold mail with undeclared and wrong charsets, missing or
duplicated Message-IDs, unparseable dates and HTML-only bodies. The rule here
is that nothing is dropped: every repair is recorded as a :class:`Defect` on
the post, and the post is kept.

We parse with the ``compat32`` policy on purpose: it is several times faster
than ``policy.default`` on real list mail and never raises on bad headers, and
we decode headers ourselves so every fallback is explicit and recorded.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32

from bot.core.text import extract_mentions, html_to_text, split_body
from bot.model import Defect, Person, Post, Source

MAX_MIME_PARTS = 200
_FALLBACK_CHARSETS = ("utf-8", "cp1252")
_ID_TOKEN = re.compile(r"<([^<>\s]+)>")
_GITHUB_ID = re.compile(
    r"^<?(?P<repo>[\w.-]+/[\w.-]+)/(?P<kind>issues|pull)/(?P<number>\d+)(?:/[^@>]*)?@github\.com>?$"
)
_GITHUB_URL = re.compile(
    r"https://github\.com/(?P<repo>[\w.-]+/[\w.-]+)/(?P<kind>issues|pull)/(?P<number>\d+)"
)
# ASF's GitBox relays GitHub activity as "[GitHub] login verb ..." from a shared address.
_GITBOX_SUBJECT = re.compile(r"^\s*\[GitHub\]\s+(?P<login>[\w-]+)\s", re.IGNORECASE)
_RELAY_NAMES = frozenset({"gitbox", "github", "asf github bot", "git", ""})
_MBOX_FROM_DATE = re.compile(
    r"(?P<date>(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}\s+\d{4})"
)


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the transport knew about a message besides its bytes."""

    arrived_at: datetime
    mbox_from_line: str | None = None


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
    canonical = _canonical_bytes(raw)
    _, _, body = canonical.partition(b"\n\n")
    return hashlib.sha256(body).hexdigest()


def _canonical_bytes(raw: bytes) -> bytes:
    # SMTP delivers CRLF, archives store LF: the same message must hash the same.
    return raw.replace(b"\r\n", b"\n")


def parse_mail(raw: bytes, envelope: Envelope) -> Post:
    """Normalise one message. Never raises on bad input; records defects instead."""
    defects: list[Defect] = []
    message = email.message_from_bytes(_canonical_bytes(raw), policy=compat32)
    if message.defects:
        defects.extend(Defect("mime", type(d).__name__) for d in message.defects[:5])

    message_id, id_defects = normalise_message_id(_header(message, "Message-ID", defects))
    defects.extend(id_defects)
    subject = _header(message, "Subject", defects) or ""
    if not subject:
        defects.append(Defect("missing-subject"))
    author = _author(message, defects)
    created_at = _date(message, envelope, defects)
    body_text = _body(message, defects)
    split = split_body(body_text)
    in_reply_to = _first_id(_header(message, "In-Reply-To", defects))
    references = tuple(f"<{m}>" for m in _ID_TOKEN.findall(_header(message, "References") or ""))
    github_root, github_url = _github(message_id, subject, body_text, split.github_url)
    if github_root is not None:
        author = _github_author(author, subject)
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
        mentions=extract_mentions(split.new),
        in_reply_to=in_reply_to,
        references=references,
        url=github_url,
        list_id=_first_id(_header(message, "List-Id")),
        auto_submitted=_is_auto_submitted(message),
        body_hash=body_hash(raw),
        defects=tuple(defects),
        headers=_loop_headers(message),
    )


def _header(message: Message, name: str, defects: list[Defect] | None = None) -> str | None:
    """A header decoded from RFC 2047 and raw 8-bit bytes, or None when absent."""
    value = message.get(name)
    if value is None:
        return None
    if isinstance(value, email.header.Header):
        value = str(value)
    return decode_header_value(str(value), name, defects)


def decode_header_value(value: str, name: str = "", defects: list[Defect] | None = None) -> str:
    """Decode encoded-words; recover undeclared 8-bit text that compat32 surrogate-escaped."""
    try:
        parts = email.header.decode_header(value)
    except (ValueError, LookupError, AssertionError):
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


def _recover_surrogates(text: str, name: str, defects: list[Defect] | None) -> str:
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    raw = text.encode("ascii", "surrogateescape")
    _record(defects, "undeclared-charset", f"raw 8-bit bytes in {name or 'header'}")
    return _decode_fallback(raw)


def _decode_bytes(
    data: bytes, charset: str | None, where: str, defects: list[Defect] | None
) -> str:
    if charset and charset.lower() not in ("unknown-8bit", "x-unknown", "unknown"):
        try:
            return data.decode(charset)
        except LookupError:
            _record(defects, "unknown-charset", f"{charset} in {where or 'body'}")
        except UnicodeDecodeError:
            _record(defects, "wrong-charset", f"not valid {charset} in {where or 'body'}")
    else:
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            _record(defects, "undeclared-charset", f"8-bit bytes in {where or 'body'}")
    return _decode_fallback(data)


def _decode_fallback(data: bytes) -> str:
    for charset in _FALLBACK_CHARSETS:
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _record(defects: list[Defect] | None, kind: str, detail: str) -> None:
    if defects is not None and Defect(kind, detail) not in defects:
        defects.append(Defect(kind, detail))


def _fold(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    token = _ID_TOKEN.search(value)
    return f"<{token.group(1)}>" if token else None


def _author(message: Message, defects: list[Defect]) -> Person:
    value = _header(message, "From", defects)
    if not value:
        defects.append(Defect("missing-from"))
        return Person(name="", address="")
    # Pipermail and HyperKitty archives obfuscate addresses as "user at example.com".
    value = re.sub(r"^(\S+) at (\S+)", r"\1@\2", value)
    name, address = email.utils.parseaddr(value)
    if not address and not name:
        defects.append(Defect("malformed-from", value[:200]))
        return Person(name=value.strip(), address="")
    return Person(name=_fold(name.strip('"')), address=address.lower())


def _date(message: Message, envelope: Envelope, defects: list[Defect]) -> datetime:
    value = _header(message, "Date")
    if value and value.strip():
        parsed = _parse_date(value)
        if parsed is not None:
            return parsed
        defects.append(Defect("invalid-date", value[:200]))
    else:
        defects.append(Defect("missing-date"))
    for received in message.get_all("Received") or []:
        stamp = _parse_date(str(received).rpartition(";")[2])
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
    text = _decode_bytes(payload, part.get_content_charset(), "body", defects)
    if str(part.get_param("format", "")).lower() == "flowed":
        delsp = str(part.get_param("delsp", "")).lower() == "yes"
        text = unflow(text, delsp=delsp)
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
    message_id: str | None, subject: str, body: str, footer_url: str | None
) -> tuple[str | None, str | None]:
    """The thread root and URL of mail mirrored from a GitHub issue or pull request."""
    if message_id:
        match = _GITHUB_ID.match(message_id)
        if match:
            root = f"<{match['repo']}/{match['kind']}/{match['number']}@github.com>"
            url = footer_url or _github_url_from(match["repo"], match["kind"], match["number"])
            return root, url
    if _GITBOX_SUBJECT.match(subject) or (message_id or "").endswith("@git.apache.org>"):
        url_match = _GITHUB_URL.search(body)
        if url_match:
            root = f"<{url_match['repo']}/{url_match['kind']}/{url_match['number']}@github.com>"
            return root, footer_url or url_match.group(0)
    return None, None


def _github_url_from(repo: str, kind: str, number: str) -> str:
    return f"https://github.com/{repo}/{kind}/{number}"


def _github_author(author: Person, subject: str) -> Person:
    """GitHub mirrors send from a relay address; the person is the display name or login."""
    if author.name.lower() not in _RELAY_NAMES:
        return Person(name=author.name, address=f"{author.name}@users.noreply.github.com")
    gitbox = _GITBOX_SUBJECT.match(subject)
    if gitbox:
        login = gitbox["login"]
        return Person(name=login, address=f"{login}@users.noreply.github.com")
    return author


def _is_auto_submitted(message: Message) -> bool:
    value = str(message.get("Auto-Submitted", "")).strip().lower()
    return bool(value) and not value.startswith("no")


def _loop_headers(message: Message) -> dict[str, str]:
    """The few headers loop prevention and bounce detection need later, decoded."""
    wanted = ("X-Loop", "Precedence", "Return-Path", "X-GitHub-Reason", "X-Mailer", "Content-Type")
    return {name: _fold(str(message[name])) for name in wanted if message.get(name) is not None}
