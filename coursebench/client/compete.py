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
``files(slug, path)`` downloads the public data; ``select(slug, ids)`` picks your final
submissions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import boards
from .competitions import download
from .http import DEFAULT_SERVER, CompeteError
from .login import login as _login
from .results import Problem, SubmissionResult
from .submitting import SubmitProgress, mine, send
from .submitting import select as _select

__all__ = ["DEFAULT_SERVER", "CompeteError", "Problem", "SubmissionResult", "files", "leaderboard", "login",
           "select", "submissions", "submit"]


def login(token: str, server: str | None = None) -> str:
    """Check the token against the server and save both (mode 600); returns your name.

    Only the server's address and the token are saved — never a database URL (a
    ``database`` entry left by an old version is dropped)."""
    return _login(token, server).name


def submit(competition: str, predictions: Any, message: str = "", *, wait: float = 60.0,
           server: str | None = None, token: str | None = None,
           progress: SubmitProgress | None = None) -> SubmissionResult:
    """Submit a DataFrame of predictions (or a file path) and wait up to ``wait`` seconds
    for the score.  An invalid file comes back as a result with ``status='invalid'`` and
    its ``problems`` (nothing counted); a refusal (daily limit, closed) as ``'refused'``."""
    return send(competition, predictions, message, wait=wait, server=server, token=token,
                             progress=progress)


def select(competition: str, ids: list[int], *, server: str | None = None, token: str | None = None) -> list[int]:
    """Choose your final submissions for the private leaderboard (replaces the previous choice)."""
    return _select(competition, ids, server=server, token=token)


def submissions(competition: str, *, server: str | None = None, token: str | None = None):  # type: ignore[no-untyped-def]
    """Your team's submissions as a pandas DataFrame, newest first."""
    import pandas as pd

    rows = mine(competition, server=server, token=token)
    cols = ["id", "created_at", "filename", "message", "status", "public_score", "cv_mean", "private_score",
            "selected", "error"]
    return pd.DataFrame([{c: row.get(c) for c in cols} for row in rows], columns=cols)


def leaderboard(competition: str, *, private: bool = False, server: str | None = None,
                token: str | None = None):  # type: ignore[no-untyped-def]
    """The public (or, after the deadline, private) leaderboard as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(boards.board(competition, private=private, server=server, token=token)["rows"])


def files(competition: str, path: str | Path = ".", *, server: str | None = None,
          token: str | None = None) -> list[Path]:
    """Download the competition's public data files into ``path`` (checked by SHA-256)."""
    return download(competition, path, server=server, token=token)
