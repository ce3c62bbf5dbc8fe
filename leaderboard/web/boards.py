"""Leaderboards for the web, cached: building one from 300 teams × 30 submissions takes
tens of milliseconds, serving it from memory well under one.  An entry is reused while
nothing changed: scoring in this process invalidates at once; changes made by other
processes (the CLI, a second server) are noticed by a cheap fingerprint query at most
``ttl`` seconds later.  Renderings (JSON bytes, the HTML table) hang off the entry."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..board import LeaderboardView, ShakeUp
from ..services import CompetitionView, Service
from . import queries


class WouldBlock(Exception):
    """Raised by the ``block=False`` variants of the cache look-ups when answering would
    need the database or a wait: the caller (an ``async`` route on the event loop) then
    does the same work in a worker thread instead."""


@dataclass(frozen=True)
class Fragment:
    """Pre-rendered bytes of a response (or of part of a page) and a strong ETag for them."""

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
    extras: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def peek(self, key: str) -> Any:
        """A rendering made earlier, or :class:`WouldBlock` (making it is work for a thread)."""
        value = self.extras.get(key)
        if value is None:
            raise WouldBlock
        return value

    def extra(self, key: str, make: Callable[[], Any]) -> Any:
        value = self.extras.get(key)
        if value is None:
            with self.lock:
                value = self.extras.get(key)
                if value is None:
                    value = self.extras[key] = make()
        return value


class Boards:
    def __init__(self, service: Service, ttl: float = 2.0) -> None:
        self.service, self.ttl = service, ttl
        self._entries: dict[tuple[str, bool], BoardEntry] = {}
        self._comps: dict[str, tuple[float, int, CompetitionView]] = {}
        self._lock = threading.Lock()
        self._build_locks: dict[tuple[str, bool], threading.Lock] = {}
        self._comp_locks: dict[str, threading.Lock] = {}
        self.rebuilt: list[Callable[[], None]] = []  # called after a board was built anew
        self.generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1

    def competition(self, slug: str, *, block: bool = True) -> CompetitionView:
        """The competition, cached for ``ttl`` seconds (and until :meth:`invalidate` or its
        deadline).  Once the ``ttl`` ran out, one caller reloads it while the others keep
        getting the cached view (instead of all of them queuing for the database)."""
        hit = self._comps.get(slug)
        current = hit is not None and hit[1] == self.generation and (
            hit[2].closed or self.service.now() < hit[2].deadline)
        if current and time.monotonic() - hit[0] < self.ttl:  # type: ignore[index]
            return hit[2]  # type: ignore[index]
        lock = self._comp_locks.setdefault(slug, threading.Lock())
        if not block:
            if current and lock.locked():
                return hit[2]  # type: ignore[index]
            raise WouldBlock
        with lock:
            again = self._comps.get(slug)
            if again is not hit and again is not None and again[1] == self.generation and (
                    again[2].closed or self.service.now() < again[2].deadline):
                return again[2]  # reloaded by the caller we waited for
            gen, loaded = self.generation, time.monotonic()
            view = self.service.competition(slug)  # raises NotFound
            self._comps[slug] = (loaded, gen, view)
        return view

    def get(self, slug: str, private: bool, wait: float = 2.0, *, block: bool = True) -> BoardEntry:
        """The (unfiltered) board; callers check who may see a private one.

        When the board changed, it is rebuilt in the background; callers wait up to
        ``wait`` seconds for the new one and otherwise get the previous one (a big board's
        statistical ties can take seconds to recompute, and pages must not hang on it).
        ``block=False`` answers only from memory (the fresh entry, or the previous one
        while another request is refreshing it) and raises :class:`WouldBlock` otherwise."""
        key = (slug, private)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry and entry.generation == self.generation and now - entry.checked < self.ttl:
            return entry
        if not block:
            building = self._build_locks.get(key)
            if entry is not None and building is not None and building.locked():
                return entry  # what a blocking caller gets too while someone else refreshes
            raise WouldBlock
        lock = self._build_locks.setdefault(key, threading.Lock())
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
        return self._entries.get(key) or entry

    def _refresh(self, key: tuple[str, bool]) -> BoardEntry:
        slug, private = key
        entry = self._entries.get(key)
        gen = self.generation
        fp = queries.board_fingerprint(self.service.db, slug)
        if entry and entry.fingerprint == fp:
            entry.generation, entry.checked = gen, time.monotonic()
            return entry
        view = self.service.leaderboard(slug, private=private)  # as the server: no viewer limits
        entry = BoardEntry(view, fp, gen, time.monotonic())
        self._entries[key] = entry
        for hook in list(self.rebuilt):
            hook()
        return entry

    def shakeup(self, slug: str, *, block: bool = True) -> ShakeUp:
        from ..board import shakeup

        public, private = self.get(slug, False, block=block), self.get(slug, True, block=block)
        key = f"shake:{id(public.view)}"
        if not block:
            return private.peek(key)
        return private.extra(key, lambda: shakeup(public.view, private.view))
