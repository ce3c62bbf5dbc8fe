"""Leaderboards for the web, cached: building one from 300 teams × 30 submissions takes
tens of milliseconds, serving it from memory well under one.  An entry is reused while
nothing changed: scoring in this process invalidates at once; changes made by other
processes (the CLI, a second server) are noticed by a cheap fingerprint query at most
``ttl`` seconds later.  Renderings (JSON bytes, the HTML table) hang off the entry."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..board import LeaderboardView, ShakeUp
from ..services import CompetitionView, Service
from . import queries


@dataclass
class BoardEntry:
    view: LeaderboardView
    fingerprint: tuple
    generation: int
    checked: float
    extras: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

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
        self.generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1

    def competition(self, slug: str) -> CompetitionView:
        now = time.monotonic()
        hit = self._comps.get(slug)
        if hit and now - hit[0] < self.ttl and hit[1] == self.generation:
            view = hit[2]
            if view.closed or self.service.now() < view.deadline:
                return view
        view = self.service.competition(slug)  # raises NotFound
        self._comps[slug] = (now, self.generation, view)
        return view

    def get(self, slug: str, private: bool, wait: float = 2.0) -> BoardEntry:
        """The (unfiltered) board; callers check who may see a private one.

        When the board changed, it is rebuilt in the background; callers wait up to
        ``wait`` seconds for the new one and otherwise get the previous one (a big board's
        statistical ties can take seconds to recompute, and pages must not hang on it)."""
        key = (slug, private)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry and entry.generation == self.generation and now - entry.checked < self.ttl:
            return entry
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
        return entry

    def shakeup(self, slug: str) -> ShakeUp:
        from ..board import shakeup

        public, private = self.get(slug, False), self.get(slug, True)
        return private.extra(f"shake:{id(public.view)}", lambda: shakeup(public.view, private.view))
