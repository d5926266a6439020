"""Reading list archives: mbox/mboxrd (plain or gzip), single .eml files, directories.

We split mbox files ourselves instead of using :mod:`mailbox`: it loads
whole files, cannot read some real exports, and is slow. Reading is a
generator over lines, so memory stays flat however large the archive is.
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
# mboxrd escapes body lines that start with "From " as ">From "; we undo one level.
_ESCAPED_FROM = re.compile(rb"^>(>*From )")
_SNIFF_BYTES = 4096


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
    lines: list[bytes] = []
    from_line: str | None = None
    previous_blank = True
    for line in stream:
        if line.startswith(b"From ") and previous_blank:
            if from_line is not None:
                yield _message(lines, origin, from_line)
            from_line = line.decode("utf-8", "replace").rstrip("\r\n")
            lines = []
            previous_blank = False
            continue
        previous_blank = line in (b"\n", b"\r\n")
        lines.append(_ESCAPED_FROM.sub(rb"\1", line) if line.startswith(b">") else line)
    if from_line is not None:
        yield _message(lines, origin, from_line)


def _message(lines: list[bytes], origin: str, from_line: str) -> RawMessage:
    # The blank line before the next separator belongs to the mbox format, not the message.
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return RawMessage(b"".join(lines), origin, from_line)
