"""A loopback fake of the Slack Web API that the real ``slack_sdk`` clients can talk to.

Point ``AsyncWebClient(token=..., base_url=await fake.start())`` at it and assert on
``fake.messages`` (what would be in the channel) and ``fake.requests`` (what crossed the
wire, including the failed attempts). It speaks the documented protocol rather than
whatever our adapter happens to send, so a test passing here means something:

- Methods are ``/api/<method>``; arguments come from the query string, a form-encoded
  body or a JSON body (slack_sdk sends chat.* as JSON, *.info as GET query parameters).
- The token is read from ``Authorization: Bearer`` or a form-encoded ``token`` field.
  A ``token`` in a JSON body or a query string is ignored: Slack requires JSON callers to
  use the header, and apps created since 2021 may not put tokens in query strings.
- Every answer is HTTP 200 with a JSON object whose ``ok`` says whether it worked;
  failures carry a Slack error code (``not_authed``, ``invalid_auth``, ``no_text`` ...).
- Misbehaviour on request: ``fail_next(n, kind)`` or a seeded random ``fault_rate``.
  ``"429"`` answers HTTP 429 with ``Retry-After`` and ``{"ok": false, "error":
  "ratelimited"}``; ``"500"`` answers HTTP 500 with ``internal_error``; ``"reset"``
  drops the TCP connection with an RST and no response; ``"slow"`` waits, then handles
  the call normally. A 429/500/reset call changes nothing, whereas a slow call still
  takes effect even if the client gave up waiting, as a real post can: that is the case
  an exactly-once outbox must survive.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal, get_args

from aiohttp import web

from tests.fakes.server import LoopbackHTTP, reset_connection

FaultKind = Literal["429", "500", "slow", "reset"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)

JsonObject = dict[str, Any]

# Anything else is answered 200 {"ok": false, "error": "invalid_post_type"}, as Slack does.
_FORM_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


@dataclass
class RecordedMessage:
    """A message as it now stands in its channel; chat.update edits it in place."""

    channel: str
    text: str | None
    blocks: list[JsonObject] | None
    thread_ts: str | None
    ts: str
    edits: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the fake received, including the ones it failed on purpose."""

    method: str  # Web API method, e.g. "chat.postMessage"
    time: float  # time.monotonic() on arrival, so gaps between retries can be measured
    status: int | None  # HTTP status sent; None when the connection was dropped instead
    error: str | None = None  # Slack error code when the answer was not ok
    fault: FaultKind | None = None  # the injected misbehaviour, if any


@dataclass(frozen=True)
class _Fault:
    kind: FaultKind
    retry_after: int
    delay: float


class _ApiFailure(Exception):
    """Raised inside a method handler; becomes ``{"ok": false, "error": code}``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


MethodHandler = Callable[[JsonObject], JsonObject]


class FakeSlack(LoopbackHTTP):
    """The Slack Web API on 127.0.0.1, on an ephemeral port, for one test."""

    # slack_sdk wants its base URL ending in "/".
    API_PATH: ClassVar[str] = "/api/"

    TEAM_ID: Final = "T0QUORUM0"
    TEAM: Final = "Quorum Test"
    BOT_USER_ID: Final = "U0QUORUMBOT"
    BOT_USER: Final = "quorum"
    BOT_ID: Final = "B0QUORUMBOT"

    def __init__(
        self,
        tokens: Iterable[str] = ("xoxb-quorum-test",),
        *,
        channels: Mapping[str, str] | None = None,
        users: Mapping[str, str] | None = None,
        slow_delay: float = 0.5,
        retry_after: int = 1,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        fault_kinds: Sequence[FaultKind] = ("429", "500", "reset"),
    ) -> None:
        """``channels``/``users`` map IDs to names; when given, other IDs are not found."""
        super().__init__()
        self._tokens = frozenset(tokens)
        self._channels = dict(channels) if channels is not None else None
        self._users = dict(users) if users is not None else None
        self.slow_delay = slow_delay
        self.retry_after = retry_after
        self.messages: list[RecordedMessage] = []
        self.requests: list[RecordedRequest] = []
        self._scripted: deque[_Fault] = deque()
        self.set_fault_rate(fault_rate, seed=fault_seed, kinds=fault_kinds)
        self._ts_sequence = 0
        self._methods: dict[str, MethodHandler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
        }

    # -- lifecycle -------------------------------------------------------------------

    def _application(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        return app

    # -- misbehaviour ----------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        kind: FaultKind = "429",
        *,
        retry_after: int | None = None,
        delay: float | None = None,
    ) -> None:
        """Misbehave on the next ``n`` requests (after any already scheduled)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        fault = _Fault(
            kind=kind,
            retry_after=self.retry_after if retry_after is None else retry_after,
            delay=self.slow_delay if delay is None else delay,
        )
        self._scripted.extend([fault] * n)

    def set_fault_rate(
        self,
        rate: float,
        *,
        seed: int = 0,
        kinds: Sequence[FaultKind] = ("429", "500", "reset"),
    ) -> None:
        """Misbehave on a seeded-random fraction of requests (scripted faults go first)."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within [0, 1], got {rate}")
        if rate > 0 and not kinds:
            raise ValueError("a fault rate needs at least one fault kind")
        self._fault_rate = rate
        self._fault_kinds = tuple(kinds)
        # A private generator: the sequence depends only on the seed and request order.
        self._random = random.Random(seed)

    # -- queries for tests -----------------------------------------------------------

    def requests_for(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method]

    def message(self, channel: str, ts: str) -> RecordedMessage | None:
        for recorded in self.messages:
            if recorded.channel == channel and recorded.ts == ts:
                return recorded
        return None

    # -- HTTP ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        async with self._busy():
            return await self._serve(request)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        arrived = time.monotonic()
        fault = self._take_fault()
        if fault is not None and fault.kind != "slow":
            return self._misbehave(request, method, arrived, fault)
        delay = fault.delay if fault is not None else 0.0
        payload = await self._call(request, method, delay)
        error = None if payload["ok"] else str(payload["error"])
        kind = fault.kind if fault is not None else None
        self.requests.append(RecordedRequest(method, arrived, 200, error, kind))
        return web.json_response(payload)

    def _take_fault(self) -> _Fault | None:
        if self._scripted:
            return self._scripted.popleft()
        if self._fault_rate > 0 and self._random.random() < self._fault_rate:
            kind = self._random.choice(self._fault_kinds)
            return _Fault(kind=kind, retry_after=self.retry_after, delay=self.slow_delay)
        return None

    def _misbehave(
        self, request: web.Request, method: str, arrived: float, fault: _Fault
    ) -> web.StreamResponse:
        if fault.kind == "429":
            self.requests.append(RecordedRequest(method, arrived, 429, "ratelimited", "429"))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "500":
            self.requests.append(RecordedRequest(method, arrived, 500, "internal_error", "500"))
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        self.requests.append(RecordedRequest(method, arrived, None, None, "reset"))
        reset_connection(request)
        # Never delivered: the transport is gone, aiohttp drops the write.
        return web.Response(status=500)

    async def _call(self, request: web.Request, method: str, delay: float) -> JsonObject:
        handler = self._methods.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        try:
            args, form_token = await _read_arguments(request)
            self._authenticate(request, form_token)
            # Delay only once the whole call is read: "slow" is Slack taking its time over
            # a call it has received, which takes effect even if the client stops waiting.
            if delay > 0:
                await asyncio.sleep(delay)
            return handler(args)
        except _ApiFailure as failure:
            return {"ok": False, "error": failure.code}

    def _authenticate(self, request: web.Request, form_token: str | None) -> None:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        token = credential.strip() if scheme.lower() == "bearer" else form_token
        if not token:
            raise _ApiFailure("not_authed")
        if token not in self._tokens:
            raise _ApiFailure("invalid_auth")

    # -- Web API methods -------------------------------------------------------------

    def _auth_test(self, args: JsonObject) -> JsonObject:
        return {
            "ok": True,
            "url": "https://quorum-test.slack.com/",
            "team": self.TEAM,
            "user": self.BOT_USER,
            "team_id": self.TEAM_ID,
            "user_id": self.BOT_USER_ID,
            "bot_id": self.BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: JsonObject) -> JsonObject:
        channel = self._resolve_channel(args.get("channel"))
        text = _text_argument(args.get("text"))
        blocks = _blocks_argument(args.get("blocks"))
        if text is None and not blocks:
            raise _ApiFailure("no_text")
        thread_ts = _text_argument(args.get("thread_ts"))
        recorded = RecordedMessage(channel, text, blocks, thread_ts, self._next_ts())
        self.messages.append(recorded)
        return {
            "ok": True,
            "channel": channel,
            "ts": recorded.ts,
            "message": self._message_json(recorded),
        }

    def _chat_update(self, args: JsonObject) -> JsonObject:
        channel = self._resolve_channel(args.get("channel"))
        ts = _text_argument(args.get("ts"))
        recorded = self.message(channel, ts) if ts is not None else None
        if recorded is None:
            raise _ApiFailure("message_not_found")
        text = _text_argument(args.get("text"))
        blocks = _blocks_argument(args.get("blocks"))
        if text is None and not blocks:
            raise _ApiFailure("no_text")
        recorded.text = text
        recorded.blocks = blocks
        recorded.edits += 1
        return {
            "ok": True,
            "channel": channel,
            "ts": recorded.ts,
            "text": recorded.text or "",
            "message": self._message_json(recorded),
        }

    def _conversations_info(self, args: JsonObject) -> JsonObject:
        channel = self._resolve_channel(args.get("channel"))
        name = self._channels[channel] if self._channels is not None else channel.lower()
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": name,
                "is_channel": True,
                "is_private": False,
                "is_archived": False,
                "is_member": True,
            },
        }

    def _users_info(self, args: JsonObject) -> JsonObject:
        user = _text_argument(args.get("user"))
        known = {self.BOT_USER_ID: self.BOT_USER, **(self._users or {})}
        if user is None or (self._users is not None and user not in known):
            raise _ApiFailure("user_not_found")
        name = known.get(user, user.lower())
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": self.TEAM_ID,
                "name": name,
                "deleted": False,
                "is_bot": user == self.BOT_USER_ID,
                "profile": {"real_name": name, "display_name": name},
            },
        }

    # -- helpers ---------------------------------------------------------------------

    def _resolve_channel(self, value: object) -> str:
        """Return the channel ID; Slack accepts an ID or a name and answers with the ID."""
        channel = _text_argument(value)
        if channel is None:
            raise _ApiFailure("channel_not_found")
        if self._channels is None or channel in self._channels:
            return channel
        name = channel.removeprefix("#")
        for channel_id, channel_name in self._channels.items():
            if channel_name == name:
                return channel_id
        raise _ApiFailure("channel_not_found")

    def _next_ts(self) -> str:
        # Slack's ts is "<unix seconds>.<6 digits>" and unique per channel; a global
        # counter keeps ours unique and increasing even within one second.
        self._ts_sequence += 1
        return f"{int(time.time())}.{self._ts_sequence:06d}"

    def _message_json(self, recorded: RecordedMessage) -> JsonObject:
        message: JsonObject = {
            "type": "message",
            "subtype": "bot_message",
            "text": recorded.text or "",
            "ts": recorded.ts,
            "user": self.BOT_USER_ID,
            "bot_id": self.BOT_ID,
            "team": self.TEAM_ID,
        }
        if recorded.blocks:
            message["blocks"] = recorded.blocks
        if recorded.thread_ts is not None:
            message["thread_ts"] = recorded.thread_ts
        return message


async def _read_arguments(request: web.Request) -> tuple[JsonObject, str | None]:
    """Merge query and body arguments; also return a form-encoded token if any."""
    args: JsonObject = {k: v for k, v in request.query.items() if k != "token"}
    form_token: str | None = None
    if not request.body_exists:
        return args, form_token
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _ApiFailure("invalid_json") from None
        if not isinstance(body, dict):
            raise _ApiFailure("invalid_json")
        args.update({k: v for k, v in body.items() if k != "token"})
    elif request.content_type in _FORM_TYPES:
        form = await request.post()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        form_token = fields.pop("token", None)
        args.update(fields)
    else:
        raise _ApiFailure("invalid_post_type")
    return args, form_token


def _text_argument(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    return None


def _blocks_argument(value: object) -> list[JsonObject] | None:
    """Blocks arrive as a list (JSON body) or as a JSON-encoded string (form body)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _ApiFailure("invalid_blocks_format") from None
    if not isinstance(value, list):
        raise _ApiFailure("invalid_blocks_format")
    if not all(isinstance(block, dict) and isinstance(block.get("type"), str) for block in value):
        raise _ApiFailure("invalid_blocks")
    return value
