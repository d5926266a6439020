"""The dashboard in a real browser: headless Chromium, driven by Playwright, on a running Quorum.

Quorum runs as a separate process on the real Maven and AsterixDB archives
plus the sample, the way a newcomer starts it; the browser follows links the
way a reader does and the tests assert on what the pages show. Screenshots go
to each test's temporary folder.

Chromium is Debian's (``apt-get install chromium``): Playwright only drives it,
and its own browser download is never used. Without Chromium or Playwright
these tests skip with the reason, and fail instead under
``QUORUM_REQUIRE_BROWSER=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.corpus import corpus_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "sample-archive.mbox"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 90
QUORUM = [sys.executable, "-m", "bot"]
DASHBOARD_LINE = re.compile(r"dashboard on (http://127\.0\.0\.1:\d+/)")


def _require_browser() -> None:
    """Skip with the reason, or fail when QUORUM_REQUIRE_BROWSER=1 (CI)."""
    problems = []
    if shutil.which("chromium") is None or not Path(CHROMIUM).exists():
        problems.append(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("Playwright is not installed (pip install -e '.[dev]')")
    if not problems:
        return
    message = "; ".join(problems)
    if os.environ.get("QUORUM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (QUORUM_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(message)


def prepare(config: Path, db: Path, *archives: Path) -> None:
    """The store `quorum run` starts on: ``archives`` imported and the views computed as
    of now with ``config``. `quorum run` keeps the views up to date from there on; having
    them before it starts keeps the first page a browser asks for independent of when
    the app's first refresh runs."""
    from bot.config import load_config
    from bot.features.views import refresh
    from bot.ingest import import_paths
    from bot.store import Store

    store = Store.open(db)
    try:
        assert import_paths(store, list(archives)).errors == []
        refresh(store, load_config(config), datetime.now(UTC))
    finally:
        store.close()


def _fresh_discussion(folder: Path) -> Path:
    """An [RFC] of two days ago with a concern of five hours ago that nobody answered."""
    now = datetime.now(UTC)
    mails = []
    for message_id, sender, at, subject, body, parent in (
        ("<fresh-rfc@example.org>", "Dave Diaz <dave@example.net>", now - timedelta(days=2),
         "[RFC] Faster indexer startup", "I propose that the indexer loads lazily.", None),
        ("<fresh-concern@example.org>", "Bob Bauer <bob@example.org>", now - timedelta(hours=5),
         "Re: [RFC] Faster indexer startup",
         "I am concerned that lazy loading hides corrupt segments until a query hits them.",
         "<fresh-rfc@example.org>"),
    ):  # fmt: skip
        headers = [
            f"From: {sender}",
            "To: dev@lists.example.org",
            f"Subject: {subject}",
            f"Date: {format_datetime(at)}",
            f"Message-ID: {message_id}",
        ]
        if parent:
            headers.append(f"In-Reply-To: {parent}")
        mails.append(f"From x@example.org {at:%a %b %d %H:%M:%S %Y}\n" + "\n".join(headers))
        mails[-1] += f"\n\n{body}\n\n"
    path = folder / "fresh.mbox"
    path.write_text("".join(mails), encoding="utf-8")
    return path


ARCHIVES = (
    ("mbox", "maven-dev-2017-11.mbox"),
    ("mbox", "maven-dev-2017-12.mbox"),
    ("mbox", "asterixdb-dev-2017-09.mbox"),
)


def _write_config(folder: Path) -> Path:
    """The example's modules; the sample's PMC and the Maven one votes.json names; port 0."""
    archives = [SAMPLE, *(corpus_path(*parts) for parts in ARCHIVES)]
    official = json.loads(corpus_path("votes.json").read_text())["threads"]
    binding = sorted({name for entry in official for name in entry.get("binding", [])})
    binding += ["Alice Archer", "Bob Bauer", "Carol Cortés"]  # the sample's PMC
    roster = "".join(f'[[roster.members]]\nname = "{name}"\n' for name in binding)
    config = folder / "quorum.toml"
    config.write_text(
        "[smtp]\nport = 0\n[web]\nport = 0\n"
        f"[import]\non_start = {json.dumps([str(path) for path in archives])}\n"
        f"{roster}"
        '[modules.indexer]\nstate = "S1"\nmaintainers = ["Alice Archer"]\n'
        'keywords = ["indexer"]\n'
        '[modules.objstore]\nstate = "S0"\nmaintainers = ["Carol Cortés"]\n'
        'keywords = ["objstore", "object store"]\n',
        encoding="utf-8",
    )
    return config


def _start(
    config: Path, db: Path, line_pattern: re.Pattern[str] = DASHBOARD_LINE
) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [*QUORUM, "--config", str(config), "--db", str(db), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        found = line_pattern.search(line)
        if found:
            return process, found.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    _, stderr = process.communicate(timeout=30)
    raise AssertionError(f"the dashboard did not start: {stderr}")


@contextmanager
def serving(
    config: Path, db: Path, line_pattern: re.Pattern[str] = DASHBOARD_LINE
) -> Iterator[str]:
    """`quorum run` as its own process until the block ends (then SIGTERM, a clean stop);
    yields the first group of ``line_pattern`` in its output (the dashboard's URL)."""
    process, url = _start(config, db, line_pattern)
    try:
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "stopped cleanly" in stdout
    assert "Traceback" not in stderr


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()
    folder = tmp_path_factory.mktemp("browser")
    config, db = _write_config(folder), folder / "quorum.db"
    archives = [SAMPLE, *(corpus_path(*parts) for parts in ARCHIVES), _fresh_discussion(folder)]
    prepare(config, db, *archives)
    with serving(config, db) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


class Reader:
    """One browser tab, and every console error or failed request it saw."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.base_url = base_url
        self.page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.set_default_timeout(20_000)
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":  # a CSP violation shows up here too
            self.problems.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status} for {response.url}")

    def open(self, path: str = "") -> None:
        self.page.goto(self.base_url + path.lstrip("/"))

    def follow(self, name: str) -> None:
        """Click the link a reader would, by its visible text, and wait for the page."""
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=name, exact=True).first.click()

    def heading(self) -> str:
        return self.page.locator("h1").inner_text().strip()

    def rows(self, table: str) -> list[str]:
        return [
            " ".join(text.split())
            for text in self.page.locator(f"{table} tbody tr").all_inner_texts()
        ]

    def row_with(self, table: str, needle: str) -> str:
        found = [row for row in self.rows(table) if needle in row]
        assert found, f"no row of {table} shows {needle!r}: {self.rows(table)}"
        return found[0]

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000

    def close(self) -> None:
        self.page.close()
        assert self.problems == []


@pytest.fixture
def reader(browser: Browser, base_url: str) -> Iterator[Reader]:
    tab = Reader(browser, base_url)
    try:
        yield tab
    finally:
        tab.close()


def test_the_overview_says_where_things_stand(reader: Reader, tmp_path: Path):
    reader.open("/")
    assert reader.heading() == "How Example project is deciding things"
    cards = reader.page.locator(".cards").inner_text()
    assert re.search(r"\b10\s+votes\b", cards)
    assert "flagged as unresponsive" in cards
    attention = reader.page.locator("ul.attention").inner_text()
    # What a chair must act on now: the fresh concern, not the archive's of 2017.
    assert "“[RFC] Faster indexer startup”: concern" in attention
    assert "raised by Bob Bauer on" in attention
    assert "nobody answered (5 hours)" in attention
    # Each item links where a person acts: the RFC's own page here.
    reader.page.locator("ul.attention a", has_text="Faster indexer startup").first.click()
    assert reader.heading() == "[RFC] Faster indexer startup"
    reader.page.go_back()
    assert "Time to deprecate AQL?" not in attention
    assert "nothing new for a while" in reader.page.locator("p.legend").first.inner_text()
    assert "new and isolated, can be turned off" in reader.page.locator("main").inner_text()
    assert reader.page.locator("figure.chart svg rect.median").count() == 3  # 2 modules + legend
    reader.screenshot(tmp_path / "overview.png")


def test_from_the_rfc_list_to_an_rfc_and_its_concerns(reader: Reader, tmp_path: Path):
    reader.open("/")
    reader.follow("RFCs")
    assert reader.heading() == "RFCs and discussions"
    # Nine years on, a concern nobody answered is history: the RFC is quiet, not blocked.
    row = reader.row_with("table.rfcs", "Time to deprecate AQL?")
    assert "quiet" in row
    assert "blocked" not in row
    assert re.search(r"\b\d+ open", row)  # concerns left unsettled, counted
    assert "blocked" in reader.row_with("table.rfcs", "Faster indexer startup")
    reader.screenshot(tmp_path / "rfcs.png")
    reader.follow("Time to deprecate AQL?")
    assert reader.heading() == "Time to deprecate AQL?"
    status = reader.page.locator("p.status").inner_text()
    assert status.startswith("quiet nothing new since 2017-09-")
    assert (
        "IMO it is time to let go of AQL" in reader.page.locator("blockquote.proposal").inner_text()
    )
    ledger = reader.rows("table.ledger")
    assert ledger
    assert any("Mike Carey" in row and "open" in row and "nobody yet" in row for row in ledger)
    reader.screenshot(tmp_path / "rfc.png")


def test_the_rfc_list_filters_by_state_and_pages(reader: Reader):
    reader.open("/rfcs")
    with reader.page.expect_navigation():
        reader.page.select_option("form.filter select[name=state]", "blocked")
        reader.page.locator("form.filter button").click()
    assert reader.page.url.endswith("/rfcs?q=&state=blocked")
    rows = reader.rows("table.rfcs")
    assert rows
    assert all("blocked" in row for row in rows)
    assert any("Faster indexer startup" in row for row in rows)


def test_from_the_vote_list_to_a_vote_and_its_ballots(reader: Reader, tmp_path: Path):
    reader.open("/")
    reader.follow("Votes")
    row = reader.row_with("table.votes", "[VOTE] Release Maven Indexer 6.0.0")
    assert "passed" in row
    assert "+1 6 (3 binding)" in row  # Andreas Sewe's "Tested ..." as the RESULT counts it
    assert "agrees" in row
    reader.screenshot(tmp_path / "votes.png")
    reader.follow("[VOTE] Release Maven Indexer 6.0.0")
    assert reader.heading() == "[VOTE] Release Maven Indexer 6.0.0"
    tally = " ".join(reader.page.locator(".tally-box").inner_text().split())
    assert tally.startswith("6 +1 3 binding 0 0 0 binding 0 −1 0 binding 1 ambiguous")
    ballots = reader.rows("table.ballots")
    assert len(ballots) == 6
    assert reader.row_with("table.ballots", "Olivier Lamy").startswith("Olivier Lamy +1 binding")
    sewe = reader.row_with("table.ballots", "Andreas Sewe")
    assert "ambiguous" in sewe
    assert "counted as +1" in sewe
    assert "Tested this in two applications" in sewe
    reader.screenshot(tmp_path / "vote.png")


def test_the_modules_page_explains_states_and_flags(reader: Reader, tmp_path: Path):
    reader.open("/")
    reader.follow("Modules")
    states = reader.rows("table.states")
    assert states[0].startswith("S0 new, isolated in its own namespace")
    # The fresh concern on the indexer is owed an answer, with who raised it, how long it
    # has waited and by which policy; the archives of 2017 are history and flag nobody
    # (responsiveness.window_days).
    owed = reader.rows("table.obligations")
    assert any("Bob Bauer raised concern" in row and "S1 policy" in row for row in owed), owed
    assert reader.page.locator(".flag-card").count() == 0
    reader.screenshot(tmp_path / "modules.png")
