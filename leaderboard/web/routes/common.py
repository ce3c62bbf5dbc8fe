"""What the routers share: the one submission path that the upload form and the REST API
both use (``SubmitterDep``), and the checks on names and redirect targets."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from ...views import ParticipantView, SubmissionView
from ..errors import RateLimited

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_next(target: str | None) -> str:
    """Only local paths after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def safe_filename(name: str | None) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = _SAFE_NAME.sub("_", base)[:200]
    return base or "submission.csv"


class Submitter:
    """Rate-limit, validate and store (pending), wake the scoring workers and wait for
    the score; the leaderboard cache learns of it at once."""

    def __init__(self, request: Request) -> None:
        state = request.app.state
        self.service, self.workers, self.limiter = state.service, state.workers, state.submit_limiter
        self.settings, self.cache, self.waiter = state.settings, state.cache, state.waiter

    def store(self, who: ParticipantView, slug: str, filename: str | None, data: bytes, message: str,
              wait: float) -> tuple[SubmissionView, bool]:
        """Returns (the submission as ``who`` sees it, whether it was scored within ``wait`` s)."""
        retry = self.limiter.hit(f"submit:{who.id}")
        if retry is not None:
            raise RateLimited(retry)
        name = safe_filename(filename)
        message = (message or "")[:2000]
        if name.lower().endswith(".ipynb") and self.settings.workers > 0:
            self._check_sandbox()
        if name.lower().endswith(".ipynb"):
            with tempfile.TemporaryDirectory(prefix="cb-upload-") as tmp:
                path = Path(tmp) / name
                path.write_bytes(data)
                view = self.service.submit_notebook(slug, who, path, message=message, score_now=False)
        elif name.lower().endswith((".keras", ".tflite")):  # the efficiency track's saved models
            view = self.service.submit_model(slug, who, data, message=message, filename=name, score_now=False)
        else:
            view = self.service.submit_file(slug, who, data, message=message, filename=name, score_now=False)
        self.workers.wake()
        finished = False
        if wait > 0:  # scored here or by any other process: the database tells (leaderboard.notify)
            finished = self.waiter.wait(view.id, wait)
        self.cache.invalidate()
        return (self.service.submission(view.id, who) if wait > 0 else view), finished

    def _check_sandbox(self) -> None:
        """This process scores (``--workers`` > 0): refuse a notebook it could not run
        isolated now, before anything is stored or counted (fail closed, said clearly).
        With ``--workers 0`` the worker processes check for themselves at start."""
        from ...worker.preflight import ScoringUnavailable, sandbox_here

        ok, why, fixes = sandbox_here(self.service.backend, self.service.scoring.trusted, fresh=False)
        if not ok:
            raise ScoringUnavailable(why, fixes)


async def get_submitter(request: Request) -> Submitter:
    return Submitter(request)


SubmitterDep = Annotated[Submitter, Depends(get_submitter)]
