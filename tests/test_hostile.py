"""Hostile input: header injection, markup in what the bot writes, oversized and deeply
nested MIME, and a flood from one sender, each over the real path it would take."""

from __future__ import annotations

import asyncio
import email
import smtplib
import socket
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.policy import default
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters import smtp
from bot.adapters.outbound_mail import body_for, compose, message_id_for, reply_headers
from bot.app import App
from bot.config import Config, SmtpConfig, WebConfig, load_config
from bot.core.mail import Envelope, parse_mail
from bot.features.concerns import find_thread, render_summary, summary_of
from bot.features.digest import build_digest, render_digest
from bot.features.views import refresh
from bot.features.votes import draft_result, vote_report
from bot.model import Action, Person, Post, Source
from bot.store import Store
from tests.mailgen import raw_mail

ROOT = Path(__file__).resolve().parent.parent
LIST = "dev@lists.example.org"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
CONFIG = load_config(ROOT / "config" / "example.toml")
SCRIPT = '<script>alert("owned")</script>'
# The headers our mail has, in this order; compose() adds the MIME ones.
OUR_HEADERS = ["From", "To", "Subject", "Date", "Message-ID"]
MIME_HEADERS = ["Content-Type", "Content-Transfer-Encoding", "MIME-Version"]


# -- header injection -------------------------------------------------------------------

# Everything a sender controls, with line breaks of every kind mixed in.
_BREAKS = st.sampled_from(["\r\n", "\n", "\r", "\u2028", "\x85", "\x0b", "\x0c", "\x00"])
_HOSTILE = st.lists(st.one_of(st.text(max_size=12), _BREAKS), max_size=8).map("".join)


def _target(subject: str, name: str, message_id: str, reference: str) -> Post:
    return Post(
        source=Source.MAIL,
        key=message_id or "k",
        message_id=message_id,
        thread_key="t",
        author=Person(name, "mallory@example.org"),
        created_at=NOW,
        subject=subject,
        text="",
        references=("<root@example.org>", reference),
    )


def _header_names(raw: bytes) -> list[str]:
    return list(email.message_from_bytes(raw, policy=default).keys())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=_HOSTILE,
    name=_HOSTILE,
    message_id=_HOSTILE,
    reference=_HOSTILE,
    text=_HOSTILE,
    bot_name=_HOSTILE,
)
def test_no_echoed_value_ever_becomes_a_header_of_our_mail(
    subject: str, name: str, message_id: str, reference: str, text: str, bot_name: str
):
    target = _target(subject, name, message_id, reference)
    action = Action("reply", target.key, text, key=f"reply:{message_id}")
    for post in (target, None):  # a reply in a thread, and a note that starts one
        headers = reply_headers(
            post,
            action=action,
            message_id=message_id_for(action.key, "quorum@example.org", secret=b"k"),
            sender=(bot_name, "quorum@example.org"),
            list_address=LIST,
            now=NOW,
        )
        for _, value in headers:
            assert value == " ".join(value.split()), f"a line break survived in {value!r}"
        raw = compose(headers, text).as_bytes()
        names = _header_names(raw)
        assert set(names) <= {*OUR_HEADERS, *MIME_HEADERS, "In-Reply-To", "References"} | {
            "Auto-Submitted",
            "X-Loop",
        }
        assert names[:5] == OUR_HEADERS
        assert names.count("Subject") == 1


def test_a_hostile_display_name_cannot_add_a_recipient():
    target = _target("Hi", "Eve\r\nBcc: victim@example.com", "<ok@example.org>", "<r@x>")
    headers = reply_headers(
        target,
        action=Action("reply", target.key, "Thanks", key="reply:1"),
        message_id="<quorum.1@example.org>",
        sender=("quorum\nCc: victim@example.com", "quorum@example.org"),
        list_address=LIST,
        now=NOW,
    )
    message = email.message_from_bytes(compose(headers, "x").as_bytes(), policy=default)
    assert message["Cc"] is None
    assert message["Bcc"] is None
    assert message["From"] == '"quorum Cc: victim@example.com" <quorum@example.org>'
    assert message["Subject"] == "Re: Hi"


# -- markup in what the bot writes: mail is text, never HTML-escaped -------------------


def _store_with_hostile_threads(path: Path) -> Store:
    store = Store.open(path)
    vote = f"[VOTE] Release {SCRIPT} 1.0"
    mails = [
        raw_mail(
            f'I propose {SCRIPT}. I am concerned that <b>markup</b> & "quotes" break things.\n',
            subject=f"[RFC] Render {SCRIPT} safely",
            message_id="<rfc-1@example.org>",
            sender='"<i>Eve</i> & Co" <eve@example.org>',
        ),
        raw_mail(
            "Vote open for 72 hours.\n\n[ ] +1\n[ ] -1\n",
            subject=vote,
            message_id="<vote-1@example.org>",
            sender="Alice Archer <alice@example.org>",
            date="Mon, 02 Nov 2026 10:00:00 +0000",
        ),
        raw_mail(
            "+1 (binding)\n",
            subject=f"Re: {vote}",
            message_id="<vote-2@example.org>",
            sender='"<script>Bob</script>" <bob@example.org>',
            date="Mon, 02 Nov 2026 11:00:00 +0000",
            extra="In-Reply-To: <vote-1@example.org>\nReferences: <vote-1@example.org>",
        ),
    ]
    items = [(parse_mail(raw, Envelope(NOW)), raw) for raw in mails]
    store.ingest(items)
    return store


@pytest.fixture
def hostile_store(tmp_path: Path) -> Iterator[Store]:
    store = _store_with_hostile_threads(tmp_path / "quorum.db")
    yield store
    store.close()


def _assert_verbatim(text: str, *pieces: str) -> None:
    for piece in pieces:
        assert piece in text, f"{piece!r} was changed in:\n{text}"
    for escaped in ("&lt;", "&gt;", "&amp;", "&#34;", "&quot;", "&#39;"):
        assert escaped not in text, f"mail text was HTML-escaped ({escaped}):\n{text}"


def test_summary_mail_keeps_markup_in_subjects_and_names_as_text(hostile_store: Store):
    thread = find_thread(hostile_store, "[RFC] Render")
    text = render_summary(summary_of(hostile_store, CONFIG, thread, NOW), CONFIG)
    _assert_verbatim(text, SCRIPT, "<i>Eve</i> & Co", "<b>markup</b> &")


def test_result_draft_keeps_markup_as_text(hostile_store: Store):
    report = vote_report(hostile_store, CONFIG, "[VOTE] Release", NOW)
    text = draft_result(report, CONFIG)
    _assert_verbatim(text, f"[RESULT] [VOTE] Release {SCRIPT} 1.0", "<script>Bob</script>")


def test_digest_and_reminder_bodies_keep_markup_as_text(hostile_store: Store):
    refresh(hostile_store, CONFIG, NOW)  # as `quorum digest` does before it reads the views
    digest = render_digest(build_digest(hostile_store, CONFIG, NOW), CONFIG)
    _assert_verbatim(digest, SCRIPT)
    target = hostile_store.post("<rfc-1@example.org>")
    assert target is not None
    action = Action("remind", target.key, f"Reminder about {SCRIPT}", "k", reason="<policy>")
    body = body_for(action, target, bot_name="quorum", project="<Example>", archive_url="")
    _assert_verbatim(body, f"Reminder about {SCRIPT}", "<policy>")


# -- oversized and deeply nested MIME ----------------------------------------------------


def nested_mime(depth: int) -> bytes:
    """A message of ``depth`` multiparts, each the only part of the one around it."""
    opening = [
        b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i - 1, i)
        for i in range(1, depth)
    ]
    closing = [b"--b%d--\r\n" % i for i in reversed(range(depth))]
    return b"".join(
        [
            b"From: Mallory <m@example.org>\r\nSubject: deep\r\nMessage-ID: <deep@example.org>\r\n",
            b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n',
            *opening,
            b"--b%d\r\nContent-Type: text/plain\r\n\r\nthe bottom\r\n" % (depth - 1),
            *closing,
        ]
    )


def test_many_sibling_parts_stop_at_the_part_limit():
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(3000))
    raw = (
        b'From: m@example.org\r\nSubject: wide\r\nContent-Type: multipart/mixed; boundary="b"\r\n'
        b"\r\n" + parts + b"--b--\r\n"
    )
    post = parse_mail(raw, Envelope(NOW))
    assert "too-many-parts" in {d.kind for d in post.defects}
    assert post.text.strip() == "part 0"


def test_nesting_a_few_hundred_deep_is_read():
    post = parse_mail(nested_mime(300), Envelope(NOW))
    assert post.subject == "deep"


@pytest.mark.parametrize(
    "raw",
    [
        b"From:=?\x00?Q??=",
        b"Subject: =?utf-8\x00?Q?x?=\n\nhi\n",
        b'Content-Type: text/plain; charset="a\x00b"\n\n\xe9\n',
    ],
)
def test_a_nul_in_a_charset_name_is_a_defect_not_a_crash(raw: bytes):
    post = parse_mail(raw, Envelope(NOW))
    assert post.defects


def test_nesting_5000_deep_is_kept_with_a_defect_not_a_crash():
    post = parse_mail(nested_mime(5000), Envelope(NOW))
    assert post.message_id == "<deep@example.org>"
    assert post.defects


def _config(**smtp_settings: object) -> Config:
    return Config(
        smtp=SmtpConfig(port=0, accept=[LIST], **smtp_settings),  # type: ignore[arg-type]
        web=WebConfig(enabled=False),
    )


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = App(_config(max_message_bytes=4096), tmp_path / "quorum.db")
    await app.start()
    yield app
    await app.stop()


def _port(app: App) -> int:
    assert app._smtp_server is not None
    return int(app._smtp_server.sockets[0].getsockname()[1])


async def _wait_processed(app: App, messages: int, tries: int = 500) -> dict[str, int]:
    stats: dict[str, int] = {}
    for _ in range(tries):
        stats = await app.db(lambda s: s.stats())
        if stats["messages"] >= messages and stats["pending"] == 0:
            return stats
        await asyncio.sleep(0.02)
    raise AssertionError(f"not processed: {stats}")


async def test_one_unparseable_mail_does_not_hold_up_the_mail_after_it(tmp_path: Path):
    app = App(_config(max_message_bytes=10 * 1024 * 1024), tmp_path / "quorum.db")
    await app.start()
    try:
        port = _port(app)
        assert (await asyncio.to_thread(_send, port, nested_mime(5000)))[0] == 250
        assert (await asyncio.to_thread(_send, port, raw_mail(message_id="<after@x>")))[0] == 250
        stats = await _wait_processed(app, 2, tries=100)
    finally:
        await app.stop()
    assert stats["messages"] == 2


def _send(port: int, raw: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("tester.example")
        client.mail("mallory@example.org")
        client.rcpt(LIST)
        return client.data(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


class RawSession:
    """An SMTP session on a plain socket that streams the data, so the test's own memory
    stays flat and what tracemalloc sees is the server."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.file = self.sock.makefile("rb")
        self.reply()
        self.command(b"EHLO tester.example")

    def reply(self) -> tuple[int, bytes]:
        line = self.file.readline()
        while line[3:4] == b"-":
            line = self.file.readline()
        return int(line[:3]), line[4:].strip()

    def command(self, line: bytes) -> tuple[int, bytes]:
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def transaction(self, chunks: Iterator[bytes]) -> tuple[int, bytes]:
        assert self.command(b"MAIL FROM:<mallory@example.org>")[0] == 250
        assert self.command(f"RCPT TO:<{LIST}>".encode())[0] == 250
        assert self.command(b"DATA")[0] == 354
        for chunk in chunks:
            self.sock.sendall(chunk)
        self.sock.sendall(b".\r\n")
        return self.reply()

    def close(self) -> None:
        self.command(b"QUIT")
        self.file.close()
        self.sock.close()


def _fifty_megabytes() -> Iterator[bytes]:
    block = (b"x" * 998 + b"\r\n") * 1024  # 1 MiB of full-length lines
    yield b"Subject: huge\r\n\r\n"
    for _ in range(50):
        yield block


async def test_50_mb_is_refused_with_552_in_bounded_memory_and_the_session_goes_on(app: App):
    session = await asyncio.to_thread(RawSession, _port(app))
    tracemalloc.start()
    try:
        code, text = await asyncio.to_thread(session.transaction, _fifty_megabytes())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (code, b"Too much mail data" in text) == (552, True)
    assert peak < 16 * 1024 * 1024, f"the server held {peak / 2**20:.0f} MiB of a 50 MiB mail"
    small = [b"Subject: after\r\nMessage-ID: <after@example.org>\r\n\r\nfine\r\n"]
    assert (await asyncio.to_thread(session.transaction, iter(small)))[0] == 250
    await asyncio.to_thread(session.close)
    assert (await _wait_processed(app, 1))["messages"] == 1


async def test_the_size_limit_counts_the_data_exactly(app: App):
    header = b"Subject: edge\r\n\r\n"
    line = b"y" * 62 + b"\r\n"
    filler = line * ((4096 - len(header)) // len(line))
    exact = header + filler + b"z" * (4096 - len(header) - len(filler) - 2) + b"\r\n"
    assert len(exact) == 4096
    session = await asyncio.to_thread(RawSession, _port(app))
    try:
        assert (await asyncio.to_thread(session.transaction, iter([exact])))[0] == 250
        over = exact[:-2] + b"z\r\n"
        assert (await asyncio.to_thread(session.transaction, iter([over])))[0] == 552
    finally:
        await asyncio.to_thread(session.close)


async def test_dots_and_long_lines_arrive_byte_for_byte(app: App):
    body = b".\r\n..\r\n.leading dot\r\n" + b"w" * 3000 + b"\r\n.\r\nend\r\n"
    raw = b"Subject: dots\r\nMessage-ID: <dots@example.org>\r\n\r\n" + body
    assert (await asyncio.to_thread(_send, _port(app), raw))[0] == 250
    await _wait_processed(app, 1)
    assert await app.db(lambda s: s.raw("<dots@example.org>")) == raw


# -- a flood from one sender -------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Endpoint:
    """The SMTP endpoint with flood limits, storing into a list."""

    def __init__(self, limits: smtp.FloodLimits) -> None:
        self.clock = FakeClock()
        self.stored: list[smtp.Delivery] = []
        self.handler = smtp.InboundHandler(
            [LIST], self._persist, lambda: None, limits=limits, clock=self.clock
        )
        self.port = 0

    async def _persist(self, delivery: smtp.Delivery) -> int:
        self.stored.append(delivery)
        return len(self.stored)


@pytest.fixture
async def flood() -> AsyncIterator[Endpoint]:
    endpoint = Endpoint(smtp.FloodLimits(per_sender=5, per_peer=8))
    server = await smtp.start_smtp_server(
        endpoint.handler, host="127.0.0.1", port=0, max_message_bytes=65536, hostname="x"
    )
    endpoint.port = int(server.sockets[0].getsockname()[1])
    yield endpoint
    server.close()
    await server.wait_closed()


def _burst(port: int, sender: str, count: int) -> list[tuple[int, bytes]]:
    """``count`` transactions from ``sender`` on one connection: the MAIL FROM answers."""
    answers = []
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("tester.example")
        for n in range(count):
            code, text = client.mail(sender)
            answers.append((code, text))
            if code == 250:
                client.rcpt(LIST)
                client.data(b"Subject: %d\r\n\r\nflood\r\n" % n)
            else:
                client.rset()
    return answers


async def test_a_sender_over_its_limit_gets_451_before_any_data(flood: Endpoint):
    answers = await asyncio.to_thread(_burst, flood.port, "spammer@example.com", 7)
    assert [code for code, _ in answers] == [250] * 5 + [451] * 2
    assert answers[-1][1].decode() == (
        "4.7.1 Too many messages from <spammer@example.com>: at most 5 a minute are"
        " accepted; try again later"
    )
    assert len(flood.stored) == 5


async def test_other_senders_are_not_held_up_by_one_flooding(flood: Endpoint):
    await asyncio.to_thread(_burst, flood.port, "spammer@example.com", 7)
    answers = await asyncio.to_thread(_burst, flood.port, "alice@example.org", 1)
    assert answers[0][0] == 250


async def test_one_peer_is_limited_across_senders(flood: Endpoint):
    codes = []
    for n in range(10):
        answers = await asyncio.to_thread(_burst, flood.port, f"user{n}@example.org", 1)
        codes.append(answers[0][0])
    assert codes == [250] * 8 + [451] * 2
    refused = await asyncio.to_thread(_burst, flood.port, "late@example.org", 1)
    assert refused[0][1].decode().startswith("4.7.1 Too many messages from 127.0.0.1:")


async def test_the_limit_refills_with_time(flood: Endpoint):
    await asyncio.to_thread(_burst, flood.port, "spammer@example.com", 6)
    flood.clock.now += 12  # 5 a minute: one message every 12 seconds
    answers = await asyncio.to_thread(_burst, flood.port, "spammer@example.com", 2)
    assert [code for code, _ in answers] == [250, 451]


async def test_a_recipient_repeated_a_thousand_times_is_recorded_once(flood: Endpoint):
    def repeat() -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", flood.port, timeout=10) as client:
            client.ehlo("tester.example")
            client.mail("alice@example.org")
            for _ in range(1000):
                client.rcpt(LIST.upper())
            return client.data(b"Subject: many\r\n\r\nhi\r\n")

    assert (await asyncio.to_thread(repeat))[0] == 250
    assert flood.stored[0].rcpt_to == [LIST.upper()]


def test_the_limiter_forgets_idle_senders_first_and_stays_bounded():
    clock = FakeClock()
    limiter = smtp.RateLimiter(2, max_keys=100, clock=clock)
    limiter.take("flooder")
    limiter.take("flooder")
    for n in range(10_000):
        limiter.take(f"sender{n}")
        if n % 50 == 0:
            # It keeps trying, so it is remembered (and refused) however many others come.
            assert not limiter.allows("flooder")
    assert len(limiter) <= 100
    clock.now += 30  # half a minute: one token back
    assert limiter.allows("flooder")


def test_a_zero_limit_is_off():
    limiter = smtp.RateLimiter(0)
    for _ in range(1000):
        assert limiter.allows("a")
        limiter.take("a")
    assert len(limiter) == 0


def test_flood_limits_are_configurable_and_default_on():
    settings_ = SmtpConfig()
    assert settings_.max_messages_per_sender_per_minute == 120
    assert settings_.max_messages_per_peer_per_minute == 600
    assert SmtpConfig(max_messages_per_sender_per_minute=0).max_messages_per_sender_per_minute == 0
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        SmtpConfig(max_messages_per_sender_per_minute=-1)


async def test_quorum_run_applies_the_configured_flood_limit(tmp_path: Path):
    app = App(_config(max_messages_per_sender_per_minute=2), tmp_path / "quorum.db")
    await app.start()
    try:
        answers = await asyncio.to_thread(_burst, _port(app), "spammer@example.com", 3)
    finally:
        await app.stop()
    assert [code for code, _ in answers] == [250, 250, 451]


# -- many senders at once: group commit ------------------------------------------------


class GroupEndpoint:
    """The endpoint with group commit, over a slow store that counts its transactions."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[int] = []
        self.fail = fail
        self.handler = smtp.InboundHandler(
            [LIST], smtp.GroupCommit(self._persist_many), lambda: None
        )

    async def _persist_many(self, deliveries: list[smtp.Delivery]) -> list[int]:
        await asyncio.sleep(0.05)  # a commit long enough for others to queue behind it
        if self.fail:
            raise OSError("disk full")
        first = sum(self.batches) + 1
        self.batches.append(len(deliveries))
        return list(range(first, first + len(deliveries)))


async def _concurrently(endpoint: GroupEndpoint, senders: int) -> list[tuple[int, bytes]]:
    server = await smtp.start_smtp_server(
        endpoint.handler, host="127.0.0.1", port=0, max_message_bytes=65536, hostname="x"
    )
    port = int(server.sockets[0].getsockname()[1])
    try:
        mails = [raw_mail(message_id=f"<g{n}@x>") for n in range(senders)]
        return await asyncio.gather(*(asyncio.to_thread(_send, port, raw) for raw in mails))
    finally:
        server.close()
        await server.wait_closed()


async def test_concurrent_deliveries_share_commits_and_each_is_answered_after_its_own():
    endpoint = GroupEndpoint()
    answers = await _concurrently(endpoint, 20)
    assert [code for code, _ in answers] == [250] * 20
    ids = sorted(int(text.rsplit(b" ", 1)[1]) for _, text in answers)
    assert ids == list(range(1, 21))  # every sender got the id of its own stored row
    assert sum(endpoint.batches) == 20
    assert max(endpoint.batches) > 1


async def test_a_failed_group_commit_answers_451_to_every_sender_in_it():
    answers = await _concurrently(GroupEndpoint(fail=True), 5)
    assert {(code, text) for code, text in answers} == {
        (451, b"4.3.0 Message not stored, please try again later")
    }
