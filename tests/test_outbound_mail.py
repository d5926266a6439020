"""Replies to the list: what crosses the wire to a real SMTP server over loopback."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from bot.adapters.outbound_mail import (
    MAX_REFERENCES,
    MailChannel,
    MailOutConfig,
    compose,
    loop_refusal,
    message_id_for,
    proves_delivery,
    references_for,
    reply_subject,
)
from bot.config import DispatchConfig
from bot.core.mail import Envelope, parse_mail
from bot.core.rules import BotIdentity
from bot.dispatch import Dispatcher
from bot.model import Action, Person, Post, Source
from bot.store.outbox import Outbox, Status
from tests.fakes.smtp_sink import SmtpSink
from tests.mailgen import raw_mail
from tests.stores import StoreThread, ingest, reply_to

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BOT = "quorum@example.org"
LIST = "dev@lists.example.org"
KEY = b"a test key for Message-IDs"
PASSWORD = "s3cret-Submission-pw"
LIVE = DispatchConfig(dry_run=False)


def channel_for(sink: SmtpSink, *, name: str = "mail", **settings: object) -> MailChannel:
    config = MailOutConfig.model_validate(
        {
            "enabled": True,
            "host": sink.host,
            "port": sink.port,
            "starttls": False,
            "timeout_seconds": 2.0,
            **settings,
        }
    )
    return MailChannel(
        config,
        name=name,
        bot_name="quorum",
        bot_address=BOT,
        list_address=LIST,
        project="Example project",
        archive_url="https://lists.example.org/thread/{message_id}",
        environ={"QUORUM_SMTP_PASSWORD": PASSWORD},
        message_id_key=KEY,
    )


async def dispatch(writer: StoreThread, channel: MailChannel, *actions: Action) -> Dispatcher:
    await writer(lambda store: Outbox(store).record_all(actions, NOW))
    running = Dispatcher(writer, {channel.name: channel}, LIVE, clock=lambda: NOW)
    await running.run_once(NOW)
    return running


async def entry_of(writer: StoreThread, key: str) -> tuple[Status, str]:
    entry = await writer(lambda store: Outbox(store).get(key))
    assert entry is not None
    return entry.status, entry.last_error or ""


def parsed(raw: bytes) -> Post:
    return parse_mail(raw, Envelope(arrived_at=NOW))


def body_of(message: EmailMessage) -> str:
    return str(message.get_content()).replace("\r\n", "\n")


async def _noop() -> None:
    return None


# -- pure parts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[RFC] Storage", "Re: [RFC] Storage"),
        ("Re: [RFC] Storage", "Re: [RFC] Storage"),
        ("RE: Re: Re[2]: AW: Storage", "Re: Storage"),
        ("[dev] Re: [VOTE] Release 1.0", "Re: [dev] [VOTE] Release 1.0"),
        ("Reply-to munging considered harmful", "Re: Reply-to munging considered harmful"),
        ("Fwd: Storage", "Re: Fwd: Storage"),
        ("", "Re: (no subject)"),
        ("Hi\r\nBcc: victim@example.com", "Re: Hi Bcc: victim@example.com"),
    ],
)
def test_reply_subject_has_exactly_one_re(subject: str, expected: str):
    assert reply_subject(subject) == expected


def test_references_are_the_targets_plus_the_target_valid_ids_only():
    target = parsed(
        raw_mail(
            message_id="<c@example.org>",
            extra="References: <a@example.org> <b@example.org>\nIn-Reply-To: <b@example.org>",
        )
    )
    assert references_for(target) == ["<a@example.org>", "<b@example.org>", "<c@example.org>"]

    broken = Post(
        Source.MAIL,
        "k",
        "<c@x>\r\nBcc: v@x",
        "t",
        Person("A"),
        NOW,
        "s",
        "",
        references=("<a@x>", "<b@x>\nBcc: v@x", "no-brackets@x"),
    )
    assert references_for(broken) == ["<a@x>"]


def test_long_reference_chains_keep_the_root_and_the_latest():
    refs = tuple(f"<m{n}@x>" for n in range(40))
    target = Post(Source.MAIL, "k", "<last@x>", "t", Person("A"), NOW, "s", "", references=refs)

    chain = references_for(target)

    assert len(chain) == MAX_REFERENCES
    assert chain[0] == "<m0@x>"
    assert chain[-2:] == ["<m39@x>", "<last@x>"]


def test_message_id_is_derived_from_the_action_key():
    first = message_id_for("reply:<a@x>:help", BOT, secret=KEY)

    assert first == message_id_for("reply:<a@x>:help", BOT, secret=KEY)
    assert first != message_id_for("reply:<a@x>:other", BOT, secret=KEY)
    assert first.startswith("<quorum.")
    assert first.endswith("@example.org>")


def test_message_id_cannot_be_made_without_the_key():
    key = "reply:<a@x>:help"
    ours = message_id_for(key, BOT, secret=KEY)
    # What anyone could compute from the action key alone before: sha256(key).
    unkeyed = f"<quorum.{hashlib.sha256(key.encode()).hexdigest()[:32]}@example.org>"

    assert proves_delivery(key, ours, secret=KEY)
    assert not proves_delivery(key, unkeyed, secret=KEY)
    assert not proves_delivery(key, message_id_for(key, BOT, secret=b"other key"), secret=KEY)
    assert not proves_delivery("reply:<b@x>:help", ours, secret=KEY)
    assert ours != message_id_for(key, BOT, secret=b"other key")


def test_compose_refuses_a_header_with_a_line_break():
    # The last line of defence behind one_line(): the email policy itself.
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        compose([("Subject", "Hi\r\nBcc: victim@example.com")], "body")


IDENTITY = BotIdentity(addresses=frozenset({BOT}), loop_id=BOT)


@pytest.mark.parametrize(
    ("sender", "extra", "message_id", "reason"),
    [
        ("Alice <alice@example.org>", "Auto-Submitted: auto-generated", None, "Auto-Submitted"),
        ("Alice <alice@example.org>", f"X-Loop: {BOT}", None, "the bot's own mail"),
        (f"quorum <{BOT}>", "", None, "the bot's own mail"),
        ("Mail Delivery System <MAILER-DAEMON@mx.example.org>", "", None, "bounce"),
        ("Alice <alice@example.org>", "X-GitHub-Reason: mention", None, "GitHub"),
        ("bob <notifications@github.com>", "", "<o/r/pull/95/c1@github.com>", "GitHub"),
    ],
)
def test_automated_mail_is_never_answered(
    sender: str, extra: str, message_id: str | None, reason: str
):
    post = parsed(raw_mail(sender=sender, extra=extra, message_id=message_id or "<m1@x.org>"))

    refusal = loop_refusal(post, IDENTITY)

    assert refusal is not None
    assert refusal.startswith("loop safety: not answering, ")
    assert reason in refusal


def test_people_are_answered_even_through_ezmlm():
    # ezmlm stamps Precedence: bulk on all list mail (see bot.core.rules).
    post = parsed(raw_mail(extra="Auto-Submitted: no\nPrecedence: bulk"))

    assert loop_refusal(post, IDENTITY) is None


# -- over the wire --------------------------------------------------------------------

REPLY_BODY = """\
Noted: concern "storage" is open.

-- \nSent automatically by quorum, the Example project decision bot, in answer
to the message above. Reply "@quorum help" to talk to it.
"""


async def test_reply_threads_under_its_target_and_says_it_is_automatic(
    writer: StoreThread, sink: SmtpSink
):
    target = await writer(
        lambda store: ingest(
            store,
            raw_mail(
                subject="Re: [RFC] Storage",
                message_id="<b@example.org>",
                extra="In-Reply-To: <a@example.org>\nReferences: <a@example.org>",
            ),
        )
    )
    action = reply_to(target, 'Noted: concern "storage" is open.')

    await dispatch(writer, channel_for(sink), action)

    [received] = sink.messages
    assert (received.mail_from, received.rcpt_tos) == (BOT, (LIST,))
    message = received.message
    assert message["From"] == f"quorum <{BOT}>"
    assert message["To"] == LIST
    assert message["Subject"] == "Re: [RFC] Storage"
    assert message["In-Reply-To"] == "<b@example.org>"
    assert message["References"] == "<a@example.org> <b@example.org>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Loop"] == BOT
    assert message["Message-ID"] == message_id_for(action.key, BOT, secret=KEY)
    assert message["Precedence"] is None
    assert body_of(message) == REPLY_BODY
    status, _ = await entry_of(writer, action.key)
    assert status == Status.SENT


REMINDER_BODY = """\
Bob Bauer, this RFC has waited 9 days for a maintainer's answer.

Why: policy for S1 modules: maintainers answer within 7 days
Waiting: https://lists.example.org/thread/rfc9@example.org

-- \nSent by quorum, the Example project decision bot. Reminders follow the
project's own responsiveness policy, named above. Reply "@quorum help"
to talk to it.
"""


async def test_a_reminder_is_auto_generated_and_names_its_policy(
    writer: StoreThread, sink: SmtpSink
):
    target = await writer(
        lambda store: ingest(
            store, raw_mail(subject="[RFC] Indexer", message_id="<rfc9@example.org>")
        )
    )
    action = Action(
        kind="remind",
        target=target.key,
        text="Bob Bauer, this RFC has waited 9 days for a maintainer's answer.",
        key="reminder:rfc9:bob:2026-W47",
        channel="mail",
        reason="policy for S1 modules: maintainers answer within 7 days",
    )

    await dispatch(writer, channel_for(sink), action)

    message = sink.messages[0].message
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == "Re: [RFC] Indexer"
    assert body_of(message) == REMINDER_BODY


async def test_a_note_about_a_module_starts_its_own_thread(writer: StoreThread, sink: SmtpSink):
    note = Action(
        kind="escalate",
        target="indexer",  # a module, not a post
        text="Indexer: 3 posts have waited over 14 days for a maintainer.\nDetails follow.",
        key="escalate:list:module=indexer:2:2026-W47",
        channel="list",
        reason="policy for S1 modules: escalate after 14 days",
    )

    await dispatch(writer, channel_for(sink, name="list"), note)

    message = sink.messages[0].message
    assert message["Subject"] == "Indexer: 3 posts have waited over 14 days for a maintainer."
    assert (message["In-Reply-To"], message["References"]) == (None, None)
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Why: policy for S1 modules" in body_of(message)
    assert "Waiting:" not in body_of(message)


async def test_auto_generated_mail_gets_no_reply(writer: StoreThread, sink: SmtpSink):
    robot = await writer(
        lambda store: ingest(
            store,
            raw_mail(
                subject="Build failed",
                message_id="<ci-1@ci.example.org>",
                extra="Auto-Submitted: auto-generated",
            ),
        )
    )
    action = reply_to(robot, "I could not read this command.")

    await dispatch(writer, channel_for(sink), action)

    assert sink.messages == []
    assert await entry_of(writer, action.key) == (
        Status.SKIPPED,
        "loop safety: not answering, it is Auto-Submitted",
    )


async def test_our_own_reply_coming_back_from_the_list_is_not_answered(
    writer: StoreThread, sink: SmtpSink
):
    target = await writer(lambda store: ingest(store, raw_mail(message_id="<h@example.org>")))
    await dispatch(writer, channel_for(sink), reply_to(target))
    echo = await writer(lambda store: ingest(store, sink.messages[0].raw))

    await dispatch(writer, channel_for(sink), reply_to(echo, "Again?"))

    assert len(sink.messages) == 1
    status, why = await entry_of(writer, reply_to(echo).key)
    assert (status, why) == (Status.SKIPPED, "loop safety: not answering, it is the bot's own mail")


async def test_line_breaks_in_echoed_values_never_become_headers(sink: SmtpSink):
    hostile = Post(
        Source.MAIL,
        "<x@example.org>",
        "<x@example.org>\r\nBcc: victim@example.com",
        "t",
        Person("Mallory", "mallory@example.org"),
        NOW,
        "Hi\r\nBcc: victim@example.com\r\n\r\nInjected body",
        "",
        references=("<a@example.org>", "<b@example.org>\nBcc: victim@example.com"),
    )
    action = reply_to(hostile)
    channel = channel_for(sink)
    rendered = channel.render(action, hostile, NOW)

    await channel.send(action, rendered, _noop)

    [received] = sink.messages
    assert received.rcpt_tos == (LIST,)
    message = received.message
    assert message["Bcc"] is None
    assert message["Subject"] == "Re: Hi Bcc: victim@example.com Injected body"
    assert message["In-Reply-To"] is None  # a broken id is refused, not repaired
    assert message["References"] == "<a@example.org>"
    assert b"\r\nBcc:" not in received.raw.split(b"\r\n\r\n", 1)[0]


async def test_password_comes_from_the_environment_and_is_never_logged(
    writer: StoreThread, caplog: pytest.LogCaptureFixture
):
    async with SmtpSink(credentials=("quorum", PASSWORD)) as sink:
        target = await writer(lambda store: ingest(store, raw_mail()))
        with caplog.at_level(logging.DEBUG):
            await dispatch(writer, channel_for(sink, username="quorum"), reply_to(target))

    assert sink.auth_attempts == [("quorum", True)]
    assert sink.messages[0].authenticated_as == "quorum"
    assert PASSWORD not in caplog.text
    dump = await writer(lambda store: str(list(store.db.query("SELECT * FROM actions"))))
    assert PASSWORD not in dump


async def test_a_wrong_password_is_a_permanent_failure(writer: StoreThread):
    async with SmtpSink(credentials=("quorum", "another")) as sink:
        target = await writer(lambda store: ingest(store, raw_mail()))
        await dispatch(writer, channel_for(sink, username="quorum"), reply_to(target))

    entry = await writer(lambda store: Outbox(store).get(reply_to(target).key))
    assert entry is not None
    assert (entry.status, entry.retry_at) == (Status.FAILED, None)
    assert (entry.last_error or "").startswith("SMTP 535")
    assert sink.messages == []


async def test_a_missing_password_names_the_variable(writer: StoreThread, sink: SmtpSink):
    channel = channel_for(sink, username="quorum", password_env="QUORUM_NO_SUCH_VARIABLE")
    target = await writer(lambda store: ingest(store, raw_mail()))

    await dispatch(writer, channel, reply_to(target))

    status, why = await entry_of(writer, reply_to(target).key)
    assert status == Status.FAILED
    assert "$QUORUM_NO_SUCH_VARIABLE is empty" in why
    assert sink.messages == []


async def test_a_temporary_refusal_is_retried_later_and_sent_once(
    writer: StoreThread, sink: SmtpSink
):
    target = await writer(lambda store: ingest(store, raw_mail()))
    sink.refuse_next(451, "4.3.0 try again later", stage="RCPT")
    running = await dispatch(writer, channel_for(sink), reply_to(target))
    status, why = await entry_of(writer, reply_to(target).key)
    assert (status, why) == (Status.FAILED, "SMTP 451 4.3.0 try again later")

    assert (await running.run_once(NOW + timedelta(seconds=30))).outcomes == ()
    report = await running.run_once(NOW + timedelta(minutes=1))

    assert report.sent == 1
    assert len(sink.messages) == 1


async def test_a_permanent_refusal_is_not_retried(writer: StoreThread, sink: SmtpSink):
    target = await writer(lambda store: ingest(store, raw_mail()))
    sink.refuse_next(554, "5.7.1 message rejected", stage="DATA")

    running = await dispatch(writer, channel_for(sink), reply_to(target))

    assert (await entry_of(writer, reply_to(target).key))[0] == Status.FAILED
    assert (await running.run_once(NOW + timedelta(days=1))).outcomes == ()
    assert sink.messages == []


async def test_a_connection_lost_after_data_is_uncertain_and_not_resent(
    writer: StoreThread, sink: SmtpSink
):
    target = await writer(lambda store: ingest(store, raw_mail()))
    sink.drop_after_data()

    running = await dispatch(writer, channel_for(sink), reply_to(target))
    later = await running.run_once(NOW + timedelta(hours=1))

    assert (await entry_of(writer, reply_to(target).key))[0] == Status.UNCERTAIN
    assert later.outcomes == ()
    assert len(sink.messages) == 1


async def test_no_server_is_retried_later(writer: StoreThread):
    async with SmtpSink() as gone:
        pass  # a port that was just free: nothing listens there now
    target = await writer(lambda store: ingest(store, raw_mail()))

    await dispatch(writer, channel_for(gone), reply_to(target))

    entry = await writer(lambda store: Outbox(store).get(reply_to(target).key))
    assert entry is not None
    assert (entry.status, entry.retry_at) == (Status.FAILED, NOW + timedelta(minutes=1))


def test_preview_shows_headers_and_body(sink: SmtpSink):
    target = parsed(raw_mail(subject="[RFC] Storage", message_id="<a@example.org>"))
    rendered = channel_for(sink).render(reply_to(target, "Noted."), target, NOW)

    head, _, body = rendered.preview.partition("\n\n")
    assert "Subject: Re: [RFC] Storage" in head.splitlines()
    assert body.startswith("Noted.\n\n-- \n")
    assert isinstance(compose([("Subject", "x")], body), EmailMessage)
