"""Logging in: check a token with the server, then save the server and the token.

Only those two are saved (:mod:`~coursebench.client.credentials`, mode 600) — never a
database URL: an entry an older coursebench left there (``database``, ``competitions``)
is dropped, and :func:`login` says whether it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from .competitions import me
from .credentials import read_credentials, write_credentials
from .http import server_url

__all__ = ["LoggedIn", "login"]

STALE = ("database", "competitions")


@dataclass(frozen=True)
class LoggedIn:
    name: str
    server: str
    dropped: tuple[str, ...]   # stale entries removed from the credentials file


def login(token: str, server: str | None = None) -> LoggedIn:
    """Check ``token`` against the server (``GET /api/v1/me``) and save both."""
    url = server_url(server)
    who = me(server=url, token=token)
    data = read_credentials()
    dropped = tuple(k for k in STALE if k in data)
    data = {k: v for k, v in data.items() if k not in STALE}
    data.update({"token": token, "server": url})
    write_credentials(data)
    return LoggedIn(str(who["name"]), url, dropped)
