"""What the services layer returns: plain, frozen dataclasses holding only what the
caller may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParticipantView:
    id: int
    name: str
    display_name: str
    role: str

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"


@dataclass(frozen=True)
class CompetitionView:
    slug: str
    title: str
    description: str
    task: str
    metric: str
    direction: str
    deadline: dt.datetime
    is_open: bool
    closed: bool
    daily_limit: int
    final_selections: int
    team_size: int
    submission_types: list[str]
    release: str
    dataset_version: str
    folds: int


@dataclass(frozen=True)
class QuotaView:
    used: int
    limit: int
    resets_at: dt.datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True)
class SubmissionView:
    id: int
    competition: str
    team: str
    participant: str
    kind: str
    filename: str
    message: str
    status: str
    failure_category: str | None
    failure_label: str | None
    error: str | None
    counted: bool
    created_at: dt.datetime
    scored_at: dt.datetime | None
    public_score: float | None
    public_ci: tuple[float, float] | None
    cv_mean: float | None
    cv_std: float | None
    cv_folds: list[float] | None
    private_score: float | None
    selected: bool
    dataset_version: str
    image: str | None
    versions: dict[str, str] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
