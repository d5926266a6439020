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


def _write_config(folder: Path) -> Path:
    """The example's modules; the sample's PMC and the Maven one votes.json names; port 0."""
    archives = [
        SAMPLE,
        corpus_path("mbox", "maven-dev-2017-11.mbox"),
        corpus_path("mbox", "maven-dev-2017-12.mbox"),
        corpus_path("mbox", "asterixdb-dev-2017-09.mbox"),
    ]
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
    with serving(_write_config(folder), folder / "quorum.db") as url:
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
    assert "Time to deprecate AQL?" in attention or "blocked RFCs" in attention
    assert "new and isolated, can be turned off" in reader.page.locator("main").inner_text()
    assert reader.page.locator("figure.chart svg rect.median").count() == 3  # 2 modules + legend
    reader.screenshot(tmp_path / "overview.png")


def test_from_the_rfc_list_to_an_rfc_and_its_concerns(reader: Reader, tmp_path: Path):
    reader.open("/")
    reader.follow("RFCs")
    assert reader.heading() == "RFCs and discussions"
    row = reader.row_with("table.rfcs", "Time to deprecate AQL?")
    assert "blocked" in row
    assert "2 open" in row
    reader.screenshot(tmp_path / "rfcs.png")
    reader.follow("Time to deprecate AQL?")
    assert reader.heading() == "Time to deprecate AQL?"
    assert "blocked" in reader.page.locator("p.status").inner_text()
    assert (
        "IMO it is time to let go of AQL" in reader.page.locator("blockquote.proposal").inner_text()
    )
    ledger = reader.rows("table.ledger")
    assert len(ledger) == 2
    assert all("Mike Carey" in row and "open" in row and "nobody yet" in row for row in ledger)
    reader.screenshot(tmp_path / "rfc.png")


def test_from_the_vote_list_to_a_vote_and_its_ballots(reader: Reader, tmp_path: Path):
    reader.open("/")
    reader.follow("Votes")
    row = reader.row_with("table.votes", "[VOTE] Release Maven Indexer 6.0.0")
    assert "passed" in row
    assert "+1 5 (3 binding)" in row
    assert "agrees" in row
    reader.screenshot(tmp_path / "votes.png")
    reader.follow("[VOTE] Release Maven Indexer 6.0.0")
    assert reader.heading() == "[VOTE] Release Maven Indexer 6.0.0"
    tally = " ".join(reader.page.locator(".tally-box").inner_text().split())
    assert tally.startswith("5 +1 3 binding 0 0 0 binding 0 −1 0 binding 1 ambiguous")
    ballots = reader.rows("table.ballots")
    assert len(ballots) == 6
    assert reader.row_with("table.ballots", "Olivier Lamy").startswith("Olivier Lamy +1 binding")
    sewe = reader.row_with("table.ballots", "Andreas Sewe")
    assert "ambiguous" in sewe
    assert "Tested this in two applications" in sewe
    reader.screenshot(tmp_path / "vote.png")


def test_the_modules_page_explains_states_and_flags(reader: Reader, tmp_path: Path):
    reader.open("/")
    reader.follow("Modules")
    states = reader.rows("table.states")
    assert states[0].startswith("S0 new, isolated in its own namespace")
    flagged = reader.page.locator(".flag-card").all_inner_texts()
    assert flagged
    assert "indexer" in flagged[0]
    assert "waiting" in flagged[0]
    reader.screenshot(tmp_path / "modules.png")
