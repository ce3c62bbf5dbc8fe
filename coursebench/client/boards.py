"""The leaderboard over the REST API: the public one, or the private one after the deadline.

Answers the ``LeaderboardOut`` JSON: ``{"competition", "board", "metric", "direction",
"generated_at", "rows": [{"rank", "team", "members", "score", "ci_low", "ci_high",
"cv_mean", "cv_std", "entries", "last_submission", "tied_with_above", ...}]}``.
"""

from __future__ import annotations

from typing import Any

from .http import json_of, request

__all__ = ["board"]


def board(competition: str, *, private: bool = False, server: str | None = None,
          token: str | None = None) -> dict[str, Any]:
    """Anonymous callers may read the public board; the private one opens at the deadline."""
    return json_of(request("GET", f"/api/v1/competitions/{competition}/leaderboard", server=server, token=token,
                           required=False, params={"private": str(private).lower()}))
