"""Submit to a competition from JupyterLab, through the course server's REST API::

    from coursebench import compete
    compete.login("YOUR_TOKEN", server="http://127.0.0.1:8000")   # once; saved (mode 600)
    compete.submit("midterm", predictions_df, message="random forest, 500 trees")

``submit`` returns a :class:`SubmissionResult` that Jupyter shows as a small card: the
new public score and rank, or — when the file is not valid — each problem with its row,
column and how to fix it.  The token and server come from the same credentials file as
``coursebench compete login`` (``~/.config/coursebench/credentials.json``), or from the
``COURSEBENCH_TOKEN`` / ``COURSEBENCH_SERVER`` environment variables.

``submissions`` and ``leaderboard`` answer pandas DataFrames (pandas is imported then,
not before: the client itself needs only the standard library and httpx).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .credentials import read_credentials, write_credentials
from .http import DEFAULT_SERVER, CompeteError, config, error_from, request, server_url
from .results import Problem, SubmissionResult

__all__ = ["DEFAULT_SERVER", "CompeteError", "Problem", "SubmissionResult", "leaderboard", "login", "submissions",
           "submit"]


def login(token: str, server: str | None = None) -> str:
    """Check the token against the server and save both; returns your name."""
    url = server_url(server)
    response = request("GET", "/api/v1/me", server=url, token=token)
    if response.status_code != 200:
        raise error_from(response)
    data = read_credentials()
    data.update({"token": token, "server": url})
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
    url, _ = config(server, token)
    response = request("POST", f"/api/v1/competitions/{competition}/submissions", server=server, token=token,
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
        raise error_from(response)
    return SubmissionResult(competition, "refused", message=message, error=body.get("message") or response.text[:500],
                            server=url, raw=body)


def submissions(competition: str, *, server: str | None = None, token: str | None = None):  # type: ignore[no-untyped-def]
    """Your team's submissions as a pandas DataFrame, newest first."""
    import pandas as pd

    response = request("GET", f"/api/v1/competitions/{competition}/submissions", server=server, token=token)
    if response.status_code != 200:
        raise error_from(response)
    cols = ["id", "created_at", "filename", "message", "status", "public_score", "cv_mean", "private_score",
            "selected", "error"]
    return pd.DataFrame([{c: row.get(c) for c in cols} for row in response.json()], columns=cols)


def leaderboard(competition: str, *, private: bool = False, server: str | None = None,
                token: str | None = None):  # type: ignore[no-untyped-def]
    """The public (or, after the deadline, private) leaderboard as a pandas DataFrame."""
    import pandas as pd

    response = request("GET", f"/api/v1/competitions/{competition}/leaderboard", server=server, token=token,
                       params={"private": str(private).lower()})
    if response.status_code != 200:
        raise error_from(response)
    return pd.DataFrame(response.json()["rows"])
