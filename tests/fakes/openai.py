"""A loopback fake of an OpenAI-compatible API: chat completions and the model list.

Point a client at ``await fake.start()`` (the base URL, ending in ``/v1``) and assert on
``fake.requests`` (what crossed the wire, failed attempts included). It follows
OpenAI's documented protocol rather than whatever our adapter sends:

- ``POST /v1/chat/completions`` takes ``{"model", "messages": [{"role", "content"}],
  "temperature"?, "max_tokens"?}`` as JSON and answers ``{"id": "chatcmpl-...", "object":
  "chat.completion", "created", "model", "system_fingerprint", "choices": [{"index",
  "message": {"role": "assistant", "content", "refusal"}, "logprobs", "finish_reason"}],
  "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}``. The answer's text
  comes from ``responder`` (default: the last user message behind ``ECHO_PREFIX``), or
  from the answers scripted with ``answer_next(...)``, one per request, in order; an
  answer longer than ``max_tokens`` (one token per word here) is cut there and finishes
  with ``"length"``, as a real one does. ``response_format`` is checked as OpenAI checks
  it: ``{"type": "json_object"}`` needs the word "JSON" in the messages.
- ``GET /v1/models`` answers ``{"object": "list", "data": [{"id", "object": "model",
  "created", "owned_by"}]}``.
- Errors are OpenAI's ``{"error": {"message", "type", "param", "code"}}``: 401 for a
  missing or unknown ``Authorization: Bearer`` key (the message repeats a short key in
  full, as OpenAI's does), 400 for a malformed request, 404 for an unknown model or path.
  ``api_keys=None`` is an endpoint without authentication, like a local Ollama.
- Misbehaviour on request with ``fail_next(n, kind)``: ``"429"`` (with ``Retry-After``),
  ``"500"``, ``"reset"`` (TCP RST, no response), ``"slow"`` (waits, then answers) and
  ``"bad-json"`` (200 with a body that is not JSON).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal, get_args

from aiohttp import web

from tests.fakes.server import LoopbackHTTP, reset_connection

FaultKind = Literal["429", "500", "slow", "reset", "bad-json"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)

JsonObject = dict[str, Any]

DEFAULT_MODEL: Final = "quorum-test-model"
DEFAULT_KEY: Final = "sk-quorum-test-0123456789abcdef"
ECHO_PREFIX: Final = "Rewritten: "
_ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool"})
_KEYS_PAGE: Final = "https://platform.openai.com/account/api-keys"


@dataclass(frozen=True)
class ChatRequest:
    """A valid chat completions request, as the responder sees it."""

    model: str
    messages: list[JsonObject]
    temperature: float | None
    max_tokens: int | None
    body: JsonObject

    @property
    def user_content(self) -> str:
        """The last user message (our adapter sends exactly one)."""
        users = [m for m in self.messages if m.get("role") == "user"]
        content = users[-1].get("content") if users else ""
        return content if isinstance(content, str) else ""


Responder = Callable[[ChatRequest], str]


def echo(request: ChatRequest) -> str:
    return ECHO_PREFIX + request.user_content


@dataclass
class RecordedRequest:
    """One HTTP request, logged on arrival; ``status`` is set once it is answered."""

    method: str
    path: str
    time: float  # time.monotonic() on arrival, so gaps between retries can be measured
    authorization: str | None  # the Authorization header as sent
    body: JsonObject | None  # the JSON body, if it was a JSON object
    fault: FaultKind | None = None
    status: int | None = None  # None: still in progress, or the connection was dropped


@dataclass(frozen=True)
class _Fault:
    kind: FaultKind
    retry_after: int
    delay: float


class _ApiError(Exception):
    """Becomes an OpenAI error response."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.code = code
        self.param = param

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        error = {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}
        return web.json_response({"error": error}, status=self.status, headers=headers)


class FakeOpenAI(LoopbackHTTP):
    """An OpenAI-compatible API on 127.0.0.1, on an ephemeral port, for one test."""

    API_PATH: ClassVar[str] = "/v1"

    def __init__(
        self,
        api_keys: Iterable[str] | None = (DEFAULT_KEY,),
        *,
        models: Iterable[str] = (DEFAULT_MODEL,),
        responder: Responder = echo,
        slow_delay: float = 0.5,
        retry_after: int = 1,
    ) -> None:
        super().__init__()
        self._keys = frozenset(api_keys) if api_keys is not None else None
        self.models = tuple(models)
        self.responder = responder
        self.slow_delay = slow_delay
        self.retry_after = retry_after
        self.requests: list[RecordedRequest] = []
        self._scripted: deque[_Fault] = deque()
        self._answers: deque[str | Responder] = deque()
        self._completions = 0

    # -- lifecycle -------------------------------------------------------------------

    def _application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_get("/v1/models", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._handle)
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

    def answer_next(self, *answers: str | Responder) -> None:
        """Answer the next completions with these, one each, in order (after any already
        scripted); then ``responder`` again. A request that meets a fault uses none."""
        self._answers.extend(answers)

    # -- queries for tests -----------------------------------------------------------

    @property
    def completions(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    # -- HTTP ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        async with self._busy():
            return await self._serve(request)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        fault = self._scripted.popleft() if self._scripted else None
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            time=time.monotonic(),
            authorization=request.headers.get("Authorization"),
            body=_json_object(raw),
            fault=fault.kind if fault is not None else None,
        )
        self.requests.append(recorded)
        if fault is not None and fault.kind != "slow":
            response = _misbehave(request, fault)
        else:
            if fault is not None:
                # Slow after the whole request is read: the server taking its time.
                await asyncio.sleep(fault.delay)
            response = self._route(request, recorded)
        recorded.status = response.status if fault is None or fault.kind != "reset" else None
        return response

    def _route(self, request: web.Request, recorded: RecordedRequest) -> web.Response:
        try:
            self._authenticate(recorded.authorization)
            if request.method == "GET" and request.path == "/v1/models":
                return web.json_response(self._model_list())
            if request.method == "POST" and request.path == "/v1/chat/completions":
                return web.json_response(self._chat_completion(recorded.body))
            raise _ApiError(
                404, f"Invalid URL ({request.method} {request.path})", "invalid_request_error"
            )
        except _ApiError as error:
            return error.response()

    def _authenticate(self, authorization: str | None) -> None:
        if self._keys is None:
            return
        scheme, _, key = (authorization or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise _ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in an"
                " Authorization header using Bearer auth (i.e. Authorization: Bearer"
                f" YOUR_KEY). You can obtain an API key from {_KEYS_PAGE}.",
                "invalid_request_error",
            )
        if key not in self._keys:
            raise _ApiError(
                401,
                f"Incorrect API key provided: {_masked(key)}."
                f" You can find your API key at {_KEYS_PAGE}.",
                "invalid_request_error",
                "invalid_api_key",
            )

    def _model_list(self) -> JsonObject:
        data = [
            {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "quorum"}
            for model in self.models
        ]
        return {"object": "list", "data": data}

    def _chat_completion(self, body: JsonObject | None) -> JsonObject:
        chat = self._parse(body)
        scripted = self._answers.popleft() if self._answers else self.responder
        words = (scripted if isinstance(scripted, str) else scripted(chat)).split(" ")
        finish_reason = "stop"
        if chat.max_tokens is not None and len(words) > chat.max_tokens:
            words, finish_reason = words[: chat.max_tokens], "length"
        content = " ".join(words)
        self._completions += 1
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in chat.messages)
        completion_tokens = len(content.split())
        return {
            "id": f"chatcmpl-quorum{self._completions:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": chat.model,
            "system_fingerprint": "fp_quorum",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _parse(self, body: JsonObject | None) -> ChatRequest:
        if body is None:
            raise _ApiError(
                400,
                "We could not parse the JSON body of your request.",
                "invalid_request_error",
            )
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _ApiError(
                400, "you must provide a model parameter", "invalid_request_error", param="model"
            )
        if model not in self.models:
            raise _ApiError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        messages = _messages(body.get("messages"))
        _check_response_format(body.get("response_format"), messages)
        temperature = body.get("temperature")
        if temperature is not None and not (_is_number(temperature) and 0 <= temperature <= 2):
            raise _invalid("temperature", "a number between 0 and 2")
        max_tokens = body.get("max_tokens")
        if max_tokens is not None and not (
            isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 1
        ):
            raise _invalid("max_tokens", "an integer of at least 1")
        return ChatRequest(model, messages, temperature, max_tokens, body)


def _messages(value: object) -> list[JsonObject]:
    if not isinstance(value, list) or not value:
        raise _invalid("messages", "a non-empty array")
    for index, message in enumerate(value):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise _invalid(f"messages.[{index}].role", f"one of {sorted(_ROLES)}")
        if not isinstance(message.get("content"), str | list):
            raise _invalid(f"messages.[{index}].content", "a string or an array of parts")
    return value


def _check_response_format(value: object, messages: list[JsonObject]) -> None:
    if value is None:
        return
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise _invalid("response_format.type", "one of 'text', 'json_object', 'json_schema'")
    said = " ".join(str(m.get("content", "")) for m in messages).casefold()
    if kind == "json_object" and "json" not in said:
        raise _ApiError(
            400,
            "'messages' must contain the word 'json' in some form, to use 'response_format'"
            " of type 'json_object'.",
            "invalid_request_error",
            param="messages",
        )


def _invalid(param: str, expected: str) -> _ApiError:
    return _ApiError(
        400,
        f"Invalid value for '{param}': expected {expected}.",
        "invalid_request_error",
        param=param,
    )


def _misbehave(request: web.Request, fault: _Fault) -> web.Response:
    if fault.kind == "429":
        return _ApiError(
            429,
            f"Rate limit reached. Please try again in {fault.retry_after}s.",
            "requests",
            "rate_limit_exceeded",
        ).response(headers={"Retry-After": str(fault.retry_after)})
    if fault.kind == "500":
        return _ApiError(
            500,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
        ).response()
    if fault.kind == "bad-json":
        # What a proxy's error page or a half-written answer looks like to a JSON client.
        return web.Response(text='{"id": "chatcmpl-', content_type="application/json")
    reset_connection(request)
    # Never delivered: the transport is gone, aiohttp drops the write.
    return web.Response(status=500)


def _masked(key: str) -> str:
    # OpenAI shows a long key's first 8 and last 4 characters, and a short one in full.
    if len(key) <= 12:
        return key
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_object(raw: bytes) -> JsonObject | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
