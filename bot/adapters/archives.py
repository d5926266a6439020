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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from bot.errors import UserError

_GZIP_MAGIC = b"\x1f\x8b"
# A header line as real mail has them: a field name of letters, digits and dashes.
_HEADER_LINE = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9_-]*:[ \t]?")
# A file is taken for one message only if its header block names one of these.
_MAIL_FIELDS = frozenset(
    {
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"received",
        b"return-path",
        b"mime-version",
        b"delivered-to",
        b"in-reply-to",
        b"references",
        b"sender",
        b"reply-to",
        b"cc",
    }
)
# What reading a damaged compressed archive raises, at the point of the damage.
_DAMAGE = (EOFError, zlib.error, gzip.BadGzipFile)
# A message starts at a "From " line that follows a blank line ("\n" or "\r\n"); the
# first one starts the file.
_SEPARATOR = re.compile(rb"\n\r?\nFrom ")
# mboxrd escapes body lines that start with "From " as ">From "; we undo one level.
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_SNIFF_BYTES = 4096
_CHUNK_BYTES = 1 << 20
_GZIP_INPUT_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message's bytes as stored in an archive, and where it came from."""

    raw: bytes
    origin: str
    mbox_from_line: str | None = None


class NotMailError(UserError):
    """A file handed to the importer is neither an mbox nor a single message."""


class DamagedArchiveError(UserError):
    """A compressed archive ends early or is corrupt: what came before it was read."""


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
        try:
            head = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
        except _DAMAGE as error:
            raise DamagedArchiveError(f"{path}: cannot be read ({_damage(error)})") from None
        cut = len(head) >= _SNIFF_BYTES  # the file goes on past what was read
        if head.startswith(b"From ") and _looks_like_message(head.partition(b"\n")[2], cut):
            yield from _split_mbox(stream, str(path))
        elif _looks_like_message(head, cut):
            try:
                raw = stream.read()
            except _DAMAGE as error:
                raise DamagedArchiveError(
                    f"{path}: {_damage(error)}; the message in it is incomplete and was not"
                    " imported"
                ) from None
            yield RawMessage(raw, str(path))
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


def _damage(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return "the compressed data ends early: the file is truncated"
    return f"the compressed data is corrupt ({error})"


def _open(path: Path) -> io.BufferedReader:
    raw = path.open("rb")
    if raw.read(2) == _GZIP_MAGIC:
        raw.seek(0)
        return io.BufferedReader(_Gunzip(raw), buffer_size=_CHUNK_BYTES)
    raw.seek(0)
    return io.BufferedReader(raw)


class _Gunzip(io.RawIOBase):
    """The decompressed bytes of a gzip file (every member), up to any damage.

    ``gzip.GzipFile`` raises at a truncation or corrupt block and drops what it
    had decompressed in that read, and a buffered read on top of it drops what the
    whole call had read. This hands over everything decompressed before the damage
    first, and raises (EOFError, zlib.error, gzip.BadGzipFile) on the read after,
    so an importer keeps every message the damage did not reach. Output comes in
    steps of at most _CHUNK_BYTES, so a small bomb of zeros never fills memory.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._zlib = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer
        self._input = b""
        self._output = memoryview(b"")
        self._error: BaseException | None = None
        self._finished = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        while not self._output and not self._finished and self._error is None:
            self._step()
        if self._output:
            count = min(len(buffer), len(self._output))
            buffer[:count] = self._output[:count]
            self._output = self._output[count:]
            return count
        if self._error is not None:
            raise self._error
        return 0

    def _step(self) -> None:
        if self._zlib.eof:
            self._next_member()
            return
        if not self._input:
            self._input = self._raw.read(_GZIP_INPUT_BYTES)
            if not self._input:
                self._error = EOFError("the compressed data ends before its end marker")
                return
        try:
            output = self._zlib.decompress(self._input, _CHUNK_BYTES)
        except zlib.error as error:
            self._error = error
            return
        self._input = self._zlib.unconsumed_tail
        self._output = memoryview(output)

    def _next_member(self) -> None:
        """After a member: another member, the end (zero padding allowed), or damage."""
        rest = self._zlib.unused_data or self._raw.read(_GZIP_INPUT_BYTES)
        if not rest.strip(b"\0"):
            self._finished = True
        elif rest.startswith(_GZIP_MAGIC):
            self._zlib = zlib.decompressobj(wbits=31)
            self._input = rest
        else:
            self._error = gzip.BadGzipFile("data after the last gzip member is not gzip")


def _looks_like_message(head: bytes, cut: bool) -> bool:
    """Whether a file's first bytes are a message's headers: header lines up to the
    first blank line (or the end of what was read), one of them a field mail has.

    JSON, YAML, CSV and notes fail one way or the other, so they are refused instead
    of being stored as a mail with nothing but defects.
    """
    block, blank, _ = head.lstrip(b"\r\n").replace(b"\r\n", b"\n").partition(b"\n\n")
    if b"\x00" in block:
        return False
    lines = block.split(b"\n")
    if cut and not blank and len(lines) > 1:
        lines = lines[:-1]  # the last line read may be cut short
    names: set[bytes] = set()
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not names:
                return False
            continue
        field = _HEADER_LINE.match(line)
        if field is None:
            return False
        names.add(line.partition(b":")[0].lower())
    return bool(names & _MAIL_FIELDS)


def _split_mbox(stream: io.BufferedIOBase, origin: str) -> Iterator[RawMessage]:
    """Split at ``From `` lines that start the file or follow a blank line."""
    pending = b""  # from the current message's "From " line to the end of what was read
    read = 0  # messages yielded
    while chunk := _read_chunk(stream, origin, read):
        # A separator may straddle the chunk boundary: look again at the last few bytes.
        search_from = max(0, len(pending) - len(b"\n\r\nFrom ") + 1)
        pending += chunk
        start = 0
        for match in _SEPARATOR.finditer(pending, search_from):
            separator = match.end() - len(b"From ")
            yield _message(pending, start, separator, origin)
            read += 1
            start = separator
        pending = pending[start:]
    if pending:
        yield _message(pending, 0, len(pending), origin)


def _read_chunk(stream: io.BufferedIOBase, origin: str, read: int) -> bytes:
    """The next chunk; at damage, :class:`DamagedArchiveError` after ``read`` messages.

    Every message before the damage ended at a separator, so it is whole; the one
    being read when the data ended is incomplete and is left out, named in the
    error, so that importing a good copy later adds exactly it.
    """
    try:
        # read1: one read of the file below, so what it read before damage is not dropped.
        return stream.read1(_CHUNK_BYTES)
    except _DAMAGE as error:
        raise DamagedArchiveError(
            f"{origin}: {_damage(error)}; imported the {read} message(s) before the damage,"
            " the one it cuts off was not imported"
        ) from None


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
