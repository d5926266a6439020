"""The fast paths of an import against the reference paths they stand in for.

``parse_mail`` reads plain mail with a parser of its own and hands the rest to
``compat32``; the post must be the same either way. The mbox splitter reads big
chunks with a regex; it must cut exactly where the line-by-line reading did.
The store computes RFC link tokens before it knows a post's thread; they must
be the ones ``rfc_links.post_tokens`` gives the stored post.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import ingest
from bot.adapters import archives
from bot.adapters.archives import RawMessage, iter_paths, read_messages
from bot.core import mail, rfc_links
from bot.core import threads as threading
from bot.ingest import import_paths
from bot.model import Post, ThreadKind
from bot.store import Store, from_text, prepare
from tests.corpus import corpus_path

pytestmark = pytest.mark.corpus

ARRIVAL = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _both_paths(raw: bytes, from_line: str | None = None) -> tuple[Post | None, Post]:
    """(fast path's post or None when it declines, compat32's post)."""
    envelope = mail.Envelope(ARRIVAL, from_line)
    canonical = mail._canonical_bytes(raw)
    return (
        mail._parse_fast(raw, canonical, envelope),
        mail._parse_compat32(raw, canonical, envelope),
    )


def _assert_same(fast: Post, slow: Post) -> None:
    assert fast == slow
    # Post.headers is left out of ==, and its order is what the store writes.
    assert list(fast.headers.items()) == list(slow.headers.items())


def _corpus_messages() -> Iterator[RawMessage]:
    for path in iter_paths([corpus_path("mbox"), corpus_path("edge-cases")]):
        yield from read_messages(path)


def test_fast_path_agrees_with_compat32_on_every_corpus_message():
    total = fast_ones = 0
    for message in _corpus_messages():
        total += 1
        fast, slow = _both_paths(message.raw, message.mbox_from_line)
        assert mail.parse_mail(message.raw, mail.Envelope(ARRIVAL, message.mbox_from_line)) == (
            slow
        )
        if fast is not None:
            fast_ones += 1
            _assert_same(fast, slow)
    assert total == 834
    # The net is only worth something if the fast path is what real mail takes.
    assert fast_ones / total > 0.95


def test_fast_path_reads_plain_and_multipart_bodies_itself():
    """Without handing the body to compat32, for the common forms of list mail."""
    seen = {"plain": 0, "multipart": 0}
    for message in _corpus_messages():
        simple = mail._read_simple_headers(mail._canonical_bytes(message.raw))
        if simple is None or mail._body_reader(*simple) is None:
            continue
        kind = (simple[0].get("Content-Type") or "text/plain").lower()
        seen["multipart" if kind.lstrip().startswith("multipart/") else "plain"] += 1
    assert seen["plain"] > 500
    assert seen["multipart"] > 200


# -- hand-made mail: what real archives have less of ---------------------------------------

PLAIN = b"""Message-ID: <a@example.org>
From: Ann Example <ann@example.org>
Date: Tue, 28 Nov 2017 02:20:33 +0100
Subject: [VOTE] Release 1.0

+1 from me
"""

TRICKY = {
    "plain": PLAIN,
    "crlf": PLAIN.replace(b"\n", b"\r\n"),
    "folded subject": PLAIN.replace(
        b"Subject: [VOTE] Release 1.0", b"Subject: [VOTE]\n Release\n\t1.0  "
    ),
    "folded after colon": PLAIN.replace(b"Subject: [VOTE]", b"Subject:\n   [VOTE]"),
    "encoded-word from": PLAIN.replace(
        b"From: Ann Example", b"From: =?UTF-8?Q?Ren=C3=A9_Ex?= =?UTF-8?B?YW1wbGU=?="
    ),
    "encoded-word subject in parts": PLAIN.replace(
        b"Subject: [VOTE] Release 1.0",
        b"Subject: Re: =?ISO-8859-1?Q?R=E9sum=E9?=\n =?ISO-8859-1?Q?_du_vote?= done",
    ),
    "bad encoded word": PLAIN.replace(b"Subject: [VOTE]", b"Subject: =?bogus-charset?Q?x?="),
    "broken encoded word": PLAIN.replace(b"Subject: [VOTE]", b"Subject: =?UTF-8?B?####?="),
    "missing date": PLAIN.replace(b"Date: Tue, 28 Nov 2017 02:20:33 +0100\n", b""),
    "missing date with received": PLAIN.replace(
        b"Date: Tue, 28 Nov 2017 02:20:33 +0100\n",
        b"Received: from a by b; Wed, 29 Nov 2017 10:00:00 +0000\n"
        b"Received: from c by d;\n\tThu, 30 Nov 2017 10:00:00 +0000\n",
    ),
    "invalid date": PLAIN.replace(b"Tue, 28 Nov 2017 02:20:33 +0100", b"yesterday"),
    "empty date": PLAIN.replace(b"Date: Tue, 28 Nov 2017 02:20:33 +0100", b"Date:"),
    "duplicate headers": PLAIN.replace(
        b"Subject: [VOTE] Release 1.0",
        b"Subject: [VOTE] Release 1.0\nSubject: second\nmessage-id: <b@example.org>",
    ),
    "header names in any case": PLAIN.replace(b"Message-ID", b"MESSAGE-id").replace(
        b"Subject", b"sUBJECT"
    ),
    "missing message-id": PLAIN.replace(b"Message-ID: <a@example.org>\n", b""),
    "message-id junk": PLAIN.replace(b"<a@example.org>", b"<a@example.org> (added)"),
    "message-id without brackets": PLAIN.replace(b"<a@example.org>", b"a@example.org"),
    "empty subject": PLAIN.replace(b"Subject: [VOTE] Release 1.0", b"Subject: "),
    "no from": PLAIN.replace(b"From: Ann Example <ann@example.org>\n", b""),
    "obfuscated from": PLAIN.replace(b"Ann Example <ann@example.org>", b"ann at example.org"),
    "malformed from": PLAIN.replace(b"Ann Example <ann@example.org>", b"<>"),
    "references": PLAIN.replace(
        b"Subject:",
        b"In-Reply-To: <p@example.org> (Ann)\nReferences: <r@x>\n <p@example.org>\nSubject:",
    ),
    "auto-submitted and loop headers": PLAIN.replace(
        b"Subject:",
        b"Auto-Submitted: auto-replied\nX-Loop: quorum\nPrecedence: bulk\n"
        b"Content-Type: text/plain;\n\tcharset=us-ascii\nSubject:",
    ),
    "8-bit header": PLAIN.replace(b"Ann Example", "Ann Ëxample".encode("latin-1")),
    "utf-8 header (8BITMIME)": PLAIN.replace(b"Ann Example", "Jürgen Müller".encode()).replace(
        b"Release 1.0", "Grüße =?utf-8?q?caf=C3=A9?= 1.0".encode()
    ),
    "encoded display name holding an address": PLAIN.replace(
        b"Ann Example", b"=?utf-8?b?QWxpY2UgQXJjaGVyIDxhbGljZUBleGFtcGxlLm9yZz4=?="
    ),
    "encoded word and no address": PLAIN.replace(
        b"Ann Example <ann@example.org>", b"=?utf-8?b?QWxpY2UgPGFsaWNlQGV4YW1wbGUub3JnPg==?="
    ),
    "many references": PLAIN.replace(
        b"Subject:",
        b"References: " + b"\n ".join(b"<r%d@x>" % n for n in range(300)) + b"\nSubject:",
    ),
    "autoreply headers": PLAIN.replace(
        b"Subject:", b"X-Autoreply: yes\nX-Autorespond: Out of office\nSubject:"
    ),
    "8-bit body, no charset": PLAIN.replace(b"+1 from me", "+1 dès".encode()),
    "latin-1 body declared": PLAIN.replace(
        b"Subject:", b"Content-Type: text/plain; charset=ISO-8859-1\nSubject:"
    ).replace(b"+1 from me", "+1 dès".encode("latin-1")),
    "wrong charset": PLAIN.replace(
        b"Subject:", b'Content-Type: text/plain; charset="us-ascii"\nSubject:'
    ).replace(b"+1 from me", "+1 dès".encode()),
    "unknown charset": PLAIN.replace(
        b"Subject:", b"Content-Type: text/plain; charset=x-no\nSubject:"
    ),
    "quoted-printable": PLAIN.replace(
        b"Subject:",
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: Quoted-Printable\n"
        b"Subject:",
    ).replace(b"+1 from me", b"+1 d=C3=A8s, a soft=\nbreak"),
    "encoding with a trailing blank": PLAIN.replace(
        b"Subject:", b"Content-Transfer-Encoding: 7bit \nSubject:"
    ),
    "base64 body": PLAIN.replace(
        b"Subject:", b"Content-Transfer-Encoding: base64\nSubject:"
    ).replace(b"+1 from me", b"KzEgZnJvbSBtZQ=="),
    "format=flowed": PLAIN.replace(
        b"Subject:",
        b"Content-Type: text/plain; format=flowed; delsp=yes; charset=utf-8\nSubject:",
    ).replace(b"+1 from me", b"a soft \nbreak and  \n more\n-- \nsig"),
    "repeated parameter": PLAIN.replace(
        b"Subject:", b"Content-Type: text/plain; charset=utf-8; charset=latin-1\nSubject:"
    ),
    "parameter needing rfc 2231": PLAIN.replace(
        b"Subject:", b"Content-Type: text/plain; charset*=utf-8''%41\nSubject:"
    ),
    "html only": PLAIN.replace(b"Subject:", b"Content-Type: text/html\nSubject:").replace(
        b"+1 from me", b"<p>+1</p><blockquote>old</blockquote>"
    ),
    "attachment disposition": PLAIN.replace(
        b"Subject:", b"Content-Disposition: attachment; filename=a.txt\nSubject:"
    ),
    "no blank line after headers": PLAIN.replace(b"1.0\n\n+1", b"1.0\nnot a header\n+1"),
    "headers only": b"Subject: just this\nFrom: a@b.c\n",
    "empty body": PLAIN.replace(b"\n+1 from me\n", b"\n"),
    "continuation first": b" continued\n" + PLAIN,
    "unix from in headers": b"From ann@example.org Tue Nov 28 02:20:33 2017\n" + PLAIN,
    "envelope line later": PLAIN.replace(b"Subject:", b"From ann Tue Nov 28\nSubject:"),
    "missing header name": PLAIN.replace(b"Subject:", b": nameless\nSubject:"),
    "bare cr": PLAIN.replace(b"Release 1.0", b"Release\r1.0"),
    "blank line first": b"\n" + PLAIN,
    "github mirror": PLAIN.replace(
        b"<a@example.org>", b"<apache/tvm/pull/95/c123@github.com>"
    ).replace(b"Ann Example <ann@example.org>", b'"Ann" <notifications@github.com>')
    + b"\n--\nReply to this email directly or view it on GitHub:\n"
    b"https://github.com/apache/tvm/pull/95#issuecomment-1\n",
}


def _multipart(
    body: bytes, content_type: bytes = b'multipart/alternative; boundary="b-1"'
) -> bytes:
    return PLAIN.replace(b"+1 from me\n", body).replace(
        b"Subject:", b"MIME-Version: 1.0\nContent-Type: " + content_type + b"\nSubject:"
    )


PARTS = b"""--b-1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

+1 d=C3=A8s

--b-1
Content-Type: text/html; charset=utf-8

<p>+1</p>
--b-1--
"""

TRICKY |= {
    "multipart": _multipart(PARTS),
    "multipart, unquoted boundary": _multipart(PARTS, b"multipart/alternative; boundary=b-1"),
    "multipart, folded type": _multipart(PARTS, b'multipart/alternative;\n\tboundary="b-1"'),
    "multipart with preamble and epilogue": _multipart(
        b"This is a MIME message.\n" + PARTS + b"epilogue\n--b-1\n"
    ),
    "multipart, html first": _multipart(
        PARTS.replace(b"text/plain", b"text/x").replace(b"text/html", b"text/plain")
    ),
    "multipart, html only": _multipart(PARTS.replace(b"text/plain", b"text/x")),
    "multipart, nothing readable": _multipart(
        PARTS.replace(b"text/plain", b"image/png").replace(b"text/html", b"text/x")
    ),
    "multipart, plain attachment": _multipart(
        PARTS.replace(
            b"charset=utf-8\nContent-Transfer",
            b"charset=utf-8\nContent-Disposition: attachment\nContent-Transfer",
        )
    ),
    "multipart, part without headers": _multipart(b"--b-1\n\nplain text\n--b-1--\n"),
    "multipart, empty part": _multipart(b"--b-1\n\n--b-1--\n"),
    "multipart, headers-only part": _multipart(b"--b-1\nContent-Type: text/plain\n--b-1--\n"),
    "multipart, boundaries in a row": _multipart(b"--b-1\n--b-1\n\ntext\n--b-1--\n"),
    "multipart, no close": _multipart(b"--b-1\n\ntext\n"),
    "multipart, close first": _multipart(b"--b-1--\n\ntext\n"),
    "multipart, no boundary at all": _multipart(b"text\n"),
    "multipart, boundary param missing": _multipart(PARTS, b"multipart/alternative"),
    "multipart, boundary with blanks after": _multipart(
        PARTS.replace(b"--b-1\n", b"--b-1  \n", 1).replace(b"--b-1--", b"--b-1-- \t")
    ),
    "multipart, longer delimiter is text": _multipart(
        b"--b-1\n\nline\n--b-1x\n--b-1-x\nmore\n--b-1--"
    ),
    "multipart, close at the very end": _multipart(b"--b-1\n\ntext\n--b-1--"),
    "multipart, base64 part": _multipart(
        b"--b-1\nContent-Transfer-Encoding: base64\n\nKzEgZnJvbSBtZQ==\n--b-1--\n"
    ),
    "multipart, qp encoding on the multipart": _multipart(PARTS).replace(
        b"MIME-Version: 1.0\n", b"Content-Transfer-Encoding: quoted-printable\n"
    ),
    "multipart, nested": _multipart(
        b'--b-1\nContent-Type: multipart/mixed; boundary="b-2"\n\n--b-2\n\ninner\n--b-2--\n'
        b"--b-1--\n"
    ),
    "multipart, message part": _multipart(
        b"--b-1\nContent-Type: message/rfc822\n\nSubject: inner\n\ntext\n--b-1--\n"
    ),
    "multipart digest": _multipart(PARTS, b'multipart/digest; boundary="b-1"'),
    "multipart, 8-bit part header": _multipart(
        PARTS.replace(b"Content-Type: text/html", "X-Nöte: 1\nContent-Type: text/html".encode())
    ),
    "multipart, bare cr in a part": _multipart(PARTS.replace(b"<p>+1</p>", b"<p>+1\r</p>")),
    "multipart, odd part type": _multipart(PARTS.replace(b"text/plain;", b"text;")),
    "multipart, 8-bit text": _multipart(PARTS.replace(b"d=C3=A8s", "dès".encode())),
}


@pytest.mark.parametrize("name", TRICKY)
def test_fast_path_agrees_with_compat32_on_tricky_mail(name: str):
    fast, slow = _both_paths(TRICKY[name], "From ann@example.org Tue Nov 28 02:20:33 2017")
    if fast is not None:
        _assert_same(fast, slow)


@pytest.mark.parametrize(
    "name",
    [
        "plain",
        "crlf",
        "folded subject",
        "encoded-word from",
        "missing date",
        "duplicate headers",
        "quoted-printable",
        "format=flowed",
        "multipart",
        "multipart, folded type",
        "multipart with preamble and epilogue",
        "multipart, html only",
        "multipart, boundary with blanks after",
    ],
)
def test_fast_path_takes_the_common_forms(name: str):
    fast, _ = _both_paths(TRICKY[name])
    assert fast is not None
    simple = mail._read_simple_headers(mail._canonical_bytes(TRICKY[name]))
    assert simple is not None
    assert mail._body_reader(*simple) is not None


# -- the mbox splitter ---------------------------------------------------------------------


def _split_by_lines(data: bytes) -> list[tuple[bytes, str]]:
    """How the splitter read an mbox before it read chunks: line by line."""
    messages: list[tuple[bytes, str]] = []
    lines: list[bytes] = []
    from_line: str | None = None
    previous_blank = True
    for line in io.BytesIO(data):
        if line.startswith(b"From ") and previous_blank:
            if from_line is not None:
                messages.append((_joined(lines), from_line))
            from_line = line.decode("utf-8", "replace").rstrip("\r\n")
            lines = []
            previous_blank = False
            continue
        previous_blank = line in (b"\n", b"\r\n")
        lines.append(re.sub(rb"^>(>*From )", rb"\1", line) if line.startswith(b">") else line)
    if from_line is not None:
        messages.append((_joined(lines), from_line))
    return messages


def _joined(lines: list[bytes]) -> bytes:
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def _split_in_chunks(data: bytes) -> list[tuple[bytes, str]]:
    stream = io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]
    return [(m.raw, m.mbox_from_line or "") for m in archives._split_mbox(stream, "test")]


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
def test_splitter_cuts_real_archives_where_line_reading_did(
    chunk: int, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(archives, "_CHUNK_BYTES", chunk)
    paths = iter_paths([corpus_path("mbox"), corpus_path("edge-cases")])
    for path in (p for p in paths if p.suffix == ".mbox"):
        data = path.read_bytes()
        if chunk < 64:
            data = data[:20_000]  # byte-sized chunks are slow; the edges are what matters
        assert _split_in_chunks(data) == _split_by_lines(data), path.name


SEPARATOR_CASES = [
    b"From a\nx\n\nFrom b\ny\n",
    b"From a\r\nx\r\n\r\nFrom b\r\ny\r\n\r\n",
    b"From a\nFrom b\n\n\nFrom c\n",
    b"From a\n\n\n\nFrom b",
    b"From a",
    b"From a\n",
    b"From a\n\n",
    b"From a\n\r\n",
    b"From a\nbody\n>From x\n>>From y\n>From\n> From z\n\nFrom b\n",
    b"From a\nx\n \nFrom not a separator\nFrom neither\n",
    b"From a\nx\r\n\nFrom b\nx\n\r\nFrom c\nx\r\r\nFrom d\n",
]


@pytest.mark.parametrize("chunk", [1, 2, 5, 1 << 20])
@pytest.mark.parametrize("data", SEPARATOR_CASES)
def test_splitter_edges(data: bytes, chunk: int, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(archives, "_CHUNK_BYTES", chunk)
    assert _split_in_chunks(data) == _split_by_lines(data)


# -- the store's link tokens ---------------------------------------------------------------


def test_stored_links_are_post_tokens_of_the_stored_posts(tmp_path: Path):
    store = Store.open(tmp_path / "quorum.db")
    import_paths(store, [corpus_path("mbox"), corpus_path("edge-cases")], workers=1)
    rows = store.db.execute("SELECT post_key, token, role FROM post_links").fetchall()
    stored: dict[str, set[tuple[str, str]]] = {}
    for key, token, role in rows:
        stored.setdefault(key, set()).add((token, role))
    checked = 0
    for post in store.iter_posts():
        tokens = rfc_links.post_tokens(post)
        expected = {(t, "identity") for t in tokens.identity}
        expected |= {(t, "mention") for t in tokens.mentions}
        assert stored.get(post.key, set()) == expected, post.key
        checked += 1
    assert checked == 823
    store.close()


def test_links_of_a_reply_in_a_github_thread(tmp_path: Path):
    """The thread, not the post, names the pull request: the reply's mention of it is none."""
    mirror = TRICKY["github mirror"]
    reply = (
        PLAIN.replace(b"<a@example.org>", b"<reply@example.org>")
        .replace(b"Subject:", b"In-Reply-To: <apache/tvm/pull/95/c123@github.com>\nSubject:")
        .replace(b"+1 from me", b"See apache/tvm#95 and apache/tvm#96.")
    )
    store = Store.open(tmp_path / "quorum.db")
    store.ingest([(mail.parse_mail(raw, mail.Envelope(ARRIVAL)), raw) for raw in (mirror, reply)])
    stored = store.post("<reply@example.org>")
    assert stored is not None
    assert stored.thread_key == "<apache/tvm/pull/95@github.com>"
    rows = store.db.execute(
        "SELECT token, role FROM post_links WHERE post_key = ?", [stored.key]
    ).fetchall()
    tokens = rfc_links.post_tokens(stored)
    assert "github:apache/tvm#95" in tokens.identity
    assert set(rows) == {(t, "identity") for t in tokens.identity} | {
        (t, "mention") for t in tokens.mentions
    }
    store.close()


class _ReferenceStore(Store):
    """The store with the way it linked results to votes before (NOT EXISTS, per vote,
    every unlinked RESULT of the store after every ingest)."""

    def _link_closing_threads(self, touched: set[str]) -> None:
        unlinked = self.db.execute(
            "SELECT key, subject, first_at FROM threads"
            " WHERE kind IN ('result', 'cancel') AND closes IS NULL"
        ).fetchall()
        if not unlinked:
            return
        open_votes = [
            threading.ThreadRef(key, ThreadKind.VOTE, subject, from_text(first), from_text(last))
            for key, subject, first, last in self.db.execute(
                "SELECT key, subject, first_at, last_at FROM threads v WHERE kind = 'vote'"
                " AND NOT EXISTS (SELECT 1 FROM threads c WHERE c.closes = v.key)"
            ).fetchall()
        ]
        for key, subject, first_at in unlinked:
            vote = threading.find_closed_vote(subject, from_text(first_at), open_votes)
            if vote is not None:
                self.db.execute("UPDATE threads SET closes = ? WHERE key = ?", [vote, key])
                open_votes = [v for v in open_votes if v.key != vote]


def _copies(paths: list[Path], copies: int, target: Path) -> Path:
    """The archives again and again, each copy with Message-IDs of its own (as bench.ingest)."""
    ids = re.compile(rb"<([^<>@\s]+)@([^<>\s]+)>")
    with target.open("wb") as out:
        for copy in range(copies):
            for path in paths:
                data = path.read_bytes()
                out.write(ids.sub(lambda m, c=copy: b"<%s.c%d@%s>" % (m[1], c, m[2]), data))
                out.write(b"\n")
    return target


def test_results_link_to_the_votes_they_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The same threads and links as the store before the batched, bulk ingest."""
    maven = [corpus_path("mbox", f"maven-dev-2017-{month}.mbox") for month in (11, 12)]
    archive = _copies(maven, 3, tmp_path / "maven.mbox")
    # Small batches: many ingests, each linking what it can.
    monkeypatch.setattr(ingest, "BATCH_SIZE", 40)
    stores = (Store.open(tmp_path / "fast.db"), _ReferenceStore.open(tmp_path / "plain.db"))
    for store in stores:
        import_paths(store, [archive], workers=1)
    fast, plain = (
        store.db.execute("SELECT * FROM threads ORDER BY key").fetchall() for store in stores
    )
    assert fast == plain
    assert sum(1 for row in fast if row[3] == "result" and row[7]) > 10
    for store in stores:
        store.close()


def test_prepared_posts_cross_process_boundaries_whole():
    """Workers pickle PreparedPost field by field (see its __reduce__): nothing may be lost."""
    # If Post changes, PreparedPost.__reduce__ and _unpickle_prepared must follow.
    carried = (
        "source key message_id thread_key author created_at subject text quoted mentions"
        " in_reply_to references url list_id auto_submitted body_hash defects headers via quote_at"
    )
    assert [f.name for f in dataclasses.fields(Post)] == carried.split()
    for message in _corpus_messages():
        envelope = mail.Envelope(ARRIVAL, message.mbox_from_line, via="archive")
        post = mail.parse_mail(message.raw, envelope)
        prepared = prepare(post, mail.content_key(message.raw))
        again = pickle.loads(pickle.dumps(prepared))
        assert again == prepared
        assert again.post.headers == post.headers
