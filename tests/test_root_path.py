"""The dashboard behind a reverse proxy: published under web.root_path, and believing
X-Forwarded-* only from the proxies it trusts.

A crawler starts at the prefix and follows every link, stylesheet and form of
every page it reaches, the way a browser behind the proxy would; the browser
itself does the same in tests/test_root_path_browser.py.
"""

from __future__ import annotations

import ipaddress
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urldefrag, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from bot.cli import healthz_url
from bot.config import Config, WebConfig, load_config
from bot.errors import ConfigError
from bot.web import forwarded_values
from tests.stores import sample_store
from tests.test_web import dashboard

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = load_config(ROOT / "config" / "example.toml")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PREFIX = "/quorum"
MAX_PAGES = 400


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_store(tmp_path_factory.mktemp("root-path") / "quorum.db")


def served(db: Path, settings: WebConfig) -> AbstractAsyncContextManager[TestClient[Any, Any]]:
    """The dashboard over the sample, published as ``settings`` say."""
    return dashboard(db, EXAMPLE.model_copy(update={"web": settings}), NOW, settings=settings)


class References(HTMLParser):
    """Every URL a page makes the browser fetch or offers to follow: links, assets, forms."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is not None and name in ("href", "src", "action"):
                self.urls.append((f"{tag}[{name}]", value))


def _local(url: str) -> str | None:
    """The path and query of a link to this site, without its fragment; None for others."""
    url = urldefrag(url).url
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None  # the list archive, a forum post: not ours
    return url


async def crawl(client: TestClient[Any, Any], start: str, strip: bool) -> dict[str, list[str]]:
    """Follow every link from ``start``; with ``strip``, ask for each path as a proxy that
    strips the prefix would. Returns what each page referred to; asserts every answer."""
    seen: dict[str, list[str]] = {}
    queue = [start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        asked = url.removeprefix(PREFIX) or "/" if strip else url
        response = await client.get(asked, allow_redirects=False)
        body = await response.text()
        # 204: the icon, which is "none"; everything else is a page, JSON or the stylesheet.
        assert response.status in (200, 204), (url, asked, response.status, body[:300])
        refs = []
        if response.content_type == "text/html":
            for where, found in References(body).urls:
                local = _local(found)
                if local is None:
                    continue
                assert local.startswith(PREFIX + "/"), f"{url}: {where} {found!r} leaves {PREFIX}/"
                refs.append(local)
                queue.append(local)
        seen[url] = refs
    return seen


@pytest.mark.parametrize("strip", [False, True], ids=["proxy-keeps-prefix", "proxy-strips-it"])
async def test_every_link_form_and_asset_works_under_the_prefix(sample_db: Path, strip: bool):
    async with served(sample_db, WebConfig(root_path="/quorum/")) as client:
        pages = await crawl(client, PREFIX + "/", strip)

    everything = {ref for refs in pages.values() for ref in refs}
    # The navigation, the stylesheet, the RFC filter form, an RFC, a vote, the API, health.
    for expected in ("/quorum/", "/quorum/rfcs", "/quorum/votes", "/quorum/modules"):
        assert expected in everything
    assert "/quorum/static/dashboard.css" in everything
    assert any(ref.startswith("/quorum/rfcs/") for ref in everything)
    assert any(ref.startswith("/quorum/votes/") for ref in everything)
    assert any(ref.startswith("/quorum/rfcs?state=") for ref in everything)
    assert {"/quorum/api", "/quorum/healthz"} <= everything
    assert len(pages) > 10


async def test_the_prefix_without_its_slash_leads_to_the_dashboard(sample_db: Path):
    async with served(sample_db, WebConfig(root_path="/quorum")) as client:
        response = await client.get(PREFIX, allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"] == "/quorum/"
        # Errors keep the reader inside the prefix too.
        missing = await client.get("/quorum/rfcs/%3Cnothing%40example.org%3E")
        assert missing.status == 404
        assert 'href="/quorum/"' in await missing.text()
        api_missing = await client.get("/quorum/api/votes/%3Cnothing%40example.org%3E")
        assert api_missing.content_type == "application/json"


async def test_a_vote_reached_through_its_result_redirects_under_the_prefix(sample_db: Path):
    async with served(sample_db, WebConfig(root_path="/quorum/")) as client:
        threads = await (await client.get("/quorum/api/threads?kind=result")).json()
        result = threads["items"][0]
        response = await client.get(
            "/quorum/rfcs/" + quote(result["key"], safe=""), allow_redirects=False
        )
    assert response.status == 302
    assert response.headers["Location"].startswith("/quorum/votes/")


PROXY_HEADERS = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "lists.example.org",
}


async def test_forwarded_headers_count_only_from_a_trusted_proxy(sample_db: Path):
    trusted = WebConfig(root_path="/quorum/", trusted_proxies=["127.0.0.1"])
    async with served(sample_db, trusted) as client:
        index = await (await client.get("/quorum/api", headers=PROXY_HEADERS)).json()
    assert index["threads"].startswith("https://lists.example.org/quorum/api/threads")

    # The test client connects from 127.0.0.1, which this configuration does not trust.
    untrusted = WebConfig(root_path="/quorum/", trusted_proxies=["192.0.2.1", "10.0.0.0/8"])
    async with served(sample_db, untrusted) as client:
        index = await (await client.get("/quorum/api", headers=PROXY_HEADERS)).json()
        assert index["threads"].startswith(f"http://127.0.0.1:{client.port}/quorum/api/threads")

    async with served(sample_db, WebConfig()) as client:  # no proxies at all: ignored too
        index = await (await client.get("/api", headers=PROXY_HEADERS)).json()
        assert index["threads"].startswith(f"http://127.0.0.1:{client.port}/api/threads")


def _networks(*entries: str) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(entry) for entry in entries)


def test_the_client_is_the_nearest_address_no_trusted_proxy_vouches_for():
    proxies = _networks("10.0.0.0/8", "127.0.0.1/32")
    # A client claims to be 6.6.6.6; the proxy appended the address it really came from.
    chain = {"X-Forwarded-For": "6.6.6.6, 198.51.100.4, 10.1.2.3"}
    assert forwarded_values(chain, proxies) == {"remote": "198.51.100.4"}
    assert forwarded_values({"X-Forwarded-For": "10.1.2.3"}, proxies) == {"remote": "10.1.2.3"}
    # Junk is not believed, nor anything to its left.
    assert forwarded_values({"X-Forwarded-For": "junk, 10.1.2.3"}, proxies) == {
        "remote": "10.1.2.3"
    }
    odd = {"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil.example/<script>"}
    assert forwarded_values(odd, proxies) == {}
    two_proxies = {"X-Forwarded-Proto": "http, https", "X-Forwarded-Host": "a.example, b.example"}
    assert forwarded_values(two_proxies, proxies) == {"scheme": "https", "host": "b.example"}


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ('root_path = "quorum/"', "web.root_path: value error, must start with '/'"),
        ('root_path = "/quo rum/"', "web.root_path: value error, must be a plain path"),
        ('root_path = "/a//b"', "web.root_path: value error, must be a plain path"),
        ('trusted_proxies = ["proxy.local"]', "web.trusted_proxies: value error, 'proxy.local'"),
    ],
)
def test_a_bad_root_path_or_proxy_is_named_in_the_config_error(
    tmp_path: Path, given: str, problem: str
):
    path = tmp_path / "quorum.toml"
    path.write_text(f"[web]\n{given}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert problem in str(error.value)


def test_root_paths_are_written_one_way():
    assert WebConfig(root_path="/quorum").root_path == "/quorum/"
    assert WebConfig(root_path="/tools/quorum/").prefix == "/tools/quorum"
    assert WebConfig().prefix == ""


def test_the_health_command_asks_under_the_prefix():
    web = WebConfig(host="0.0.0.0", port=8080, root_path="/quorum/")
    assert healthz_url(Config(web=web)) == "http://127.0.0.1:8080/quorum/healthz"
