"""What the loopback fakes in tests/fakes share: ``async with``, serving an aiohttp
application on 127.0.0.1 on an ephemeral port, knowing when no request is in flight,
and dropping a connection with an RST.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import ClassVar, Self

from aiohttp import web


class LoopbackServer:
    """``async with`` for a fake that has ``start()`` and ``stop()``."""

    async def start(self) -> object:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class LoopbackHTTP(LoopbackServer):
    """An aiohttp application on 127.0.0.1, on an ephemeral port, for one test.

    A subclass builds the application (``_application``), names where its API lives
    below the root (``API_PATH``) and wraps each request in ``_busy()``, so that
    ``wait_idle()`` knows when none is being answered.
    """

    API_PATH: ClassVar[str] = ""

    def __init__(self) -> None:
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    def _application(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> str:
        """Serve on 127.0.0.1 and return the base URL: the root, then ``API_PATH``."""
        # No access log: tests assert on the fake's own record of requests. A short
        # shutdown timeout so that stop() does not wait out a deliberately slow answer.
        runner = web.AppRunner(self._application(), access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        sock = _listening_socket()
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self._base_url = f"http://127.0.0.1:{sock.getsockname()[1]}{self.API_PATH}"
        return self._base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._base_url

    async def wait_idle(self) -> None:
        """Wait until no request is being answered (e.g. a slow one the client gave up on)."""
        await self._idle.wait()

    @asynccontextmanager
    async def _busy(self) -> AsyncIterator[None]:
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()


def _listening_socket() -> socket.socket:
    # Binding port 0 ourselves tells us the ephemeral port without aiohttp internals.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def reset_connection(request: web.Request) -> None:
    """Close with an RST, like a proxy dying mid-request: the client sees ECONNRESET."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER on with a zero timeout makes close() send RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
