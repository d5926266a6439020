"""Misbehaviour the archive and GitHub fakes share, and their record of requests.

``fail_next(n, kind, path=...)`` makes the next ``n`` requests whose path and query
contain ``path`` misbehave:

- ``"429"``: 429 with ``Retry-After: <retry_after>`` (seconds), nothing served;
- ``"secondary"``: GitHub's secondary rate limit, a 403 with ``Retry-After`` and a
  JSON ``message``;
- ``"500"`` / ``"503"``: that status with an HTML body, as a proxy in front would;
- ``"slow"``: the answer waits ``delay`` seconds first (a client with a shorter
  timeout gives up; one with a longer timeout gets the answer);
- ``"cut"``: a 200 whose body stops half way with the connection dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from tests.fakes.server import reset_connection

FaultKind = Literal["429", "secondary", "500", "503", "slow", "cut"]


@dataclass
class _Fault:
    kind: FaultKind
    path: str
    left: int
    retry_after: str
    delay: float


@dataclass(frozen=True, slots=True)
class Recorded:
    """A request as the fake saw it, and what it answered."""

    method: str
    path_qs: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Faults:
    """The queue of misbehaviour and the log of requests."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self.requests: list[Recorded] = []

    def fail_next(
        self,
        n: int = 1,
        kind: FaultKind = "429",
        *,
        path: str = "",
        retry_after: str = "0",
        delay: float = 2.0,
    ) -> None:
        self._faults.append(_Fault(kind, path, n, retry_after, delay))

    def _take(self, request: web.Request) -> _Fault | None:
        for fault in self._faults:
            if fault.left > 0 and fault.path in request.path_qs:
                fault.left -= 1
                return fault
        return None

    async def serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        fault = self._take(request)
        response: web.StreamResponse
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.kind == "429":
            response = web.Response(
                status=429, text="Too Many Requests", headers={"Retry-After": fault.retry_after}
            )
        elif fault is not None and fault.kind == "secondary":
            response = web.json_response(
                {"message": "You have exceeded a secondary rate limit. Please wait a few"
                 " minutes before you try again."},
                status=403,
                headers={"Retry-After": fault.retry_after},
            )  # fmt: skip
        elif fault is not None and fault.kind in ("500", "503"):
            response = web.Response(
                status=int(fault.kind),
                text="<html><body>Internal error</body></html>",
                content_type="text/html",
            )
        elif fault is not None and fault.kind == "cut":
            response = await _cut(request, await handler(request))
        else:
            response = await handler(request)
        self.requests.append(
            Recorded(request.method, request.path_qs, response.status, dict(request.headers), body)
        )
        return response

    def paths(self, contains: str = "") -> list[str]:
        return [r.path_qs for r in self.requests if contains in r.path_qs]


async def _cut(request: web.Request, full: web.StreamResponse) -> web.StreamResponse:
    """Send the headers and half the body of ``full``, then drop the connection."""
    body = full.body if isinstance(full, web.Response) and isinstance(full.body, bytes) else b""
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/octet-stream"})
    response.content_length = len(body) + 1
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    reset_connection(request)
    return response
