"""Making the web app from ``coursebench serve``'s options, in this process or in each of
the N web processes of ``coursebench serve --processes N``.

uvicorn starts N processes (``workers=N``) only from an import string and a factory:
:func:`create_app_from_env` is it.  ``serve`` resolves its options once in the parent
(the database URL, the competitions, the cookie-signing key's file, made before the
processes start so that all of them sign with the same key), migrates the database, and
hands the options down as JSON in ``COURSEBENCH_WEB_OPTIONS``.  The same factory runs under
``uvicorn --factory leaderboard.web.factory:create_app_from_env`` or gunicorn's uvicorn
workers, reading ``COURSEBENCH_DB``, ``COURSEBENCH_COMPETITIONS`` and ``COURSEBENCH_SECRET_KEY``
where the JSON leaves them out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from ..errors import LeaderboardError


class ServeConfigError(LeaderboardError):
    code = "serve_config"


@dataclass
class ServeOptions:
    db: str | None = None
    competitions: str | None = None
    workers: int = 2               # scoring threads in each web process
    lease: float = 1800.0
    max_upload_bytes: int = 64 * 2**20
    submit_rate: int = 12
    backend: str = "auto"
    secret_file: str | None = None
    test_clock: bool = False
    processes: int = 1

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeOptions:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ServeConfigError(f"COURSEBENCH_WEB_OPTIONS is not JSON: {exc}") from None
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ServeConfigError(f"COURSEBENCH_WEB_OPTIONS: unknown option(s) {', '.join(unknown)}; "
                                   f"known: {', '.join(sorted(known))}")
        return cls(**data)


def secret(path: Path | None) -> str:
    """The key that signs session cookies: ``COURSEBENCH_SECRET_KEY`` (see
    :mod:`coursebench.settings`), else the one kept in ``path`` — which ``coursebench serve``
    made before starting the processes (:func:`leaderboard.web.cli.make_secret`).  Every
    process must sign with the same key, so none makes one of its own."""
    from coursebench.settings import get_settings

    configured = get_settings().secret_key
    if configured is not None:
        return configured.get_secret_value()
    if path is not None and path.is_file():
        key = path.read_text().strip()
        if key:
            return key
    raise ServeConfigError("no cookie-signing key: set COURSEBENCH_SECRET_KEY, or give a secret_file in "
                           "COURSEBENCH_WEB_OPTIONS that holds one (coursebench serve makes it)")


def check_processes(options: ServeOptions) -> None:
    """Refuse what N web processes cannot share."""
    if options.processes < 1:
        raise ServeConfigError("--processes must be at least 1")
    if options.processes == 1:
        return
    if (options.db or "").startswith("sqlite"):
        raise ServeConfigError(
            "--processes N needs PostgreSQL (--db postgresql://user@host/course): with SQLite the "
            "leaderboard is one embedded process (drop --processes, or use --processes 1)")


def settle_heap() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def build_app(options: ServeOptions, *, migrate: bool = True) -> FastAPI:
    """The app for ``options`` (the database migrated unless ``migrate=False``)."""
    from coursebench.settings import get_settings
    from leaderboard.services import Service

    from .app import WebSettings, create_app
    from .testclock import MovableClock

    env = get_settings()
    url = options.db or env.db
    folder = options.competitions or (str(env.competitions) if env.competitions else None)
    if url is None or folder is None:
        raise ServeConfigError("no database or competitions folder: set COURSEBENCH_DB and "
                               "COURSEBENCH_COMPETITIONS (or give them in COURSEBENCH_WEB_OPTIONS)")
    service = Service(url, folder, backend=options.backend, lease=dt.timedelta(seconds=options.lease),
                      migrate=migrate)
    settings = WebSettings(secret_key=secret(Path(options.secret_file) if options.secret_file else None),
                           max_upload_bytes=options.max_upload_bytes, submit_rate=options.submit_rate,
                           workers=options.workers, test_clock=MovableClock(db=service.db) if options.test_clock else None)
    app = create_app(service, settings)
    # Everything made so far (modules, the app, the service) lives as long as the server,
    # and so does a cached board once built: keep them out of the cyclic garbage
    # collector's full passes, which otherwise walk all of it and stall every request for
    # up to a hundred milliseconds under load.  After each rebuild (rare: a board changed)
    # one full pass frees whatever died since, old boards included, and the rest is frozen.
    settle_heap()
    app.state.cache.rebuilt.append(settle_heap)
    return app


def create_app_from_env() -> FastAPI:
    """The factory uvicorn calls in each web process (``factory=True``)."""
    from coursebench.settings import get_settings

    raw = get_settings().web_options
    options = ServeOptions.from_json(raw) if raw else ServeOptions()
    check_processes(options)
    # the parent migrated already; a stand-alone uvicorn/gunicorn run migrates (idempotent)
    return build_app(options, migrate=not raw)
