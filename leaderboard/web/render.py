"""Pages: the Jinja2 environment and its filters, and :class:`Page` — the renderer bound to
one request and its viewer, which the page routes get as a dependency (``PageDep``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response

from ..views import ParticipantView
from .auth import CookieSession
from .cache import Fragment, WebCache, respond

UTC = dt.timezone.utc
HTML = "text/html; charset=utf-8"


def fmt_score(value: float | None, digits: int = 5) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def fmt_time(value: dt.datetime | None) -> str:
    if value is None:
        return "–"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def span(seconds: float) -> str:
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def ago(value: dt.datetime | None, now: dt.datetime) -> str:
    if value is None:
        return "–"
    delta = (now - value).total_seconds()
    return f"{span(delta)} ago" if delta >= 0 else f"in {span(delta)}"


def countdown(deadline: dt.datetime, now: dt.datetime) -> str:
    left = (deadline - now).total_seconds()
    return f"{span(left)} left" if left > 0 else f"ended {span(left)} ago"


class LazyCsrf:
    """The session's CSRF token, made (and the cookie written) only when a template writes
    a form with it."""

    __slots__ = ("session",)

    def __init__(self, session: CookieSession) -> None:
        self.session = session

    def __str__(self) -> str:
        return self.session.csrf

    def __html__(self) -> str:  # URL-safe base64: nothing to escape
        return self.session.csrf


class Renderer:
    """The templates of one app; :meth:`bind` gives the :class:`Page` of a request."""

    def __init__(self, folder: Path, settings: Any, service: Any, cache: WebCache) -> None:
        self.settings, self.service, self.cache = settings, service, cache
        self.env = Environment(loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self.env.filters.update(score=fmt_score, time=fmt_time, iso=fmt_iso)

    def bind(self, request: Request, viewer: ParticipantView | None) -> Page:
        return Page(self, request, viewer)


class Page:
    def __init__(self, renderer: Renderer, request: Request, viewer: ParticipantView | None) -> None:
        self.renderer, self.request, self.viewer = renderer, request, viewer

    @property
    def cache(self) -> WebCache:
        """The app's cache, where the page's cached parts come from."""
        return self.renderer.cache

    def fragment(self, template: str, **context: Any) -> Fragment:
        """A part of a page rendered alone (e.g. the leaderboard table), to be cached."""
        return Fragment.of(self.renderer.env.get_template(template).render(**context).encode())

    def render(self, template: str, *, status: int = 200, headers: dict[str, str] | None = None,
               fragments: dict[str, Fragment] | None = None, shared: bool = False, **extra: Any) -> Response:
        """Render ``template``.  Each of ``fragments`` (pre-rendered bytes, e.g. the big
        leaderboard table) is passed to the template as a placeholder and spliced into the
        encoded page afterwards, so it is neither re-rendered nor re-encoded per request.
        Pages for visitors who are not logged in carry an ETag (If-None-Match → 304).

        ``shared=True`` promises that, for a visitor who is not logged in, the page depends
        only on the arguments given here and on the clock: such a page is rendered with the
        clock to the whole second and shared by every visitor until an argument (compared
        by identity) or the second changes (:meth:`WebCache.shared_page`)."""
        request = self.request
        if shared and self.viewer is None and status == 200 and headers is None:
            now = self.renderer.service.now().replace(microsecond=0)
            key = (template, request.url.path)
            inputs = (now, *extra.items(), *(fragments or {}).items())
            page = self.renderer.cache.shared_page(
                key, inputs, lambda: self._render(template, now, fragments, extra, tagged=True))
            return respond(request, page, HTML, {"Cache-Control": "no-cache"})
        cache = (headers or {}).get("Cache-Control") or ("no-store" if self.viewer else "no-cache")
        tagged = status == 200 and cache == "no-cache"
        page = self._render(template, None, fragments, extra, tagged=tagged)
        hdrs = {**(headers or {}), "Cache-Control": cache}
        if tagged:
            return respond(request, page, HTML, hdrs)
        return Response(page.data, status_code=status, media_type=HTML, headers=hdrs)

    def _context(self, now: dt.datetime | None, extra: dict[str, Any]) -> dict[str, Any]:
        if now is None:
            now = self.renderer.service.now()
        settings = self.renderer.settings
        base = {"request": self.request, "viewer": self.viewer, "csrf": LazyCsrf(CookieSession(self.request.session)),
                "now": now, "site_title": settings.title, "ago": lambda v: ago(v, now),
                "countdown": lambda d: countdown(d, now), "test_clock": settings.test_clock is not None,
                "path": self.request.url.path}
        base.update(extra)
        return base

    def _render(self, template: str, now: dt.datetime | None, fragments: dict[str, Fragment] | None,
                extra: dict[str, Any], tagged: bool) -> Fragment:
        """The encoded page, with an ETag when ``tagged`` (from the shell around the
        fragments and the fragments' own tags, so the big fragments are not hashed again)."""
        slots = {name: f"<!--cb-fragment:{name}-->" for name in fragments or ()}
        html = self.renderer.env.get_template(template).render(self._context(now, {**extra, **slots}))
        shell: list[bytes] = []  # the page around the fragments: small, rendered per request
        body_parts: list[bytes] = []
        tags: list[str] = []
        for name, fragment in (fragments or {}).items():
            before, found, html = html.partition(slots[name])
            shell.append(before.encode())
            body_parts.append(shell[-1])
            if found:
                body_parts.append(fragment.data)
                tags.append(fragment.etag)
        shell.append(html.encode())
        body = b"".join([*body_parts, shell[-1]]) if body_parts else shell[-1]
        if not tagged:
            return Fragment(body, "")
        digest = hashlib.blake2b(digest_size=12)
        for part in shell:
            digest.update(part)
        digest.update(" ".join(tags).encode())
        return Fragment(body, '"' + digest.hexdigest() + '"')
