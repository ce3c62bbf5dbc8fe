"""``WebSettings``: how one ``coursebench serve`` process behaves (limits, scoring threads,
the cookie-signing secret), set by ``coursebench serve``'s options or by a test."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from .testclock import MovableClock


@dataclass
class WebSettings:
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    max_upload_bytes: int = 64 * 2**20
    submit_rate: int = 12          # submission attempts per user per minute (valid or not)
    login_rate: int = 20           # login attempts per client address per minute
    workers: int = 2               # background scoring threads (0: this process scores nothing)
    wait_seconds: float = 10.0     # how long the upload page waits for a prediction file's score
    test_clock: MovableClock | None = None
    secure_cookies: bool = False
    title: str = "coursebench competitions"
