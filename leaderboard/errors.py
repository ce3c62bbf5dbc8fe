"""Exceptions of the leaderboard package.  All derive from :class:`LeaderboardError`.

Errors meant for students read like a helpful TA: what is wrong, where (row, column,
field), and how to fix it.  Every one carries its facts as attributes, so the CLI and
the web app can show them in their own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coursebench.errors import CoursebenchError


class LeaderboardError(CoursebenchError):
    """Root of every error the leaderboard raises on purpose."""

    code = "leaderboard_error"


class SpecError(LeaderboardError):
    """A competition.toml is missing or wrong."""

    code = "spec_error"

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None) -> None:
        self.path, self.field = path, field
        where = ((path or "") + (f" [{field}]" if field else "")).strip()
        super().__init__(f"{where}: {message}" if where else message)


class DataError(LeaderboardError):
    """The competition's data cannot be prepared or read (instructor-side)."""

    code = "data_error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class UnknownMetric(LeaderboardError, ValueError):
    code = "unknown_metric"

    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        super().__init__(f"unknown metric {name!r}; known metrics: {', '.join(known)}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a prediction file.  ``row`` is the 1-based data row (the
    header is not counted; the file line is ``row + 1``), ``None`` for the whole file."""

    message: str
    fix: str = ""
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row} (line {self.row + 1})")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.message
        return text + (f" — {self.fix}" if self.fix else "")

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "fix": self.fix}


class SubmissionInvalid(LeaderboardError, ValueError):
    """A prediction file failed validation.  Nothing was stored and nothing counted."""

    code = "submission_invalid"

    def __init__(self, problems: list[Problem], *, filename: str | None = None, more: int = 0) -> None:
        self.problems, self.filename, self.more = problems, filename, more
        head = f"{filename} is not a valid submission" if filename else "not a valid submission"
        lines = [f"  - {p}" for p in problems]
        if more:
            lines.append(f"  - ... and {more} more problem(s) of the same kinds")
        super().__init__(head + " (it was not counted):\n" + "\n".join(lines))

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "problems": [p.to_dict() for p in self.problems], "more": self.more}


class QuotaExceeded(LeaderboardError):
    code = "quota_exceeded"

    def __init__(self, *, limit: int, used: int, resets_at: str) -> None:
        self.limit, self.used, self.resets_at = limit, used, resets_at
        super().__init__(
            f"you have used all {limit} submissions for today ({used} counted); "
            f"the limit resets at {resets_at}. Invalid files and infrastructure failures do not count."
        )


class NotFound(LeaderboardError, LookupError):
    code = "not_found"

    def __init__(self, kind: str, key: Any, known: list[str] | None = None) -> None:
        self.kind, self.key, self.known = kind, key, known
        extra = f"; known: {', '.join(known)}" if known else ""
        super().__init__(f"no {kind} {key!r}{extra}")


class PermissionDenied(LeaderboardError, PermissionError):
    code = "permission_denied"


class NotAuthenticated(LeaderboardError):
    code = "not_authenticated"


class CompetitionClosed(LeaderboardError):
    code = "competition_closed"

    def __init__(self, slug: str, deadline: str) -> None:
        self.slug, self.deadline = slug, deadline
        super().__init__(f"competition {slug!r} closed at {deadline}; no more submissions or selections")


class CompetitionOpen(LeaderboardError):
    code = "competition_open"

    def __init__(self, slug: str, deadline: str) -> None:
        self.slug, self.deadline = slug, deadline
        super().__init__(f"competition {slug!r} is open until {deadline}; private results come after the deadline")


class TeamError(LeaderboardError):
    code = "team_error"


class SelectionError(LeaderboardError):
    code = "selection_error"


class ScoringError(LeaderboardError):
    """The metric could not be computed on these predictions (Kaggle's "Submission Scoring Error")."""

    code = "scoring_error"
