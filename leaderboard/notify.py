"""Score-ready and board-changed notifications between processes, through the database.

- :func:`scored` is called inside the transaction that stores a submission's final state
  (complete or failed).  On PostgreSQL it is ``pg_notify('coursebench_scored', id)``,
  delivered to every listener when that transaction commits (and never when it rolls
  back); on SQLite it does nothing — waiters poll the row there.
- Board changes need no call: on PostgreSQL a trigger (migration 0002) sends
  ``pg_notify('coursebench_board', competition_id)`` whenever a submission is stored,
  scored or selected, a team changes or a competition is closed; on SQLite a web process
  watches ``PRAGMA data_version``, which changes when any other connection committed.
- :class:`Waiter` (one per web process) is what the submit route waits on:
  ``Waiter.wait(submission_id, timeout) -> bool`` blocks until that submission is no longer
  pending or running.  On PostgreSQL one listening connection per process (a background
  thread) wakes the waiters; each wait also re-reads the row now and then (a lost
  connection loses no wake-up).  On SQLite the row is polled every ``poll`` seconds, and
  :meth:`Waiter.poke` lets this process's own scoring threads wake a waiter at once.
  ``Waiter.on_board_change`` callbacks (the web cache's invalidation) run on either.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from .db import Database
from .models import Submission

log = logging.getLogger("coursebench.notify")

SCORED = "coursebench_scored"
BOARD = "coursebench_board"
FINAL = ("complete", "failed")


def scored(session_or_conn: Any, submission_id: int) -> None:
    """Tell every web process, once this transaction commits, that ``submission_id`` has
    its final state.  A no-op on SQLite (its waiters poll)."""
    bind = session_or_conn.get_bind() if hasattr(session_or_conn, "get_bind") else session_or_conn
    if bind.dialect.name != "postgresql":
        return
    session_or_conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                            {"channel": SCORED, "payload": str(int(submission_id))})


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (``postgresql+psycopg://…``) as psycopg itself takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Waiter:
    """Waits for submissions to be scored, and hears of board changes, in one process."""

    def __init__(self, db: Database, *, poll: float | None = None, board_poll: float = 0.5) -> None:
        self.db = db
        self.postgres = db.dialect == "postgresql"
        # PostgreSQL: notifications wake waiters; the row is re-read only as a safety net
        self.poll = poll if poll is not None else (2.0 if self.postgres else 0.2)
        self.board_poll = board_poll
        self.on_board_change: list[Callable[[int | None], None]] = []
        self._events: dict[int, set[threading.Event]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # PostgreSQL: LISTEN is in place

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        target = self._listen if self.postgres else self._watch_sqlite
        self._thread = threading.Thread(target=target, name="coursebench-notify", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.poke_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- waiting --------------------------------------------------------------------------
    def wait(self, submission_id: int, timeout: float) -> bool:
        """True once ``submission_id`` is complete or failed; False after ``timeout`` s."""
        event = threading.Event()
        with self._lock:
            self._events.setdefault(submission_id, set()).add(event)
        try:
            end = time.monotonic() + timeout
            while True:
                event.clear()
                if self.is_final(submission_id):
                    return True
                left = end - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return False
                event.wait(min(left, self.poll))
        finally:
            with self._lock:
                waiting = self._events.get(submission_id)
                if waiting is not None:
                    waiting.discard(event)
                    if not waiting:
                        del self._events[submission_id]

    def is_final(self, submission_id: int) -> bool:
        with self.db.read() as s:
            status = s.scalar(select(Submission.status).where(Submission.id == submission_id))
        return status is None or status in FINAL

    def poke(self, submission_id: int) -> None:
        """Wake whoever waits for ``submission_id`` (they re-read its row)."""
        with self._lock:
            events = list(self._events.get(submission_id, ()))
        for event in events:
            event.set()

    def poke_all(self) -> None:
        with self._lock:
            events = [e for group in self._events.values() for e in group]
        for event in events:
            event.set()

    def _board_changed(self, competition_id: int | None) -> None:
        for callback in list(self.on_board_change):
            try:
                callback(competition_id)
            except Exception:  # a callback must not stop the listener
                log.exception("board-change callback failed")

    # -- PostgreSQL: LISTEN on one connection of our own ----------------------------------
    def _listen(self) -> None:
        import psycopg

        url = libpq_url(self.db.url)
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {SCORED}")
                    conn.execute(f"LISTEN {BOARD}")
                    self.listening.set()
                    backoff = 0.5
                    # anything committed while we were not listening: everyone re-checks
                    self.poke_all()
                    self._board_changed(None)
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._dispatch(note.channel, note.payload)
            except Exception:
                if self._stop.is_set():
                    break
                log.warning("lost the notification connection; reconnecting", exc_info=True)
            finally:
                self.listening.clear()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)

    def _dispatch(self, channel: str, payload: str) -> None:
        try:
            ident = int(payload)
        except ValueError:
            return
        if channel == SCORED:
            self.poke(ident)
        elif channel == BOARD:
            self._board_changed(ident)

    # -- SQLite: PRAGMA data_version on a connection of our own ---------------------------
    def _watch_sqlite(self) -> None:
        import sqlite3

        path = self.db.url.split("///", 1)[1]
        last = None
        while not self._stop.is_set():
            try:
                conn = sqlite3.connect(path, timeout=5, check_same_thread=False)
                try:
                    while not self._stop.is_set():
                        version = conn.execute("PRAGMA data_version").fetchone()[0]
                        if last is not None and version != last:
                            self._board_changed(None)
                            self.poke_all()
                        last = version
                        self._stop.wait(self.board_poll)
                finally:
                    conn.close()
            except Exception:
                log.warning("could not watch the SQLite file for changes", exc_info=True)
                self._stop.wait(2.0)
