"""Behind a reverse proxy at a sub-path, in a real browser: Chromium asks
https-less ``http://127.0.0.1:PORT/quorum/`` of a loopback proxy that strips the
prefix and forwards to a `quorum run` configured with ``web.root_path = "/quorum/"``.

The reader opens the overview and follows every link on it; each page must load
with its stylesheet and without a failed request (a link that forgot the prefix
leaves the proxy's path and gets its 404). Then the RFC filter form is used.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.fakes.proxy import ReverseProxy
from tests.test_browser import SAMPLE, Reader, _require_browser, chromium, prepare, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser

DASHBOARD_LINE = re.compile(r"dashboard on (http://127\.0\.0\.1:(\d+))/quorum/")


def _write_config(folder: Path) -> Path:
    config = folder / "quorum.toml"
    config.write_text(
        "[smtp]\nport = 0\n"
        '[web]\nport = 0\nroot_path = "/quorum/"\ntrusted_proxies = ["127.0.0.1"]\n'
        f"[import]\non_start = {json.dumps([str(SAMPLE)])}\n"
        '[[roster.members]]\nname = "Alice Archer"\n'
        '[modules.indexer]\nstate = "S1"\nmaintainers = ["Alice Archer"]\n'
        'keywords = ["indexer"]\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`quorum run` under /quorum/, as its own process; yields http://127.0.0.1:PORT."""
    _require_browser()
    folder = tmp_path_factory.mktemp("root-path-browser")
    config, db = _write_config(folder), folder / "quorum.db"
    prepare(config, db, SAMPLE)
    with serving(config, db, DASHBOARD_LINE) as origin:
        yield origin


class ProxyThread:
    """The asyncio proxy on a loop of its own, for the synchronous browser tests."""

    def __init__(self, upstream: str) -> None:
        self.proxy = ReverseProxy(upstream, "/quorum", strip=True)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self.proxy.start(), self._loop).result(30)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()


@pytest.fixture(scope="module")
def proxy(upstream: str) -> Iterator[ProxyThread]:
    running = ProxyThread(upstream)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def browser(proxy: ProxyThread) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def reader(browser: Browser, proxy: ProxyThread) -> Iterator[Reader]:
    tab = Reader(browser, proxy.url + "/quorum/")
    try:
        yield tab
    finally:
        tab.close()  # asserts that no request failed and the console stayed clean


def _styled(reader: Reader) -> bool:
    """The stylesheet applied: the header is laid out by dashboard.css, not the default."""
    display = reader.page.evaluate("getComputedStyle(document.querySelector('header.top')).display")
    return display != "block"


def test_every_link_on_the_overview_works_behind_the_proxy(
    reader: Reader, proxy: ProxyThread, tmp_path: Path
):
    reader.open("/")
    assert reader.heading() == "How Example project is deciding things"
    assert _styled(reader)
    hrefs = reader.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    origin = proxy.url + "/"
    ours = sorted({href.split("#")[0] for href in hrefs if href.startswith(origin)})
    assert len(ours) >= 8, ours
    assert all(href.startswith(proxy.url + "/quorum/") for href in ours), ours
    for href in ours:
        response = reader.page.goto(href)
        assert response is not None
        assert response.status == 200, href
        if "/api" not in href and "/healthz" not in href:
            assert _styled(reader), f"{href} lost its stylesheet"
    reader.screenshot(tmp_path / "overview-behind-proxy.png")
    # Every request went through the prefix (but the browser's own guess at the host's
    # icon, on the JSON pages, which name none).
    outside = {path for path in proxy.proxy.requests if not path.startswith("/quorum/")}
    assert outside <= {"/favicon.ico"}


def test_the_rfc_filter_form_stays_under_the_prefix(reader: Reader, proxy: ProxyThread):
    reader.open("/")
    reader.follow("RFCs")
    assert reader.page.url == proxy.url + "/quorum/rfcs"
    reader.page.fill("form.filter input[name=q]", "Pluggable")
    with reader.page.expect_navigation():
        reader.page.locator("form.filter button, form.filter input[type=submit]").first.click()
    assert reader.page.url.startswith(proxy.url + "/quorum/rfcs?")
    assert "Pluggable" in reader.page.locator("main").inner_text()
    reader.follow("Overview")
    assert reader.page.url == proxy.url + "/quorum/"


def test_the_api_index_names_the_public_address(reader: Reader, proxy: ProxyThread):
    # The proxy says the reader came over https to lists.example.org; 127.0.0.1 is trusted.
    response = reader.page.goto(proxy.url + "/quorum/api")
    assert response is not None
    index = json.loads(response.text())
    assert index["votes"].startswith("https://lists.example.org/quorum/api/votes")
