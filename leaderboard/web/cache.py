"""The web layer's one cache: everything a request may be answered from memory.

- **Boards** (:meth:`WebCache.board`): building a board of 300 teams × 30 submissions takes
  tens of milliseconds (seconds when its statistical ties must be recomputed), serving it
  from memory well under one.  An entry is reused while nothing changed: a change made by
  this server (:meth:`WebCache.invalidate`) is seen at once; a change by another process
  (the CLI, a second server) within ``ttl`` seconds, by a cheap fingerprint query.
  Renderings of a board (the API's JSON, the page's HTML table, the history chart) hang
  off its entry as :class:`Fragment` s and die with it.
- **Small look-ups** with the same ``ttl``: a competition, a viewer's team, the
  participant behind a session (so a replaced token logs its sessions out within ``ttl``).
- **The page for visitors who are not logged in** (:meth:`WebCache.shared_page`): rendered
  once per second and per set of inputs, and shared.
- **Conditional GET and gzip** (:func:`respond`): a cached answer carries a strong ETag
  (``If-None-Match`` → 304) and goes gzip-encoded, compressed once per ETag, to clients
  that accept it, under its own ETag (``"…-gz"``).  Responses without an ETag are left to
  Starlette's ``GZipMiddleware``.

Every look-up has a ``block=False`` form for ``async`` routes on the event loop: it answers
from memory or raises :class:`WouldBlock`, and :func:`nonblocking` then redoes it in a
worker thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..board import LeaderboardView, ShakeUp
from ..services import Service
from ..views import CompetitionView, ParticipantView
from . import queries

T = TypeVar("T")
GZIP_MIN_BYTES = 1024
Identity = tuple[str, str, str, str]  # a participant's name, display name, role, token-hash prefix


class WouldBlock(Exception):
    """Raised by the ``block=False`` look-ups when answering needs the database or a wait."""


async def nonblocking(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args, block=False)`` here on the event loop (the common case: the answer is in
    memory); when that raises :class:`WouldBlock`, ``fn(*args, block=True)`` in a worker
    thread.  ``fn`` must not have changed anything before raising WouldBlock."""
    try:
        return fn(*args, block=False)
    except WouldBlock:
        return await run_in_threadpool(fn, *args, block=True)


@dataclass(frozen=True)
class Fragment:
    """Bytes of a response (or of part of a page) and a strong ETag for them."""

    data: bytes
    etag: str

    @classmethod
    def of(cls, data: bytes) -> Fragment:
        return cls(data, '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"')


@dataclass
class BoardEntry:
    view: LeaderboardView
    fingerprint: tuple
    generation: int
    checked: float
    renderings: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rendering(self, key: str, make: Callable[[], T], *, block: bool = True) -> T:
        """``make()``'s result for this board, made once; ``block=False`` raises
        :class:`WouldBlock` instead of making it (work for a thread)."""
        value = self.renderings.get(key)
        if value is None:
            if not block:
                raise WouldBlock
            with self.lock:
                value = self.renderings.get(key)
                if value is None:
                    value = self.renderings[key] = make()
        return value


class _Memo:
    """Values by key for ``ttl`` seconds, at most ``limit`` of them."""

    def __init__(self, ttl: float, limit: int) -> None:
        self.ttl, self.limit = ttl, limit
        self._data: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], T], block: bool) -> T:
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        if not block:
            raise WouldBlock
        value = load()
        with self._lock:
            if len(self._data) >= self.limit:
                self._data.clear()
            self._data[key] = (now, value)
        return value

    def forget(self, key: Any) -> None:
        with self._lock:
            self._data.pop(key, None)


class WebCache:
    def __init__(self, service: Service, ttl: float = 2.0, identity_ttl: float = 5.0) -> None:
        self.service, self.ttl = service, ttl
        self.generation = 0
        self.rebuilt: list[Callable[[], None]] = []  # called after a board was built anew
        self._lock = threading.Lock()
        self._boards: dict[tuple[str, bool], BoardEntry] = {}
        self._board_locks: dict[tuple[str, bool], threading.Lock] = {}
        self._comps: dict[str, tuple[float, int, CompetitionView]] = {}
        self._comp_locks: dict[str, threading.Lock] = {}
        self._teams = _Memo(ttl, 20000)
        self._identities = _Memo(identity_ttl, 10000)
        self._shared: dict[tuple[str, str], tuple[tuple, Fragment]] = {}

    def invalidate(self) -> None:
        """Something changed through this server: nothing cached before is served again
        without checking."""
        with self._lock:
            self.generation += 1

    # -- competitions ---------------------------------------------------------------------
    def competition(self, slug: str, *, block: bool = True) -> CompetitionView:
        """The competition, cached for ``ttl`` seconds (and until :meth:`invalidate` or its
        deadline).  Once the ``ttl`` ran out, one caller reloads it while the others keep
        getting the cached view (instead of all of them queuing for the database)."""
        hit = self._comps.get(slug)
        current = hit is not None and self._current(hit)
        if current and time.monotonic() - hit[0] < self.ttl:  # type: ignore[index]
            return hit[2]  # type: ignore[index]
        lock = self._comp_locks.setdefault(slug, threading.Lock())
        if not block:
            if current and lock.locked():
                return hit[2]  # type: ignore[index]
            raise WouldBlock
        with lock:
            again = self._comps.get(slug)
            if again is not hit and again is not None and self._current(again):
                return again[2]  # reloaded by the caller we waited for
            gen, loaded = self.generation, time.monotonic()
            view = self.service.competition(slug)  # raises NotFound
            self._comps[slug] = (loaded, gen, view)
        return view

    def _current(self, hit: tuple[float, int, CompetitionView]) -> bool:
        return hit[1] == self.generation and (hit[2].closed or self.service.now() < hit[2].deadline)

    # -- boards ---------------------------------------------------------------------------
    def board(self, slug: str, private: bool, wait: float = 2.0, *, block: bool = True) -> BoardEntry:
        """The (unfiltered) board; callers check who may see a private one.

        When the board changed, it is rebuilt in the background; callers wait up to
        ``wait`` seconds for the new one and otherwise get the previous one (a big board's
        statistical ties can take seconds to recompute, and pages must not hang on it).
        ``block=False`` answers only from memory (the fresh entry, or the previous one
        while another request is refreshing it)."""
        key = (slug, private)
        entry = self._boards.get(key)
        if entry and entry.generation == self.generation and time.monotonic() - entry.checked < self.ttl:
            return entry
        lock = self._board_locks.setdefault(key, threading.Lock())
        if not block:
            if entry is not None and lock.locked():
                return entry  # what a blocking caller gets too while someone else refreshes
            raise WouldBlock
        if entry is None:
            with lock:
                return self._refresh(key)
        if lock.acquire(blocking=False):
            done = threading.Event()

            def work() -> None:
                try:
                    self._refresh(key)
                except Exception:  # keep serving the previous board; the next request retries
                    pass
                finally:
                    lock.release()
                    done.set()

            threading.Thread(target=work, name=f"board-{slug}", daemon=True).start()
            done.wait(wait)
        return self._boards.get(key) or entry

    def _refresh(self, key: tuple[str, bool]) -> BoardEntry:
        slug, private = key
        entry = self._boards.get(key)
        gen = self.generation
        fp = queries.board_fingerprint(self.service.db, slug)
        if entry and entry.fingerprint == fp and entry.view.complete:  # (incomplete: replicates to come)
            entry.generation, entry.checked = gen, time.monotonic()
            return entry
        view = self.service.leaderboard(slug, private=private)  # as the server: no viewer limits
        entry = BoardEntry(view, fp, gen, time.monotonic())
        self._boards[key] = entry
        for hook in list(self.rebuilt):
            hook()
        return entry

    def shakeup(self, slug: str, *, block: bool = True) -> ShakeUp:
        from ..board import shakeup

        public, private = self.board(slug, False, block=block), self.board(slug, True, block=block)
        return private.rendering(f"shake:{id(public.view)}", lambda: shakeup(public.view, private.view), block=block)

    # -- who is asking --------------------------------------------------------------------
    def team_id(self, slug: str, who: ParticipantView | None, *, block: bool = True) -> int | None:
        """The id of ``who``'s team in this competition (None: no team yet, or nobody)."""
        if who is None:
            return None

        def load() -> int | None:
            team = self.service.team(slug, who)
            return team.id if team else None

        return self._teams.get((slug, who.id), load, block)

    def identity(self, participant_id: int, *, block: bool = True) -> Identity | None:
        """(name, display name, role, token-hash prefix) of a participant, or None."""
        return self._identities.get(participant_id,
                                    lambda: queries.token_fingerprint(self.service.db, participant_id), block)

    def forget_identity(self, participant_id: int) -> None:
        self._identities.forget(participant_id)

    # -- the page for visitors ------------------------------------------------------------
    def shared_page(self, key: tuple[str, str], inputs: tuple, make: Callable[[], Fragment]) -> Fragment:
        """The page ``key`` for visitors who are not logged in, made again only when one of
        its ``inputs`` changed (objects compared by identity, plain values by value)."""
        hit = self._shared.get(key)
        if hit is not None and _same(hit[0], inputs):
            return hit[1]
        page = make()
        self._shared[key] = (inputs, page)
        return page


def _same(a: tuple, b: tuple) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x is y:
            continue
        if isinstance(x, tuple) and isinstance(y, tuple):
            if not _same(x, y):
                return False
        elif type(x) is not type(y) or not isinstance(x, (str, int, float, bool, dt.datetime)) or x != y:
            return False
    return True


# -- answering from a Fragment ----------------------------------------------------------------

_GZIPPED: OrderedDict[str, bytes] = OrderedDict()  # ETag -> that body, gzip-encoded
_GZIPPED_MAX = 64
_GZIP_LOCK = threading.Lock()


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header takes gzip (every browser's does)."""
    if not header:
        return False
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def _gzipped(etag: str, body: bytes) -> bytes:
    """``body`` gzip-encoded, compressed once per ETag (an ETag names exactly one body)."""
    with _GZIP_LOCK:
        hit = _GZIPPED.get(etag)
        if hit is not None:
            _GZIPPED.move_to_end(etag)
            return hit
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    data = packer.compress(body) + packer.flush()
    with _GZIP_LOCK:
        _GZIPPED[etag] = data
        while len(_GZIPPED) > _GZIPPED_MAX:
            _GZIPPED.popitem(last=False)
    return data


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def respond(request: Request, body: Fragment, media_type: str, headers: dict[str, str] | None = None) -> Response:
    """``body`` with its ETag, or 304 Not Modified when the client has it already;
    gzip-encoded (own ETag ``"…-gz"``, ``Vary: Accept-Encoding``) for clients that take it."""
    hdrs = dict(headers or {})
    gzip = len(body.data) >= GZIP_MIN_BYTES and accepts_gzip(request.headers.get("accept-encoding"))
    tag = body.etag[:-1] + '-gz"' if gzip and body.etag.endswith('"') else body.etag
    hdrs["ETag"] = tag
    hdrs["Vary"] = "Accept-Encoding"
    if etag_matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=hdrs)
    if gzip:
        hdrs["Content-Encoding"] = "gzip"
        return Response(_gzipped(body.etag, body.data), media_type=media_type, headers=hdrs)
    return Response(body.data, media_type=media_type, headers=hdrs)
