"""Storage: SQLite (WAL) by default, PostgreSQL by URL; Alembic migrations.

SQLite: write transactions start with ``BEGIN IMMEDIATE`` (one writer at a time, waiting
up to the busy timeout, never failing on a read→write upgrade); reads stay deferred so
they run alongside the writer under WAL.  Within one process the writers also queue on a
lock of their own before ``BEGIN IMMEDIATE``: SQLite's busy handler waits by sleeping
(1, 2, 5 … 100 ms, again and again), so forty threads of one web process racing for the
write lock spend most of a burst asleep while the lock is free; queued on a Python lock
each starts the moment the one before commits, and only writers of other processes (the
scoring workers) meet the busy handler.  PostgreSQL: READ COMMITTED; the quota update
is a single conditional UPDATE, which PostgreSQL re-checks after a concurrent commit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from .errors import LeaderboardError

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseError(LeaderboardError):
    code = "database_error"


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False},
                           pool_size=10, max_overflow=20)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Engines and sessions for one database URL.

    >>> db = Database("sqlite:///build/leaderboard.db"); db.upgrade()
    >>> with db.write() as s: ...   # one transaction, committed on success
    """

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            if url in ("sqlite://", "sqlite:///:memory:"):
                raise DatabaseError("use a file for SQLite (an in-memory database is private to one connection)")
            Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            self.engine = create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True)
            self.read_engine = self.engine
        # SQLite: this process's writers queue here rather than in SQLite's sleeping busy
        # handler (see the module's docstring); re-entrant, so a nested write() in one thread
        # behaves as it would without it.  PostgreSQL: row locks, no queue needed.
        self._writers: contextlib.AbstractContextManager = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext())
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        with self._writers, self._write() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def alembic_config(self):  # -> alembic.config.Config
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Create or migrate the schema (Alembic), idempotent."""
        from alembic import command

        cfg = self.alembic_config()
        with self.engine.connect() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
            if connection.in_transaction():
                connection.commit()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
