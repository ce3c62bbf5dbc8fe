"""Submitting over HTTP and waiting for the score; your submissions; your final choice.

:func:`send` uploads a prediction file (.csv/.csv.gz/.zip), a notebook (.ipynb), raw
bytes or a DataFrame, streaming a file from disk (never read whole into memory here),
then waits for the score: the server may answer 201 (scored while the upload waited) or
202 (stored; scoring continues elsewhere) — then ``GET /api/v1/submissions/{id}`` is
polled with a growing interval until the submission is scored or ``wait`` runs out.
Library code never prints: give ``progress`` to be told what is happening.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .http import CompeteError, config, error_from, json_of, request
from .results import Problem, SubmissionResult

__all__ = ["SubmitProgress", "get", "mine", "result_of", "select", "send"]

SubmitProgress = Callable[[str, float, float | None], None]
"""``progress(stage, done, total)``: ``("uploading", bytes sent, file size)``, then
``("pending" | "running", seconds waited, seconds allowed)`` while the score is awaited."""

UNFINISHED = ("pending", "running")
SERVER_WAIT = 20.0  # the longest a single request holds the server waiting for the score


class _Counting(io.RawIOBase):
    """A readable file that reports how much of it has been read (httpx streams it)."""

    def __init__(self, inner: IO[bytes], size: int | None, report: SubmitProgress | None) -> None:
        super().__init__()
        self.inner, self.size, self.report, self.sent = inner, size, report, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self.inner.seek(offset, whence)
        if whence == 0 and offset == 0:
            self.sent = 0
        return position

    def tell(self) -> int:
        return self.inner.tell()

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size)
        self.sent += len(chunk)
        if self.report is not None and chunk:
            self.report("uploading", self.sent, self.size)
        return chunk


def _payload(predictions: Any) -> tuple[str, IO[bytes], int | None]:
    if isinstance(predictions, (str, Path)):
        path = Path(predictions)
        if not path.is_file():
            raise CompeteError(f"{path} is not a file")
        return path.name, open(path, "rb"), path.stat().st_size
    if hasattr(predictions, "to_csv"):
        text = io.StringIO()
        predictions.to_csv(text, index=False)
        data = text.getvalue().encode()
        return "submission.csv", io.BytesIO(data), len(data)
    if isinstance(predictions, bytes):
        return "submission.csv", io.BytesIO(predictions), len(predictions)
    raise CompeteError("give a pandas DataFrame (with the id column, as in sample_submission.csv), "
                       "or the path of a .csv/.csv.gz/.zip/.ipynb file")


def result_of(competition: str, body: dict[str, Any], *, message: str = "", server: str = "") -> SubmissionResult:
    """A :class:`SubmissionResult` from the API's ``SubmissionOut`` JSON."""
    ci = body.get("public_ci")
    return SubmissionResult(competition, body["status"], id=body["id"], public_score=body.get("public_score"),
                            public_ci=tuple(ci) if ci else None, cv_mean=body.get("cv_mean"),
                            cv_std=body.get("cv_std"), rank=body.get("rank"), message=message or body.get("message", ""),
                            error=body.get("error"), server=server, raw=body)


def _answer(competition: str, response: Any, message: str, url: str) -> SubmissionResult:
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code in (200, 201, 202):
        return result_of(competition, body, message=message, server=url)
    if response.status_code == 422 and body.get("error") == "submission_invalid":
        problems = [Problem(p.get("row"), p.get("column"), p.get("message", ""), p.get("fix", ""))
                    for p in body.get("problems", [])]
        return SubmissionResult(competition, "invalid", message=message, error=body.get("message"),
                                problems=problems, more=int(body.get("more") or 0), server=url, raw=body)
    if response.status_code in (401, 404):
        raise error_from(response)
    return SubmissionResult(competition, "refused", message=message, error=body.get("message") or response.text[:500],
                            server=url, raw=body)


def send(competition: str, predictions: Any, message: str = "", *, wait: float = 600.0,
         server: str | None = None, token: str | None = None,
         progress: SubmitProgress | None = None) -> SubmissionResult:
    """Submit and wait up to ``wait`` seconds for the score (0: do not wait).

    An invalid file comes back with ``status='invalid'`` and its ``problems`` (nothing
    counted); a refusal (daily limit, closed, too large) as ``'refused'``; a submission
    still unscored after ``wait`` as ``'pending'``/``'running'``.
    """
    url, tok = config(server, token)
    filename, handle, size = _payload(predictions)
    held = min(max(wait, 0.0), SERVER_WAIT)
    started = time.monotonic()
    try:
        response = request("POST", f"/api/v1/competitions/{competition}/submissions", server=url, token=tok,
                           timeout=held + max(120.0, wait), params={"wait": held},
                           files={"file": (filename, _Counting(handle, size, progress))},
                           data={"message": message})
    finally:
        handle.close()
    result = _answer(competition, response, message, url)
    if result.status not in UNFINISHED or result.id is None:
        return result
    return _poll(competition, result, wait - (time.monotonic() - started), url, tok, progress)


def _poll(competition: str, result: SubmissionResult, budget: float, url: str, tok: str,
          progress: SubmitProgress | None) -> SubmissionResult:
    """Ask for the submission with a growing pause (0.2 s → 2 s) until it is scored."""
    started, pause = time.monotonic(), 0.2
    while result.status in UNFINISHED:
        waited = time.monotonic() - started
        if progress is not None:
            progress(result.status, waited, budget)
        if waited >= budget:
            break
        time.sleep(min(pause, max(budget - waited, 0.0)))
        pause = min(pause * 1.5, 2.0)
        # a generous timeout: the answer to a just-scored submission carries its rank, and
        # the server may be rebuilding the leaderboard for it
        body = json_of(request("GET", f"/api/v1/submissions/{result.id}", server=url, token=tok,
                               timeout=max(120.0, budget - waited)))
        result = result_of(competition, body, message=result.message, server=url)
    return result


def get(submission_id: int, *, server: str | None = None, token: str | None = None) -> dict[str, Any]:
    """One of your team's submissions (``SubmissionOut`` JSON)."""
    return json_of(request("GET", f"/api/v1/submissions/{submission_id}", server=server, token=token))


def mine(competition: str, *, server: str | None = None, token: str | None = None) -> list[dict[str, Any]]:
    """Your team's submissions, newest first."""
    return json_of(request("GET", f"/api/v1/competitions/{competition}/submissions", server=server, token=token))


def select(competition: str, ids: list[int], *, server: str | None = None, token: str | None = None) -> list[int]:
    """Choose the submissions that count for the private leaderboard (replaces your previous choice)."""
    body = json_of(request("PUT", f"/api/v1/competitions/{competition}/selection", server=server, token=token,
                           json={"ids": list(ids)}))
    return [int(i) for i in body["selected"]]
