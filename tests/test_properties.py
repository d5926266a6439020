"""Properties over arbitrary and mutated input: the parsers that read what strangers
write never raise, and the SMTP endpoint's own reading of the wire is exact.

The strategies and checks here are shared with ``bench/fuzz.py``, which runs the
same properties for much longer.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from aiosmtpd.smtp import SMTP
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import bot.store as store_module
from bot.adapters.archives import DamagedArchiveError, NotMailError, read_messages
from bot.adapters.smtp import plain_path, read_data
from bot.core import rfc_links
from bot.core.commands import parse_commands
from bot.core.mail import MAX_REFERENCES, MAX_TEXT_CHARS, Envelope, parse_mail
from bot.core.text import _GITHUB_VIEW, MAX_MENTIONS, caseless, split_body
from bot.core.votes.grammar import parse_ballot
from bot.model import Person, Post, Source
from bot.store import compress
from bot.terminal import safe_json, safe_text

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "sample-archive.mbox"
EDGE_CASES = ROOT.parent / "shared" / "corpus" / "edge-cases"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
# Derandomized: the suite tries the same inputs on every run, so it never fails by luck;
# bench/fuzz.py is where random, much longer runs look for new failures.
QUICK = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- real messages to start from --------------------------------------------------------


@cache
def real_messages() -> tuple[bytes, ...]:
    """The sample archive we ship, and the corpus's edge cases when they are there."""
    sources = [SAMPLE.read_bytes()]
    if EDGE_CASES.exists():
        sources += [path.read_bytes() for path in sorted(EDGE_CASES.iterdir())]
    messages: list[bytes] = []
    for data in sources:
        messages += [part for part in re.split(rb"(?:\A|\n\n)From [^\n]*\n", data) if part.strip()]
    return tuple(messages)


# Bytes that matter to a mail parser, more often than chance would pick them.
_TOKENS = (
    b"\r\n",
    b"\n",
    b"\r",
    b"\n\n",
    b"\x00",
    b"\xff\xfe",
    b"\xc3\x28",
    b": ",
    b"\n ",
    b"=?utf-8?b?",
    b"=?iso-8859-1?q?",
    b"?=",
    b"Content-Type: multipart/mixed; boundary=",
    b'boundary="',
    b"--",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"=\n",
    b"=ZZ",
    b"charset=",
    b"Message-ID: <",
    b"<",
    b">",
    b"@",
    b"Date: ",
    b"From: ",
    b"Subject: ",
    b"Content-Type: message/rfc822\n",
    b"Content-Type: text/html\n",
    b"<blockquote>",
    b"\t",
    b"format=flowed; delsp=yes",
)


def _hostile(headers: str, body: str = "+1 (binding)\n") -> bytes:
    return (headers.strip("\n") + "\nMessage-ID: <h@evil.example>\n\n" + body).encode()


# The cases of issue 15, as seeds to mutate: a forged display name (encoded, and plain),
# raw UTF-8 headers (8BITMIME), References past every bound (the message had
# 800,000; 5,000 cross the same limits), an out-of-office reply, escape sequences.
HOSTILE_MESSAGES = (
    _hostile(
        "From: =?utf-8?b?QWxpY2UgQXJjaGVyIDxhbGljZUBleGFtcGxlLm9yZz4=?= <mallory@evil.example>\n"
        "Subject: Re: [VOTE] Release 1.0"
    ),
    _hostile("From: Alice Archer <mallory@evil.example>\nSubject: Re: [VOTE] Release 1.0"),
    _hostile("From: J\u00fcrgen M\u00fcller <j@example.org>\nSubject: Re: [VOTE] Gr\u00fc\u00dfe"),
    _hostile(
        "From: m@evil.example\nSubject: refs\nReferences: "
        + " ".join(f"<r{n}@x.example>" for n in range(5_000))
    ),
    _hostile(
        "From: Frank <frank@example.com>\nSubject: Out of Office\nX-Autoreply: yes",
        "I am away. Ask @alice about the indexer?\n",
    ),
    _hostile(
        "From: Eve \x1b[31m <eve@example.org>\nSubject: [RFC] \x1b]52;c;ZXZpbA==\x07 \u202eevil",
        "@quorum concern x: \x1b[2J\x00\n" * 30 + " ".join(f"@u{n}" for n in range(200)),
    ),
)


@cache
def seed_messages() -> tuple[bytes, ...]:
    return real_messages() + HOSTILE_MESSAGES


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    """A real (or hostile) message with a few bytes flipped, inserted, deleted, duplicated
    or cut."""
    data = bytearray(draw(st.sampled_from(seed_messages())))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "insert", "token", "delete", "repeat", "cut"]))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        elif kind == "token":
            data[at:at] = draw(st.sampled_from(_TOKENS))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 256))] * draw(st.integers(1, 4))
        elif kind == "cut":
            del data[at:]
    return bytes(data)


mail_bytes = st.one_of(
    st.binary(max_size=2048),
    st.lists(st.one_of(st.sampled_from(_TOKENS), st.binary(max_size=8)), max_size=40).map(b"".join),
    mutated_messages(),
)

# Text a voter or a commenter might write, with the bot's own vocabulary mixed in.
_WORDS = st.sampled_from(
    [
        "+1",
        "-1",
        "+0",
        "-0",
        "+0.5",
        "++1",
        "0",
        "(binding)",
        "(non-binding)",
        "@quorum",
        "@Quorum",
        "concern",
        "resolve",
        "withdraw",
        "hold",
        "unhold",
        "help",
        ":",
        "NAME:",
        "```",
        "    ",
        "> ",
        ">> ",
        "[ ]",
        "[x]",
        "\n",
        "\n\n",
        "\r\n",
        "\u2028",
        "\x85",
        "\x0b",
        "\x0c",
        "\x1c",
        "`",
        "--",
        "-- \n",
        "I am concerned that",
        "because",
        "if",
        "vote",
        "Result:",
        "On Mon, Alice wrote:",
    ]
)
prose = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=60).map(" ".join),
    st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=60).map("".join),
)


# -- the checks (also run by bench/fuzz.py) ---------------------------------------------


def check_parse_mail(raw: bytes) -> None:
    post = parse_mail(raw, Envelope(NOW))
    assert post.source == Source.MAIL
    assert post.key
    # Bounded work per message: whatever the input, what is kept is bounded.
    assert len(post.references) <= MAX_REFERENCES
    assert len(post.text) <= MAX_TEXT_CHARS
    assert len(post.mentions) <= MAX_MENTIONS


def check_parse_ballot(text: str) -> None:
    parse_ballot(text)


def check_parse_commands(text: str) -> None:
    post = Post(Source.MAIL, "<p@x>", "<p@x>", "t", Person("Eve", "e@x"), NOW, "Re: x", text)
    parse_commands(post)


# -- parsers never raise ------------------------------------------------------------------


@QUICK
@given(mail_bytes)
@example(b"Message-ID:=??b?/////?=")  # base64 that decode_header refuses (bench/fuzz.py)
def test_parse_mail_never_raises(raw: bytes):
    check_parse_mail(raw)


@QUICK
@given(prose)
def test_parse_ballot_never_raises(text: str):
    check_parse_ballot(text)


@QUICK
@given(prose)
def test_parse_commands_never_raises(text: str):
    check_parse_commands(text)


def test_the_real_messages_are_there():
    # Mutations of nothing would prove nothing.
    assert len(real_messages()) >= 10


# -- the endpoint reads the wire exactly --------------------------------------------------

_LINE = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from([b"", b".", b"..", b".x", b"x.", b" .", b"\r", b"\n", b"\r."]),
)


def on_the_wire(lines: list[bytes]) -> tuple[bytes, bytes]:
    """The message as the server must store it, and as a client sends it after DATA."""
    message = b"".join(line + b"\r\n" for line in lines)
    stuffed = b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines)
    return message, stuffed + b".\r\n"


async def read_in_pieces(wire: bytes, cuts: list[int], limit: int | None) -> bytes | None:
    """What read_data makes of ``wire`` arriving in pieces cut at ``cuts``."""
    reader = asyncio.StreamReader(limit=SMTP.line_length_limit)
    edges = sorted({0, len(wire), *(c % (len(wire) + 1) for c in cuts)})

    async def feed() -> None:
        for start, end in itertools.pairwise(edges):
            reader.feed_data(wire[start:end])
            await asyncio.sleep(0)
        reader.feed_data(b"QUIT\r\n")  # what comes next must be left for the session

    feeding = asyncio.create_task(feed())
    data = await read_data(reader, limit)
    await feeding
    assert await reader.readuntil(b"\r\n") == b"QUIT\r\n"
    return data


@QUICK
@given(
    lines=st.lists(_LINE, max_size=30),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
    limit=st.one_of(st.none(), st.integers(0, 600)),
)
def test_the_data_is_read_exactly_however_it_is_cut(
    lines: list[bytes], cuts: list[int], limit: int | None
):
    message, wire = on_the_wire(lines)
    data = asyncio.run(read_in_pieces(wire, cuts, limit))
    size_on_the_wire = len(wire) - len(b".\r\n")
    if limit and size_on_the_wire > limit:
        assert data is None
    else:
        assert data == message


@QUICK
@example(local="a.b+c", domain="Ex-ample.ORG", before=" ", after="  BODY=8BITMIME")
@given(
    local=st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,12}", fullmatch=True),
    domain=st.from_regex(r"[A-Za-z0-9.-]{1,12}", fullmatch=True),
    before=st.sampled_from(["", " ", "\t"]),
    after=st.sampled_from(["", " SIZE=100", "  BODY=8BITMIME", "x", "(comment)", " (c) X=1"]),
)
def test_the_fast_path_reads_addresses_as_aiosmtpd_does(
    local: str, domain: str, before: str, after: str
):
    arg = f"{before}<{local}@{domain}>{after}"
    fast = plain_path(arg)
    if fast is not None:
        server = SMTP.__new__(SMTP)
        server.local_part_limit = 0
        assert fast == server._getaddr(arg)


# -- link tokens: the cheap guards skip only texts that cannot match -----------------------

_LINK_PIECES = st.sampled_from(
    [
        "https://",
        "HTTP://",
        "discuss.example.org",
        "/t/",
        "/T/",
        "some-topic/",
        "12",
        "7",
        "github.com/",
        "GitHub.COM/",
        "apache/maven",
        "pull/",
        "issues/",
        "#",
        "# ",
        "RFC",
        "rfc ",
        "/",
        " ",
        "\n",
        "\u2028",
        "ı",
        "é",
        "a",
        ".",
        "-",
    ]
)
link_texts = st.lists(_LINK_PIECES, max_size=24).map("".join)


def unguarded_link_tokens(text: str) -> set[str]:
    """link_tokens as the patterns alone define it: the oracle for its guards."""
    return (
        {
            rfc_links._forum_token(m["host"], m["topic"])
            for m in rfc_links._FORUM_TOPIC_URL.finditer(text)
        }
        | {
            rfc_links._github_token(m["repo"], m["number"])
            for m in rfc_links._GITHUB_URL.finditer(text)
        }
        | {
            rfc_links._github_token(m["repo"], m["number"])
            for m in rfc_links._GITHUB_SHORT.finditer(text)
        }
        | {f"rfc:{int(m['number'])}" for m in rfc_links._RFC_NUMBER.finditer(text)}
    )


@QUICK
@given(st.one_of(link_texts, st.text(max_size=200)))
@example("apache/maven#12 and\nfoo/bar#3x and RFC #7, https://github.com/a/b/pull/9")
@example("https://forum.example.org/t/some-topic/42 and https://forum.example.org/T/7")
@example("https://gİthub.com/a/b/pull/9 and ıt RFC #8 on https://GıTHUB.com/c/d/issues/2")
def test_link_tokens_guards_change_nothing(text: str):
    assert rfc_links.link_tokens(text) == unguarded_link_tokens(text)


# What an IGNORECASE pattern takes for an ASCII letter: both cases, and "ı", "İ", "ſ" and
# the Kelvin sign (bot.core.text.caseless).
_CASE_PIECES = st.sampled_from(
    ["view it on github", "VIEW IT ON GITHUB", *"viewtonghubskrfc :/İıſ\u212aé\u2014"]
)


@QUICK
@given(st.one_of(st.lists(_CASE_PIECES, max_size=30).map("".join), st.text(max_size=200)))
@example("vİew ıt on GİTHUB: https://github.com/a/b/pull/1")
@example("ſ\u212a")
def test_caseless_holds_every_case_insensitive_match(text: str):
    for needle in ("view it on github", "github.com/", "rfc", "/t/", "sk", "is"):
        if re.search(re.escape(needle), text, re.IGNORECASE):
            assert needle.encode() in caseless(text)
    view = _GITHUB_VIEW.search(text)
    assert split_body(text).github_url == (view.group(1).rstrip(".,)") if view else None)


# -- damaged archives: what is readable is read, the damage is named ----------------------


@dataclass(frozen=True)
class DamagedArchive:
    """An mbox of seed messages, maybe gzipped, then maybe cut short or with a byte changed."""

    mbox: bytes
    compressed: bool
    damage: str  # "none", "cut" or "change"
    at: int  # where, as a fraction of the file in 1/1000
    byte: int

    def data(self) -> bytes:
        data = gzip.compress(self.mbox, mtime=0) if self.compressed else self.mbox
        at = len(data) * self.at // 1000
        if self.damage == "cut":
            return data[:at]
        if self.damage == "change" and at < len(data):
            return data[:at] + bytes([self.byte]) + data[at + 1 :]
        return data


damaged_archives = st.builds(
    DamagedArchive,
    mbox=st.lists(st.sampled_from(seed_messages()), min_size=1, max_size=5).map(
        lambda messages: b"".join(
            b"From x@y Mon Nov  2 09:14:00 2026\n" + m.rstrip(b"\n") + b"\n\n" for m in messages
        )
    ),
    compressed=st.booleans(),
    damage=st.sampled_from(["none", "cut", "change"]),
    at=st.integers(0, 1000),
    byte=st.integers(0, 255),
)


def check_read_archive(case: DamagedArchive) -> None:
    """Reading an archive fails only by naming the file; a cut .gz gives a prefix of its mail."""
    with tempfile.TemporaryDirectory() as folder:
        whole = _read(Path(folder) / "whole.mbox", case.mbox)[0]
        suffix = ".mbox.gz" if case.compressed else ".mbox"
        read, error = _read(Path(folder) / f"archive{suffix}", case.data())
    if case.damage == "none":
        assert (read, error) == (whole, None)
    if case.compressed and case.damage == "cut":
        assert read == whole[: len(read)]  # the messages before the damage, each whole


def _read(path: Path, data: bytes) -> tuple[list[bytes], str | None]:
    path.write_bytes(data)
    read: list[bytes] = []
    error = None
    try:
        read.extend(message.raw for message in read_messages(path))
    except (NotMailError, DamagedArchiveError) as failure:
        error = str(failure)
    assert error is None or error.startswith(f"{path}: ")  # one line that names the file
    return read, error


@QUICK
@given(damaged_archives)
def test_a_damaged_archive_is_read_up_to_its_damage(case: DamagedArchive):
    check_read_archive(case)


# -- terminal output ------------------------------------------------------------------------


def check_safe_text(text: str) -> None:
    shown = safe_text(text)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown)
    assert json.loads(safe_json(json.dumps(text, ensure_ascii=False))) == text


@QUICK
@given(st.one_of(prose, st.text(alphabet=st.characters(max_codepoint=0x2100), max_size=80)))
def test_what_is_shown_on_a_terminal_is_never_a_control_character(text: str):
    check_safe_text(text)


# -- what an import worker writes as JSON: as json.dumps writes it -------------------------

_JSON_SCALARS = st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.floats())


@QUICK
@given(
    st.lists(st.one_of(st.text(), _JSON_SCALARS), max_size=6).map(tuple),
    st.dictionaries(st.text(), st.one_of(st.text(), _JSON_SCALARS), max_size=6),
    st.lists(st.one_of(st.integers(), st.booleans()), max_size=6),
)
@example(('a "quote"', "é\u2028\x00", "\ud800"), {"Received": "x\ny", "k": "v"}, [0, 3, 12])
def test_the_store_writes_json_as_json_dumps_does(
    values: tuple[object, ...], mapping: dict[str, object], places: list[int]
):
    assert store_module._json(values) == json.dumps(values)  # type: ignore[arg-type]
    assert store_module._json_object(mapping) == json.dumps(mapping)  # type: ignore[arg-type]
    assert compress._json_ints(places) == json.dumps(places)
