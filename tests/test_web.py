"""The dashboard over HTTP: every page and API route, on the real corpus and on the sample.

The web app runs as the App runs it: every store call on one thread, through
``WebContext.db``; requests go through aiohttp's own test server over loopback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from pydantic import ValidationError

from bot import web as web_module
from bot.cli import cli
from bot.config import Config, RosterConfig, RosterMember, load_config
from bot.core.threads import parse_subject
from bot.core.votes import name_key
from bot.ingest import import_paths, process_inbox
from bot.store import Store
from bot.web import (
    CONTENT_SECURITY_POLICY,
    DASHBOARD,
    RFCS_PER_PAGE,
    WebConfig,
    WebContext,
    ago,
    build_web_app,
    human_duration,
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
    store = Store.open(db)
    runner = StoreThread(store)
    clock = now if callable(now) else (lambda: now)
    context = WebContext(
        db=runner, config=config, clock=clock, health=health, settings=settings or WebConfig()
    )
    app = build_web_app(context)
    app[DASHBOARD].fresh_wait = 30  # every change visible on the next request
    try:
        async with TestClient(TestServer(app)) as client:
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


class Page(HTMLParser):
    """What a reader sees: text per table row, headings, links; and every tag, to audit."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[str] = []
        self.cells: list[list[str]] = []
        self.links: dict[str, str] = {}
        self.h1 = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._row_cells: list[str] = []
        self._link: tuple[str, list[str]] | None = None
        self._in_h1 = False
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


def _cli(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        cli, ["--config", str(EXAMPLE), "--db", str(db), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- every page ---------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("path", [*PAGES, "/rfcs?state=blocked", "/rfcs?q=maven&page=1"])
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
        rfcs = await get_json(client, "/api/rfcs")
        votes = await get_json(client, "/api/votes")
    blocked = sum(1 for row in rfcs if row["state"] == "blocked")
    assert f"{len(rfcs)} RFCs and discussions {blocked} blocked" in page.text
    assert f"{len(votes)} votes" in page.text
    assert "2 modules 1 flagged as unresponsive" in page.text
    # "Needs attention" names a blocked RFC with the concern it waits on.
    aql = next(row for row in rfcs if row["subject"] == "Time to deprecate AQL?")
    assert aql["state"] == "blocked"
    assert f"waiting for an answer to “{aql['blocked_on'][0]['title']}”" in page.text


# -- votes --------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("entry", _official(), ids=lambda e: e["vote_subject"][:60])
async def test_maven_votes_show_their_tallies(corpus_db: Path, entry: dict[str, Any]):
    topic = parse_subject(entry["vote_subject"]).topic
    ambiguous = {name_key(name) for name in entry.get("ambiguous", [])}
    plus = [name for name in entry["plus_one"] if name_key(name) not in ambiguous]
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
        assert detail.ballot(name)[1] == "+1", name
    for name in entry.get("ambiguous", []):
        assert detail.ballot(name)[1].startswith("ambiguous"), name
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


# -- RFCs ---------------------------------------------------------------------------------


@pytest.mark.corpus
async def test_every_rfc_in_the_list_has_its_page_and_ledger(corpus_db: Path):
    async with dashboard(corpus_db, _maven_roster(), CORPUS_NOW) as client:
        listed = Page(await get_html(client, "/rfcs"))
        rows = await get_json(client, "/api/rfcs")
        assert len(rows) >= 10
        for row in rows:
            href = listed.links[_squash(row["subject"])]
            assert href == "/rfcs/" + quote(row["rfc"], safe="")
            page = Page(await get_html(client, href))
            detail = await get_json(client, "/api/rfcs/" + quote(row["rfc"], safe=""))
            assert page.h1 == row["subject"]
            assert row["state"] in page.text
            assert len(detail["concerns"]) == sum(row["concerns"].values())
            for concern in detail["concerns"]:
                assert f"{concern['title']} [{concern['id']}]" in page.row_with(concern["id"])


@pytest.mark.corpus
async def test_the_aql_rfc_page_shows_its_summary_and_open_concerns(corpus_db: Path):
    async with dashboard(corpus_db, _maven_roster(), CORPUS_NOW) as client:
        page = Page(await get_html(client, "/rfcs/" + quote("deprecate AQL")))
    assert page.h1 == "Time to deprecate AQL?"
    assert "blocked 2 concerns nobody answered" in page.text
    assert "IMO it is time to let go of AQL" in page.text
    for row in (r for r in page.rows if "open nobody yet" in r):
        assert "Mike Carey" in row
    assert sum(1 for r in page.rows if "open nobody yet" in r) == 2


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
        threads = await get_json(client, "/api/threads?kind=result")
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
        ("/api/threads", ("threads", "--json")),
        ("/api/votes", ("votes", "--json", "--now", "2018-06-01")),
        ("/api/concerns", ("concerns", "--json", "--now", "2018-06-01")),
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
async def test_api_modules_is_quorum_modules_json_plus_the_flags(corpus_db: Path):
    async with dashboard(corpus_db, EXAMPLE_CONFIG, CORPUS_NOW) as client:
        served = await get_json(client, "/api/modules")
    printed = _cli(corpus_db, "modules", "--json", "--now", "2018-06-01")
    assert {k: v for k, v in served.items() if k != "flags"} == printed
    flagged = {m["name"] for m in printed["modules"] if m["flagged"]}
    assert {flag["module"] for flag in served["flags"]} == flagged
    assert all(flag["evidence"] for flag in served["flags"])


@pytest.mark.corpus
async def test_the_rfc_api_mirrors_the_rfc_page(corpus_db: Path):
    async with dashboard(corpus_db, EXAMPLE_CONFIG, CORPUS_NOW) as client:
        detail = await get_json(client, "/api/rfcs/" + quote("deprecate AQL"))
        blocked = await get_json(client, "/api/rfcs?state=blocked")
    printed = _cli(corpus_db, "summary", "deprecate AQL", "--json", "--now", "2018-06-01")
    assert detail["summary"] == printed
    assert detail["rfc"]["channels"] == ["list"]
    assert detail["rfc"]["concerns"] == {"open": 2, "answered": 0, "resolved": 0, "withdrawn": 0}
    assert detail["rfc"] in blocked
    assert all(row["state"] == "blocked" for row in blocked)


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


# -- escaping and headers -----------------------------------------------------------------


async def test_markup_in_mail_is_shown_as_text(sample_db: Path):
    async with dashboard(sample_db, EXAMPLE_CONFIG, SAMPLE_NOW) as client:
        rfcs = await get_json(client, "/api/rfcs")
        [hostile] = [row for row in rfcs if row["subject"] == HOSTILE_SUBJECT]
        [vote] = [r for r in await get_json(client, "/api/votes") if "x()" in r["subject"]]
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
    sample_db: Path, monkeypatch, configured: str | None, header: str | None, status: int
):
    if configured is None:
        monkeypatch.delenv("QUORUM_WEB_TOKEN", raising=False)
    else:
        monkeypatch.setenv("QUORUM_WEB_TOKEN", configured)
    async with dashboard(sample_db, EXAMPLE_CONFIG, SAMPLE_NOW) as client:
        headers = {"Authorization": header} if header else {}
        response = await client.post("/api/refresh", headers=headers)
        assert response.status == status
        body = await response.json()
        assert (await client.get("/api/refresh")).status == 405
    if status == 401:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="quorum"'
        assert "Authorization: Bearer" in body["error"]
    else:
        assert body["rfcs"] >= 2


# -- health -------------------------------------------------------------------------------


async def test_healthz_reports_database_smtp_and_pollers(sample_db: Path):
    health = {"smtp": {"ok": True, "address": "127.0.0.1:8025"}, "pollers": {"tvm": {"ok": True}}}
    async with dashboard(sample_db, EXAMPLE_CONFIG, SAMPLE_NOW, lambda: health) as client:
        report = await get_json(client, "/healthz")
    assert report["status"] == "ok"
    assert report["database"]["ok"] is True
    assert report["database"]["messages"] == 12 + len(HOSTILE)  # the sample holds 12
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


# -- caching ------------------------------------------------------------------------------


async def test_new_mail_shows_on_the_next_request_and_only_its_ledger_is_rebuilt(
    tmp_path: Path, monkeypatch
):
    db = tmp_path / "quorum.db"
    _write_sample(db)
    gathers: list[datetime] = []
    ledgers: list[str] = []
    real_gather, real_build = web_module.gather, web_module.build_ledger

    def counting_gather(store: Store, config: Config, now: datetime, cache: Any) -> Any:
        gathers.append(now)
        return real_gather(store, config, now, cache)

    def counting_build(thread: str, *args: Any, **kwargs: Any) -> Any:
        ledgers.append(thread)
        return real_build(thread, *args, **kwargs)

    monkeypatch.setattr(web_module, "gather", counting_gather)
    monkeypatch.setattr(web_module, "build_ledger", counting_build)
    async with dashboard(db, EXAMPLE_CONFIG, SAMPLE_NOW) as client:
        before = await get_json(client, "/api/rfcs")
        for path in PAGES:
            await get_html(client, path)
        assert len(gathers) == 1
        built = len(ledgers)
        reply = raw_mail(
            "I am concerned that the backend doubles our CI time.\n",
            subject="Re: [RFC] Pluggable storage backends for the indexer",
            message_id="<late-concern@example.org>",
            sender="Dave Diaz <dave@example.net>",
            date="Tue, 24 Nov 2026 09:00:00 +0000",
            extra="In-Reply-To: <rfc-storage-1@example.org>",
        )

        def deliver(store: Store) -> None:
            store.enqueue_inbound(reply, received_at=SAMPLE_NOW, peer="t", mail_from="", rcpt_to=[])
            process_inbox(store)

        await client.server.app[DASHBOARD].ctx.db(deliver)
        after = await get_json(client, "/api/rfcs")
    assert len(gathers) == 2
    assert ledgers[built:] == ["<rfc-storage-1@example.org>"]
    storage = next(r for r in after if r["rfc"] == "<rfc-storage-1@example.org>")
    assert storage["state"] == "blocked"
    assert storage["messages"] == 5
    assert after[0]["rfc"] == storage["rfc"]  # most recently active first
    assert len(after) == len(before)


async def test_when_only_the_clock_moves_pages_get_the_last_snapshot_at_once(sample_db: Path):
    clock = [SAMPLE_NOW]
    async with dashboard(sample_db, EXAMPLE_CONFIG, lambda: clock[0]) as client:
        first = Page(await get_html(client, "/votes"))
        clock[0] = SAMPLE_NOW + timedelta(minutes=10)
        stale = Page(await get_html(client, "/votes"))
        await client.server.app[DASHBOARD].refresh()  # waits for the computation under way
        fresh = Page(await get_html(client, "/votes"))
    assert "figures as of 2026-11-24 12:00 UTC" in first.text
    assert "figures as of 2026-11-24 12:00 UTC" in stale.text
    assert "figures as of 2026-11-24 12:10 UTC" in fresh.text


async def test_the_rfc_list_pages_and_filters(tmp_path: Path):
    db = tmp_path / "quorum.db"
    store = Store.open(db)
    for number in range(RFCS_PER_PAGE + 20):
        store.enqueue_inbound(
            raw_mail(
                f"I propose change number {number}.\n",
                subject=f"[RFC] Change number {number:03d}",
                message_id=f"<change-{number}@example.org>",
                date=(SAMPLE_NOW - timedelta(hours=number + 1)).strftime(
                    "%a, %d %b %Y %H:%M:%S +0000"
                ),
            ),
            received_at=SAMPLE_NOW,
            peer="t",
            mail_from="",
            rcpt_to=[],
        )
    process_inbox(store)
    store.close()
    async with dashboard(db, Config(), SAMPLE_NOW) as client:
        first = Page(await get_html(client, "/rfcs"))
        second = Page(await get_html(client, first.links["older →"]))
        beyond = Page(await get_html(client, "/rfcs?page=99&state=bogus"))
        found = Page(await get_html(client, "/rfcs?q=NUMBER+007"))
        active = await get_json(client, "/api/rfcs?state=active")
    listed = [row for row in first.rows if "Change number" in row]
    assert len(listed) == RFCS_PER_PAGE
    assert "Change number 000" in listed[0]  # the newest first
    assert "page 1 of 2" in first.text
    assert first.links["older →"] == "/rfcs?page=2"
    assert len([row for row in second.rows if "Change number" in row]) == 20
    assert "page 2 of 2" in beyond.text
    assert [row for row in found.rows if "Change number" in row] == [found.row_with("007")]
    assert len(active) == RFCS_PER_PAGE + 20


# -- serving and wiring -------------------------------------------------------------------


async def test_start_web_serves_on_a_real_port_until_cleaned_up(sample_db: Path):
    store = Store.open(sample_db)
    runner_thread = StoreThread(store)
    context = WebContext(
        db=runner_thread, config=EXAMPLE_CONFIG, clock=lambda: SAMPLE_NOW, health=lambda: {}
    )
    runner, address = await start_web(context, "127.0.0.1", 0)
    try:
        assert address[0] == "127.0.0.1"
        assert address[1] > 0
        async with (
            aiohttp.ClientSession() as session,
            session.get(web_address(address) + "healthz") as response,
        ):
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
    finally:
        await runner.cleanup()
        runner_thread.close()
        store.close()
    assert web_address(("::1", 8080)) == "http://[::1]:8080/"


def test_importing_the_web_module_does_not_import_the_config():
    # bot.config imports WebConfig from bot.web: the other way round would be a cycle.
    code = "import sys, bot.web; print(sorted(m for m in sys.modules if m.startswith('bot.')))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = result.stdout
    assert "bot.config" not in loaded
    assert "bot.features" not in loaded


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
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(days=12, hours=5), "12 days"),
        (timedelta(days=90), "3 months"),
        (timedelta(days=3300), "9 years"),
    ],
)
def test_durations_read_as_people_say_them(delta: timedelta, expected: str):
    assert human_duration(delta) == expected
    assert ago(SAMPLE_NOW - delta, SAMPLE_NOW) == f"{expected} ago"
    assert ago(SAMPLE_NOW + delta, SAMPLE_NOW) == f"in {expected}"


def test_the_ci_runs_the_browser_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert "QUORUM_REQUIRE_BROWSER=1" in script
    assert re.search(r"command -v chromium", script)
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
