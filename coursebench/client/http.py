"""Talking to the course server: which server and token, one request, readable errors.

The server and token come from the arguments, then ``COURSEBENCH_SERVER`` /
``COURSEBENCH_TOKEN``, then the saved login (:mod:`coursebench.client.credentials`).
The HTTP client is httpx, imported when the first request is made.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..errors import CoursebenchError
from .credentials import read_credentials

__all__ = ["DEFAULT_SERVER", "CompeteError", "config", "error_from", "json_of", "request", "server_url", "stream"]

DEFAULT_SERVER = "http://127.0.0.1:8000"


class CompeteError(CoursebenchError):
    """The server could not be reached, refused the token, or refused the request.

    ``status`` is the HTTP status (None when the server was not reached); ``code`` the
    server's name for the error (``"quota_exceeded"``, ``"not_found"``…) when it gave one.
    """

    code = "compete_error"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        self.status = status
        if code:
            self.code = code
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "status": self.status}


def server_url(server: str | None = None) -> str:
    """The server to talk to (without a trailing slash)."""
    return (server or os.environ.get("COURSEBENCH_SERVER") or read_credentials().get("server")
            or DEFAULT_SERVER).rstrip("/")


def config(server: str | None, token: str | None, *, required: bool = True) -> tuple[str, str]:
    """``(server URL, token)``; raises :class:`CompeteError` when there is no token
    (``required=False``: the token is ``""`` then, for what anonymous visitors may read)."""
    creds = read_credentials()
    url = (server or os.environ.get("COURSEBENCH_SERVER") or creds.get("server") or DEFAULT_SERVER).rstrip("/")
    tok = token or os.environ.get("COURSEBENCH_TOKEN") or creds.get("token") or ""
    if not tok and required:
        raise CompeteError("no token: run compete.login('YOUR_TOKEN') once, or `coursebench compete login "
                           "--server URL TOKEN` (your instructor gave you the token)")
    return url, tok


def error_from(response: Any) -> CompeteError:
    """The server's refusal as a :class:`CompeteError` (its message, status and code)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = body.get("message") or response.text[:300] or f"HTTP {response.status_code}"
    return CompeteError(message, status=response.status_code, code=body.get("error"))


def json_of(response: Any) -> Any:
    """The JSON body of a successful answer; a refusal raises :class:`CompeteError`."""
    if response.status_code >= 300:
        raise error_from(response)
    return response.json()


def _unreachable(url: str, exc: Exception) -> CompeteError:
    return CompeteError(f"cannot reach the leaderboard at {url} ({exc}); is `coursebench serve` running, "
                        "and is the server address right? (compete.login(token, server=...))")


def _client(server: str | None, token: str | None, timeout: float, required: bool) -> tuple[str, Any]:
    import httpx

    url, tok = config(server, token, required=required)
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return url, httpx.Client(base_url=url, headers=headers, timeout=timeout)


def request(method: str, path: str, *, server: str | None, token: str | None, timeout: float = 60,
            required: bool = True, **kwargs: Any) -> Any:
    """One request to the server's REST API; returns the httpx response (any status).

    Raises :class:`CompeteError` when the server cannot be reached (or there is no token
    and ``required``).
    """
    import httpx

    url, client = _client(server, token, timeout, required)
    try:
        with client:
            return client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise _unreachable(url, exc) from None


def stream(path: str, sink: Callable[[bytes], None], *, server: str | None, token: str | None,
           timeout: float = 60, required: bool = False) -> dict[str, str]:
    """GET ``path`` and hand its body to ``sink`` chunk by chunk (never all in memory);
    returns the response headers.  A refusal raises :class:`CompeteError`."""
    import httpx

    url, client = _client(server, token, timeout, required)
    try:
        with client, client.stream("GET", path) as response:
            if response.status_code != 200:
                response.read()
                raise error_from(response)
            for chunk in response.iter_bytes(1 << 20):
                sink(chunk)
            return dict(response.headers)
    except httpx.TransportError as exc:
        raise _unreachable(url, exc) from None
