"""Submit to a competition from JupyterLab, through the leaderboard's REST API::

    from coursebench import compete
    compete.login("YOUR_TOKEN", server="http://127.0.0.1:8000")   # once; saved (mode 600)
    compete.submit("midterm", predictions_df, message="random forest, 500 trees")

``submit`` returns a :class:`SubmissionResult` that Jupyter shows as a small card: the
new public score and rank, or — when the file is not valid — each problem with its row,
column and how to fix it.  The token and server come from the same credentials file as
``coursebench compete login`` (``~/.config/coursebench/credentials.json``), or from the
``COURSEBENCH_TOKEN`` / ``COURSEBENCH_SERVER`` environment variables.
"""

from __future__ import annotations

import html
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SERVER = "http://127.0.0.1:8000"


class CompeteError(Exception):
    """The server could not be reached, refused the token, or refused the request."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        self.status, self.code = status, code
        super().__init__(message)


@dataclass
class Problem:
    row: int | None
    column: str | None
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return (", ".join(where) + ": " if where else "") + self.message + (f" — {self.fix}" if self.fix else "")


@dataclass
class SubmissionResult:
    """What became of a submission (``ok`` is False for an invalid file, a failure or a refusal)."""

    competition: str
    status: str                       # complete | pending | running | failed | invalid | refused
    id: int | None = None
    public_score: float | None = None
    public_ci: tuple[float, float] | None = None
    cv_mean: float | None = None
    cv_std: float | None = None
    rank: int | None = None
    message: str = ""
    error: str | None = None
    problems: list[Problem] = field(default_factory=list)
    more: int = 0
    server: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("complete", "pending", "running")

    def __repr__(self) -> str:
        if self.status == "complete":
            rank = f", public rank {self.rank}" if self.rank else ""
            return f"<submission {self.id} to {self.competition}: public score {self.public_score:.5f}{rank}>"
        if self.status == "invalid":
            lines = [f"<{self.competition}: not a valid submission (not counted)"]
            lines += [f"  - {p}" for p in self.problems]
            return "\n".join(lines) + ">"
        return f"<submission {self.id} to {self.competition}: {self.status}{': ' + self.error if self.error else ''}>"

    def _repr_html_(self) -> str:
        e = html.escape
        box = ("font-family:system-ui,sans-serif;border:1px solid #d1d9e0;border-left:4px solid {c};"
               "border-radius:6px;padding:.6em .9em;margin:.3em 0;max-width:48em")
        link = f' <a href="{e(self.server)}/c/{e(self.competition)}/leaderboard" target="_blank">leaderboard</a>' \
            if self.server else ""
        if self.status == "complete":
            ci = (f" <span style='color:#59636e'>(95% CI {self.public_ci[0]:.4f}–{self.public_ci[1]:.4f})</span>"
                  if self.public_ci else "")
            cv = (f"<br>cross-validation {self.cv_mean:.5f} ± {self.cv_std or 0:.5f}" if self.cv_mean is not None
                  else "")
            rank = f" — your team is <b>#{self.rank}</b> on the public leaderboard" if self.rank else ""
            return (f"<div style='{box.format(c='#1a7f37')}'>✓ Submission {self.id} to <b>{e(self.competition)}</b>"
                    f" scored <b>{self.public_score:.5f}</b>{ci}{rank}.{cv}{link}</div>")
        if self.status == "invalid":
            rows = "".join(
                f"<tr><td>{'' if p.row is None else p.row}</td><td><code>{e(p.column or '')}</code></td>"
                f"<td>{e(p.message)}</td><td>{e(p.fix)}</td></tr>" for p in self.problems)
            more = f"<p>… and {self.more} more problem(s) of the same kinds.</p>" if self.more else ""
            return (f"<div style='{box.format(c='#cf222e')}'>✗ <b>Not a valid submission</b> — it was not stored "
                    "and did not count against your daily limit. Fix these and submit again:"
                    "<table style='border-collapse:collapse;margin-top:.4em'><thead><tr><th align=left>row</th>"
                    "<th align=left>column</th><th align=left>problem</th><th align=left>how to fix it</th></tr>"
                    f"</thead><tbody>{rows}</tbody></table>{more}</div>")
        if self.status in ("pending", "running"):
            return (f"<div style='{box.format(c='#9a6700')}'>Submission {self.id} to <b>{e(self.competition)}</b> is "
                    f"{e(self.status)}; see <code>compete.submissions({self.competition!r})</code> "
                    f"for its score.{link}</div>")
        return (f"<div style='{box.format(c='#cf222e')}'>✗ Submission {'' if self.id is None else self.id} to "
                f"<b>{e(self.competition)}</b>: {e(self.status)}<pre style='white-space:pre-wrap'>"
                f"{e(self.error or '')}</pre></div>")


# -- configuration ------------------------------------------------------------------------

def _credentials() -> dict[str, Any]:
    from leaderboard.cli import read_credentials

    return read_credentials()


def _config(server: str | None, token: str | None) -> tuple[str, str]:
    creds = _credentials()
    url = (server or os.environ.get("COURSEBENCH_SERVER") or creds.get("server") or DEFAULT_SERVER).rstrip("/")
    tok = token or os.environ.get("COURSEBENCH_TOKEN") or creds.get("token")
    if not tok:
        raise CompeteError("no token: run compete.login('YOUR_TOKEN') once (your instructor gave you the token)")
    return url, tok


def _client(url: str, token: str, timeout: float):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)


def _error(response: Any) -> CompeteError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = body.get("message") or response.text[:300] or f"HTTP {response.status_code}"
    return CompeteError(message, status=response.status_code, code=body.get("error"))


def _request(method: str, path: str, *, server: str | None, token: str | None, timeout: float = 60,
             **kwargs: Any) -> Any:
    import httpx

    url, tok = _config(server, token)
    try:
        with _client(url, tok, timeout) as client:
            return client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise CompeteError(f"cannot reach the leaderboard at {url} ({exc}); is `coursebench serve` running, "
                           "and is the server address right? (compete.login(token, server=...))") from None


def login(token: str, server: str | None = None) -> str:
    """Check the token against the server and save both; returns your name."""
    from leaderboard.cli import write_credentials

    url = (server or os.environ.get("COURSEBENCH_SERVER") or _credentials().get("server") or DEFAULT_SERVER)
    response = _request("GET", "/api/v1/me", server=url, token=token)
    if response.status_code != 200:
        raise _error(response)
    data = _credentials()
    data.update({"token": token, "server": url.rstrip("/")})
    write_credentials(data)
    return str(response.json()["name"])


# -- submitting ---------------------------------------------------------------------------

def _payload(predictions: Any) -> tuple[str, bytes]:
    if isinstance(predictions, (str, Path)):
        path = Path(predictions)
        if not path.is_file():
            raise CompeteError(f"{path} is not a file")
        return path.name, path.read_bytes()
    if hasattr(predictions, "to_csv"):
        buf = io.StringIO()
        predictions.to_csv(buf, index=False)
        return "submission.csv", buf.getvalue().encode()
    if isinstance(predictions, bytes):
        return "submission.csv", predictions
    raise CompeteError("give a pandas DataFrame (with the id column, as in sample_submission.csv), "
                       "or the path of a .csv/.csv.gz/.zip/.ipynb file")


def submit(competition: str, predictions: Any, message: str = "", *, wait: float = 60.0,
           server: str | None = None, token: str | None = None) -> SubmissionResult:
    """Submit a DataFrame of predictions (or a file path) and wait up to ``wait`` seconds
    for the score.  An invalid file comes back as a result with ``status='invalid'`` and
    its ``problems`` (nothing counted); a refusal (daily limit, closed) as ``'refused'``."""
    filename, data = _payload(predictions)
    url, _ = _config(server, token)
    response = _request("POST", f"/api/v1/competitions/{competition}/submissions", server=server, token=token,
                        timeout=wait + 60, params={"wait": min(max(wait, 0), 120)},
                        files={"file": (filename, data)}, data={"message": message})
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code in (200, 201, 202):
        ci = body.get("public_ci")
        return SubmissionResult(competition, body["status"], id=body["id"], public_score=body.get("public_score"),
                                public_ci=tuple(ci) if ci else None, cv_mean=body.get("cv_mean"),
                                cv_std=body.get("cv_std"), rank=body.get("rank"), message=message,
                                error=body.get("error"), server=url, raw=body)
    if response.status_code == 422 and body.get("error") == "submission_invalid":
        problems = [Problem(p.get("row"), p.get("column"), p.get("message", ""), p.get("fix", ""))
                    for p in body.get("problems", [])]
        return SubmissionResult(competition, "invalid", message=message, error=body.get("message"),
                                problems=problems, more=int(body.get("more") or 0), server=url, raw=body)
    if response.status_code in (401, 404):
        raise _error(response)
    return SubmissionResult(competition, "refused", message=message, error=body.get("message") or response.text[:500],
                            server=url, raw=body)


def submissions(competition: str, *, server: str | None = None, token: str | None = None):  # type: ignore[no-untyped-def]
    """Your team's submissions as a pandas DataFrame, newest first."""
    import pandas as pd

    response = _request("GET", f"/api/v1/competitions/{competition}/submissions", server=server, token=token)
    if response.status_code != 200:
        raise _error(response)
    cols = ["id", "created_at", "filename", "message", "status", "public_score", "cv_mean", "private_score",
            "selected", "error"]
    return pd.DataFrame([{c: row.get(c) for c in cols} for row in response.json()], columns=cols)


def leaderboard(competition: str, *, private: bool = False, server: str | None = None,
                token: str | None = None):  # type: ignore[no-untyped-def]
    """The public (or, after the deadline, private) leaderboard as a pandas DataFrame."""
    import pandas as pd

    response = _request("GET", f"/api/v1/competitions/{competition}/leaderboard", server=server, token=token,
                        params={"private": str(private).lower()})
    if response.status_code != 200:
        raise _error(response)
    return pd.DataFrame(response.json()["rows"])
