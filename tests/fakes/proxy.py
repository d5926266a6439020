"""A reverse proxy on loopback that publishes one upstream under a path prefix,
as nginx's ``location /quorum/ { proxy_pass http://upstream/; }`` does.

It strips the prefix (or keeps it, on request), adds X-Forwarded-For, -Proto and
-Host as such a proxy is configured to, and passes answers back untouched:
Location headers and links included, so a page that forgets the prefix sends
the browser to a path this proxy answers 404.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from tests.fakes.server import LoopbackHTTP

# Hop-by-hop headers (RFC 9110 §7.6.1) and what aiohttp sets itself are not passed on.
_NOT_PASSED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "host",
    }
)


class ReverseProxy(LoopbackHTTP):
    def __init__(
        self,
        upstream: str,
        prefix: str = "/quorum",
        *,
        strip: bool = True,
        forwarded_proto: str = "https",
        forwarded_host: str = "lists.example.org",
    ) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.prefix = prefix.rstrip("/")
        self.strip = strip
        self.forwarded_proto = forwarded_proto
        self.forwarded_host = forwarded_host
        self.requests: list[str] = []
        self._session: aiohttp.ClientSession | None = None

    def _application(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        return app

    async def stop(self) -> None:
        await super().stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        async with self._busy():
            self.requests.append(request.path_qs)
            path = request.rel_url.raw_path
            if path == "/favicon.ico":
                # The host's own icon: browsers ask for it on JSON pages, which name none.
                return web.Response(status=204)
            if path != self.prefix and not path.startswith(self.prefix + "/"):
                return web.Response(status=404, text=f"not published here: {path}")
            upstream_path = path[len(self.prefix) :] or "/" if self.strip else path
            query = request.rel_url.raw_query_string
            url = self.upstream + upstream_path + (f"?{query}" if query else "")
            headers = CIMultiDict(
                (name, value)
                for name, value in request.headers.items()
                if name.lower() not in _NOT_PASSED
            )
            headers["X-Forwarded-For"] = request.remote or ""
            headers["X-Forwarded-Proto"] = self.forwarded_proto
            headers["X-Forwarded-Host"] = self.forwarded_host
            if self._session is None:
                self._session = aiohttp.ClientSession(auto_decompress=False)
            async with self._session.request(
                request.method,
                url,
                headers=headers,
                data=await request.read(),
                allow_redirects=False,
            ) as answer:
                body = await answer.read()
                passed = CIMultiDict(
                    (name, value)
                    for name, value in answer.headers.items()
                    if name.lower() not in _NOT_PASSED
                )
                return web.Response(status=answer.status, body=body, headers=passed)
