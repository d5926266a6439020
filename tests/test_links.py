"""Links, not keys: every named post links where people can read it (bot.core.links)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.links import Archive, ArchiveKind, PostRef, link_for, quote, reference
from bot.core.mail import Envelope, parse_mail
from bot.dispatch import post_link
from tests.mailgen import raw_mail

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 11, 15, 19, 0, tzinfo=UTC)
MID = "<CAF=x/y+z@mail.gmail.com>"


@pytest.mark.parametrize(
    ("url", "kind", "expected"),
    [
        # public-inbox (lore.kernel.org): <inbox>/<Message-ID>/, "/" escaped as %2F.
        (
            "https://lore.kernel.org/netdev/",
            "auto",
            "https://lore.kernel.org/netdev/CAF%3Dx%2Fy%2Bz@mail.gmail.com/",
        ),
        # mail-archive.com's Message-ID lookup.
        (
            "https://www.mail-archive.com/dev@example.org/",
            "auto",
            "https://www.mail-archive.com/search?l=mid&q=CAF%3Dx%2Fy%2Bz%40mail.gmail.com",
        ),
        # HyperKitty: base32(SHA-1(id without <>)); the Mailman 3 docs' own example below.
        (
            "https://mail.python.org/archives/list/python-dev@python.org/",
            "auto",
            "https://mail.python.org/archives/list/python-dev@python.org/message/"
            "NB63QY7GVYWJFK537GNDAE2J56OY7C54/",
        ),
        # Pony Mail's thread view looks a Message-ID up when it is not a permalink.
        (
            "https://lists.apache.org/",
            "auto",
            "https://lists.apache.org/thread/%3CCAF%3Dx%2Fy%2Bz@mail.gmail.com%3E",
        ),
        # A template of the project's own, as before.
        (
            "https://archive.example.org/m/{message_id}",
            "auto",
            "https://archive.example.org/m/CAF%3Dx%2Fy%2Bz@mail.gmail.com",
        ),
        # A host Quorum does not know, with the preset named.
        (
            "https://lists.example.org/dev",
            "public-inbox",
            "https://lists.example.org/dev/CAF%3Dx%2Fy%2Bz@mail.gmail.com/",
        ),
    ],
)
def test_each_archive_preset_links_a_message_id(url: str, kind: str, expected: str):
    assert Archive.of(url, kind).message_url(MID) == expected


def test_hyperkitty_hash_is_mailmans():
    # Mailman 3's messagestore documentation: <87myycy5eh.fsf@...> hashes to JJIG...
    archive = Archive.of("https://h.example.org/archives/list/l@example.org")
    url = archive.message_url("<87myycy5eh.fsf@uwakimon.sk.tsukuba.ac.jp>")
    assert url == (
        "https://h.example.org/archives/list/l@example.org/message/"
        "JJIGKPKB6CVDX6B2CUG4IHAJRIQIOUTP/"
    )


def test_quoting_matches_urllib():
    from urllib.parse import quote as urllib_quote

    for text in (MID, "dév ümlaut", "a b+c&d=e", "<x@y>"):
        assert quote(text, safe="@") == urllib_quote(text, safe="@")


def _post(raw: bytes):
    return parse_mail(raw, Envelope(AT))


def test_a_post_links_its_own_url_first_then_the_archive_then_its_message_id():
    mailed = _post(raw_mail(message_id="<a@example.org>"))
    archive = Archive.of("https://lore.kernel.org/dev/")
    assert link_for(replace(mailed, url="https://github.com/o/r/pull/1#c2"), archive) == (
        "https://github.com/o/r/pull/1#c2"
    )
    assert link_for(mailed, archive) == "https://lore.kernel.org/dev/a@example.org/"
    assert reference(mailed, Archive()) == "Message-ID <a@example.org>"


def test_a_mail_without_message_id_is_never_named_by_its_hash_key():
    frank = _post(raw_mail(message_id=None, date=None, subject="Question about 2.1"))
    assert frank.key.startswith("sha256:")
    named = reference(frank, Archive(), author="Frank Fischer", subject=frank.subject, at=AT)
    assert named == "Frank Fischer's mail of 2026-11-15 (it has no Message-ID)"
    assert "sha256" not in named
    # With an archive that searches, a link to its subject on that day.
    inbox = Archive.of("https://lists.example.org/dev/", "public-inbox")
    assert reference(frank, inbox, subject=frank.subject, at=AT) == (
        "https://lists.example.org/dev/?q=s%3A%22Question+about+2.1%22+d%3A20261115..20261116"
    )
    assert post_link(frank, inbox) is not None


def test_a_vote_thread_key_links_as_a_message_id():
    archive = Archive.of("https://lists.apache.org")
    assert reference(PostRef(message_id="<v@x.org>"), archive) == (
        "https://lists.apache.org/thread/%3Cv@x.org%3E"
    )


@pytest.mark.parametrize(
    ("url", "kind", "problem"),
    [
        ("", "auto", "project.archive_url is empty"),
        ("https://example.org/archive", "auto", "has no {message_id} and is no archive"),
        ("https://h.example.org/hyperkitty", "hyperkitty", "linked by its list"),
    ],
)
def test_archives_that_cannot_link_say_why(url: str, kind: str, problem: str):
    found = Archive.of(url, kind).problem()
    assert found is not None
    assert problem in found


def test_a_known_archive_has_no_problem():
    assert Archive.of("https://lore.kernel.org/netdev/").problem() is None
    assert Archive.of("https://lore.kernel.org/netdev/").kind is ArchiveKind.PUBLIC_INBOX


def test_check_config_warns_when_no_archive_link_can_be_made(tmp_path: Path):
    def check(text: str) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "q.toml"
        path.write_text(text)
        return subprocess.run(
            [sys.executable, "-m", "bot", "check-config", str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )

    unknown = check('[project]\narchive_url = "https://example.org/archive"\n')
    assert unknown.returncode == 0
    assert "warning: project.archive_url 'https://example.org/archive' has no" in unknown.stdout
    fine = check('[project]\narchive_url = "https://lore.kernel.org/dev/"\n')
    assert fine.returncode == 0
    assert "warning" not in fine.stdout + fine.stderr
    bad = check('[project]\narchive = "gmane"\n')
    assert bad.returncode == 2
    assert "project.archive" in bad.stderr
