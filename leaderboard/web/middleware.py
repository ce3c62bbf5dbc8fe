"""The app's own ASGI middleware (the session cookie is Starlette's ``SessionMiddleware``):

- :class:`BodyLimitMiddleware` refuses request bodies over the upload limit with 413
  before anything is parsed or stored;
- :class:`GZip` is Starlette's ``GZipMiddleware`` for responses the cache layer did not
  encode already (those it did carry ``Content-Encoding`` and pass through), except that
  a client refusing gzip (``gzip;q=0``) gets none.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.middleware.gzip import GZipMiddleware

from .cache import accepts_gzip

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, by Content-Length up front and
    by counting while streaming (chunked uploads), before anything is parsed or stored."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(scope, send)
                    return
        seen = 0
        started = False

        async def counting_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: dict, send: Send) -> None:
        mb = self.max_bytes / 2**20
        text = f"the upload is larger than this server's limit of {mb:.0f} MiB; compress it (.csv.gz or .zip)"
        if scope["path"].startswith("/api/"):
            body = json.dumps({"error": "payload_too_large", "message": text}).encode()
            ctype = b"application/json"
        else:
            body = (f"<!doctype html><title>Upload too large</title><h1>Upload too large</h1><p>{text}.</p>"
                    '<p><a href="javascript:history.back()">Go back</a></p>').encode()
            ctype = b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class GZip:
    """Starlette's ``GZipMiddleware``, with two corrections: Starlette looks for "gzip"
    anywhere in ``Accept-Encoding``, so a client that refuses it (``gzip;q=0``) bypasses it
    here; and it adds ``Accept-Encoding`` to a ``Vary`` that may name it already (the
    cache layer's answers do), so the header is written once."""

    def __init__(self, app: Any, minimum_size: int, compresslevel: int = 1) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"accept-encoding":
                if b"gzip" in value and not accepts_gzip(value.decode("latin-1")):
                    await self.app(scope, receive, send)
                    return
                break

        async def send_vary_once(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                for i, (name, value) in enumerate(headers):
                    if name.lower() == b"vary" and b"," in value:
                        seen: dict[bytes, bytes] = {}
                        for token in value.split(b","):
                            seen.setdefault(token.strip().lower(), token.strip())
                        headers[i] = (name, b", ".join(seen.values()))
                        message = {**message, "headers": headers}
            await send(message)

        await self.gzip(scope, receive, send_vary_once)
