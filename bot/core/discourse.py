"""Discourse JSON to :class:`~bot.model.Post`: the forum's side of "one item shape".

Discourse sends a post in two forms: ``raw`` (the Markdown the author typed) and
``cooked`` (the HTML it rendered). Topic views (``/t/{id}.json``) carry only
``cooked``; ``/posts.json``, ``/t/{id}/posts.json?include_raw=true`` and webhooks
carry both. We read ``raw`` where we have it, since it is what the author wrote,
and fall back to ``cooked``, turned into text the same way as HTML mail: quotes
become ``>`` lines, so votes and commands are never read from quoted text.

Small actions (post_type 3: "closed the topic", "pinned") are not posts anyone
wrote and are skipped; whispers (post_type 4) are staff-only and must never be
repeated on a public list, so they are skipped too.

Posts carry their forum metadata in ``Post.headers`` (``X-Discourse-*``), as mail
carries its headers: the store needs the revision to tell an edit from a replay.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.text import extract_mentions, html_to_text, quote_tags_as_markers, split_body
from bot.model import Defect, Person, Post, Source

JsonObject = Mapping[str, Any]

# Post.types in Discourse.
REGULAR = 1
MODERATOR_ACTION = 2
SMALL_ACTION = 3
WHISPER = 4
SKIPPED_POST_TYPES = frozenset({SMALL_ACTION, WHISPER})
# Posts in a topic view's first chunk (TopicView.chunk_size) and in a /posts.json page.
TOPIC_CHUNK_SIZE = 20
LATEST_POSTS_PAGE_SIZE = 50

# Discourse's own accounts (system is -1, discobot -2) post automatically.
_LAST_SYSTEM_USER_ID = 0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

HEADER_POST_ID = "X-Discourse-Post-Id"
HEADER_TOPIC_ID = "X-Discourse-Topic-Id"
HEADER_POST_NUMBER = "X-Discourse-Post-Number"
HEADER_REPLY_TO = "X-Discourse-Reply-To-Post-Number"
HEADER_VERSION = "X-Discourse-Version"
HEADER_UPDATED_AT = "X-Discourse-Updated-At"
HEADER_CATEGORY_ID = "X-Discourse-Category-Id"
HEADER_TEXT_FROM = "X-Discourse-Text-From"
HEADER_POST_TYPE = "X-Discourse-Post-Type"

_FORUM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class ForumDataError(ValueError):
    """A Discourse answer without what every answer of its kind has (an id, a topic)."""


@dataclass(frozen=True, slots=True)
class ForumSite:
    """One configured forum: its short name (part of every key) and its address."""

    name: str
    base_url: str

    def __post_init__(self) -> None:
        if not _FORUM_NAME.match(self.name):
            raise ValueError(f"forum name {self.name!r}: use lowercase letters, digits, - and _")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def post_key(self, post_id: int) -> str:
        return f"discourse:{self.name}:{post_id}"

    def topic_key(self, topic_id: int) -> str:
        return f"discourse:{self.name}:topic:{topic_id}"

    def post_url(self, topic_id: int, post_number: int, slug: str | None) -> str:
        path = f"{slug}/{topic_id}" if slug else str(topic_id)
        return f"{self.base_url}/t/{path}/{post_number}"


@dataclass(frozen=True, slots=True)
class TopicRef:
    """What a post needs to know about its topic and may not carry itself."""

    id: int
    title: str
    slug: str
    category_id: int | None


@dataclass(frozen=True, slots=True)
class ForumPost:
    """A post as Discourse describes it, with only the fields Quorum uses."""

    id: int
    topic_id: int
    post_number: int
    post_type: int
    user_id: int | None
    username: str
    name: str
    created_at: str
    updated_at: str
    version: int
    raw: str | None
    cooked: str
    reply_to_post_number: int | None
    topic_title: str | None
    topic_slug: str | None
    category_id: int | None
    data: JsonObject = field(compare=False, hash=False, repr=False)

    @property
    def skipped(self) -> bool:
        return self.post_type in SKIPPED_POST_TYPES

    def source_bytes(self) -> bytes:
        """The post as received, kept as the "raw reference" like a mail's bytes."""
        return json.dumps(self.data, sort_keys=True, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class TopicSummary:
    """One topic of a topic list (``/latest.json``, ``/c/{slug}/{id}.json``)."""

    id: int
    title: str
    slug: str
    category_id: int | None
    posts_count: int
    highest_post_number: int
    last_posted_at: str | None
    bumped_at: str | None

    @property
    def marker(self) -> str:
        """Changes whenever the topic gains a post: a topic with the same marker needs no sync."""
        return f"{self.highest_post_number}/{self.posts_count}/{self.last_posted_at or ''}"


@dataclass(frozen=True, slots=True)
class TopicPage:
    topics: tuple[TopicSummary, ...]
    has_more: bool


@dataclass(frozen=True, slots=True)
class TopicView:
    """``/t/{id}.json``: the topic, the ids of all its posts, and the first chunk of them."""

    topic: TopicRef
    stream: tuple[int, ...]
    posts: tuple[ForumPost, ...]


@dataclass(frozen=True, slots=True)
class CreatedPost:
    """What Discourse answers to a create or an edit: enough to edit it later."""

    id: int
    topic_id: int
    post_number: int


# -- parsing answers ---------------------------------------------------------------------


def parse_post(data: JsonObject, topic: TopicRef | None = None) -> ForumPost:
    """One post from any endpoint or webhook; ``topic`` fills what a topic view leaves out."""
    post_id = _int(data.get("id"))
    topic_id = _int(data.get("topic_id")) or (topic.id if topic else None)
    if post_id is None or topic_id is None:
        raise ForumDataError(f"a post needs an id and a topic_id: {sorted(data)[:12]}")
    raw = data.get("raw")
    return ForumPost(
        id=post_id,
        topic_id=topic_id,
        post_number=_int(data.get("post_number")) or 0,
        post_type=_int(data.get("post_type")) or REGULAR,
        user_id=_int(data.get("user_id")),
        username=str(data.get("username") or ""),
        name=str(data.get("name") or ""),
        created_at=str(data.get("created_at") or ""),
        updated_at=str(data.get("updated_at") or data.get("created_at") or ""),
        version=_int(data.get("version")) or 1,
        raw=raw if isinstance(raw, str) else None,
        cooked=str(data.get("cooked") or ""),
        reply_to_post_number=_int(data.get("reply_to_post_number")),
        topic_title=_str(data.get("topic_title")) or (topic.title if topic else None),
        topic_slug=_str(data.get("topic_slug")) or (topic.slug if topic else None),
        category_id=_int(data.get("category_id"))
        if data.get("category_id") is not None
        else (topic.category_id if topic else None),
        data=data,
    )


def parse_topic_view(data: JsonObject) -> TopicView:
    topic_id = _int(data.get("id"))
    if topic_id is None:
        raise ForumDataError("a topic view needs an id")
    topic = TopicRef(
        id=topic_id,
        title=str(data.get("title") or ""),
        slug=str(data.get("slug") or ""),
        category_id=_int(data.get("category_id")),
    )
    stream_data = data.get("post_stream") or {}
    posts = tuple(parse_post(p, topic) for p in stream_data.get("posts") or ())
    stream = tuple(i for i in (_int(v) for v in stream_data.get("stream") or ()) if i is not None)
    return TopicView(topic=topic, stream=stream, posts=posts)


def parse_topic_posts(data: JsonObject, topic: TopicRef) -> tuple[ForumPost, ...]:
    """``/t/{id}/posts.json``: a batch of posts of one topic."""
    posts = (data.get("post_stream") or {}).get("posts") or ()
    return tuple(parse_post(p, topic) for p in posts)


def parse_latest_posts(data: JsonObject) -> tuple[ForumPost, ...]:
    """``/posts.json``: the newest posts across the forum, newest first."""
    return tuple(parse_post(p) for p in data.get("latest_posts") or ())


def parse_topic_list(data: JsonObject) -> TopicPage:
    topic_list = data.get("topic_list") or {}
    topics = tuple(_topic_summary(t) for t in topic_list.get("topics") or ())
    # Discourse sends more_topics_url only when there is a next page.
    return TopicPage(topics=topics, has_more=bool(topic_list.get("more_topics_url")))


def parse_created_post(data: JsonObject) -> CreatedPost:
    """The answer to ``POST /posts.json`` (a bare post) or ``PUT /posts/{id}.json`` (wrapped)."""
    wrapped = data.get("post")
    post: JsonObject = wrapped if isinstance(wrapped, Mapping) else data
    post_id, topic_id = _int(post.get("id")), _int(post.get("topic_id"))
    if post_id is None or topic_id is None:
        raise ForumDataError("Discourse answered without the post's id")
    return CreatedPost(post_id, topic_id, _int(post.get("post_number")) or 0)


def webhook_post(payload: JsonObject) -> ForumPost | None:
    """The post of a ``post`` webhook event (``{"post": {...}}``), or None for other events."""
    post = payload.get("post")
    return parse_post(post) if isinstance(post, Mapping) else None


def _topic_summary(data: JsonObject) -> TopicSummary:
    topic_id = _int(data.get("id"))
    if topic_id is None:
        raise ForumDataError("a listed topic needs an id")
    return TopicSummary(
        id=topic_id,
        title=str(data.get("title") or ""),
        slug=str(data.get("slug") or ""),
        category_id=_int(data.get("category_id")),
        posts_count=_int(data.get("posts_count")) or 0,
        highest_post_number=_int(data.get("highest_post_number")) or 0,
        last_posted_at=_str(data.get("last_posted_at")),
        bumped_at=_str(data.get("bumped_at")),
    )


# -- to the one item shape ---------------------------------------------------------------


def to_post(site: ForumSite, forum_post: ForumPost) -> Post | None:
    """The normalised Post, or None for a small action or a whisper."""
    if forum_post.skipped:
        return None
    defects: list[Defect] = []
    source, body = _body(forum_post)
    split = split_body(body)
    subject = forum_post.topic_title or ""
    if not subject:
        defects.append(Defect("missing-subject", f"no title for topic {forum_post.topic_id}"))
    if not forum_post.username:
        defects.append(Defect("missing-from", f"post {forum_post.id} names no user"))
    return Post(
        source=Source.DISCOURSE,
        key=site.post_key(forum_post.id),
        message_id=None,
        thread_key=site.topic_key(forum_post.topic_id),
        author=Person(name=forum_post.name.strip(), address=forum_post.username),
        created_at=_date(forum_post, defects),
        subject=subject,
        text=split.new,
        quoted=split.quoted,
        quote_at=split.quote_at,
        mentions=extract_mentions(split.new),
        url=site.post_url(forum_post.topic_id, forum_post.post_number, forum_post.topic_slug),
        auto_submitted=forum_post.user_id is not None
        and forum_post.user_id <= _LAST_SYSTEM_USER_ID,
        body_hash=_revision_hash(forum_post),
        defects=tuple(defects),
        headers=_headers(forum_post, source),
    )


def revision_of(headers: Mapping[str, str]) -> tuple[int, str]:
    """(version, updated_at) of a stored or incoming forum post; later revisions compare greater.

    ``version`` alone misses Discourse's "ninja edits" (edits within its grace
    period keep the version but change ``updated_at``), and ``updated_at`` alone
    would let a late webhook retry overwrite a newer edit.
    """
    version = _int(headers.get(HEADER_VERSION)) or 0
    return version, headers.get(HEADER_UPDATED_AT, "")


def _revision_hash(forum_post: ForumPost) -> str:
    # The same revision read from raw or from cooked is the same body: hash the revision.
    marker = f"{forum_post.id}:{forum_post.version}:{forum_post.updated_at}"
    return hashlib.sha256(marker.encode()).hexdigest()


def _headers(forum_post: ForumPost, source: str) -> dict[str, str]:
    headers = {
        HEADER_POST_ID: str(forum_post.id),
        HEADER_TOPIC_ID: str(forum_post.topic_id),
        HEADER_POST_NUMBER: str(forum_post.post_number),
        HEADER_POST_TYPE: str(forum_post.post_type),
        HEADER_VERSION: str(forum_post.version),
        HEADER_UPDATED_AT: forum_post.updated_at,
        HEADER_TEXT_FROM: source,
    }
    if forum_post.reply_to_post_number is not None:
        headers[HEADER_REPLY_TO] = str(forum_post.reply_to_post_number)
    if forum_post.category_id is not None:
        headers[HEADER_CATEGORY_ID] = str(forum_post.category_id)
    return headers


def _date(forum_post: ForumPost, defects: list[Defect]) -> datetime:
    for value in (forum_post.created_at, forum_post.updated_at):
        parsed = parse_time(value)
        if parsed is not None:
            if value != forum_post.created_at:
                defects.append(Defect("invalid-date", f"created_at {forum_post.created_at!r}"))
            return parsed
    defects.append(Defect("invalid-date", f"no usable date on post {forum_post.id}"))
    return _EPOCH


def parse_time(value: str | None) -> datetime | None:
    """Discourse timestamps ("2016-05-23T17:03:59.379Z") as aware UTC datetimes."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


_FORUM_POST_URL = re.compile(r"^https?://(?:www\.)?(?P<host>[^/\s:]+)(?::\d+)?/t/")
# Mail Discourse sends about a post (mailing list mode): <topic/12/345.abc@host>.
_POST_MESSAGE_ID = re.compile(
    r"^<(?:discourse/)?topic/\d+/(?P<post>\d+)(?:\.\w+)?@(?P<host>[^>\s]+)>$", re.IGNORECASE
)


def mirror_identity(post: Post) -> str:
    """One name for a post and its copies on other channels, so it counts once.

    Discourse can mail every post to a list ("mailing list mode"); that mail's
    Message-ID names the forum post it copies.
    """
    if post.source == Source.DISCOURSE and post.url:
        host = _FORUM_POST_URL.match(post.url)
        post_id = post.headers.get(HEADER_POST_ID)
        if host and post_id:
            return f"forum-post:{host['host'].casefold()}:{post_id}"
    copied = _POST_MESSAGE_ID.match(post.message_id or "")
    if copied:
        return f"forum-post:{copied['host'].casefold()}:{copied['post']}"
    return post.key


# -- text --------------------------------------------------------------------------------


def _body(forum_post: ForumPost) -> tuple[str, str]:
    if forum_post.raw is not None:
        return "raw", raw_to_text(forum_post.raw)
    return "cooked", cooked_to_text(forum_post.cooked)


def raw_to_text(raw: str) -> str:
    """Markdown as typed, with BBCode ``[quote=...]`` blocks turned into ``>`` quotes
    (:func:`bot.core.text.quote_tags_as_markers`), so ``split_body`` sees them as quotes."""
    return quote_tags_as_markers(raw.replace("\r\n", "\n"))


_ONEBOX = re.compile(
    r"<aside\b[^>]*\bclass=\"onebox\b[^\"]*\"[^>]*>.*?</aside>", re.IGNORECASE | re.DOTALL
)
_ONEBOX_SRC = re.compile(r"data-onebox-src=\"([^\"]+)\"|href=\"(https?://[^\"]+)\"", re.IGNORECASE)
_LINK = re.compile(
    r"<a\b[^>]*?\bhref=\"(?P<url>https?://[^\"]+)\"[^>]*>(?P<label>.*?)</a>",
    re.IGNORECASE | re.DOTALL,
)
_TAGS = re.compile(r"<[^>]+>")
_INLINE_TAGS = re.compile(
    r"</?(?:a|abbr|b|code|del|em|i|img|ins|kbd|mark|s|small|span|strong|sub|sup|u)\b[^>]*>",
    re.IGNORECASE,
)
_DIV_TAG = re.compile(r"<div\b[^>]*>|</div\s*>", re.IGNORECASE)
# An emoji is an image whose alt text is its code: ":-1:" is a -1, ":+1:" a +1.
_EMOJI = re.compile(r"<img\b[^>]*\bclass=\"emoji\b[^\"]*\"[^>]*>", re.IGNORECASE)
_ALT = re.compile(r"\balt=\"([^\"]*)\"", re.IGNORECASE)


def cooked_to_text(cooked: str) -> str:
    """Text of Discourse's HTML without the parts Discourse added and the author did not write.

    A link preview (onebox) becomes the link it previews, a quote's "alice:" title
    and an image's "a.png 800x620 97 KB" caption are dropped, and a link keeps its
    address after its label: the address is what ties a post to a pull request or
    to another forum's topic.
    """
    cooked = _ONEBOX.sub(_onebox_link, cooked)
    cooked = _EMOJI.sub(_emoji_code, cooked)
    # A poll's options are choices offered, not statements: marked as the raw text
    # marks them ("[poll]" ... "[/poll]"), so prose reads neither as the writer's.
    cooked = _mark_divs(cooked, "poll", "<p>[poll]</p>", "<p>[/poll]</p>")
    # The avatar and "alice:" above a quote; a quoted topic's link in it is kept.
    cooked = _remove_divs(cooked, "title", keep_links=True)
    cooked = _remove_divs(cooked, "meta")  # an image's file name, size and dimensions
    cooked = _LINK.sub(_label_with_url, cooked)
    # html_to_text quotes each run of text inside a blockquote on its own, so text
    # split by inline tags ("that <code>x</code> is") would get "> " mid-line.
    cooked = _INLINE_TAGS.sub("", cooked)
    return html_to_text(cooked)


def _onebox_link(match: re.Match[str]) -> str:
    found = _ONEBOX_SRC.search(match.group(0))
    url = (found.group(1) or found.group(2)) if found else ""
    return f"<p>{url}</p>" if url else ""


def _emoji_code(match: re.Match[str]) -> str:
    alt = _ALT.search(match.group(0))
    return f" {html.escape(html.unescape(alt.group(1)), quote=False)} " if alt else ""


def _label_with_url(match: re.Match[str]) -> str:
    url = html.unescape(match["url"])
    label = html.unescape(_TAGS.sub("", match["label"])).strip()
    if not label or _shows_url(label, url):
        return match.group(0)
    return f"{match.group(0)} ({html.escape(url, quote=False)})"


def _shows_url(label: str, url: str) -> bool:
    """Whether a link's label is its address, perhaps shortened ("github.com/o/r/pull/…")."""
    shown, target = _bare_url(label.rstrip("…").rstrip(".")), _bare_url(url)
    return shown == target or (len(shown) >= 10 and target.startswith(shown))


def _bare_url(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url, flags=re.IGNORECASE).rstrip("/")


def _opening_div(class_name: str) -> re.Pattern[str]:
    return re.compile(rf"<div\b[^>]*\bclass=\"{class_name}\"[^>]*>", re.IGNORECASE)


def _div_end(cooked: str, start: int) -> int:
    """Where the ``<div>`` opening at ``start`` closes, nested divs included."""
    depth = 0
    for tag in _DIV_TAG.finditer(cooked, start):
        depth += -1 if tag.group(0).startswith("</") else 1
        if depth == 0:
            return tag.end()
    return len(cooked)


def _mark_divs(cooked: str, class_name: str, before: str, after: str) -> str:
    """Every ``<div class="NAME">`` kept whole, between ``before`` and ``after``."""
    opening = _opening_div(class_name)
    out: list[str] = []
    position = 0
    for start in opening.finditer(cooked):
        if start.start() < position:
            continue  # nested in one already marked
        end = _div_end(cooked, start.start())
        out += [cooked[position : start.start()], before, cooked[start.start() : end], after]
        position = end
    return "".join(out) + cooked[position:]


def _remove_divs(cooked: str, class_name: str, *, keep_links: bool = False) -> str:
    """Remove every ``<div class="NAME">`` with what it holds, nested divs included."""
    opening = _opening_div(class_name)
    while (start := opening.search(cooked)) is not None:
        end = _div_end(cooked, start.start())
        kept = ""
        if keep_links:
            urls = [m["url"] for m in _LINK.finditer(cooked, start.start(), end)]
            kept = "".join(f"<p>{url}</p>" for url in urls)
        cooked = cooked[: start.start()] + kept + cooked[end:]
    return cooked


# -- small helpers -----------------------------------------------------------------------


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
