"""What our client sends, checked against the official Discourse OpenAPI spec.

Every endpoint we call must be in the spec, every body we send must validate
against its request schema, and every query parameter must be in the spec or be
a named erratum: a parameter real Discourse reads that the spec leaves out.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from bot.adapters.discourse import edit_body, reply_body
from bot.config import CategoryConfig, ForumConfig
from bot.core.discourse import ForumSite
from bot.store import Store
from bot.sync import direct_db
from bot.sync.forum import make_client, post_reply, publish_status, sync_forum
from tests.corpus import corpus_path
from tests.fakes.discourse import FakeDiscourse

# (method, spec path, parameter) -> why we send it although the spec does not list it.
QUERY_ERRATA: dict[tuple[str, str, str], str] = {
    ("GET", "/c/{slug}/{id}.json", "page"): "TopicQuery pages topic lists, from 0",
    ("GET", "/latest.json", "page"): "TopicQuery pages topic lists, from 0",
    (
        "GET",
        "/t/{id}/posts.json",
        "post_ids[]",
    ): "the spec puts it in a GET body; Rails reads the query",
    ("GET", "/t/{id}/posts.json", "include_raw"): "TopicsController#posts: !!params[:include_raw]",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = corpus_path("discourse", "api-docs", "openapi.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscourse]:
    fake = FakeDiscourse()
    await fake.start()
    yield fake
    await fake.stop()


def _template(spec: dict[str, Any], method: str, path: str) -> str:
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if method.lower() in item and re.match(pattern, path):
            return template
    raise AssertionError(f"{method} {path} is not in the OpenAPI spec")


def _query_parameters(spec: dict[str, Any], method: str, template: str) -> set[str]:
    operation = spec["paths"][template][method.lower()]
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}


def _body_schema(spec: dict[str, Any], method: str, template: str) -> dict[str, Any]:
    operation = spec["paths"][template][method.lower()]
    return operation["requestBody"]["content"]["application/json"]["schema"]


async def test_every_request_we_make_is_in_the_spec(
    spec: dict[str, Any], fake: FakeDiscourse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUORUM_DISCOURSE_API_KEY", fake.api_key)
    category = fake.add_category("rfcs", "RFCs")
    topic = fake.add_topic(category, "[RFC] Speaking the spec", 45)
    store = Store.open(tmp_path / "quorum.db")
    db = direct_db(store)
    try:
        for categories in ([CategoryConfig(slug="rfcs", id=category)], []):
            config = ForumConfig(
                base_url=fake.base_url,
                api_username=fake.api_username,
                categories=categories,
                post_batch_size=20,
            )
            async with make_client("main", config) as client:
                site = ForumSite(f"f{len(categories)}", fake.base_url)
                await sync_forum(client, db, site, config)  # backfill
                await sync_forum(client, db, site, config)  # poll
                await post_reply(client, topic, "A reply that is long enough to post.", 1)
                await publish_status(client, db, site.name, topic, "Status: one open concern.")
                await publish_status(client, db, site.name, topic, "Status: no open concerns.")
    finally:
        store.close()

    used: set[tuple[str, str]] = set()
    for request in fake.requests:
        template = _template(spec, request.method, request.path)
        used.add((request.method, template))
        documented = _query_parameters(spec, request.method, template)
        for name, _ in request.query:
            assert name in documented or (request.method, template, name) in QUERY_ERRATA, (
                f"{request.method} {template} ?{name}"
            )
    assert used == {
        ("GET", "/c/{slug}/{id}.json"),
        ("GET", "/latest.json"),
        ("GET", "/t/{id}.json"),
        ("GET", "/t/{id}/posts.json"),
        ("GET", "/posts.json"),
        ("POST", "/posts.json"),
        ("PUT", "/posts/{id}.json"),
    }


def test_every_erratum_is_still_needed(spec: dict[str, Any]) -> None:
    for method, template, name in QUERY_ERRATA:
        assert name not in _query_parameters(spec, method, template)
    body = _body_schema(spec, "GET", "/t/{id}/posts.json")
    assert "post_ids[]" in body["properties"]  # documented, but as a body


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        ("POST", "/posts.json", reply_body(95, "Thanks, noted for the summary.")),
        ("POST", "/posts.json", reply_body(95, "Answering post 3 directly here.", 3)),
        ("PUT", "/posts/{id}.json", edit_body("Status: no open concerns.")),
        ("PUT", "/posts/{id}.json", edit_body("Status: one open concern.", "new concern")),
    ],
)
def test_request_bodies_validate_against_the_spec(
    spec: dict[str, Any], method: str, template: str, body: dict[str, Any]
) -> None:
    Draft202012Validator(_body_schema(spec, method, template)).validate(body)
