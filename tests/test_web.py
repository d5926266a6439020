"""The dashboard over HTTP: every page and API route, on the real corpus and on the sample.

The web app runs as the App runs it: every store call on one thread, through
``WebContext.db``; requests go through aiohttp's own test server over loopback.
Pages read the stored views (bot.store.views), so each store is refreshed
(bot.features.views.refresh) as of the test's clock before it is served, as
`quorum run` keeps them.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

import aiohttp
import jinja2
import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from pydantic import ValidationError

from bot import render
from bot.cli import cli
from bot.config import Config, RosterConfig, RosterMember, load_config
from bot.core.rfcs import STATE_MEANINGS
from bot.core.threads import parse_subject
from bot.core.votes import name_key
from bot.features.views import refresh
from bot.ingest import import_paths, process_inbox
from bot.store import Store
from bot.web import (
    CONTENT_SECURITY_POLICY,
    DASHBOARD,
    MAX_LIMIT,
    RFCS_PER_PAGE,
    Formatter,
    WebConfig,
    WebContext,
    build_web_app,
    start_web,
    web_address,
)
from tests.corpus import CORPUS, corpus_path
from tests.mailgen import raw_mail
from tests.stores import StoreThread

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "sample-archive.mbox"
EXAMPLE = ROOT / "config" / "example.toml"
EXAMPLE_CONFIG = load_config(EXAMPLE)
# After every Maven vote closed; the CLI is asked with --now 2018-06-01 too.
CORPUS_NOW = datetime(2018, 6, 1, tzinfo=UTC)
SAMPLE_NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PAGES = ("/", "/rfcs", "/votes", "/modules")
OK_HEALTH = {"smtp": {"ok": True, "address": "127.0.0.1:8025"}, "pollers": {}}

# Mail written to break a careless page: markup in subjects, names, bodies and ballots.
HOSTILE_SUBJECT = '[RFC] <script>alert("subject")</script> & <b>bold</b> storage'
HOSTILE = [
    raw_mail(
        "I propose <iframe src=javascript:alert(1)></iframe> a new storage layer.\n",
        subject=HOSTILE_SUBJECT,
        message_id="<hostile-1@example.org>",
        sender='"<img src=x onerror=alert(1)>" <mallory@example.org>',
        date="Mon, 16 Nov 2026 09:00:00 +0000",
    ),
    raw_mail(
        "I am concerned that <script>alert('concern')</script> runs in every browser.\n",
        subject="Re: " + HOSTILE_SUBJECT,
        message_id="<hostile-2@example.org>",
        sender="Bob Bauer <bob@example.org>",
        date="Mon, 16 Nov 2026 10:00:00 +0000",
        extra="In-Reply-To: <hostile-1@example.org>\nReferences: <hostile-1@example.org>",
    ),
    raw_mail(
        "Please vote. The vote is open for at least 72 hours.\n",
        subject="[VOTE] Release <script>x()</script> 1.0",
        message_id="<hostile-vote@example.org>",
        date="Mon, 16 Nov 2026 11:00:00 +0000",
    ),
    raw_mail(
        "+1 <b>binding</b> from me\n",
        subject="Re: [VOTE] Release <script>x()</script> 1.0",
        message_id="<hostile-ballot@example.org>",
        sender='"</td><script>alert(2)</script>" <eve@example.org>',
        date="Mon, 16 Nov 2026 12:00:00 +0000",
        extra="In-Reply-To: <hostile-vote@example.org>\nReferences: <hostile-vote@example.org>",
    ),
]


@asynccontextmanager
async def dashboard(
    db: Path,
    config: Config,
    now: datetime | Callable[[], datetime],
    health: Callable[[], Mapping[str, Any]] = lambda: OK_HEALTH,
    settings: WebConfig | None = None,
) -> AsyncIterator[TestClient[Any, Any]]:
    """The dashboard over ``db``, its views refreshed as of ``now`` with ``config``;
    ``ctx.refresh()`` refreshes them again (after a delivery, say)."""
    store = Store.open(db)
    runner = StoreThread(store)
    clock = now if callable(now) else (lambda: now)

    async def refresh_views() -> dict[str, Any]:
        plan = await runner(lambda store: refresh(store, config, clock()))
        return {"recomputed": plan.recomputed}

    await refresh_views()
    context = WebContext(
        db=runner,
        config=config,
        clock=clock,
        health=health,
        settings=settings or WebConfig(),
        refresh=refresh_views,
    )
    try:
        async with TestClient(TestServer(build_web_app(context))) as client:
            yield client
    finally:
        runner.close()
        store.close()


async def get_html(client: TestClient[Any, Any], path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, (path, response.status, await response.text())
    assert response.content_type == "text/html"
    return await response.text()


async def get_json(client: TestClient[Any, Any], path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, (path, response.status, await response.text())
    assert response.content_type == "application/json"
    return await response.json()


async def every_page(client: TestClient[Any, Any], path: str, key: str = "items") -> list[Any]:
    """An /api list read to its end by following each answer's ``next``."""
    rows: list[Any] = []
    url: str | None = path
    while url:
        body = await get_json(client, url)
        rows += body[key]
        following = body["next"]
        url = None if following is None else _path_of(following)
    return rows


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


async def deliver(client: TestClient[Any, Any], *mails: bytes) -> None:
    """Mail through the SMTP endpoint's path (inbox, then processing), then the views."""

    def store_them(store: Store) -> None:
        for index, raw in enumerate(mails):
            store.enqueue_inbound(
                raw, received_at=SAMPLE_NOW, peer="t", mail_from="", rcpt_to=[f"{index}"]
            )
        process_inbox(store)

    ctx = client.server.app[DASHBOARD].ctx
    await ctx.db(store_them)
    assert ctx.refresh is not None
    await ctx.refresh()


class Page(HTMLParser):
    """What a reader sees: text per table row, headings, links; and every tag, to audit."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[str] = []
        self.cells: list[list[str]] = []
        self.links: dict[str, str] = {}
        # The items of the "Needs attention" list, in order.
        self.attention: list[str] = []
        self.h1 = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._row_cells: list[str] = []
        self._link: tuple[str, list[str]] | None = None
        self._in_h1 = False
        self._in_attention = False
        self._item: list[str] | None = None
        self.text_parts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self._row, self._row_cells = [], []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self._link = (dict(attrs).get("href") or "", [])
        elif tag == "h1":
            self._in_h1 = True
        elif tag == "ul" and dict(attrs).get("class") == "attention":
            self._in_attention = True
        elif tag == "li" and self._in_attention:
            self._item = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows.append(_squash(" ".join(self._row)))
            self.cells.append(self._row_cells)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row_cells.append(_squash(" ".join(self._cell)))
            self._cell = None
        elif tag == "a" and self._link is not None:
            self.links.setdefault(_squash(" ".join(self._link[1])), self._link[0])
            self._link = None
        elif tag == "h1":
            self._in_h1 = False
        elif tag == "li" and self._item is not None:
            self.attention.append(_squash(" ".join(self._item)))
            self._item = None
        elif tag == "ul":
            self._in_attention = False

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        if self._row is not None:
            self._row.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._link is not None:
            self._link[1].append(data)
        if self._in_h1:
            self.h1 += data
        if self._item is not None:
            self._item.append(data)

    @property
    def text(self) -> str:
        return _squash(" ".join(self.text_parts))

    def ballot(self, voter: str) -> list[str]:
        """The cells of the row whose first cell names ``voter`` (accents and case aside)."""
        found = [cells for cells in self.cells if cells and name_key(cells[0]) == name_key(voter)]
        assert found, f"no ballot row for {voter!r}"
        return found[0]

    def row_with(self, needle: str) -> str:
        found = [row for row in self.rows if needle in row]
        assert found, f"no table row contains {needle!r}"
        return found[0]


def _squash(text: str) -> str:
    return " ".join(text.split())


def _squash(text: str) -> str:
    return " ".join(text.split())


def _official() -> list[dict[str, Any]]:
    path = CORPUS / "votes.json"
    return json.loads(path.read_text())["threads"] if path.exists() else []


def _maven_roster() -> Config:
    """The PMC members votes.json names as binding, as the roster."""
    names = {name for entry in _official() for name in entry.get("binding", [])}
    members = [RosterMember(name=name) for name in sorted(names)]
    return EXAMPLE_CONFIG.model_copy(update={"roster": RosterConfig(members=members)})


def _without_roster() -> Config:
    return EXAMPLE_CONFIG.model_copy(update={"roster": RosterConfig()})


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("web-corpus") / "quorum.db"
    archives = [
        corpus_path("mbox", name)
        for name in (
            "maven-dev-2017-11.mbox",
            "maven-dev-2017-12.mbox",
            "asterixdb-dev-2017-09.mbox",
        )
    ]
    store = Store.open(db)
    assert import_paths(store, archives).errors == []
    store.close()
    return db


def _write_sample(db: Path) -> None:
    store = Store.open(db)
    import_paths(store, [SAMPLE])
    for index, raw in enumerate(HOSTILE):
        store.enqueue_inbound(
            raw, received_at=SAMPLE_NOW, peer="test", mail_from="", rcpt_to=[f"{index}"]
        )
    process_inbox(store)
    store.close()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("web-sample") / "quorum.db"
    _write_sample(db)
    return db


def _cli(db: Path, *args: str, config: Path = EXAMPLE) -> Any:
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--db", str(db), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _date(moment: datetime) -> str:
    return format_datetime(moment)


def _rfc_mails(number: int, start: datetime, concern_after: timedelta | None) -> list[bytes]:
    """An [RFC] and, ``concern_after`` later, a concern from someone else."""
    root = f"<rfc-{number}@example.org>"
    subject = f"[RFC] Feature {number:04d}"
    mails = [
        raw_mail(
            f"I propose that we add feature {number}.\n",
            subject=subject,
            message_id=root,
            sender="Ada Ortiz <ada@example.org>",
            date=_date(start),
        )
    ]
    if concern_after is not None:
        mails.append(
            raw_mail(
                "I am concerned that this breaks existing users.\n",
                subject=f"Re: {subject}",
                message_id=f"<rfc-{number}-concern@example.org>",
                sender="Bram Novak <bram@example.org>",
                date=_date(start + concern_after),
                extra=f"In-Reply-To: {root}\nReferences: {root}",
            )
        )
    return mails


def _vote_mails(number: int, opened: datetime, result: bool = False) -> list[bytes]:
    """A [VOTE] on feature ``number`` with three +1 (and, with ``result``, its RESULT)."""
    root = f"<vote-{number}@example.org>"
    subject = f"[VOTE] Feature {number:04d}"
    mails = [
        raw_mail(
            "Please vote. The vote is open for at least 72 hours.\n",
            subject=subject,
            message_id=root,
            sender="Ada Ortiz <ada@example.org>",
            date=_date(opened),
        )
    ]
    voters = ("Chen Lind <chen@example.org>", "Dara Kato <dara@example.org>")
    for index, voter in enumerate((*voters, "Eli Jensen <eli@example.org>")):
        mails.append(
            raw_mail(
                "+1\n",
                subject=f"Re: {subject}",
                message_id=f"<vote-{number}-{index}@example.org>",
                sender=voter,
                date=_date(opened + timedelta(hours=index + 1)),
                extra=f"In-Reply-To: {root}\nReferences: {root}",
            )
        )
    if result:
        mails.append(
            raw_mail(
                "The vote passed with 3 +1 votes, no 0 and no -1 votes.\n",
                subject=f"[RESULT] {subject}",
                message_id=f"<result-{number}@example.org>",
                sender="Ada Ortiz <ada@example.org>",
                date=_date(opened + timedelta(days=4)),
                extra=f"In-Reply-To: {root}\nReferences: {root}",
            )
        )
    return mails


def _mbox(path: Path, mails: list[bytes]) -> Path:
    with path.open("wb") as out:
        for raw in mails:
            out.write(b"From test@example.org Mon Nov  2 09:14:00 2026\n" + raw + b"\n\n")
    return path


def _store_of(db: Path, mails: list[bytes]) -> Path:
    store = Store.open(db)
    try:
        assert import_paths(store, [_mbox(db.with_suffix(".mbox"), mails)]).errors == []
    finally:
        store.close()
    return db


# -- every page ---------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("path", [*PAGES, "/rfcs?state=quiet", "/rfcs?q=maven&page=1"])
async def test_every_page_renders_with_the_navigation(corpus_db: Path, path: str):
    async with dashboard(corpus_db, _maven_roster(), CORPUS_NOW) as client:
        page = Page(await get_html(client, path))
    assert {"Overview", "RFCs", "Votes", "Modules"} <= set(page.links)
    assert page.h1
    assert "figures as of 2018-06-01 00:00 UTC" in page.text


@pytest.mark.corpus
async def test_the_overview_counts_what_the_api_lists(corpus_db: Path):
    async with dashboard(corpus_db, _maven_roster(), CORPUS_NOW) as client:
        page = Page(await get_html(client, "/"))
        rfcs = await every_page(client, "/api/rfcs?limit=7")
        votes = await every_page(client, "/api/votes?limit=4")
        modules = await get_json(client, "/api/modules")
    states = {state.value: sum(1 for r in rfcs if r["state"] == state) for state in STATE_MEANINGS}
    assert f"{len(rfcs)} RFCs and discussions {states['blocked']} blocked" in page.text
    assert f"{states['quiet']} quiet" in page.text
    assert f"{len(votes)} votes" in page.text
    flagged = len(modules["flags"])
    assert f"{len(modules['modules'])} modules {flagged} flagged as unresponsive" in page.text
    # The legend says what each state means, in the core's words.
    for meaning in STATE_MEANINGS.values():
        assert meaning in page.text


@pytest.mark.corpus
async def test_a_2017_thread_seen_in_2018_is_quiet_not_blocked(corpus_db: Path):
    async with dashboard(corpus_db, _maven_roster(), CORPUS_NOW) as client:
        overview = Page(await get_html(client, "/"))
        [aql] = await every_page(client, "/api/rfcs?q=" + quote("deprecate AQL"))
        blocked = await every_page(client, "/api/rfcs?state=blocked")
        page = Page(await get_html(client, "/rfcs/" + quote("deprecate AQL")))
    assert aql["subject"] == "Time to deprecate AQL?"
    assert aql["concerns"]["open"] >= 1  # a concern nobody answered, nine months ago
    assert aql["state"] == "quiet"
    assert aql["reason"].startswith("nothing new since 2017-09-")
    assert blocked == []
    # Nothing from the archive is something to act on in June 2018.
    assert overview.attention == []
    assert "Nothing: no reminder waiting for an answer, no vote to close" in overview.text
    assert page.h1 == "Time to deprecate AQL?"
    assert "quiet nothing new since 2017-09-" in page.text
    assert STATE_MEANINGS["quiet"] in page.text  # type: ignore[index]


# -- needs attention ----------------------------------------------------------------------


def _disagreeing_vote(number: int, opened: datetime) -> list[bytes]:
    """A vote with three +1 whose RESULT announces that it failed."""
    root = f"<vote-{number}@example.org>"
    return [
        *_vote_mails(number, opened),
        raw_mail(
            "The vote failed: 0 +1 votes.\n",
            subject=f"[RESULT] [VOTE] Feature {number:04d}",
            message_id=f"<result-{number}@example.org>",
            date=_date(opened + timedelta(days=5)),
            extra=f"In-Reply-To: {root}\nReferences: {root}",
        ),
    ]


def _attention_mails() -> list[bytes]:
    """Two fresh RFCs with a concern nobody answered and one from nine years ago, two
    open votes, and two votes whose RESULT disagrees: a recent one, one of four years ago."""
    now = SAMPLE_NOW
    return [
        *_rfc_mails(1, now - timedelta(days=12), timedelta(days=2)),  # concern 10 days ago
        *_rfc_mails(2, now - timedelta(days=3), timedelta(days=1)),  # concern 2 days ago
        *_rfc_mails(3, now - timedelta(days=9 * 365), timedelta(hours=5)),  # nine years ago
        *_vote_mails(4, now - timedelta(hours=20)),  # closes in 52 hours
        *_vote_mails(6, now - timedelta(hours=40)),  # closes in 32 hours
        *_disagreeing_vote(5, now - timedelta(days=20)),
        *_disagreeing_vote(7, now - timedelta(days=4 * 365)),
    ]


async def test_needs_attention_lists_what_a_chair_must_act_on_now_most_urgent_first(
    tmp_path: Path,
):
    db = _store_of(tmp_path / "quorum.db", _attention_mails())
    async with dashboard(db, Config(), SAMPLE_NOW) as client:
        page = Page(await get_html(client, "/"))
        blocked = await every_page(client, "/api/rfcs?state=blocked")
        old = await get_json(client, "/api/rfcs/" + quote("<rfc-3@example.org>", safe=""))
    items = page.attention
    assert [re.search(r"Feature \d{4}", item).group(0) for item in items] == [  # type: ignore[union-attr]
        "Feature 0006",  # an open vote closing within 48 hours (0004 closes in 52)
        "Feature 0005",  # its RESULT disagrees with the ballots
        "Feature 0001",  # unanswered concerns: the longest waiting first
        "Feature 0002",
    ]
    assert "closes in 32 hours" in items[0]
    assert "would pass now" in items[0]
    assert "the announced RESULT disagrees" in items[1]
    assert "concern “This breaks existing users” unanswered" in items[2]
    assert "raised by Bram Novak on 2026-11-14" in items[2]
    assert "(10 days)" in items[2]
    assert {row["rfc"] for row in blocked} == {"<rfc-1@example.org>", "<rfc-2@example.org>"}
    # A nine-year-old concern nobody answered is history, not a blocker.
    assert old["rfc"]["state"] == "quiet"
    assert old["concerns"][0]["state"] == "open"
    assert "4 need attention" in page.text
    # The API lists the same items, whole, as `quorum attention --json` shapes them.
    async with dashboard(db, Config(), SAMPLE_NOW) as client:
        served = await get_json(client, "/api/attention")
    assert len(served["items"]) == len(items)
    for listed, shown in zip(served["items"], items, strict=True):
        assert listed["title"] in shown
    assert "1 disagree with their RESULT (last 90 days)" in page.text


async def test_a_fresh_concern_makes_its_discussion_blocked_on_the_next_refresh(tmp_path: Path):
    db = _store_of(tmp_path / "quorum.db", _rfc_mails(8, SAMPLE_NOW - timedelta(days=2), None))
    async with dashboard(db, Config(), SAMPLE_NOW) as client:
        before = Page(await get_html(client, "/"))
        concern = raw_mail(
            "-1 because nobody has volunteered to maintain this long term.\n",
            subject="Re: [RFC] Feature 0008",
            message_id="<rfc-8-late@example.org>",
            sender="Dara Kato <dara@example.org>",
            date=_date(SAMPLE_NOW - timedelta(hours=3)),
            extra="In-Reply-To: <rfc-8@example.org>",
        )
        await deliver(client, concern)
        after = Page(await get_html(client, "/"))
        [row] = await every_page(client, "/api/rfcs")
    assert before.attention == []
    assert row["state"] == "blocked"
    assert row["messages"] == 2
    [item] = after.attention
    assert item.startswith("unanswered concern “[RFC] Feature 0008”: concern")
    assert "raised by Dara Kato on 2026-11-24; nobody answered (3 hours)" in item


# -- votes --------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("entry", _official(), ids=lambda e: e["vote_subject"][:60])
async def test_maven_votes_show_their_tallies(corpus_db: Path, entry: dict[str, Any]):
    topic = parse_subject(entry["vote_subject"]).topic
    # An ambiguous ballot the RESULT names as +1 is counted so, and shown ambiguous.
    ambiguous = {name_key(name) for name in entry.get("ambiguous", [])}
    plus = entry["plus_one"]
    # Without a roster, as votes.json is checked in test_votes_corpus: binding unknown.
    async with dashboard(corpus_db, _without_roster(), CORPUS_NOW) as client:
        votes = Page(await get_html(client, "/votes"))
        row = _vote_row(votes, topic)
        detail = Page(await get_html(client, votes.links[_link_with(votes, topic)]))
    assert entry["outcome"] in row
    assert f"+1 {len(plus)} 0 {len(entry['zero'])} −1 {len(entry['minus_one'])}" in row
    assert "binding unknown (no roster)" in row
    assert topic in detail.h1
    for name in plus:
        if name_key(name) not in ambiguous:
            assert detail.ballot(name)[1] == "+1", name
    for name in entry.get("ambiguous", []):
        assert detail.ballot(name)[1].startswith("ambiguous"), name
        assert detail.ballot(name)[1].endswith("counted as +1"), name
    for name in entry["minus_one"]:
        assert detail.ballot(name)[1] == "-1", name
    if "binding" in entry:
        async with dashboard(corpus_db, _maven_roster(), CORPUS_NOW) as client:
            row = _vote_row(Page(await get_html(client, "/votes")), topic)
        assert f"+1 {len(plus)} ({len(entry['binding'])} binding)" in row
        assert "agrees" in row


def _vote_row(page: Page, topic: str) -> str:
    """The row of the vote on exactly this topic ("take 2" is another vote)."""
    rows = [
        " ".join(cells)
        for cells in page.cells
        if cells and parse_subject(cells[0].rsplit(" opened ", 1)[0]).topic == topic
    ]
    assert len(rows) == 1, (topic, rows)
    return rows[0]


def _link_with(page: Page, topic: str) -> str:
    return next(label for label in page.links if parse_subject(label).topic == topic)


@pytest.mark.corpus
async def test_a_vote_page_shows_every_ballot_with_its_sentence(corpus_db: Path):
    async with dashboard(corpus_db, _maven_roster(), CORPUS_NOW) as client:
        [report] = await get_json(client, "/api/votes/" + quote("Maven Indexer 6.0.0"))
        page = Page(await get_html(client, "/votes/" + quote(report["thread"], safe="")))
    assert page.h1 == "[VOTE] Release Maven Indexer 6.0.0"
    assert len(report["ballots"]) == 6
    for ballot in report["ballots"]:
        row = page.row_with(ballot["voter"])
        assert _squash(ballot["sentence"]) in row
        assert ("non-binding" if ballot["binding"] is False else "binding") in row
    assert "announces passed; agrees with the ballots in the thread" in page.text
    assert "passes with at least 3 binding +1 and more +1 than -1" in page.text
    assert "Tested this in two applications" in page.row_with("Andreas Sewe")


async def _vote_and_its_page(
    db: Path, config: Config, now: datetime, name: str
) -> tuple[dict[str, Any], Page]:
    """The one vote ``name`` names, as /api/votes/NAME gives it, and its page."""
    async with dashboard(db, config, now) as client:
        [report] = await get_json(client, "/api/votes/" + quote(name))
        page = Page(await get_html(client, "/votes/" + quote(report["thread"], safe="")))
    return report, page


@pytest.mark.corpus
async def test_a_vote_whose_call_is_before_the_archive_counts_what_is_stored(tmp_path: Path):
    # December's archive holds the Indexer vote's last replies and its RESULT; the call
    # and most ballots went out in November.
    db = tmp_path / "quorum.db"
    store = Store.open(db)
    assert import_paths(store, [corpus_path("mbox", "maven-dev-2017-12.mbox")]).errors == []
    store.close()
    report, page = await _vote_and_its_page(
        db, _without_roster(), CORPUS_NOW, "Maven Indexer 6.0.0"
    )
    # The stored replies are counted as they are, and the RESULT that counts November's
    # ballots disagrees with them; the flag says the call (and what came with it) is
    # not stored, and the page does not pretend to know when the vote opened.
    assert report["state"] == "failed"
    assert report["agrees_with_announced"] is False
    assert "call-missing" in [flag["kind"] for flag in report["flags"]]
    assert "the call is not stored" in page.text
    assert "opened before 2017-12-01" in page.text


async def test_an_open_vote_that_only_relayed_ballots_would_pass_is_not_shown_failing(
    tmp_path: Path,
):
    # A forum in mailing-list mode relays three +1s from its own address; no roster says
    # who binds. Counted, they would pass the vote; nothing verifies their authors.
    opened = SAMPLE_NOW - timedelta(hours=20)
    call, *ballots = _vote_mails(8, opened)
    voters = ("Chen Lind", "Dara Kato", "Eli Jensen")
    relayed = [
        re.sub(
            rb"(?m)^From: .*$",
            f"From: {voter} via Example Forum <forum@forum.example.org>".encode(),
            ballot,
            count=1,
        )
        for ballot, voter in zip(ballots, voters, strict=True)
    ]
    db = _store_of(tmp_path / "quorum.db", [call, *relayed])
    report, page = await _vote_and_its_page(db, _without_roster(), SAMPLE_NOW, "Feature 0008")
    assert report["state"] == "open"
    assert report["would_pass_now"] is None
    assert "outcome-unverified" in [flag["kind"] for flag in report["flags"]]
    assert "open · would pass if verified" in page.text
    assert "would pass only if its relayed ballots count" in page.text
    assert "would fail" not in page.text


# -- RFCs ---------------------------------------------------------------------------------


@pytest.mark.corpus
async def test_every_rfc_in_the_list_has_its_page_and_ledger(corpus_db: Path):
    async with dashboard(corpus_db, _maven_roster(), CORPUS_NOW) as client:
        listed = Page(await get_html(client, "/rfcs"))
        rows = await every_page(client, "/api/rfcs")
        assert len(rows) >= 10
        for row in rows:
            href = listed.links[_squash(row["subject"])]
            if row["kind"] == "vote":  # a vote where concerns were raised: its page is the vote's
                assert href == "/votes/" + quote(row["rfc"], safe="")
                continue
            assert href == "/rfcs/" + quote(row["rfc"], safe="")
            page = Page(await get_html(client, href))
            detail = await get_json(client, "/api/rfcs/" + quote(row["rfc"], safe=""))
            assert page.h1 == row["subject"]
            assert f"{row['state']} {row['reason']}" in page.text
            assert len(detail["concerns"]) == sum(row["concerns"].values())
            for concern in detail["concerns"]:
                assert f"{concern['title']} [{concern['id']}]" in page.row_with(concern["id"])


@pytest.mark.corpus
async def test_the_aql_rfc_page_shows_its_summary_and_its_ledger(corpus_db: Path):
    async with dashboard(corpus_db, _maven_roster(), CORPUS_NOW) as client:
        page = Page(await get_html(client, "/rfcs/" + quote("deprecate AQL")))
        detail = await get_json(client, "/api/rfcs/" + quote("deprecate AQL"))
    assert page.h1 == "Time to deprecate AQL?"
    assert "IMO it is time to let go of AQL" in page.text
    assert detail["summary"]["proposal"] in page.text
    for concern in detail["concerns"]:
        row = page.row_with(concern["id"])
        assert concern["raised_by"] in row
        assert concern["state"] in row
    unanswered = [c for c in detail["concerns"] if c["state"] == "open"]
    assert sum(1 for r in page.rows if "open nobody yet" in r) == len(unanswered) >= 1


@pytest.mark.corpus
async def test_selectors_resolve_like_the_command_line(corpus_db: Path):
    async with dashboard(corpus_db, EXAMPLE_CONFIG, CORPUS_NOW) as client:
        missing = Page(await get_html(client, "/rfcs/" + quote("<nope@example.org>", safe=""), 404))
        assert "no thread matches" in missing.text
        error = await get_json(client, "/api/rfcs/" + quote("<nope@example.org>", safe=""), 404)
        assert "no thread matches" in error["error"]
        many = await get_json(client, "/api/summary/Maven", 400)
        assert "name one" in many["error"]
        await get_json(client, "/api/votes/" + quote("<nope@example.org>", safe=""), 404)
        # A vote thread named as an RFC leads to its vote page.
        [vote] = await get_json(client, "/api/votes/" + quote("Maven Indexer 6.0.0"))
        key = quote(vote["thread"], safe="")
        response = await client.get(f"/rfcs/{key}", allow_redirects=False)
        assert response.status == 302
        assert unquote(response.headers["Location"]) == "/votes/" + vote["thread"]
        # So does the RESULT mail that closed it.
        threads = await every_page(client, "/api/threads?kind=result")
        result = next(t for t in threads if t["closes"] == vote["thread"])
        response = await client.get("/rfcs/" + quote(result["key"], safe=""), allow_redirects=False)
        assert unquote(response.headers["Location"]) == "/votes/" + vote["thread"]
        await get_json(client, "/api/threads?kind=bogus", 400)
        assert (await client.get("/nowhere")).status == 404


# -- the API has the shapes of the --json commands ----------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("route", "command"),
    [
        ("/api/threads?limit=9", ("threads", "--json")),
        ("/api/votes?limit=2", ("votes", "--json", "--now", "2018-06-01")),
        ("/api/concerns?limit=3", ("concerns", "--json", "--now", "2018-06-01")),
    ],
)
async def test_every_page_of_an_api_list_together_is_what_the_json_command_prints(
    corpus_db: Path, route: str, command: tuple[str, ...]
):
    async with dashboard(corpus_db, EXAMPLE_CONFIG, CORPUS_NOW) as client:
        served = await every_page(client, route)
    assert served == _cli(corpus_db, *command)


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("route", "command"),
    [
        ("/api/stats", ("stats", "--json")),
        (
            "/api/votes/" + quote("Maven Indexer 6.0.0"),
            ("votes", "Maven Indexer 6.0.0", "--json", "--now", "2018-06-01"),
        ),
        (
            "/api/concerns/" + quote("deprecate AQL"),
            ("concerns", "deprecate AQL", "--json", "--now", "2018-06-01"),
        ),
        (
            "/api/summary/" + quote("deprecate AQL"),
            ("summary", "deprecate AQL", "--json", "--now", "2018-06-01"),
        ),
    ],
)
async def test_api_returns_what_the_json_command_prints(
    corpus_db: Path, route: str, command: tuple[str, ...]
):
    async with dashboard(corpus_db, EXAMPLE_CONFIG, CORPUS_NOW) as client:
        served = await get_json(client, route)
    assert served == _cli(corpus_db, *command)


@pytest.mark.corpus
async def test_api_modules_is_quorum_modules_json_plus_the_flags(corpus_db: Path, tmp_path: Path):
    # Every obligation of the archive's year, not only the last 90 days' (the default).
    config = tmp_path / "quorum.toml"
    example = EXAMPLE.read_text()
    config.write_text(re.sub(r"(?m)^window_days = .*$", "window_days = 365", example))
    async with dashboard(corpus_db, load_config(config), CORPUS_NOW) as client:
        served = await get_json(client, "/api/modules")
        obligations = await every_page(client, "/api/modules?limit=2", key="obligations")
        decisions = await every_page(client, "/api/modules?limit=2", key="decisions")
    printed = _cli(corpus_db, "modules", "--json", "--now", "2018-06-01", config=config)
    assert len(printed["obligations"]) > 2  # more than one page
    assert obligations == printed["obligations"]
    assert decisions == printed["decisions"]
    assert served["modules"] == printed["modules"]
    flagged = {m["name"] for m in printed["modules"] if m["flagged"]}
    assert {flag["module"] for flag in served["flags"]} == flagged
    assert all(flag["evidence"] for flag in served["flags"])


@pytest.mark.corpus
async def test_the_rfc_api_mirrors_the_rfc_page(corpus_db: Path):
    async with dashboard(corpus_db, EXAMPLE_CONFIG, CORPUS_NOW) as client:
        detail = await get_json(client, "/api/rfcs/" + quote("deprecate AQL"))
        quiet = await every_page(client, "/api/rfcs?state=quiet")
    printed = _cli(corpus_db, "summary", "deprecate AQL", "--json", "--now", "2018-06-01")
    assert detail["summary"] == printed
    assert detail["rfc"]["channels"] == ["list"]
    counts = detail["rfc"]["concerns"]
    assert sum(counts.values()) == len(detail["concerns"])
    assert counts["open"] == sum(1 for c in detail["concerns"] if c["state"] == "open")
    assert detail["rfc"] in quiet
    assert all(row["state"] == "quiet" for row in quiet)


# -- pagination ---------------------------------------------------------------------------


def _pagination_mails() -> list[bytes]:
    """23 RFCs, the first twelve discussed last at the very same moment (ties), and
    seven votes: enough for several pages of every list."""
    mails: list[bytes] = []
    for number in range(23):
        start = SAMPLE_NOW - timedelta(days=40) + timedelta(hours=min(number, 12))
        mails += _rfc_mails(number, start, timedelta(days=1) if number % 2 else None)
    for number in range(7):
        mails += _vote_mails(100 + number, SAMPLE_NOW - timedelta(days=30 - number), result=True)
    return mails


async def test_api_lists_give_every_row_exactly_once_in_a_stable_order(tmp_path: Path):
    db = _store_of(tmp_path / "quorum.db", _pagination_mails())
    async with dashboard(db, Config(), SAMPLE_NOW) as client:
        rfcs = await every_page(client, "/api/rfcs?limit=5")
        again = await every_page(client, "/api/rfcs?limit=4")
        whole = await get_json(client, f"/api/rfcs?limit={MAX_LIMIT}")
        threads = await every_page(client, "/api/threads?limit=4")
        votes = await every_page(client, "/api/votes?limit=3")
        concerns = await every_page(client, "/api/concerns?limit=2")
        first = await client.get("/api/rfcs?limit=5&state=quiet")
        body = await first.json()
        last = await get_json(client, "/api/rfcs?limit=5&page=99")
        bad = [
            await get_json(client, path, 400)
            for path in (
                "/api/rfcs?limit=0",
                f"/api/votes?limit={MAX_LIMIT + 1}",
                "/api/threads?page=x",
            )
        ]
    keys = [row["rfc"] for row in rfcs]
    assert len(keys) == len(set(keys)) == 23
    assert keys == [row["rfc"] for row in again] == [row["rfc"] for row in whole["items"]]
    assert keys == _newest_first(rfcs)
    assert whole["next"] is None
    assert len({t["key"] for t in threads}) == len(threads) == 23 + 7 + 7
    assert [t["first_at"] for t in threads] == sorted(t["first_at"] for t in threads)
    assert [v["thread"] for v in votes] == [f"<vote-{100 + n}@example.org>" for n in range(7)]
    assert len({(c["thread"], c["id"]) for c in concerns}) == len(concerns) == 11
    # The next page is named in the answer and in a Link header, with the filters kept.
    assert body["page"] == 1
    assert body["limit"] == 5
    assert first.headers["Link"] == f'<{body["next"]}>; rel="next"'
    assert "state=quiet" in body["next"]
    assert "page=2" in body["next"]
    assert last == {"items": [], "page": 99, "limit": 5, "next": None}
    assert "limit must be a whole number from 1 to 500 (got '0')" in bad[0]["error"]
    assert "page must be a whole number" in bad[2]["error"]


def _newest_first(rows: list[dict[str, Any]]) -> list[str]:
    """The list's documented order: latest activity first, ties by key."""
    by_key = sorted(rows, key=lambda r: r["rfc"])
    return [r["rfc"] for r in sorted(by_key, key=lambda r: r["last_at"], reverse=True)]


async def test_the_rfc_list_pages_and_filters(tmp_path: Path):
    mails = [
        raw_mail(
            f"I propose change number {number}.\n",
            subject=f"[RFC] Change number {number:03d}",
            message_id=f"<change-{number}@example.org>",
            date=_date(SAMPLE_NOW - timedelta(hours=number + 1)),
        )
        for number in range(RFCS_PER_PAGE + 20)
    ]
    db = _store_of(tmp_path / "quorum.db", mails)
    async with dashboard(db, Config(), SAMPLE_NOW) as client:
        first = Page(await get_html(client, "/rfcs"))
        second = Page(await get_html(client, first.links["older →"]))
        beyond = Page(await get_html(client, "/rfcs?page=99&state=bogus"))
        found = Page(await get_html(client, "/rfcs?q=NUMBER+007"))
        small = Page(await get_html(client, "/rfcs?limit=30&page=2"))
        active = await every_page(client, "/api/rfcs?state=active&limit=50")
    listed = [row for row in first.rows if "Change number" in row]
    assert len(listed) == RFCS_PER_PAGE
    assert "Change number 000" in listed[0]  # the newest first
    assert "page 1 of 2" in first.text
    assert first.links["older →"] == "/rfcs?page=2"
    assert len([row for row in second.rows if "Change number" in row]) == 20
    assert "page 2 of 2" in beyond.text
    assert [row for row in found.rows if "Change number" in row] == [found.row_with("007")]
    assert "1 of 120 shown" in found.text
    assert "Change number 030" in next(r for r in small.rows if "Change number" in r)
    assert small.links["older →"] == "/rfcs?page=3&limit=30"
    assert len(active) == RFCS_PER_PAGE + 20


# -- a page costs what it shows -----------------------------------------------------------


def _history(count: int) -> list[bytes]:
    """``count`` RFCs nine hours apart up to SAMPLE_NOW, each with a concern, every tenth
    with a vote: the newest hundred look the same however long the history before them.
    (No module is configured where they are served: the modules' figures are
    bot.features.modules', timed in bench/web.py.)"""
    mails: list[bytes] = []
    for number in range(count):
        start = SAMPLE_NOW - timedelta(hours=9 * (count - number) + 4)
        mails += _rfc_mails(number, start, timedelta(hours=3))
        if number % 10 == 0:
            mails += _vote_mails(number, start + timedelta(hours=1))
    return mails


@pytest.fixture(scope="module")
def history_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("web-history")
    return {count: _store_of(folder / f"rfcs-{count}.db", _history(count)) for count in (100, 1000)}


def _routes(count: int) -> list[str]:
    """Every kind of page and API route, naming an RFC and a vote of the same shape; lists
    of votes a page of five, which both histories fill."""
    rfc = quote(f"<rfc-{count - 50}@example.org>", safe="")
    vote = quote(f"<vote-{count - 50}@example.org>", safe="")
    named = quote(f"[RFC] Feature {count - 50:04d}")
    return [
        "/", "/rfcs", "/rfcs?page=2", "/rfcs?state=blocked", "/rfcs?q=feature",
        "/votes?limit=5", "/votes?page=2&limit=5", "/modules", f"/rfcs/{rfc}", f"/rfcs/{named}",
        f"/votes/{vote}", "/api/rfcs", "/api/rfcs?page=2&limit=10", "/api/rfcs?q=feature",
        "/api/rfcs?state=blocked&limit=5", "/api/votes?limit=5", "/api/votes?page=2&limit=5",
        "/api/concerns?limit=5", "/api/concerns?page=3&limit=5", "/api/threads",
        "/api/threads?kind=vote&limit=5", f"/api/rfcs/{rfc}", f"/api/summary/{rfc}",
        f"/api/concerns/{rfc}", f"/api/votes/{vote}", "/api/modules",
        "/rfcs/" + quote("<nothing@example.org>", safe=""), "/rfcs/nothing-like-this",
        "/api/votes/nothing-like-this",
    ]  # fmt: skip


# Tables that grow with the history: a page must never read all of one.
_GROWING = {"posts", "threads", "raw_messages", "post_refs", "post_links", "defects"}
# Routes that count the views or search their subjects: the brief allows those to read
# every view (never a post); the others read the same rows however long the history.
_COUNTING = re.compile(r"^/(rfcs|votes)?(\?|$)|q=|/rfcs/(%5B|nothing-)|/api/votes/nothing-")
# Progress-handler ticks are every this many SQLite VM instructions.
_TICK = 100


def _full_scans(connection: sqlite3.Connection, statements: list[str]) -> list[str]:
    """The statements whose plan reads a whole growing table (a LIMIT read in index order,
    which stops at the page, is not one)."""
    found = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        aliases = {
            alias or table: table
            for table, alias in re.findall(
                r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(?!WHERE|ON|JOIN|LEFT|ORDER|GROUP|LIMIT)(\w+))?",
                sql,
                re.IGNORECASE,
            )
        }
        for row in connection.execute("EXPLAIN QUERY PLAN " + sql):
            step = str(row[3]).split()
            if len(step) < 2 or step[0] != "SCAN" or aliases.get(step[1], step[1]) not in _GROWING:
                continue
            if "INDEX" in step and re.search(r"\bLIMIT \d+", sql, re.IGNORECASE):
                continue
            found.append(f"{' '.join(step)}: {sql[:200]}")
    return found


@dataclass
class Work:
    """What a route made SQLite do: the statements it ran and the VM instructions (in ticks)."""

    statements: list[str] = field(default_factory=list)
    ticks: int = 0


async def _work(db: Path, routes: list[str]) -> list[Work]:
    """The work each route did on the store's connection; asserts no full scan of a
    growing table."""
    done: list[Work] = []
    current = Work()

    def tick() -> int:
        current.ticks += 1
        return 0  # go on

    async with dashboard(db, Config(), SAMPLE_NOW) as client:
        connection = client.server.app[DASHBOARD].ctx.db.store.db.conn
        connection.set_trace_callback(lambda sql: current.statements.append(sql))
        connection.set_progress_handler(tick, _TICK)
        for route in routes:
            current = Work()
            response = await client.get(route)
            assert response.status in (200, 404), (route, response.status, await response.text())
            done.append(current)
        connection.set_trace_callback(None)
        connection.set_progress_handler(None, _TICK)
        scans = {
            route: _full_scans(connection, work.statements)
            for route, work in zip(routes, done, strict=True)
        }
    assert {route: found for route, found in scans.items() if found} == {}
    return done


async def test_a_page_does_the_same_work_on_100_rfcs_and_on_1000(history_dbs: dict[int, Path]):
    small = await _work(history_dbs[100], _routes(100))
    large = await _work(history_dbs[1000], _routes(1000))
    routes = _routes(100)
    statements = {
        route: (len(a.statements), len(b.statements))
        for route, a, b in zip(routes, small, large, strict=True)
    }
    assert {route: pair for route, pair in statements.items() if pair[0] != pair[1]} == {}
    assert all(pair[0] > 0 for pair in statements.values())
    # Ten times the history, the same work: rows read through indexes, a page at a time.
    ticks = {
        route: (a.ticks, b.ticks)
        for route, a, b in zip(routes, small, large, strict=True)
        if not _COUNTING.search(route)
    }
    assert {route: pair for route, pair in ticks.items() if pair[1] > 1.5 * pair[0] + 2} == {}


# -- the modules page ---------------------------------------------------------------------


async def test_modules_page_explains_states_and_charts_response_times(sample_db: Path):
    async with dashboard(sample_db, EXAMPLE_CONFIG, SAMPLE_NOW) as client:
        html = await get_html(client, "/modules")
        payload = await get_json(client, "/api/modules")
    page = Page(html)
    assert "new, isolated in its own namespace, and can be turned off" in page.row_with("S0")
    assert "5 days 10 days 21 days" in page.row_with("integrated into existing flows")
    indexer = page.row_with("Alice Archer 1")  # one open obligation: Frank's question
    assert "indexer" in indexer
    assert "Question about the 2.1.0 upgrade notes" in page.row_with("Frank Fischer")
    bars = [attrs for tag, attrs in page.tags if tag == "rect" and attrs.get("class") == "median"]
    assert len(bars) == len(payload["modules"]) + 1  # one per module, one in the legend
    assert "Time to first response per module" in page.text


async def test_the_modules_figures_follow_new_mail_once_the_views_take_it_in(tmp_path: Path):
    db = tmp_path / "quorum.db"
    _write_sample(db)
    question = raw_mail(
        "Does the indexer keep its old segment format after the upgrade?\n",
        subject="Indexer segment format",
        message_id="<late-question@example.org>",
        sender="Gina Gray <gina@example.org>",
        date=_date(SAMPLE_NOW - timedelta(days=6)),
    )
    async with dashboard(db, EXAMPLE_CONFIG, SAMPLE_NOW) as client:
        before = await every_page(client, "/api/modules", key="obligations")
        await get_html(client, "/modules")  # the figures are kept between requests ...
        await deliver(client, question)  # ... until the views take in a change
        after = await every_page(client, "/api/modules", key="obligations")
        page = Page(await get_html(client, "/modules"))
    added = [o for o in after if o not in before]
    assert [o["post"]["key"] for o in added] == ["<late-question@example.org>"]
    assert "Indexer segment format" in page.row_with("Gina Gray")


# -- escaping and headers -----------------------------------------------------------------


async def test_markup_in_mail_is_shown_as_text(sample_db: Path):
    async with dashboard(sample_db, EXAMPLE_CONFIG, SAMPLE_NOW) as client:
        rfcs = await every_page(client, "/api/rfcs")
        [hostile] = [row for row in rfcs if row["subject"] == HOSTILE_SUBJECT]
        votes = await every_page(client, "/api/votes")
        [vote] = [r for r in votes if "x()" in r["subject"]]
        paths = [
            *PAGES,
            "/rfcs/" + quote(hostile["rfc"], safe=""),
            "/votes/" + quote(vote["thread"], safe=""),
        ]
        pages = {path: await get_html(client, path) for path in paths}
    for path, html in pages.items():
        page = Page(html)
        tags = {tag for tag, _ in page.tags}
        assert not tags & {"script", "iframe", "img", "style"}, path
        assert "<b>bold" not in html, path
        attributes = {name for _, attrs in page.tags for name in attrs}
        assert not {name for name in attributes if name.startswith("on") or name == "style"}, path
    rfc_page = Page(pages[paths[4]])
    assert rfc_page.h1 == HOSTILE_SUBJECT
    assert "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt;" in pages[paths[4]]
    assert "<script>alert('concern')</script> runs in every browser" in rfc_page.text
    assert "<img src=x onerror=alert(1)>" in rfc_page.text  # the proposer's display name
    vote_page = Page(pages[paths[5]])
    assert "</td><script>alert(2)</script>" in vote_page.row_with("+1 <b>binding</b> from me")


async def test_every_response_carries_the_security_headers(sample_db: Path, monkeypatch):
    monkeypatch.delenv("QUORUM_WEB_TOKEN", raising=False)
    async with dashboard(sample_db, EXAMPLE_CONFIG, SAMPLE_NOW) as client:
        responses = [
            await client.get(path)
            for path in (*PAGES, "/api/rfcs", "/healthz", "/static/dashboard.css", "/nowhere")
        ]
        responses.append(await client.get("/api/nowhere"))
        responses.append(await client.post("/api/refresh"))
    assert [r.status for r in responses][-3:] == [404, 404, 401]
    for response in responses:
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src" not in CONTENT_SECURITY_POLICY  # default-src 'none' covers scripts
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY


# -- the one state-changing route ---------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "header", "status"),
    [
        (None, None, 401),
        (None, "Bearer ", 401),
        ("s3cret-token", None, 401),
        ("s3cret-token", "Bearer wrong", 401),
        ("s3cret-token", "Basic s3cret-token", 401),
        ("s3cret-token", "Bearer s3cret-token", 200),
        ("s3cret-token", "bearer s3cret-token", 200),
    ],
)
async def test_refresh_needs_the_configured_bearer_token(
    tmp_path: Path, monkeypatch, configured: str | None, header: str | None, status: int
):
    if configured is None:
        monkeypatch.delenv("QUORUM_WEB_TOKEN", raising=False)
    else:
        monkeypatch.setenv("QUORUM_WEB_TOKEN", configured)
    db = _store_of(tmp_path / "quorum.db", _rfc_mails(9, SAMPLE_NOW - timedelta(days=1), None))
    async with dashboard(db, Config(), SAMPLE_NOW) as client:
        late = _rfc_mails(10, SAMPLE_NOW - timedelta(hours=2), None)[0]
        await client.server.app[DASHBOARD].ctx.db(
            lambda store: (
                store.enqueue_inbound(
                    late, received_at=SAMPLE_NOW, peer="t", mail_from="", rcpt_to=[]
                ),
                process_inbox(store),
            )
        )
        headers = {"Authorization": header} if header else {}
        response = await client.post("/api/refresh", headers=headers)
        assert response.status == status
        body = await response.json()
        assert (await client.get("/api/refresh")).status == 405
        listed = await every_page(client, "/api/rfcs")
    if status == 401:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="quorum"'
        assert "Authorization: Bearer" in body["error"]
        assert len(listed) == 1  # the new RFC waits for the app's next refresh
    else:
        assert body["recomputed"] == 1  # the new RFC's view, and nothing else
        assert len(listed) == 2


async def test_refresh_answers_503_where_nothing_keeps_the_views(sample_db: Path, monkeypatch):
    monkeypatch.setenv("QUORUM_WEB_TOKEN", "s3cret-token")
    store = Store.open(sample_db)
    runner = StoreThread(store)
    context = WebContext(db=runner, config=EXAMPLE_CONFIG, clock=lambda: SAMPLE_NOW, health=dict)
    try:
        async with TestClient(TestServer(build_web_app(context))) as client:
            response = await client.post(
                "/api/refresh", headers={"Authorization": "Bearer s3cret-token"}
            )
            assert response.status == 503
            assert "quorum run does" in (await response.json())["error"]
    finally:
        runner.close()
        store.close()


# -- health -------------------------------------------------------------------------------


async def test_healthz_reports_database_views_smtp_and_pollers(sample_db: Path):
    health = {"smtp": {"ok": True, "address": "127.0.0.1:8025"}, "pollers": {"tvm": {"ok": True}}}
    async with dashboard(sample_db, EXAMPLE_CONFIG, SAMPLE_NOW, lambda: health) as client:
        report = await get_json(client, "/healthz")
    assert report["status"] == "ok"
    assert report["database"]["ok"] is True
    assert report["database"]["messages"] == 12 + len(HOSTILE)  # the sample holds 12
    assert report["views"] == {"ok": True, "changes": 0, "dirty": 0}  # nothing left to take in
    assert report["smtp"] == health["smtp"]
    assert report["pollers"] == {"tvm": {"ok": True}}


def _broken_probe() -> dict[str, Any]:
    raise RuntimeError("probe exploded")


@pytest.mark.parametrize(
    ("health", "broken"),
    [
        (lambda: {"smtp": {"ok": False, "error": "not serving"}, "pollers": {}}, "smtp"),
        (lambda: {"smtp": None, "pollers": {"tvm": {"ok": False, "error": "HTTP 503"}}}, "pollers"),
        (_broken_probe, "app"),
    ],
)
async def test_healthz_is_503_when_a_part_is_down(
    sample_db: Path, health: Callable[[], dict[str, Any]], broken: str
):
    async with dashboard(sample_db, EXAMPLE_CONFIG, SAMPLE_NOW, health) as client:
        report = await get_json(client, "/healthz", 503)
    assert report["status"] == "degraded"
    assert report["database"]["ok"] is True
    assert broken in report


# -- serving and wiring -------------------------------------------------------------------


@asynccontextmanager
async def _serving(db_path: Path) -> AsyncIterator[tuple[str, int]]:
    """The dashboard served by `start_web` on a real port; cleaned up on the way out."""
    store = Store.open(db_path)
    runner_thread = StoreThread(store)
    context = WebContext(
        db=runner_thread, config=EXAMPLE_CONFIG, clock=lambda: SAMPLE_NOW, health=lambda: {}
    )
    runner, address = await start_web(context, "127.0.0.1", 0)
    try:
        yield address
    finally:
        await runner.cleanup()
        runner_thread.close()
        store.close()


async def test_start_web_serves_on_a_real_port_until_cleaned_up(sample_db: Path):
    async with _serving(sample_db) as address:
        assert address[0] == "127.0.0.1"
        assert address[1] > 0
        async with (
            aiohttp.ClientSession() as session,
            session.get(web_address(address) + "healthz") as response,
        ):
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
    assert web_address(("::1", 8080)) == "http://[::1]:8080/"


async def test_the_first_visitor_after_a_start_waits_for_no_template_to_compile(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch
):
    """Jinja compiles a template when it is first rendered (40 to 150 ms for the front
    page's three, on the event loop); the server compiles its pages as it starts."""
    render.environment.cache_clear()  # templates compiled by earlier tests are forgotten
    compiled: list[str | None] = []
    compile_template = jinja2.Environment.compile

    def counted(env: jinja2.Environment, source: Any, name: str | None = None, *more: Any) -> Any:
        compiled.append(name)
        return compile_template(env, source, name, *more)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    async with _serving(sample_db) as address:
        compiled.clear()
        async with (
            aiohttp.ClientSession() as session,
            session.get(web_address(address)) as response,
        ):
            assert response.status == 200
            assert "Needs attention" in await response.text()
        assert compiled == []


def test_web_config_defaults_and_validation():
    settings = WebConfig()
    assert (settings.enabled, settings.host, settings.port) == (True, "127.0.0.1", 8080)
    assert settings.token_env == "QUORUM_WEB_TOKEN"
    for bad in ({"port": 70000}, {"port": "8080"}, {"token": "x"}):
        with pytest.raises(ValidationError):
            WebConfig.model_validate(bad)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=20), "20 seconds"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(days=12, hours=5), "12 days"),
        (timedelta(days=90), "3 months"),
        (timedelta(days=3300), "9 years"),
    ],
)
def test_times_read_as_people_say_them_on_pages_and_in_mail(delta: timedelta, expected: str):
    f = Formatter(SAMPLE_NOW)
    assert f.ago(SAMPLE_NOW - delta) == f"{expected} ago"
    assert f.ago((SAMPLE_NOW - delta).isoformat()) == f"{expected} ago"  # as a view stores it
    assert f.ago(SAMPLE_NOW + delta) == f"in {expected}"  # a vote's end


def test_the_ci_runs_the_browser_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert "QUORUM_REQUIRE_BROWSER=1" in script
    assert re.search(r"command -v chromium", script)
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
