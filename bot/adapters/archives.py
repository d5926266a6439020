"""Reading list archives: mbox/mboxrd (plain or gzip), single .eml files, directories.

We split mbox files ourselves instead of using :mod:`mailbox`: it loads
whole files, cannot read some real exports, and is slow. Splitting reads
the file in large chunks and finds the separators with one regex search per
chunk, so it costs next to nothing next to parsing, and memory stays flat
however large the archive is (a chunk plus the message being read).
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bot.errors import UserError

_GZIP_MAGIC = b"\x1f\x8b"
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?")
# A message starts at a "From " line that follows a blank line ("\n" or "\r\n"); the
# first one starts the file.
_SEPARATOR = re.compile(rb"\n\r?\nFrom ")
# mboxrd escapes body lines that start with "From " as ">From "; we undo one level.
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_SNIFF_BYTES = 4096
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message's bytes as stored in an archive, and where it came from."""

    raw: bytes
    origin: str
    mbox_from_line: str | None = None


class NotMailError(UserError):
    """A file handed to the importer is neither an mbox nor a single message."""


def iter_paths(paths: list[Path]) -> Iterator[Path]:
    """Files to import, directories walked in sorted order; hidden files skipped."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden:
                    yield child
        else:
            yield path


def read_messages(path: Path) -> Iterator[RawMessage]:
    """The messages in one file. Raises :class:`NotMailError` naming the file if it is not mail."""
    if not path.exists():
        raise NotMailError(f"{path}: no such file")
    with _open(path) as stream:
        head = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
        if head.startswith(b"From "):
            yield from _split_mbox(stream, str(path))
        elif _looks_like_message(head):
            yield RawMessage(stream.read(), str(path))
        else:
            raise NotMailError(
                f"{path}: not mail (neither an mbox starting with a 'From ' line"
                " nor a message starting with headers)"
            )


def split_mbox_bytes(data: bytes, origin: str) -> Iterator[RawMessage]:
    """The messages of an mbox held in memory (an archive's answer), split as files are."""
    if not data.strip():
        return iter(())
    if not data.startswith(b"From "):
        raise NotMailError(f"{origin}: not an mbox (it does not start with a 'From ' line)")
    return _split_mbox(io.BytesIO(data), origin)


def _open(path: Path) -> io.BufferedReader:
    raw = path.open("rb")
    if raw.read(2) == _GZIP_MAGIC:
        raw.seek(0)
        return io.BufferedReader(gzip.GzipFile(fileobj=raw))  # type: ignore[arg-type]
    raw.seek(0)
    return io.BufferedReader(raw)  # type: ignore[arg-type]


def _looks_like_message(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    first = head.lstrip(b"\r\n").split(b"\n", 1)[0]
    return bool(_HEADER_LINE.match(first))


def _split_mbox(stream: BinaryIO, origin: str) -> Iterator[RawMessage]:
    """Split at ``From `` lines that start the file or follow a blank line."""
    pending = b""  # from the current message's "From " line to the end of what was read
    while chunk := stream.read(_CHUNK_BYTES):
        # A separator may straddle the chunk boundary: look again at the last few bytes.
        search_from = max(0, len(pending) - len(b"\n\r\nFrom ") + 1)
        pending += chunk
        start = 0
        for match in _SEPARATOR.finditer(pending, search_from):
            separator = match.end() - len(b"From ")
            yield _message(pending, start, separator, origin)
            start = separator
        pending = pending[start:]
    if pending:
        yield _message(pending, 0, len(pending), origin)


def _message(data: bytes, start: int, end: int, origin: str) -> RawMessage:
    """The message from the "From " line at ``start`` to the next one at ``end``."""
    line_end = data.find(b"\n", start, end) + 1 or end
    from_line = data[start:line_end].decode("utf-8", "replace").rstrip("\r\n")
    # The blank line before the next separator belongs to the mbox format, not the message.
    if data.startswith(b"\n", end - 1) and (end - 1 == line_end or data[end - 2] == 10):
        end -= 1  # a last line "\n"
    elif data.startswith(b"\r\n", end - 2) and (end - 2 == line_end or data[end - 3] == 10):
        end -= 2  # a last line "\r\n"
    raw = data[line_end:end]
    if b">From " in raw:
        raw = _ESCAPED_FROM.sub(rb"\1", raw)
    return RawMessage(raw, origin, from_line)
