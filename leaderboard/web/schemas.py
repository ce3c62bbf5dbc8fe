"""The REST API's request and response models.

Responses are built from the services' views with ``Model.model_validate(view)``
(``from_attributes``): a field named like the view's attribute (or property) is read
from it; the few that differ say where they come from (``validation_alias``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AliasPath, BaseModel, BeforeValidator, ConfigDict, Field

MAX_ID = 2**62


class ViewModel(BaseModel):
    """A response model read from a view's attributes."""

    model_config = ConfigDict(from_attributes=True, json_schema_serialization_defaults_required=True)


class ErrorOut(BaseModel):
    error: str
    message: str


class ProblemOut(BaseModel):
    row: int | None = Field(None, description="1-based data row (the header is not counted)")
    column: str | None = None
    message: str
    fix: str = ""


class InvalidOut(ErrorOut):
    problems: list[ProblemOut] = []
    more: int = 0


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no or wrong token"},
    403: {"model": ErrorOut, "description": "not allowed (e.g. private results before the deadline)"},
    404: {"model": ErrorOut, "description": "no such thing (or not yours)"},
}


class MeOut(ViewModel):
    name: str
    display_name: str
    role: str


class CompetitionOut(ViewModel):
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
    folds: int
    dataset_version: str


class FileOut(BaseModel):
    name: str
    size: int | None
    url: str
    sha256: str | None = Field(None, description="hex SHA-256 of the file's bytes (check your download)")


class RowOut(ViewModel):
    rank: int
    team: str
    members: list[str]
    score: float
    ci_low: float | None = Field(None, validation_alias=AliasPath("ci", 0))
    ci_high: float | None = Field(None, validation_alias=AliasPath("ci", 1))
    cv_mean: float | None
    cv_std: float | None
    entries: int
    last_submission: dt.datetime | None
    tied_with_above: bool
    tie_group: int
    model_format: str | None = Field(None, description="efficiency track: keras | tflite, for a model submission")
    model_size_bytes: int | None = Field(None, description="efficiency track: the model file's size")
    latency_ms: float | None = Field(None, description="efficiency track: median CPU ms per batch in the sandbox")
    pareto: bool | None = Field(None, description="efficiency track: on the accuracy/size/latency Pareto front")


class EfficiencyRowOut(ViewModel):
    """The efficiency track's board: each team's best model by the combined score."""

    rank: int
    team: str
    format: str
    accuracy: float
    size_bytes: int
    latency_ms: float = Field(description="median CPU milliseconds per batch on the pinned threads, in the sandbox")
    combined: float = Field(description="accuracy − λ·log10(size/ref) − μ·log10(latency/ref): the spec's formula")
    pareto: bool


def _board_name(private: Any) -> Any:
    return ("private" if private else "public") if isinstance(private, bool) else private


class LeaderboardOut(ViewModel):
    competition: str
    board: Annotated[str, BeforeValidator(_board_name)] = Field(validation_alias="private",
                                                                description="public | private")
    metric: str
    direction: str
    generated_at: dt.datetime
    rows: list[RowOut]
    efficiency: list[EfficiencyRowOut] | None = Field(
        None, description="the efficiency track (competitions with one): ranked by the combined score")


class ShakeRowOut(ViewModel):
    team: str
    public_rank: int
    private_rank: int
    change: int


class ShakeUpOut(ViewModel):
    kendall_tau: float
    mean_abs_change: float
    rows: list[ShakeRowOut]


def _text(value: Any) -> Any:
    return "" if value is None else value


class RunOut(ViewModel):
    fold: int
    status: str
    wall_time: float | None = None
    message: Annotated[str, BeforeValidator(_text)] = ""
    traceback: Annotated[str, BeforeValidator(_text)] = ""


class SubmissionOut(ViewModel):
    id: int
    competition: str
    team: str
    participant: str
    kind: str
    filename: str
    message: str
    status: str = Field(description="pending | running | complete | failed")
    failure_category: str | None
    failure_label: str | None
    error: str | None
    counted: bool
    created_at: dt.datetime
    scored_at: dt.datetime | None
    public_score: float | None
    public_ci: list[float] | None
    cv_mean: float | None
    cv_std: float | None
    cv_folds: list[float] | None
    private_score: float | None = Field(description="null until the deadline (instructors: always)")
    selected: bool
    rank: int | None = Field(None, description="the team's public rank, when just scored")
    runs: list[RunOut] = []


class QuotaOut(ViewModel):
    used: int
    limit: int
    remaining: int
    resets_at: dt.datetime


class ActivityOut(ViewModel):
    participant: str
    display_name: str
    submissions: int
    complete: int
    failed: int
    pending: int
    first: dt.datetime | None
    last: dt.datetime | None
    best_public: float | None
    selected: int


class SelectionIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(max_length=100,
                                                              description="submission ids; replaces the previous choice")


class SelectionOut(BaseModel):
    selected: list[int]


class TeamOut(ViewModel):
    name: str
    leader: str
    members: list[str]
    invites: list[str] = Field(description="participants invited and not yet joined")


class TeamIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="the team's new name (leader only)")


class InviteIn(BaseModel):
    participant: str = Field(min_length=1, max_length=200, description="the invitee's roster id")


class JoinIn(BaseModel):
    team: str = Field(min_length=1, max_length=200, description="the name of the team that invited you")


class ClockIn(BaseModel):
    now: dt.datetime


class ClockOut(BaseModel):
    now: dt.datetime


class ActionOut(BaseModel):
    message: str
    count: int = 0
