"""Loop safety and who-wrote-it predicates, on small raw mails and on the real archives."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from bot.adapters.archives import read_messages
from bot.core import rules
from bot.core.mail import Envelope, parse_mail
from bot.core.rules import BotIdentity, may_answer, refusal_reason
from bot.model import Post
from tests.corpus import corpus_path
from tests.mailgen import ARRIVAL, raw_mail

BOT = BotIdentity(frozenset({"quorum@example.org"}), "quorum@example.org")


def mail(body: str = "Hello.\n", **kwargs: str) -> Post:
    return parse_mail(raw_mail(body, **kwargs), Envelope(ARRIVAL))


def test_a_person_on_the_list_may_be_answered():
    post = mail(extra="Precedence: bulk\nReturn-Path:")
    assert may_answer(post, BOT)
    assert refusal_reason(post, BOT) is None


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("Auto-Submitted: auto-generated", True),
        ("Auto-Submitted: auto-replied", True),
        ("Auto-Submitted: no", False),
        ("Precedence: auto_reply", True),
        # ezmlm stamps every ASF list message "bulk": it must not silence the bot.
        ("Precedence: bulk", False),
        ("Precedence: list", False),
    ],
)
def test_auto_generated_follows_auto_submitted(extra: str, expected: bool):
    assert rules.is_auto_generated(mail(extra=extra)) is expected


def test_vacation_subject_is_an_auto_reply_even_without_headers():
    assert rules.is_auto_reply(mail(subject="Automatic reply: [RFC] objstore"))
    assert rules.is_auto_reply(mail(subject="Out of Office: back on Monday"))
    assert not rules.is_auto_reply(mail(subject="Re: Out of office handling in objstore?"))


BOUNCE_REPORT = """\
--b1
Content-Type: text/plain

Your message could not be delivered.
--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
--b1--
"""


@pytest.mark.parametrize(
    "kwargs",
    [
        {"extra": "Return-Path: <>"},
        {"extra": "Return-Path: <MAILER-DAEMON@mx.example.org>"},
        {"sender": "MAILER-DAEMON@mx.example.org"},
        {"sender": "Mail Delivery System <postmaster@example.org>"},
        {"subject": "Undelivered Mail Returned to Sender"},
        {"subject": "Delivery Status Notification (Failure)"},
        {"subject": "failure notice"},
        {
            "content_type": 'multipart/report; report-type=delivery-status; boundary="b1"',
            "body": BOUNCE_REPORT,
        },
    ],
)
def test_bounces(kwargs: dict[str, str]):
    headers = {k: v for k, v in kwargs.items() if k != "body"}
    post = mail(kwargs.get("body", "Hello.\n"), **headers)
    assert rules.is_bounce(post)
    assert refusal_reason(post, BOT) == "it is a bounce"


def test_an_empty_return_path_from_an_archive_is_not_a_bounce():
    assert not rules.is_bounce(mail(extra="Return-Path:"))
    assert not rules.is_bounce(mail(extra="Return-Path: <dev-return-5190@asterixdb.apache.org>"))


def test_our_loop_and_our_address():
    looped = mail(extra="X-Loop: quorum@example.org")
    assert rules.carries_our_loop(looped, "quorum@example.org")
    assert rules.carries_our_loop(mail(extra="X-Loop: <Quorum@Example.org>"), "quorum@example.org")
    assert not rules.carries_our_loop(mail(extra="X-Loop: other@example.org"), "quorum@example.org")
    assert not rules.carries_our_loop(looped, "")
    assert refusal_reason(looped, BOT) == "it is the bot's own mail"
    own = mail(sender="Quorum <QUORUM@example.org>")
    assert rules.is_own_post(own, {"quorum@example.org"})
    assert not rules.is_own_post(mail(), {"quorum@example.org"})
    assert not may_answer(own, BOT)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sender": "Alice Archer <notifications@github.com>"},
        {"extra": "X-GitHub-Reason: mention"},
        {"message_id": "<acme/quorum/pull/95/c123@github.com>"},
        {
            "sender": "GitBox <git@apache.org>",
            "subject": "[GitHub] alice commented on pull request #5: objstore retries",
        },
    ],
)
def test_github_notifications_are_never_answered(kwargs: dict[str, str]):
    post = mail(**kwargs)
    assert rules.is_github_notification(post)
    assert not rules.is_machine_generated(post)  # a person's words, relayed
    assert refusal_reason(post, BOT) == "it is a GitHub notification"


def test_a_reply_threaded_into_a_github_mirror_is_not_answered_either():
    post = replace(mail(), thread_key="<acme/quorum/pull/95@github.com>")
    assert rules.is_github_notification(post)
    assert not rules.is_github_notification(mail(subject="[GitHub] is down for me"))


@pytest.mark.parametrize(
    ("subject", "sender"),
    [
        ("[acme/quorum] Run failed: CI - main (abc1234)", "GitHub <notifications@github.com>"),
        ("Build failed in Jenkins: objstore-nightly #42", "jenkins@builds.apache.org"),
        ("Jenkins build is still unstable: objstore-nightly #43", "Jenkins <ci@example.org>"),
        ("[JENKINS] objstore-main (64bit/jdk-17) - Build # 123 - Failure!", "jenkins@example.org"),
        ("[CI] objstore: BUILD FAILURE", "builds@example.org"),
        ("buildbot failure in ASF Buildbot on objstore-trunk", "buildbot@apache.org"),
        ("Broken: acme/quorum#123 (main - abc1234)", "Travis CI <builds@travis-ci.com>"),
        ("Failed pipeline for main | objstore | abc1234", "GitLab <gitlab@example.org>"),
        ("Nightly: 3 tests failed in objstore", "Asterix build server <jenkins@example.edu>"),
    ],
)
def test_ci_failures(subject: str, sender: str):
    post = mail(subject=subject, sender=sender)
    assert rules.is_ci_failure(post)
    assert not rules.is_ci_recovery(post)
    assert rules.is_machine_generated(post)
    assert not may_answer(post, BOT)


@pytest.mark.parametrize(
    ("subject", "sender"),
    [
        # People talking about failures are people.
        ("Re: Build failed in Jenkins: objstore-nightly #42", "Bob Baker <bob@example.org>"),
        ("Tests failed on my machine, any idea?", "Bob Baker <bob@example.org>"),
        ("Tests failed after the upgrade", "Travis Scott <travis@example.org>"),
        ("Failing tests in objstore", "Ci Zhang <ci.zhang@example.org>"),
        ("Jenkins build is back to normal : objstore-nightly #44", "jenkins@example.org"),
    ],
)
def test_not_ci_failures(subject: str, sender: str):
    assert not rules.is_ci_failure(mail(subject=subject, sender=sender))


def test_ci_recovery():
    post = mail(subject="Jenkins build is back to stable : objstore #44", sender="jenkins@ex.org")
    assert rules.is_ci_recovery(post)
    assert not rules.is_ci_recovery(mail(subject="Re: Jenkins build is back to normal : x #1"))


@pytest.mark.parametrize(
    ("subject", "sender", "extra"),
    [
        ("[1/2] incubator-ponymail git commit: fix up", "dev@apache.org", ""),
        ("svn commit: r13887 - /dev/incubator/ponymail/", "dev@apache.org", ""),
        ("[jira] [Created] (MNG-6295) objstore retries", "Alice (JIRA) <jira@apache.org>", ""),
        ("[maven] branch master updated: [MNG-1] fix", "gitbox@apache.org", ""),
        ("A commit message", "dev@apache.org", "X-Mailer: ASF-Git Admin Mailer"),
        ("Your weekly report", "Example <noreply@example.org>", ""),
    ],
)
def test_machine_generated(subject: str, sender: str, extra: str):
    post = mail(subject=subject, sender=sender, extra=extra)
    assert rules.is_machine_generated(post)
    assert refusal_reason(post, BOT) == "a tool wrote it"


def _github_comment(login: str) -> Post:
    return mail(
        subject="Re: [acme/rfcs] RFC: async loader (PR #12)",
        sender=f'"{login}" <notifications@github.com>',  # GitHub quotes the name
        extra=f"X-GitHub-Sender: {login}",
    )


@pytest.mark.parametrize(
    "login",
    [
        "dependabot[bot]",
        "codecov[bot]",
        "rust-rfcbot",
        "bors",
        "rust-highfive",
        "asfgit",
        "tvm-bot",
        "k8s-ci-robot",
        "pytorchmergebot",
    ],
)
def test_a_github_comment_by_a_program_is_machine_written(login: str):
    assert rules.is_machine_generated(_github_comment(login))


@pytest.mark.parametrize("login", ["alice", "talbot", "robotics-fan", "tvm-archiver"])
def test_a_github_comment_by_a_person_is_not(login: str):
    # tvm-archiver relays dev@ mail into the issue: a person's words, labelled as ballots.
    assert not rules.is_machine_generated(_github_comment(login))


def test_a_reply_to_a_commit_mail_is_a_person():
    post = mail(subject="Re: [01/11] incubator-ponymail git commit: add a synch tool")
    assert not rules.is_machine_generated(post)
    assert may_answer(post, BOT)


# --------------------------------------------------------------------------
# The real archives
# --------------------------------------------------------------------------


def _posts(path: Path) -> list[Post]:
    return [parse_mail(m.raw, Envelope(ARRIVAL, m.mbox_from_line)) for m in read_messages(path)]


@pytest.mark.corpus
def test_commit_list_is_all_machine_but_the_one_human_reply():
    posts = _posts(corpus_path("mbox", "ponymail-commits-2016-06.mbox"))
    people = [p for p in posts if not rules.is_machine_generated(p)]
    assert len(posts) == 82
    assert [p.subject.startswith("Re:") for p in people] == [True]
    assert may_answer(people[0], BOT)


@pytest.mark.corpus
def test_jenkins_notices_on_the_asterixdb_list():
    posts = _posts(corpus_path("mbox", "asterixdb-dev-2017-09.mbox"))
    counts = Counter(
        "failure" if rules.is_ci_failure(p) else "recovery" if rules.is_ci_recovery(p) else "other"
        for p in posts
    )
    # 13 mails from the build server: 11 unstable builds and 2 "back to stable".
    assert counts == {"failure": 11, "recovery": 2, "other": 40}
    assert all(may_answer(p, BOT) for p in posts if "jenkins" not in p.author.address)


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "relayed"), [("maven-dev-2017-11.mbox", 123), ("maven-dev-2017-12.mbox", 52)]
)
def test_maven_list_refuses_exactly_the_github_relays(name: str, relayed: int):
    posts = _posts(corpus_path("mbox", name))
    refused = [p for p in posts if not may_answer(p, BOT)]
    assert len(refused) == relayed
    assert all(p.subject.startswith("[GitHub]") for p in refused)
    assert all(rules.is_github_notification(p) for p in refused)


def test_a_relayed_post_marked_auto_submitted_is_read_but_never_answered():
    raw = raw_mail(
        "I am worried that plugins parse the XML themselves.\n",
        sender="Bob Baker via Example Forum <forum@forum.example.org>",
        extra="Auto-Submitted: auto-generated",
    )
    post = parse_mail(raw, Envelope(ARRIVAL))
    assert not rules.is_automated(post)  # a person speaking, through the forum
    assert refusal_reason(post, BotIdentity()) == "it is Auto-Submitted"
    # A relayed out-of-office is still an automatic reply.
    away = parse_mail(raw.replace(b"Subject: Hello", b"Subject: Out of office"), Envelope(ARRIVAL))
    assert rules.is_automated(away)


@pytest.mark.parametrize(
    "sender",
    ['"Bob Baker" <notifications@github.com>', '"bob-baker (via GitHub)" <git@apache.org>'],
)
def test_a_github_comment_marked_auto_submitted_is_read_but_never_answered(sender: str):
    raw = raw_mail(
        "bob-baker commented on PR #7:\n\nI am worried that plugins parse the XML themselves.\n\n"
        "URL: https://github.com/apache/widget/pull/7#issuecomment-1\n",
        subject="Re: [PR] Read both formats (widget)",
        sender=sender,
        extra="Auto-Submitted: auto-generated",
    )
    post = parse_mail(raw, Envelope(ARRIVAL))
    assert not rules.is_automated(post)  # a person speaking, through GitHub
    assert refusal_reason(post, BotIdentity()) is not None
