"""Nobody votes, resolves or answers in someone else's name: forged senders over real SMTP.

Each case is delivered to the running app's SMTP endpoint with smtplib, exactly
as a hostile sender would, and then read back the ways a person would: the vote
report (as ``quorum votes --json`` and ``votes THREAD`` print it), the dashboard's
vote page, the concern ledger's replies, and the modules' open obligations.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.app import App
from bot.config import load_config
from bot.core.concerns import ConcernState
from bot.features.concerns import find_thread, ledger_of
from bot.features.reminders import evaluate_modules
from bot.features.votes import vote_report
from tests.mailgen import raw_mail
from tests.test_smtp import _port, running, send, wait_processed

ROOT = Path(__file__).resolve().parent.parent
LIST = "dev@lists.example.org"
NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)
MALLORY = "mallory@evil.example"
EVE = "eve@evil.example"
# What Mallory writes in From: to look like Alice, as an RFC 2047 encoded word.
ENCODED_ALICE = "=?utf-8?b?" + base64.b64encode(b"Alice Archer <alice@example.org>").decode() + "?="
CONFIG_TOML = f"""
[smtp]
port = 0
accept = ["{LIST}"]

[web]
port = 0

[[roster.members]]
name = "Alice Archer"

[[roster.members]]
name = "Bob Bauer"

[[roster.members]]
name = "Carol Cortés"

[identities]
"Alice Archer" = ["alice@example.org", "aarcher"]
"Bob Bauer" = ["bob@example.org", "bbauer"]
"Carol Cortés" = ["carol@example.org"]

[trust]
list_hosts = ["lists.example.org"]

[modules.indexer]
state = "S1"
maintainers = ["Alice Archer"]
keywords = ["indexer"]

[responsiveness]
"""
# What our MTA writes on top of mail the list delivered.
VIA_LIST = "Received: from lists.example.org (lists.example.org [192.0.2.7]) by mx.example.org"


def _mail(number: int, body: str, sender: str, subject: str, parent: str | None = None) -> bytes:
    extra = f"In-Reply-To: {parent}\nReferences: {parent}" if parent else ""
    return raw_mail(
        body,
        subject=subject,
        message_id=f"<h{number}@example.org>",
        sender=sender,
        date=f"Mon, 0{2 + number // 10} Nov 2026 {10 + number % 10}:00:00 +0000",
        extra=extra,
    )


VOTE = "[VOTE] Release Indexer 2.1.0"
CALL = "Please vote; open for 72 hours.\n\n[ ] +1\n[ ] -1\n"
VOTE_MAILS = [
    _mail(1, CALL, "Bob Bauer <bob@example.org>", VOTE),
    # The issue's first case: the encoded display name carries Alice's address.
    _mail(2, "+1 (binding)\n", f"{ENCODED_ALICE} <{MALLORY}>", f"Re: {VOTE}", "<h1@example.org>"),
    # The second: Alice's name from another address.
    _mail(3, "+1 (binding)\n", f"Alice Archer <{EVE}>", f"Re: {VOTE}", "<h1@example.org>"),
    _mail(4, "+1\n", "Carol Cortés <carol@example.org>", f"Re: {VOTE}", "<h1@example.org>"),
]

RFC = "[RFC] Indexer retries"
CONCERN_MAILS = [
    _mail(11, "We propose retries in the indexer.\n", "Carol Cortés <carol@example.org>", RFC),
    _mail(
        12,
        "@quorum concern perf: retries double the load\n",
        "Bob Bauer <bob@example.org>",
        f"Re: {RFC}",
        "<h11@example.org>",
    ),
    _mail(
        13,
        "@quorum withdraw perf\n",
        f"Bob Bauer <{MALLORY}>",
        f"Re: {RFC}",
        "<h12@example.org>",
    ),
    _mail(
        14,
        "@quorum resolve perf\n",
        f"{ENCODED_ALICE} <{MALLORY}>",
        f"Re: {RFC}",
        "<h12@example.org>",
    ),
]

QUESTION = "Indexer upgrade notes"
ASKED = "Is a reindex needed for the indexer 2.1 upgrade?\n"
QUESTION_MAILS = [
    _mail(21, ASKED, "Frank <frank@example.com>", QUESTION),
    _mail(22, "No.\n", f"Alice Archer <{MALLORY}>", f"Re: {QUESTION}", "<h21@example.org>"),
]


MIRROR_SUBJECT = "[example/indexer] [VOTE] Release Indexer 2.2.0 (Issue #7)"


def _mirror(number: int, body: str, login: str, *, through_list: bool, root: bool = False) -> bytes:
    """A GitHub notification as the list mirrors it; without the list's Received, hand-made."""
    issue = "<example/indexer/issues/7@github.com>"
    headers = [
        f"From: {login} <notifications@github.com>",
        f"To: {LIST}",
        f"Subject: {'' if root else 'Re: '}{MIRROR_SUBJECT}",
        f"Date: Mon, 0{number - 30} Nov 2026 10:00:00 +0000",
        f"Message-ID: {issue if root else f'<example/indexer/issues/7/c{number}@github.com>'}",
        "List-Id: <dev.lists.example.org>",
        f"X-GitHub-Sender: {login}",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if not root:
        headers += [f"In-Reply-To: {issue}", f"References: {issue}"]
    if through_list:
        headers.insert(0, VIA_LIST)
    return ("\n".join(headers) + "\n\n" + body).encode()


MIRROR_MAILS = [
    _mirror(31, "Please vote, open 72 hours.\n", "bbauer", through_list=True, root=True),
    _mirror(32, "+1 (binding)\n", "aarcher", through_list=False),  # hand-made
    _mirror(33, "+1\n", "bbauer", through_list=True),
]


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "quorum.toml"
    path.write_text(CONFIG_TOML)
    return path


@pytest.fixture
async def app(config_path: Path, tmp_path: Path) -> AsyncIterator[App]:
    async with running(load_config(config_path), tmp_path / "quorum.db") as app:
        for raw in VOTE_MAILS + CONCERN_MAILS + QUESTION_MAILS + MIRROR_MAILS:
            code, _ = await send(_port(app), raw)
            assert code == 250
        await wait_processed(app, len(VOTE_MAILS + CONCERN_MAILS + QUESTION_MAILS + MIRROR_MAILS))
        yield app


def _quorum(*args: str, db: Path, config: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=True,
    )
    return result.stdout


async def test_a_forged_from_counts_nothing_binding_and_the_real_address_is_kept(app: App):
    report = await app.db(lambda store: vote_report(store, app.config, "2.1.0", NOW))
    ballots = {b.cast.post: b for b in report.ballots}
    encoded, plain, carol = (ballots[f"<h{n}@example.org>"] for n in (2, 3, 4))
    assert (encoded.binding, plain.binding, carol.binding) == (False, False, True)
    assert report.tally.binding_plus == 1  # Carol's alone
    assert encoded.unverified
    assert plain.unverified
    assert "Alice Archer" not in {b.voter for b in report.ballots}  # nobody counted as Alice
    stored = await app.db(lambda store: store.post("<h2@example.org>"))
    assert stored is not None
    assert stored.author.address == MALLORY
    assert stored.author.name == "Alice Archer <alice@example.org>"
    flagged = [f for f in report.flags if f.kind == "unverified-identity"]
    assert len(flagged) == 2
    assert all("never binding" in f.detail for f in flagged)
    assert {MALLORY, EVE} <= {word.strip("<>:") for f in flagged for word in f.detail.split()}


async def test_the_flag_is_visible_in_votes_json_votes_thread_and_the_dashboard(
    app: App, config_path: Path
):
    db = app.db_path
    listing = json.loads(_quorum("votes", "--json", db=db, config=config_path))
    vote = next(v for v in listing if "2.1.0" in v["subject"])
    forged = [b for b in vote["ballots"] if b["identity"]["verified"] is False]
    assert {b["identity"]["claims"] for b in forged} == {"Alice Archer"}
    assert {b["binding"] for b in forged} == {False}
    assert "unverified-identity" in {f["kind"] for f in vote["flags"]}
    detail = _quorum("votes", "2.1.0", db=db, config=config_path)
    assert detail.count("UNVERIFIED IDENTITY") == 2
    # Why it is counted so, as the dashboard says: Carol's +1 alone binds.
    assert "counted: fails: 1 binding +1 (need 3)" in detail
    assert f"<{MALLORY}>" in detail
    assert f"<{EVE}>" in detail
    assert app._web is not None
    host, port = app._web.addresses[0][:2]
    url = f"http://{host}:{port}/votes/{quote('<h1@example.org>', safe='')}"
    page = await asyncio.to_thread(_read, url)
    assert page.count("unverified identity") == 2
    assert MALLORY in page
    assert EVE in page


def _read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


async def test_a_forged_sender_cannot_withdraw_or_resolve_anothers_concern(app: App):
    def ledger(store):  # type: ignore[no-untyped-def]
        return ledger_of(store, app.config, find_thread(store, "Indexer retries"), NOW)

    found = await app.db(ledger)
    perf = found.get("perf")
    assert perf is not None
    assert perf.state is not ConcernState.WITHDRAWN
    assert perf.state is not ConcernState.RESOLVED
    refusals = {a.target: a.text for a in found.actions if "did not run" in a.text}
    assert set(refusals) == {"<h13@example.org>", "<h14@example.org>"}
    for text in refusals.values():
        assert "I cannot verify who sent it" in text
        assert MALLORY in text


async def test_a_forged_maintainer_answer_discharges_nothing(app: App):
    evaluation = await app.db(lambda store: evaluate_modules(store, app.config, NOW))
    [obligation] = [o for o in evaluation.obligations if o.post.key == "<h21@example.org>"]
    assert obligation.is_open
    assert obligation.responder is None


async def test_a_github_mirror_that_did_not_come_through_the_list_is_unverified(app: App):
    report = await app.db(lambda store: vote_report(store, app.config, "2.2.0", NOW))
    ballots = {b.cast.post: b for b in report.ballots}
    forged = ballots["<example/indexer/issues/7/c32@github.com>"]
    real = ballots["<example/indexer/issues/7/c33@github.com>"]
    assert forged.unverified
    assert "did not come through the list" in forged.unverified
    assert forged.binding is False
    assert (real.voter, real.binding, real.unverified) == ("Bob Bauer", True, "")
    assert real.author is not None
    assert "came through the list" in real.author.how
