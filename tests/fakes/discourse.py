"""A loopback fake of the Discourse HTTP API, for testing Quorum's Discourse client.

Seed a forum (``add_category``, ``add_topic``, ``add_post``, ``add_small_action``, or
``load_perceval_fixture`` for recorded real JSON), ``base_url = await fake.start()``, point
the client at it, then assert on ``fake.requests`` (what crossed the wire) and on the forum.

It answers with the shapes of the official OpenAPI spec (discourse/discourse_api_docs) and
behaves like Discourse's own code where the spec says nothing or is wrong:

- ``GET /latest.json`` and ``GET /c/{slug}/{id}.json``: 30 topics a page (``per_page`` 1-100
  accepted), pinned first, then by ``bumped_at``. Pages count from 0, as in TopicQuery:
  ``?page=1`` is the *second* page, and ``more_topics_url`` is present only when there is one.
  The pages it names (``/latest?page=1``, ``/c/{slug}/{id}/l/latest?page=1``) are served,
  and so is a subcategory's ``/c/{parent}/{child}/{id}.json``.
- Every route also answers without ``.json``, as Rails' optional ``(.:format)`` does: JSON
  when the request accepts ``application/json`` (as our client and Discourse's own front
  end ask), else an HTML page, as Discourse serves its app to a browser. ``POST /posts``
  creates a post like ``POST /posts.json``.
- ``GET /t/{id}.json`` (also ``/t/{slug}/{id}.json``): ``post_stream.posts`` holds one chunk of
  20 posts, ``post_stream.stream`` every post id; ``?page=N`` counts from 1 here, and a page
  past the end redirects (301) to the last one, as TopicsController#show does.
- ``GET /t/{id}/posts.json?post_ids[]=..``: those posts of that topic, in topic order; ids of
  other topics are silently dropped. Discourse puts no cap on the number of ids (its own
  front end asks for 20 at a time); ``max_post_ids`` can impose one. ``include_raw=true``
  adds ``raw``. ``post_number=N`` (with ``asc=true``) gives the 20 posts after post N.
- ``GET /posts.json?before=ID``: the 50 newest *regular* posts (post_type 1, so no small
  actions or whispers) with ``id < before``, newest id first, each with ``raw``,
  ``topic_title``, ``topic_slug``, ``category_id``, ``excerpt`` (LatestPostsQuery).
- ``GET /posts/{id}.json`` has ``raw``; ``PUT /posts/{id}.json`` edits (``version`` +1 and a
  new ``updated_at`` only when ``raw`` changes; an edit of a topic's last post bumps the
  topic unless ``bypass_bump``) and answers ``{"post": {...}}`` with ``raw``.
  Discourse's 5-minute "ninja edit" grace period is not simulated.
- ``POST /posts.json`` (JSON or form) creates a reply (``topic_id``) or a topic (``title`` and
  optional ``category``) and answers with the bare post, without ``raw``. Like Discourse it
  refuses a body shorter than 20 characters or a title shorter than 15 (422), and it
  memoizes API creates for 120 seconds: the same request by the same user within that time
  returns the first answer instead of posting twice.
- Post ids are global and start far from topic ids and post numbers, so a client that mixes
  them up fails here rather than in production.
- Every request needs the configured ``Api-Key`` and ``Api-Username`` headers, else 403
  ``{"errors": [...], "error_type": "invalid_access"}`` (a login-required forum). Unknown
  ids and routes answer 404 ``{"errors": [...], "error_type": "not_found"}``.

Misbehaviour on request, checked before authentication as a proxy or Discourse's global
rate limiter would: ``fail_next(n, kind, path=...)`` or a seeded random ``set_fault_rate``;
and ``refuse(path, status)``, a lasting refusal (403 or 404 with Discourse's error body) of
every request to a path, as a proxy or an API key without that scope answers: ``lift()``
ends it.

- ``"429-header"``: Discourse's global limiter (RequestTracker): 429, ``Retry-After: N``, and a
  text/plain body, not JSON.
- ``"429-json"``: the controller-level limiter's JSON body with ``extras.wait_seconds`` and no
  ``Retry-After`` header, so the body is the only hint of how long to wait.
- ``"500"``: 500 with an HTML body. ``"reset"``: the TCP connection is dropped with an RST and
  no response. ``"slow"``: the request takes effect, then the answer waits ``slow_delay``
  seconds, so a client that times out has still posted: the case an outbox must survive.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import random
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any, Final, Literal, get_args
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.server import LoopbackHTTP, reset_connection

JsonObject = dict[str, Any]

FaultKind = Literal["429-header", "429-json", "500", "slow", "reset"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)

TOPICS_PER_PAGE: Final = 30  # TopicQuery's default per_page
MAX_TOPICS_PER_PAGE: Final = 100  # the spec: per_page "between 1-100"
POSTS_CHUNK_SIZE: Final = 20  # TopicView.chunk_size
LATEST_POSTS_PAGE_SIZE: Final = 50  # LatestPostsQuery::PAGE_SIZE
CREATE_MEMO_SECONDS: Final = 120.0  # PostsController#create memoizes API creates this long
EXCERPT_LENGTH: Final = 300  # SiteSetting.post_excerpt_maxlength
MAX_PARTICIPANTS: Final = 24  # TopicView::MAX_PARTICIPANTS
SYSTEM_USER_ID: Final = -1
UNCATEGORIZED_ID: Final = 1
# Distinct ranges for topic ids and global post ids: see the module docstring.
FIRST_TOPIC_ID: Final = 100
FIRST_POST_ID: Final = 1000

_FORM_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Flag and like action types an admin may take on someone else's post (PostActionType).
_POST_ACTION_IDS: Final = (2, 3, 4, 8, 6, 7)
# The topic-level actions_summary Discourse sends (recorded: ids 4, 8, 7).
_TOPIC_ACTION_IDS: Final = (4, 8, 7)


class PostType(IntEnum):
    """Post.types in Discourse."""

    REGULAR = 1
    MODERATOR_ACTION = 2
    SMALL_ACTION = 3
    WHISPER = 4


@dataclass
class User:
    id: int
    username: str
    name: str = ""
    admin: bool = False
    moderator: bool = False
    trust_level: int = 1
    avatar_template: str = ""


@dataclass
class Category:
    id: int
    slug: str
    name: str


@dataclass
class Topic:
    id: int
    title: str
    slug: str
    category_id: int
    user_id: int
    created_at: datetime
    bumped_at: datetime
    pinned: bool = False
    pinned_globally: bool = False
    closed: bool = False
    archived: bool = False
    visible: bool = True
    views: int = 0
    post_ids: list[int] = field(default_factory=list)  # in post_number order


@dataclass
class Post:
    id: int
    topic_id: int
    post_number: int
    user_id: int
    raw: str
    cooked: str
    created_at: datetime
    updated_at: datetime
    post_type: PostType = PostType.REGULAR
    reply_to_post_number: int | None = None
    action_code: str | None = None  # small actions only, e.g. "closed.enabled"
    version: int = 1
    edit_reason: str | None = None
    reply_count: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the fake received, including those it failed on purpose."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    time: float  # the monotonic clock on arrival, to measure gaps and rates
    status: int | None  # the HTTP status sent; None when the connection was dropped
    fault: FaultKind | None = None
    api_username: str | None = None

    def query_values(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]


@dataclass(frozen=True)
class _Fault:
    kind: FaultKind
    retry_after: int
    delay: float
    path: str | None  # only requests whose path starts with this, if given

    def applies_to(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


class DiscourseError(Exception):
    """An error answer in Discourse's JSON shape; raised by handlers, sent by the middleware."""

    def __init__(self, status: int, body: JsonObject) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body

    def response(self) -> web.Response:
        return web.json_response(self.body, status=self.status)


def not_found() -> DiscourseError:
    return DiscourseError(
        404,
        {
            "errors": ["The requested URL or resource could not be found."],
            "error_type": "not_found",
        },
    )


def invalid_access() -> DiscourseError:
    message = (
        "You are not permitted to view the requested resource. The API username or key is invalid."
    )
    return DiscourseError(403, {"errors": [message], "error_type": "invalid_access"})


def invalid_parameters(name: str) -> DiscourseError:
    message = f"You supplied invalid parameters to the request: {name}"
    return DiscourseError(400, {"errors": [message], "error_type": "invalid_parameters"})


def _create_failed(*errors: str) -> DiscourseError:
    # NewPostResult with errors: PostsController#create answers the whole result, not a post.
    return DiscourseError(422, {"action": "create_post", "errors": list(errors)})


Clock = Callable[[], datetime]
Monotonic = Callable[[], float]


class FakeDiscourse(LoopbackHTTP):
    """An in-memory Discourse forum served on 127.0.0.1, on an ephemeral port, for one test."""

    def __init__(
        self,
        api_key: str = "quorum-test-key",
        api_username: str = "quorum",
        *,
        clock: Clock | None = None,
        monotonic: Monotonic | None = None,
        slow_delay: float = 0.5,
        retry_after: int = 1,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        fault_kinds: Sequence[FaultKind] = ("429-header", "429-json", "500", "reset"),
        min_post_length: int = 20,
        min_title_length: int = 15,
        max_post_ids: int | None = None,
    ) -> None:
        """``clock`` dates the forum (default: now, UTC); ``monotonic`` times the request log."""
        super().__init__()
        self.api_key = api_key
        self.api_username = api_username
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.monotonic: Monotonic = monotonic or time.monotonic
        self.slow_delay = slow_delay
        self.retry_after = retry_after
        self.min_post_length = min_post_length
        self.min_title_length = min_title_length
        self.max_post_ids = max_post_ids
        self.users: dict[int, User] = {}
        self.categories: dict[int, Category] = {}
        self.topics: dict[int, Topic] = {}
        self.posts: dict[int, Post] = {}
        self.requests: list[RecordedRequest] = []
        self._next_user_id = 1
        self._next_category_id = UNCATEGORIZED_ID
        self._next_topic_id = FIRST_TOPIC_ID
        self._next_post_id = FIRST_POST_ID
        self._create_memo: dict[tuple[str, str], tuple[float, JsonObject]] = {}
        self._scripted: deque[_Fault] = deque()
        self._refusals: list[tuple[str, int, Callable[[web.Request], bool] | None]] = []
        self.set_fault_rate(fault_rate, seed=fault_seed, kinds=fault_kinds)
        # What every Discourse has: the system user, the API user (an admin, as bot keys
        # usually are) and the Uncategorized category.
        self.add_user("system", name="system", admin=True, trust_level=4, user_id=SYSTEM_USER_ID)
        self.api_user = self.add_user(api_username, admin=True, trust_level=4)
        self.add_category("uncategorized", "Uncategorized")

    # -- lifecycle -------------------------------------------------------------------

    def _application(self) -> web.Application:
        @web.middleware
        async def intercept(
            request: web.Request, handler: Callable[[web.Request], Any]
        ) -> web.StreamResponse:
            async with self._busy():
                return await self._serve(request, handler)

        app = web.Application(middlewares=[intercept])
        self._add_routes(app.router)
        return app

    @property
    def auth_headers(self) -> dict[str, str]:
        """The headers a correctly configured client sends."""
        return {"Api-Key": self.api_key, "Api-Username": self.api_username}

    # -- seeding ---------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        name: str = "",
        admin: bool = False,
        moderator: bool = False,
        trust_level: int = 1,
        user_id: int | None = None,
        avatar_template: str | None = None,
    ) -> User:
        if self.find_user(username) is not None:
            raise ValueError(f"user {username!r} already exists")
        user_id = self._claim_id("_next_user_id", self.users, user_id)
        user = User(
            id=user_id,
            username=username,
            name=name,
            admin=admin,
            moderator=moderator,
            trust_level=trust_level,
            avatar_template=avatar_template or _letter_avatar(username),
        )
        self.users[user_id] = user
        return user

    def add_category(self, slug: str, name: str, *, category_id: int | None = None) -> int:
        category_id = self._claim_id("_next_category_id", self.categories, category_id)
        self.categories[category_id] = Category(category_id, slug, name)
        return category_id

    def add_topic(
        self,
        category_id: int | None,
        title: str,
        posts: Sequence[tuple[str, str]] | int = 1,
        *,
        created_at: datetime | None = None,
        post_interval: timedelta = timedelta(minutes=1),
        pinned: bool = False,
        pinned_globally: bool = False,
        closed: bool = False,
        views: int = 0,
        topic_id: int | None = None,
    ) -> int:
        """Create a topic with ``posts`` as (username, raw) pairs, or that many filler posts.

        Posts are ``post_interval`` apart from ``created_at`` (default: the clock).
        """
        category_id = UNCATEGORIZED_ID if category_id is None else category_id
        if category_id not in self.categories:
            raise KeyError(f"no category {category_id}")
        seeds = _filler_posts(title, posts) if isinstance(posts, int) else list(posts)
        if not seeds:
            raise ValueError("a Discourse topic always has its first post")
        # By default the topic ends now: its posts lie in the past, as seeded history does.
        start = created_at or self.clock() - (len(seeds) - 1) * post_interval
        topic_id = self._claim_id("_next_topic_id", self.topics, topic_id)
        opener = self._user_named(seeds[0][0])
        self.topics[topic_id] = Topic(
            id=topic_id,
            title=title,
            slug=slugify(title),
            category_id=category_id,
            user_id=opener.id,
            created_at=start,
            bumped_at=start,
            # A topic pinned globally is pinned in its category too.
            pinned=pinned or pinned_globally,
            pinned_globally=pinned_globally,
            closed=closed,
            views=views,
        )
        for index, (username, raw) in enumerate(seeds):
            self.add_post(topic_id, username, raw, created_at=start + index * post_interval)
        return topic_id

    def add_post(
        self,
        topic_id: int,
        username: str,
        raw: str,
        reply_to_post_number: int | None = None,
        *,
        created_at: datetime | None = None,
        post_type: PostType = PostType.REGULAR,
        action_code: str | None = None,
        cooked: str | None = None,
        post_id: int | None = None,
        post_number: int | None = None,
    ) -> Post:
        """Append a post to a topic; ``cooked`` defaults to our small Markdown subset."""
        topic = self.topic(topic_id)
        user = self._user_named(username)
        created = created_at or self._default_post_time(topic)
        post_id = self._claim_id("_next_post_id", self.posts, post_id)
        post = Post(
            id=post_id,
            topic_id=topic_id,
            post_number=post_number or self._next_post_number(topic),
            user_id=user.id,
            raw=raw,
            cooked=cook(raw) if cooked is None else cooked,
            created_at=created,
            updated_at=created,
            post_type=post_type,
            reply_to_post_number=self._existing_post_number(topic, reply_to_post_number),
            action_code=action_code,
        )
        self.posts[post_id] = post
        topic.post_ids.append(post_id)
        topic.post_ids.sort(key=lambda pid: self.posts[pid].post_number)
        self._count_reply(topic, post)
        if post_type == PostType.REGULAR:
            topic.bumped_at = max(topic.bumped_at, created)
        return post

    def add_small_action(
        self,
        topic_id: int,
        action_code: str,
        username: str = "system",
        *,
        created_at: datetime | None = None,
    ) -> Post:
        """A small-action post (post_type 3), e.g. "closed.enabled", "pinned.enabled"."""
        return self.add_post(
            topic_id,
            username,
            "",
            created_at=created_at,
            post_type=PostType.SMALL_ACTION,
            action_code=action_code,
            cooked="",
        )

    def load_perceval_fixture(self, path: Path) -> int:
        """Seed from a recorded ``/t/{id}.json`` or ``/posts/{id}.json``; return its id.

        Recorded ids, post numbers, users, timestamps and ``cooked`` are kept. The
        recorded ``stream`` is ignored: the stream is rebuilt from the posts present (a
        recorded topic holds only its first chunk of posts).
        """
        data = json.loads(path.read_text(encoding="utf-8"))
        if "post_stream" in data:
            return self.load_topic_json(data)
        if "raw" in data and "topic_id" in data:
            return self.load_post_json(data)
        raise ValueError(f"{path.name}: neither a /t/{{id}}.json topic nor a /posts/{{id}}.json")

    def load_topic_json(self, data: Mapping[str, Any]) -> int:
        topic_id = int(data["id"])
        if topic_id in self.topics:
            raise ValueError(f"topic {topic_id} already exists")
        posts = [p for p in data["post_stream"]["posts"] if int(p["id"]) not in self.posts]
        if len(posts) != len(data["post_stream"]["posts"]):
            raise ValueError(f"topic {topic_id}: some of its post ids already exist")
        category_id = int(data.get("category_id") or UNCATEGORIZED_ID)
        self._ensure_category(category_id)
        created = parse_time(data["created_at"])
        first_user = self._ensure_recorded_user(posts[0]) if posts else self.api_user
        self.topics[topic_id] = Topic(
            id=topic_id,
            title=str(data["title"]),
            slug=str(data["slug"]),
            category_id=category_id,
            user_id=first_user.id,
            created_at=created,
            bumped_at=created,
            pinned=bool(data.get("pinned")),
            pinned_globally=bool(data.get("pinned_globally")),
            closed=bool(data.get("closed")),
            archived=bool(data.get("archived")),
            visible=bool(data.get("visible", True)),
            views=int(data.get("views") or 0),
        )
        self._next_topic_id = max(self._next_topic_id, topic_id + 1)
        for recorded in posts:
            self._load_recorded_post(topic_id, recorded)
        return topic_id

    def load_post_json(self, data: Mapping[str, Any]) -> int:
        """Seed one recorded post; its topic is created as a stub if unknown."""
        topic_id = int(data["topic_id"])
        if topic_id not in self.topics:
            slug = str(data.get("topic_slug") or f"topic-{topic_id}")
            created = parse_time(data["created_at"])
            self.topics[topic_id] = Topic(
                id=topic_id,
                title=slug.replace("-", " ").capitalize(),
                slug=slug,
                category_id=UNCATEGORIZED_ID,
                user_id=self._ensure_recorded_user(data).id,
                created_at=created,
                bumped_at=created,
            )
            self._next_topic_id = max(self._next_topic_id, topic_id + 1)
        return self._load_recorded_post(topic_id, data).id

    # -- lookups ---------------------------------------------------------------------

    def topic(self, topic_id: int) -> Topic:
        return self.topics[topic_id]

    def post(self, post_id: int) -> Post:
        return self.posts[post_id]

    def posts_of(self, topic_id: int) -> list[Post]:
        return [self.posts[pid] for pid in self.topic(topic_id).post_ids]

    def post_by_number(self, topic_id: int, post_number: int) -> Post | None:
        for post in self.posts_of(topic_id):
            if post.post_number == post_number:
                return post
        return None

    def find_user(self, username: str) -> User | None:
        # Discourse usernames are unique regardless of case.
        wanted = username.lower()
        return next((u for u in self.users.values() if u.username.lower() == wanted), None)

    # -- misbehaviour ----------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        kind: FaultKind = "429-header",
        *,
        path: str | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
    ) -> None:
        """Misbehave on the next ``n`` requests whose path starts with ``path`` (any if None)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        fault = _Fault(
            kind=kind,
            retry_after=self.retry_after if retry_after is None else retry_after,
            delay=self.slow_delay if delay is None else delay,
            path=path,
        )
        self._scripted.extend([fault] * n)

    def refuse(
        self,
        path: str,
        status: int = 404,
        *,
        when: Callable[[web.Request], bool] | None = None,
    ) -> None:
        """Refuse every request whose path starts with ``path`` (and that ``when`` picks),
        until :meth:`lift`: a proxy's 404, or the 403 of an API key without that scope."""
        if status not in (403, 404):
            raise ValueError("a refusal is a 403 or a 404")
        self._refusals.append((path, status, when))

    def lift(self) -> None:
        """End every refusal."""
        self._refusals.clear()

    def set_fault_rate(
        self,
        rate: float,
        *,
        seed: int = 0,
        kinds: Sequence[FaultKind] = ("429-header", "429-json", "500", "reset"),
        path: str | None = None,
    ) -> None:
        """Misbehave on a seeded-random fraction of requests; scripted faults go first."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within [0, 1], got {rate}")
        if rate > 0 and not kinds:
            raise ValueError("a fault rate needs at least one fault kind")
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self._fault_rate = rate
        self._fault_kinds = tuple(kinds)
        self._fault_path = path
        # A private generator: the faults depend only on the seed and the request order.
        self._random = random.Random(seed)

    # -- the request log -------------------------------------------------------------

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Requests whose path starts with ``path`` (and with that method, if given)."""
        return [
            r
            for r in self.requests
            if r.path.startswith(path) and (method is None or r.method == method)
        ]

    def max_requests_in_window(self, window: float = 60.0, *, path: str = "/") -> int:
        """The most requests seen within any ``window`` seconds, to check a client's budget."""
        times = sorted(r.time for r in self.requests_to(path))
        most, start = 0, 0
        for end, arrived in enumerate(times):
            while arrived - times[start] >= window:
                start += 1
            most = max(most, end - start + 1)
        return most

    # -- HTTP plumbing ---------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        # A topic slug must contain a non-digit, so /t/123/456.json is not read as one.
        slug = r"{slug:[^/]*[^/\d][^/]*}"
        # A category path is its slug, or a parent's and its own: /c/parent/child/9.
        category = r"/c/{slug:[^.]+?}/{category_id:\d+}"
        for path, handler in (
            ("/latest", self._latest),
            (category + "/l/latest", self._category_topics),
            (category, self._category_topics),
            (r"/t/{topic_id:\d+}", self._topic),
            ("/t/" + slug + r"/{topic_id:\d+}", self._topic),
            (r"/t/{topic_id:\d+}/posts", self._topic_posts),
            ("/posts", self._latest_posts),
            (r"/posts/{post_id:\d+}", self._get_post),
        ):
            router.add_get(path + ".json", handler)
            router.add_get(path, _wants_json(handler))
        router.add_post("/posts.json", self._create_post)
        router.add_post("/posts", self._create_post)
        router.add_put(r"/posts/{post_id:\d+}.json", self._update_post)
        router.add_put(r"/posts/{post_id:\d+}", self._update_post)

    async def _serve(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        arrived = self.monotonic()
        fault = self._take_fault(request.path)
        if fault is not None and fault.kind != "slow":
            self._record(request, arrived, _fault_status(fault.kind), fault.kind)
            return _misbehave(request, fault)
        refused = self._refusal(request)
        if refused is not None:
            self._record(request, arrived, refused.status, None)
            return refused.response()
        try:
            response = await self._answer(request, handler)
        except web.HTTPException as exception:
            # Redirects and 405s are aiohttp's own answers, which must be raised.
            await self._finish(request, arrived, exception.status, fault)
            raise
        await self._finish(request, arrived, response.status, fault)
        return response

    async def _answer(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        try:
            self._authenticate(request)
            response: web.StreamResponse = await handler(request)
        except DiscourseError as error:
            return error.response()
        except web.HTTPNotFound:
            return not_found().response()
        return response

    async def _finish(
        self, request: web.Request, arrived: float, status: int, fault: _Fault | None
    ) -> None:
        if fault is not None:
            # A "slow" request has taken effect already; only its answer is late.
            await asyncio.sleep(fault.delay)
        self._record(request, arrived, status, fault.kind if fault else None)

    def _authenticate(self, request: web.Request) -> None:
        key = request.headers.get("Api-Key")
        username = request.headers.get("Api-Username", "")
        if key != self.api_key or username.lower() != self.api_username.lower():
            raise invalid_access()

    def _refusal(self, request: web.Request) -> DiscourseError | None:
        for path, status, when in self._refusals:
            if request.path.startswith(path) and (when is None or when(request)):
                return not_found() if status == 404 else invalid_access()
        return None

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._scripted:
            if fault.applies_to(path):
                self._scripted.remove(fault)
                return fault
        if self._fault_path is not None and not path.startswith(self._fault_path):
            return None
        if self._fault_rate > 0 and self._random.random() < self._fault_rate:
            kind = self._random.choice(self._fault_kinds)
            return _Fault(kind, self.retry_after, self.slow_delay, self._fault_path)
        return None

    def _record(
        self, request: web.Request, arrived: float, status: int | None, fault: FaultKind | None
    ) -> None:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=tuple(request.query.items()),
                time=arrived,
                status=status,
                fault=fault,
                api_username=request.headers.get("Api-Username"),
            )
        )

    # -- endpoints: topic lists ------------------------------------------------------

    async def _latest(self, request: web.Request) -> web.Response:
        topics = sorted(self.topics.values(), key=lambda t: (not t.pinned_globally, _newest(t)))
        return self._topic_list_response(request, topics, "/latest")

    async def _category_topics(self, request: web.Request) -> web.Response:
        category = self.categories.get(int(request.match_info["category_id"]))
        if category is None:
            raise not_found()
        in_category = [t for t in self.topics.values() if t.category_id == category.id]
        topics = sorted(in_category, key=lambda t: (not t.pinned, _newest(t)))
        return self._topic_list_response(
            request, topics, f"/c/{category.slug}/{category.id}/l/latest"
        )

    def _topic_list_response(
        self, request: web.Request, topics: list[Topic], more_path: str
    ) -> web.Response:
        page = max(_int_param(request.query.get("page")) or 0, 0)
        requested = _int_param(request.query.get("per_page"))
        per_page = min(max(requested or TOPICS_PER_PAGE, 1), MAX_TOPICS_PER_PAGE)
        shown = topics[page * per_page : (page + 1) * per_page]
        topic_list: JsonObject = {
            "can_create_topic": True,
            "draft": None,
            "draft_key": "new_topic",
            "draft_sequence": 0,
            "per_page": per_page,
            "topics": [self._topic_list_item(t) for t in shown],
        }
        if len(topics) > (page + 1) * per_page:
            query = {"page": page + 1} | ({"per_page": per_page} if requested else {})
            topic_list["more_topics_url"] = f"{more_path}?{urlencode(query)}"
        poster_ids = {p["user_id"] for item in topic_list["topics"] for p in item["posters"]}
        users = [self._basic_user(self.users[uid]) for uid in sorted(poster_ids)]
        body = {"users": users, "primary_groups": [], "topic_list": topic_list}
        return web.json_response(body)

    def _topic_list_item(self, topic: Topic) -> JsonObject:
        posts = self._visible_posts(topic)
        last = self._last_regular_post(topic)
        item: JsonObject = {
            **self._topic_summary(topic),
            "bumped": True,
            "bumped_at": iso(topic.bumped_at),
            "unseen": False,
            "pinned": topic.pinned,
            "unpinned": None,
            "visible": topic.visible,
            "closed": topic.closed,
            "archived": topic.archived,
            "bookmarked": None,
            "liked": None,
            "views": topic.views,
            "like_count": 0,
            "has_summary": False,
            "last_poster_username": self.users[last.user_id].username if last else None,
            "category_id": topic.category_id,
            "pinned_globally": topic.pinned_globally,
            "featured_link": None,
            "posters": self._posters(posts),
        }
        if topic.pinned:
            # TopicListItemSerializer sends an excerpt only for pinned topics.
            item["excerpt"] = excerpt(posts[0].cooked) if posts else ""
        return item

    def _topic_summary(self, topic: Topic) -> JsonObject:
        last = self._last_regular_post(topic)
        return {
            "id": topic.id,
            "title": topic.title,
            "fancy_title": html.escape(topic.title, quote=False),
            "slug": topic.slug,
            "posts_count": self._posts_count(topic),
            "reply_count": self._topic_reply_count(topic),
            "highest_post_number": self._highest_post_number(topic),
            "image_url": None,
            "created_at": iso(topic.created_at),
            "last_posted_at": iso(last.created_at) if last else None,
            "archetype": "regular",
        }

    def _posters(self, posts: list[Post]) -> list[JsonObject]:
        """TopicPostersSummary: the original poster, frequent posters, the latest poster."""
        authors = [p.user_id for p in posts if p.post_type == PostType.REGULAR]
        if not authors:
            return []
        original, latest = authors[0], authors[-1]
        frequent = [
            uid for uid, _ in Counter(authors).most_common() if uid not in {original, latest}
        ]
        chosen = (
            [original, *frequent[:3], latest] if latest != original else [original, *frequent[:4]]
        )
        return [self._poster(uid, original, latest, len(set(authors)) == 1) for uid in chosen]

    @staticmethod
    def _poster(user_id: int, original: int, latest: int, single: bool) -> JsonObject:
        roles = []
        if user_id == original:
            roles.append("Original Poster")
        if user_id == latest:
            roles.append("Most Recent Poster")
        extras = None
        if user_id == latest:
            extras = "latest single" if single else "latest"
        return {
            "extras": extras,
            "description": ", ".join(roles) or "Frequent Poster",
            "user_id": user_id,
            "primary_group_id": None,
        }

    # -- endpoints: topics -----------------------------------------------------------

    async def _topic(self, request: web.Request) -> web.Response:
        topic = self._topic_or_404(request)
        posts = self._visible_posts(topic)
        page = _int_param(request.query.get("page")) or 1
        if page < 0:
            raise not_found()
        page = max(page, 1)
        last_page = max((len(posts) - 1) // POSTS_CHUNK_SIZE + 1, 1)
        if page > last_page:
            suffix = f"?page={last_page}" if last_page > 1 else ""
            raise web.HTTPMovedPermanently(f"/t/{topic.slug}/{topic.id}.json{suffix}")
        chunk = posts[(page - 1) * POSTS_CHUNK_SIZE : page * POSTS_CHUNK_SIZE]
        return web.json_response(self._topic_view(topic, posts, chunk))

    async def _topic_posts(self, request: web.Request) -> web.Response:
        topic = self._topic_or_404(request)
        posts = self._visible_posts(topic)
        wanted = _post_ids_param(request)
        if wanted is not None:
            if self.max_post_ids is not None and len(wanted) > self.max_post_ids:
                raise invalid_parameters("post_ids")
            chosen = [p for p in posts if p.id in wanted]
        else:
            chosen = _posts_near(posts, request)
        # Rails' !!params[:include_raw]: any value turns it on, even "false".
        include_raw = "include_raw" in request.query
        body = {
            "post_stream": {
                "posts": [self._topic_view_post(p, include_raw=include_raw) for p in chosen]
            },
            "id": topic.id,
        }
        return web.json_response(body)

    def _topic_or_404(self, request: web.Request) -> Topic:
        topic = self.topics.get(int(request.match_info["topic_id"]))
        if topic is None:
            raise not_found()
        return topic

    def _topic_view(self, topic: Topic, posts: list[Post], chunk: list[Post]) -> JsonObject:
        author = self.users[topic.user_id]
        last = self._last_regular_post(topic)
        return {
            "post_stream": {
                "posts": [self._topic_view_post(p) for p in chunk],
                "stream": [p.id for p in posts],
            },
            "timeline_lookup": self._timeline_lookup(posts),
            "suggested_topics": [],
            "tags": [],
            "tags_descriptions": {},
            **self._topic_summary(topic),
            "views": topic.views,
            "like_count": 0,
            "visible": topic.visible,
            "closed": topic.closed,
            "archived": topic.archived,
            "has_summary": False,
            "category_id": topic.category_id,
            "word_count": sum(len(p.raw.split()) for p in posts),
            "deleted_at": None,
            "user_id": author.id,
            "featured_link": None,
            "pinned_globally": topic.pinned_globally,
            "pinned_at": iso(topic.created_at) if topic.pinned else None,
            "pinned_until": None,
            "slow_mode_seconds": 0,
            "draft": None,
            "draft_key": f"topic_{topic.id}",
            "draft_sequence": 0,
            "unpinned": None,
            "pinned": topic.pinned,
            "deleted_by": None,
            "has_deleted": False,
            "actions_summary": [
                {"id": action, "count": 0, "hidden": False, "can_act": True}
                for action in _TOPIC_ACTION_IDS
            ],
            "chunk_size": POSTS_CHUNK_SIZE,
            "bookmarked": False,
            "bookmarks": [],
            "topic_timer": None,
            "message_bus_last_id": 0,
            "participant_count": len({p.user_id for p in posts}),
            "show_read_indicator": False,
            "thumbnails": None,
            "slow_mode_enabled_until": None,
            "details": self._topic_details(posts, author, last),
        }

    def _topic_details(self, posts: list[Post], author: User, last: Post | None) -> JsonObject:
        counts = Counter(p.user_id for p in posts)
        participants = [
            self._participant(self.users[uid], count)
            for uid, count in counts.most_common(MAX_PARTICIPANTS)
        ]
        last_poster = self.users[last.user_id] if last else author
        # The API user is an admin, so every capability is granted.
        capabilities = dict.fromkeys(
            (
                "can_edit",
                "can_move_posts",
                "can_delete",
                "can_remove_allowed_users",
                "can_create_post",
                "can_reply_as_new_topic",
                "can_convert_topic",
                "can_review_topic",
                "can_close_topic",
                "can_archive_topic",
                "can_split_merge_topic",
                "can_edit_staff_notes",
                "can_toggle_topic_visibility",
                "can_pin_unpin_topic",
                "can_moderate_category",
            ),
            True,
        )
        return {
            **capabilities,
            "notification_level": 1,
            "can_remove_self_id": self.api_user.id,
            "participants": participants,
            "created_by": self._basic_user(author),
            "last_poster": self._basic_user(last_poster),
        }

    def _participant(self, user: User, post_count: int) -> JsonObject:
        return {
            **self._basic_user(user),
            "post_count": post_count,
            "primary_group_name": None,
            "flair_name": None,
            "flair_url": None,
            "flair_color": None,
            "flair_bg_color": None,
            "flair_group_id": None,
            "admin": user.admin,
            "moderator": user.moderator,
            "trust_level": user.trust_level,
        }

    def _timeline_lookup(self, posts: list[Post]) -> list[list[int]]:
        """[position in the stream, days ago] wherever the day changes, as TimelineLookup."""
        now = self.clock()
        lookup: list[list[int]] = []
        for position, post in enumerate(posts, start=1):
            days_ago = max((now - post.created_at).days, 0)
            if not lookup or lookup[-1][1] != days_ago:
                lookup.append([position, days_ago])
        return lookup

    # -- endpoints: posts ------------------------------------------------------------

    async def _latest_posts(self, request: web.Request) -> web.Response:
        before = _int_param(request.query.get("before")) or 0
        newest_first = sorted(self.posts.values(), key=lambda p: p.id, reverse=True)
        chosen = [
            p
            for p in newest_first
            if p.post_type == PostType.REGULAR and (before <= 0 or p.id < before)
        ][:LATEST_POSTS_PAGE_SIZE]
        return web.json_response({"latest_posts": [self._latest_post(p) for p in chosen]})

    async def _get_post(self, request: web.Request) -> web.Response:
        post = self._post_or_404(request)
        return web.json_response(self._single_post(post))

    async def _update_post(self, request: web.Request) -> web.Response:
        post = self._post_or_404(request)
        params = await _read_params(request)
        changes = params.get("post")
        if not isinstance(changes, dict) or not isinstance(changes.get("raw"), str):
            raise invalid_parameters("post")
        raw = changes["raw"]
        self._check_length("Body", raw, self.min_post_length, errors_only=True)
        if raw != post.raw:
            post.raw = raw
            post.cooked = cook(raw)
            post.version += 1
            post.updated_at = self.clock()
            post.edit_reason = _text(changes.get("edit_reason"))
            if not _truthy(params.get("bypass_bump", changes.get("bypass_bump"))):
                self._bump_if_last(post)
        body = {"post": {**self._single_post(post), "draft_sequence": 0}}
        return web.json_response(body)

    async def _create_post(self, request: web.Request) -> web.Response:
        params = await _read_params(request)
        signature = json.dumps(params, sort_keys=True, default=str)
        memo_key = (self.api_username.lower(), signature)
        now = self.monotonic()
        remembered = self._create_memo.get(memo_key)
        if remembered is not None and now - remembered[0] < CREATE_MEMO_SECONDS:
            return web.json_response(remembered[1])
        post = self._create_from_params(params)
        body = {**self._single_post(post, add_raw=False), "draft_sequence": 0}
        self._create_memo[memo_key] = (now, body)
        return web.json_response(body)

    def _create_from_params(self, params: Mapping[str, Any]) -> Post:
        raw = _text(params.get("raw")) or ""
        created_at = _time_param(params.get("created_at")) or self.clock()
        topic_id = _int_param(params.get("topic_id"))
        if topic_id is not None:
            topic = self.topics.get(topic_id)
            if topic is None:
                raise _create_failed(
                    "Something has gone wrong. Perhaps this topic was closed or deleted "
                    "while you were looking at it."
                )
            self._check_length("Body", raw, self.min_post_length)
            reply_to = _int_param(params.get("reply_to_post_number"))
            return self.add_post(topic.id, self.api_username, raw, reply_to, created_at=created_at)
        title = _text(params.get("title")) or ""
        self._check_length("Title", title, self.min_title_length)
        self._check_length("Body", raw, self.min_post_length)
        category_id = _int_param(params.get("category")) or UNCATEGORIZED_ID
        if category_id not in self.categories:
            raise _create_failed("Category can't be blank")
        topic_id = self.add_topic(
            category_id, title, [(self.api_username, raw)], created_at=created_at
        )
        return self.posts_of(topic_id)[0]

    def _check_length(
        self, what: str, text: str, minimum: int, *, errors_only: bool = False
    ) -> None:
        stripped = text.strip()
        if len(stripped) >= minimum:
            return
        message = (
            f"{what} can't be blank"
            if not stripped
            else f"{what} is too short (minimum is {minimum} characters)"
        )
        if errors_only:
            raise DiscourseError(422, {"errors": [message]})
        raise _create_failed(message)

    def _post_or_404(self, request: web.Request) -> Post:
        post = self.posts.get(int(request.match_info["post_id"]))
        if post is None:
            raise not_found()
        return post

    def _bump_if_last(self, post: Post) -> None:
        """PostRevisor bumps the topic when its last post is edited."""
        topic = self.topic(post.topic_id)
        if post.post_number == self._highest_post_number(topic):
            topic.bumped_at = self.clock()

    # -- post serializers ------------------------------------------------------------

    def _post_core(self, post: Post) -> JsonObject:
        """The PostSerializer attributes every endpoint sends."""
        user = self.users[post.user_id]
        topic = self.topic(post.topic_id)
        yours = user.id == self.api_user.id
        core: JsonObject = {
            "id": post.id,
            "name": user.name,
            "username": user.username,
            "avatar_template": user.avatar_template,
            "created_at": iso(post.created_at),
            "cooked": post.cooked,
            "post_number": post.post_number,
            "post_type": int(post.post_type),
            "updated_at": iso(post.updated_at),
            "reply_count": post.reply_count,
            "reply_to_post_number": post.reply_to_post_number,
            "quote_count": post.raw.count("[quote"),
            "incoming_link_count": 0,
            "reads": 1,
            "readers_count": 0,
            "score": 0,
            "yours": yours,
            "topic_id": topic.id,
            "topic_slug": topic.slug,
            "display_username": user.name,
            "primary_group_name": None,
            "flair_name": None,
            "flair_url": None,
            "flair_bg_color": None,
            "flair_color": None,
            "version": post.version,
            "can_edit": True,
            # The first post is deleted by deleting its topic, never on its own.
            "can_delete": post.post_number != 1,
            "can_recover": False,
            "can_see_hidden_post": True,
            "can_wiki": True,
            "user_title": None,
            "bookmarked": False,
            "actions_summary": []
            if yours
            else [{"id": a, "can_act": True} for a in _POST_ACTION_IDS],
            "moderator": user.moderator,
            "admin": user.admin,
            "staff": user.admin or user.moderator,
            "user_id": user.id,
            "hidden": False,
            "trust_level": user.trust_level,
            "deleted_at": None,
            "user_deleted": False,
            "edit_reason": post.edit_reason,
            "can_view_edit_history": True,
            "wiki": False,
        }
        if post.action_code is not None:
            core["action_code"] = post.action_code
        reply_to = self._reply_to_user(post)
        if reply_to is not None:
            core["reply_to_user"] = reply_to
        return core

    def _topic_view_post(self, post: Post, *, include_raw: bool = False) -> JsonObject:
        """A post inside /t/{id}.json or /t/{id}/posts.json (PostSerializer with a TopicView)."""
        body = {
            **self._post_core(post),
            "read": True,
            # With a TopicView, posts without a reviewable get 0 rather than null.
            "reviewable_id": 0,
            "reviewable_score_count": 0,
            "reviewable_score_pending_count": 0,
        }
        if include_raw:
            body["raw"] = post.raw
        return body

    def _single_post(self, post: Post, *, add_raw: bool = True) -> JsonObject:
        """A post outside a topic view: GET/PUT /posts/{id}.json and POST /posts.json."""
        topic = self.topic(post.topic_id)
        body = {
            **self._post_core(post),
            "posts_count": self._posts_count(topic),
            "flair_group_id": None,
            "reviewable_id": None,
            "reviewable_score_count": 0,
            "reviewable_score_pending_count": 0,
            "post_url": f"/t/{topic.slug}/{topic.id}/{post.post_number}",
        }
        if add_raw:
            body["raw"] = post.raw
        return body

    def _latest_post(self, post: Post) -> JsonObject:
        """A post in /posts.json: add_raw, add_title and add_excerpt are all on."""
        topic = self.topic(post.topic_id)
        text = excerpt(post.cooked)
        return {
            **self._single_post(post),
            "topic_title": topic.title,
            "topic_html_title": html.escape(topic.title, quote=False),
            "category_id": topic.category_id,
            "badges_granted": [],
            "excerpt": text,
            "truncated": text.endswith("&hellip;"),
        }

    def _reply_to_user(self, post: Post) -> JsonObject | None:
        if post.reply_to_post_number is None:
            return None
        target = self.post_by_number(post.topic_id, post.reply_to_post_number)
        if target is None:
            return None
        user = self.users[target.user_id]
        return {
            "username": user.username,
            "name": user.name,
            "avatar_template": user.avatar_template,
        }

    @staticmethod
    def _basic_user(user: User) -> JsonObject:
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "avatar_template": user.avatar_template,
        }

    # -- forum arithmetic ------------------------------------------------------------

    def _visible_posts(self, topic: Topic) -> list[Post]:
        # The API user is staff, so whispers and small actions are all visible.
        return self.posts_of(topic.id)

    def _posts_count(self, topic: Topic) -> int:
        return sum(1 for p in self.posts_of(topic.id) if p.post_type != PostType.WHISPER)

    def _topic_reply_count(self, topic: Topic) -> int:
        return sum(1 for p in self.posts_of(topic.id) if p.reply_to_post_number is not None)

    def _highest_post_number(self, topic: Topic) -> int:
        return max((p.post_number for p in self.posts_of(topic.id)), default=0)

    def _last_regular_post(self, topic: Topic) -> Post | None:
        regular = [p for p in self.posts_of(topic.id) if p.post_type == PostType.REGULAR]
        return regular[-1] if regular else None

    def _default_post_time(self, topic: Topic) -> datetime:
        # Never before the topic's last post, even if a test's clock lags seeded history.
        times = [p.created_at for p in self.posts_of(topic.id)]
        return max([self.clock(), *times])

    def _next_post_number(self, topic: Topic) -> int:
        return self._highest_post_number(topic) + 1

    def _existing_post_number(self, topic: Topic, post_number: int | None) -> int | None:
        if post_number is None or self.post_by_number(topic.id, post_number) is None:
            return None
        return post_number

    def _count_reply(self, topic: Topic, post: Post) -> None:
        if post.reply_to_post_number is None:
            return
        target = self.post_by_number(topic.id, post.reply_to_post_number)
        if target is not None:
            target.reply_count += 1

    def _claim_id(self, counter: str, taken: Mapping[int, object], wanted: int | None) -> int:
        """Use ``wanted`` if free (recorded data keeps its ids), else the next free id."""
        if wanted is None:
            wanted = getattr(self, counter)
            while wanted in taken:
                wanted += 1
        elif wanted in taken:
            raise ValueError(f"id {wanted} already exists")
        setattr(self, counter, max(getattr(self, counter), wanted + 1))
        return wanted

    def _user_named(self, username: str) -> User:
        return self.find_user(username) or self.add_user(username)

    def _ensure_category(self, category_id: int) -> None:
        if category_id not in self.categories:
            self.add_category(
                f"category-{category_id}", f"Category {category_id}", category_id=category_id
            )

    def _ensure_recorded_user(self, recorded: Mapping[str, Any]) -> User:
        existing = self.find_user(str(recorded["username"]))
        if existing is not None:
            return existing
        user_id = recorded.get("user_id")
        return self.add_user(
            str(recorded["username"]),
            name=str(recorded.get("name") or ""),
            admin=bool(recorded.get("admin")),
            moderator=bool(recorded.get("moderator")),
            trust_level=int(recorded.get("trust_level") or 0),
            user_id=int(user_id)
            if user_id is not None and int(user_id) not in self.users
            else None,
            avatar_template=recorded.get("avatar_template"),
        )

    def _load_recorded_post(self, topic_id: int, recorded: Mapping[str, Any]) -> Post:
        user = self._ensure_recorded_user(recorded)
        cooked = str(recorded.get("cooked") or "")
        # Topic views carry no raw: approximate it from the cooked HTML.
        raw = recorded.get("raw")
        post = self.add_post(
            topic_id,
            user.username,
            str(raw) if raw is not None else html_to_text(cooked),
            created_at=parse_time(recorded["created_at"]),
            post_type=PostType(int(recorded.get("post_type") or PostType.REGULAR)),
            action_code=recorded.get("action_code"),
            cooked=cooked,
            post_id=int(recorded["id"]),
            post_number=int(recorded["post_number"]),
        )
        # Recorded replies may point at posts outside the recorded chunk; keep them as sent.
        post.reply_to_post_number = recorded.get("reply_to_post_number")
        post.reply_count = int(recorded.get("reply_count") or 0)
        post.updated_at = parse_time(recorded.get("updated_at") or recorded["created_at"])
        post.version = int(recorded.get("version") or 1)
        post.edit_reason = recorded.get("edit_reason")
        return post


# -- faults --------------------------------------------------------------------------


def _fault_status(kind: FaultKind) -> int | None:
    return {"429-header": 429, "429-json": 429, "500": 500}.get(kind)


def _misbehave(request: web.Request, fault: _Fault) -> web.StreamResponse:
    wait = fault.retry_after
    if fault.kind == "429-header":
        text = (
            "Slow down, too many requests from this IP address.\n"
            f"Please retry again in {wait} seconds.\n"
            "Error id: ip_10_secs_limit."
        )
        headers = {"Retry-After": str(wait), "Discourse-Rate-Limit-Error-Id": "ip_10_secs_limit"}
        return web.Response(status=429, text=text, headers=headers)
    if fault.kind == "429-json":
        message = (
            "You’ve performed this action too many times. "
            f"Please wait {wait} seconds before trying again."
        )
        body = {
            "errors": [message],
            "error_type": "rate_limit",
            "extras": {"wait_seconds": wait, "time_left": f"{wait} seconds"},
        }
        return web.json_response(body, status=429)
    if fault.kind == "500":
        page = "<html><body><h1>We're sorry, but something went wrong.</h1></body></html>"
        return web.Response(status=500, text=page, content_type="text/html")
    reset_connection(request)
    # Never delivered: the transport is gone and aiohttp drops the write.
    return web.Response(status=500)


# -- request parameters --------------------------------------------------------------


def _wants_json(handler: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
    """A route without ``.json``: JSON to a client that accepts it, else Discourse's app page."""

    async def answer(request: web.Request) -> web.StreamResponse:
        if "application/json" in request.headers.get("Accept", ""):
            response: web.StreamResponse = await handler(request)
            return response
        page = "<!DOCTYPE html><html><head><title>Discourse</title></head><body></body></html>"
        return web.Response(text=page, content_type="text/html")

    return answer


_BRACKETED: Final = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<key>[^\[\]]*)\]$")


async def _read_params(request: web.Request) -> JsonObject:
    """Query and body parameters the way Rails reads them: JSON, or forms with a[b] and a[]."""
    params: JsonObject = _nest(request.query.items())
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise invalid_parameters("body") from None
        if not isinstance(body, dict):
            raise invalid_parameters("body")
        params.update(body)
    elif request.content_type in _FORM_TYPES:
        form = await request.post()
        params.update(_nest((k, v) for k, v in form.items() if isinstance(v, str)))
    return params


def _nest(pairs: Iterable[tuple[str, str]]) -> JsonObject:
    nested: JsonObject = {}
    for name, value in pairs:
        match = _BRACKETED.match(name)
        if match is None:
            nested[name] = value
        elif match["key"] == "":
            nested.setdefault(match["name"], []).append(value)
        else:
            nested.setdefault(match["name"], {})[match["key"]] = value
    return nested


def _post_ids_param(request: web.Request) -> set[int] | None:
    values = request.query.getall("post_ids[]", []) + request.query.getall("post_ids", [])
    if not values:
        return None
    return {number for value in values if (number := _int_param(value)) is not None}


def _posts_near(posts: list[Post], request: web.Request) -> list[Post]:
    """TopicView#filter_posts_by_post_number: a chunk after (asc) or before post N."""
    post_number = _int_param(request.query.get("post_number"))
    if post_number is None:
        return posts[:POSTS_CHUNK_SIZE]
    if _truthy(request.query.get("asc")):
        return [p for p in posts if p.post_number > post_number][:POSTS_CHUNK_SIZE]
    before = [p for p in posts if p.post_number < post_number]
    return before[-POSTS_CHUNK_SIZE:]


def _int_param(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"true", "1"})


def _time_param(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


# -- formatting ----------------------------------------------------------------------


def iso(moment: datetime) -> str:
    """Discourse's timestamp format: UTC, milliseconds, a Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    # Discourse falls back to "topic" when a title has nothing sluggable (e.g. all CJK).
    return slug or "topic"


def _newest(topic: Topic) -> float:
    return -topic.bumped_at.timestamp()


def _letter_avatar(username: str) -> str:
    colour = hashlib.sha1(username.lower().encode(), usedforsecurity=False).hexdigest()[:6]
    return f"/letter_avatar_proxy/v4/letter/{username[:1].lower()}/{colour}/{{size}}.png"


def _filler_posts(title: str, count: int) -> list[tuple[str, str]]:
    authors = ("alice", "bob", "carol")
    return [
        (authors[i % len(authors)], f"Post {i + 1} of the topic {title!r}, seeded for a test.")
        for i in range(count)
    ]


# -- cooking: a small, Discourse-shaped subset of its Markdown ------------------------

_FENCE: Final = re.compile(r"^```\s*([\w+-]*)\s*$")
_QUOTE_OPEN: Final = re.compile(r'^\[quote(?:="(?P<attrs>[^"]*)")?\]\s*$')
_MENTION: Final = re.compile(r"(?<![\w@/])@([\w][\w.-]*[\w]|[\w])")
_URL: Final = re.compile(r"https?://[^\s<]+[^\s<.,;:!?)\]'\"]")
_TAG: Final = re.compile(r"<[^>]+>")


def cook(raw: str) -> str:
    """Render raw Markdown as Discourse would for the constructs Quorum cares about.

    Paragraphs with <br> line breaks, ``[quote="user, post:N, topic:M"]`` asides,
    ``>`` blockquotes, fenced code, inline code, @mentions and bare links.
    """
    return "\n".join(_cook_blocks(raw.replace("\r\n", "\n").split("\n")))


def _cook_blocks(lines: list[str]) -> list[str]:
    blocks: list[str] = []
    paragraph: list[str] = []
    index = 0

    def flush() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>\n".join(_cook_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        quote = _QUOTE_OPEN.match(line.strip())
        if fence:
            flush()
            end = _find(lines, index + 1, lambda text: text.strip() == "```")
            code = html.escape("\n".join(lines[index + 1 : end]), quote=False)
            blocks.append(f'<pre><code class="lang-{fence[1] or "auto"}">{code}\n</code></pre>')
            index = end + 1
        elif quote:
            flush()
            end = _find(lines, index + 1, lambda text: text.strip() == "[/quote]")
            blocks.append(_cook_quote(quote["attrs"] or "", lines[index + 1 : end]))
            index = end + 1
        elif line.startswith(">"):
            flush()
            end = _find(lines, index, lambda text: not text.startswith(">"))
            inner = [text[1:].removeprefix(" ") for text in lines[index:end]]
            blocks.append("<blockquote>\n" + "\n".join(_cook_blocks(inner)) + "\n</blockquote>")
            index = end
        elif not line.strip():
            flush()
            index += 1
        else:
            paragraph.append(line)
            index += 1
    flush()
    return blocks


def _find(lines: list[str], start: int, predicate: Callable[[str], bool]) -> int:
    """The index of the first line from ``start`` that matches, or the end (unclosed)."""
    return next((i for i in range(start, len(lines)) if predicate(lines[i])), len(lines))


def _cook_quote(attrs: str, lines: list[str]) -> str:
    parts = [part.strip() for part in attrs.split(",")] if attrs else []
    username = parts[0] if parts else ""
    fields = dict(part.split(":", 1) for part in parts[1:] if ":" in part)
    data = f' data-username="{html.escape(username)}"' if username else ""
    data += "".join(
        f' data-{key}="{html.escape(fields[key])}"' for key in ("post", "topic") if key in fields
    )
    if fields.get("full") == "true":
        data += ' data-full="true"'
    title = ""
    if username:
        controls = '<div class="quote-controls"></div>'
        title = f'<div class="title">\n{controls}\n {html.escape(username)}:</div>\n'
    inner = "\n".join(_cook_blocks(lines))
    aside = f'<aside class="quote no-group"{data}>\n{title}'
    return f"{aside}<blockquote>\n{inner}\n</blockquote>\n</aside>"


def _cook_inline(text: str) -> str:
    pieces = text.split("`")
    cooked = []
    for index, piece in enumerate(pieces):
        # Odd pieces sat between backticks; an unmatched last backtick stays literal.
        if index % 2 == 1 and index < len(pieces) - 1:
            cooked.append(f"<code>{html.escape(piece, quote=False)}</code>")
        else:
            prefix = "`" if index % 2 == 1 else ""
            cooked.append(prefix + _linkify(html.escape(piece, quote=False)))
    return "".join(cooked)


def _linkify(text: str) -> str:
    linked = _URL.sub(lambda m: f'<a href="{m[0]}" rel="noopener nofollow ugc">{m[0]}</a>', text)
    parts = re.split(r"(<a [^>]*>.*?</a>)", linked)
    return "".join(
        part if part.startswith("<a ") else _MENTION.sub(_mention_link, part) for part in parts
    )


def _mention_link(match: re.Match[str]) -> str:
    return f'<a class="mention" href="/u/{match[1].lower()}">@{match[1]}</a>'


def html_to_text(cooked: str) -> str:
    """Plain text of cooked HTML: paragraphs and line breaks kept, tags dropped."""
    text = re.sub(r"<br\s*/?>\n?", "\n", cooked)
    text = re.sub(r"</p>\s*", "\n\n", text)
    return html.unescape(_TAG.sub("", text)).strip()


def excerpt(cooked: str, length: int = EXCERPT_LENGTH) -> str:
    """Post#excerpt: text only, whitespace collapsed, cut with an ellipsis entity."""
    text = " ".join(html.unescape(_TAG.sub(" ", cooked)).split())
    if len(text) <= length:
        return html.escape(text, quote=False)
    return html.escape(text[:length].rstrip(), quote=False) + "&hellip;"
