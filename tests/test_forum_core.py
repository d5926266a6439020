"""Discourse JSON to Post (pure): every recorded real answer, raw and cooked, small actions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from bot.core import discourse as forum
from bot.core.concern_cues import cues_of
from bot.core.prose import units_of
from bot.model import Source
from tests.corpus import corpus_path
from tests.fakes.discourse import cook

SITE = forum.ForumSite("moz", "https://discourse.example.org/")

# Every file of the recorded corpus, by what it is. A new file fails the test until it is
# listed here, so nothing recorded goes unparsed by accident.
TOPIC_VIEWS = ("discourse_posts.json", "discourse_topic_1148.json", "discourse_topic_1149.json")
TOPIC_LISTS = (
    "discourse_topics.json",
    "discourse_topics_empty.json",
    "discourse_topics_last_posted_at_null.json",
    "discourse_topics_pinned.json",
)
SINGLE_POSTS = ("discourse_post.json",)
SPEC_POSTS = ("get_post_response.json", "new_topic_response.json", "update_post_response.json")
SPEC_TOPIC_VIEWS = ("topic_response.json",)
SPEC_TOPIC_LISTS = ("latest_topics_response.json",)
# Not post-shaped: the spec itself, notifications, a Data Explorer query result, a category.
SPEC_OTHER = ("openapi.json", "get.json", "query_response.json", "update_category_response.json")


def _load(*parts: str) -> Any:
    return json.loads(corpus_path("discourse", *parts).read_text(encoding="utf-8"))


def test_every_recorded_file_is_covered() -> None:
    perceval = {p.name for p in corpus_path("discourse", "perceval").iterdir()}
    api_docs = {p.name for p in corpus_path("discourse", "api-docs").iterdir()}
    assert perceval == {*TOPIC_VIEWS, *TOPIC_LISTS, *SINGLE_POSTS}
    assert api_docs == {*SPEC_POSTS, *SPEC_TOPIC_VIEWS, *SPEC_TOPIC_LISTS, *SPEC_OTHER}


# -- without loss ------------------------------------------------------------------------


class _AuthoredText(HTMLParser):
    """The words of cooked HTML that an author wrote: outside previews, captions, quote titles.

    An independent reading (a parser, not cooked_to_text's regexes) to compare against.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._stack: list[bool] = []  # per open element: does it hide its content?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"img", "br", "hr", "input", "meta"}:
            return
        classes = (dict(attrs).get("class") or "").split()
        hides = (tag == "aside" and "onebox" in classes) or (
            tag == "div" and bool({"meta", "title"} & set(classes))
        )
        self._stack.append(hides)

    def handle_endtag(self, tag: str) -> None:
        if tag not in {"img", "br", "hr", "input", "meta"} and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self._stack):
            self.words += _words(data)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _authored_words(cooked: str) -> set[str]:
    parser = _AuthoredText()
    parser.feed(cooked)
    return set(parser.words)


def _assert_post_kept(data: dict[str, Any], topic: forum.TopicRef | None = None) -> None:
    parsed = forum.parse_post(data, topic)
    post = forum.to_post(SITE, parsed)
    assert post is not None, data["id"]
    assert post.source == Source.DISCOURSE
    assert post.key == f"discourse:moz:{data['id']}"
    topic_id = data.get("topic_id") or (topic.id if topic else None)
    assert post.thread_key == f"discourse:moz:topic:{topic_id}"
    assert post.author.address == data["username"]
    assert post.author.display == (data.get("name") or data["username"])
    assert post.created_at == datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
    assert post.url is not None
    assert post.url.endswith(f"/{data['post_number']}")
    assert post.headers[forum.HEADER_POST_ID] == str(data["id"])
    kept = set(_words(post.text + "\n" + "\n".join(post.quoted)))
    if "raw" in data:
        assert set(_words(data["raw"])) <= kept, data["id"]
    else:
        assert _authored_words(data["cooked"]) <= kept, data["id"]


@pytest.mark.parametrize("name", TOPIC_VIEWS)
def test_recorded_topic_views_lose_no_post_and_no_word(name: str) -> None:
    data = _load("perceval", name)
    view = forum.parse_topic_view(data)
    assert view.topic.id == data["id"]
    assert view.topic.title == data["title"]
    assert len(view.posts) == len(data["post_stream"]["posts"])
    assert view.stream == tuple(data["post_stream"]["stream"])
    for raw_post in data["post_stream"]["posts"]:
        _assert_post_kept(raw_post, view.topic)
    posts = [forum.to_post(SITE, p) for p in view.posts]
    assert all(p is not None and p.subject == data["title"] for p in posts)


@pytest.mark.parametrize("name", SINGLE_POSTS)
def test_recorded_single_post_is_read_from_raw(name: str) -> None:
    data = _load("perceval", name)
    _assert_post_kept(data)
    post = forum.to_post(SITE, forum.parse_post(data))
    assert post is not None
    assert post.headers[forum.HEADER_TEXT_FROM] == "raw"
    assert post.headers[forum.HEADER_VERSION] == str(data["version"])
    assert post.text.startswith("Hi, im new with ManageIQ")
    assert "https://www.youtube.com/watch?v=dxwA_rhLUrA" in post.text


@pytest.mark.parametrize("name", TOPIC_LISTS)
def test_recorded_topic_lists_keep_every_topic(name: str) -> None:
    data = _load("perceval", name)
    page = forum.parse_topic_list(data)
    recorded = data["topic_list"]["topics"]
    assert [t.id for t in page.topics] == [t["id"] for t in recorded]
    assert [t.title for t in page.topics] == [t["title"] for t in recorded]
    assert page.has_more == ("more_topics_url" in data["topic_list"])
    for topic, raw_topic in zip(page.topics, recorded, strict=True):
        assert topic.last_posted_at == raw_topic["last_posted_at"]
        assert topic.highest_post_number == raw_topic["highest_post_number"]


def test_recorded_list_with_a_null_last_post_time_still_gives_distinct_markers() -> None:
    page = forum.parse_topic_list(_load("perceval", "discourse_topics_last_posted_at_null.json"))
    assert any(t.last_posted_at is None for t in page.topics)
    assert len({(t.id, t.marker) for t in page.topics}) == len(page.topics)


@pytest.mark.parametrize("name", SPEC_POSTS)
def test_spec_sample_posts_parse(name: str) -> None:
    data = _load("api-docs", name)
    post_data = data.get("post", data)
    _assert_post_kept(post_data)
    created = forum.parse_created_post(data)
    assert created.id == post_data["id"]
    assert created.topic_id == post_data["topic_id"]


def test_spec_sample_topic_view_and_list_parse() -> None:
    view = forum.parse_topic_view(_load("api-docs", "topic_response.json"))
    assert view.posts
    assert all(forum.to_post(SITE, p) is not None for p in view.posts)
    listing = forum.parse_topic_list(_load("api-docs", "latest_topics_response.json"))
    assert listing.topics


# -- raw and cooked ----------------------------------------------------------------------

RAW_REPLY = (
    '[quote="alice, post:1, topic:100"]\n'
    "I propose we adopt the new scheduler.\n"
    "[/quote]\n\n"
    "+1, binding.\n\n"
    "> and an ordinary quote\n\n"
    "See https://github.com/apache/tvm-rfcs/pull/95 for the text."
)


def _post(raw: str | None, cooked: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": 1234,
        "topic_id": 100,
        "post_number": 2,
        "post_type": 1,
        "username": "bob",
        "name": "Bob Builder",
        "created_at": "2024-03-01T12:00:00.000Z",
        "updated_at": "2024-03-01T12:00:00.000Z",
        "cooked": cooked,
        "topic_title": "[RFC] New scheduler",
        "topic_slug": "rfc-new-scheduler",
        "category_id": 5,
        "version": 1,
        **({"raw": raw} if raw is not None else {}),
        **extra,
    }


@pytest.mark.parametrize("form", ["raw", "cooked"])
def test_raw_and_cooked_split_the_same_way(form: str) -> None:
    raw = RAW_REPLY if form == "raw" else None
    post = forum.to_post(SITE, forum.parse_post(_post(raw, cook(RAW_REPLY))))
    assert post is not None
    assert "+1, binding." in post.text
    assert "https://github.com/apache/tvm-rfcs/pull/95" in post.text
    assert "scheduler" not in post.text
    assert "ordinary quote" not in post.text
    assert post.quoted == ("I propose we adopt the new scheduler.", "and an ordinary quote")
    assert post.headers[forum.HEADER_TEXT_FROM] == form


def test_nested_bbcode_quotes_nest() -> None:
    raw = (
        '[quote="a, post:1, topic:1"]\nouter\n'
        '[quote="b, post:2, topic:1"]\ninner\n[/quote]\n[/quote]\nmine'
    )
    assert forum.raw_to_text(raw) == "> outer\n\n> > inner\n\nmine"


def test_cooked_links_keep_their_address_and_previews_become_links() -> None:
    cooked = (
        '<p>See <a href="https://github.com/o/r/pull/7">the PR</a> and '
        '<a href="https://example.org/x">https://example.org/x</a>, '
        'thanks <a class="mention" href="/u/carol">@carol</a></p>\n'
        '<aside class="onebox githubpullrequest" data-onebox-src="https://github.com/o/r/pull/8">'
        '<header class="source"><a href="https://github.com/o/r/pull/8">github.com</a></header>'
        "<article><h3>Some PR title</h3><p>Its description</p></article></aside>"
    )
    text = forum.cooked_to_text(cooked)
    assert "the PR (https://github.com/o/r/pull/7)" in text
    assert "https://example.org/x (https" not in text
    assert "https://github.com/o/r/pull/8" in text
    assert "Its description" not in text
    assert "@carol" in text


def test_an_emoji_keeps_its_code_so_a_thumbs_down_still_objects() -> None:
    cooked = (
        '<p><img src="/images/emoji/twitter/-1.png?v=12" title=":-1:" class="emoji"'
        ' alt=":-1:" loading="lazy" width="20" height="20"> breaks every plugin</p>'
    )
    text = forum.cooked_to_text(cooked)
    assert text == ":-1: breaks every plugin"
    [unit] = units_of(text)
    assert "objection" in cues_of(unit)


def _forum_units(raw: str | None, cooked: str = "") -> list[str]:
    post = forum.to_post(SITE, forum.parse_post(_post(raw, cooked)))
    assert post is not None
    return [unit.text for unit in units_of(post.text)]


@pytest.mark.parametrize(
    ("raw", "cooked"),
    [
        (
            "Where do you stand?\n\n[poll type=regular results=always]\n"
            "* Keep XML, it is the safer choice\n* I am worried about both\n[/poll]",
            "",
        ),
        (
            None,
            '<p>Where do you stand?</p>\n<div class="poll" data-poll-name="poll">'
            '<div><div class="poll-container"><ul><li data-poll-option-id="a">Keep XML, the'
            ' safer choice</li><li data-poll-option-id="b">I am worried about both</li></ul>'
            "</div></div></div>",
        ),
    ],
)
def test_a_polls_options_are_choices_offered_not_the_writers_words(
    raw: str | None, cooked: str
) -> None:
    assert _forum_units(raw, cooked) == ["Where do you stand?"]


def test_bbcode_tag_lines_are_not_prose_but_what_they_wrap_is() -> None:
    raw = '[details="Benchmarks"]\nParsing took 3s on the big build, a regression.\n[/details]'
    assert _forum_units(raw) == ["Parsing took 3s on the big build, a regression."]


def test_small_actions_and_whispers_are_skipped() -> None:
    for post_type in (forum.SMALL_ACTION, forum.WHISPER):
        data = _post("", "", post_type=post_type, action_code="closed.enabled")
        assert forum.to_post(SITE, forum.parse_post(data)) is None
    moderator = _post("This topic was closed by a moderator.", "", post_type=2)
    assert forum.to_post(SITE, forum.parse_post(moderator)) is not None


def test_system_posts_are_auto_submitted_and_revisions_order() -> None:
    post = forum.to_post(SITE, forum.parse_post(_post("Welcome!", "", user_id=-1)))
    assert post is not None
    assert post.auto_submitted
    v1 = forum.revision_of({forum.HEADER_VERSION: "1", forum.HEADER_UPDATED_AT: "2024-03-01T12:00"})
    ninja = forum.revision_of(
        {forum.HEADER_VERSION: "1", forum.HEADER_UPDATED_AT: "2024-03-01T12:01"}
    )
    v2 = forum.revision_of({forum.HEADER_VERSION: "2", forum.HEADER_UPDATED_AT: "2024-03-01T12:00"})
    assert v1 < ninja < v2


def test_a_post_without_topic_or_id_is_refused_loudly() -> None:
    with pytest.raises(forum.ForumDataError):
        forum.parse_post({"id": 5, "cooked": "<p>x</p>"})


def test_bad_dates_are_repaired_and_recorded() -> None:
    data = _post("text", "", created_at="yesterday", updated_at="2024-03-02T00:00:00Z")
    post = forum.to_post(SITE, forum.parse_post(data))
    assert post is not None
    assert post.created_at == datetime(2024, 3, 2, tzinfo=UTC)
    assert [d.kind for d in post.defects] == ["invalid-date"]


def test_forum_site_keys_and_urls() -> None:
    assert SITE.base_url == "https://discourse.example.org"
    assert SITE.post_key(1) == "discourse:moz:1"
    assert SITE.topic_key(2) == "discourse:moz:topic:2"
    assert SITE.post_url(2, 3, None) == "https://discourse.example.org/t/2/3"
    with pytest.raises(ValueError):
        forum.ForumSite("Bad:Name", "https://x.org")
