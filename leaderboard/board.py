"""Building leaderboards from stored scores: public (best released public score per
team), private (the team's final selections, else its best public ones), statistical
ties by paired bootstrap between neighbours, and the shake-up report.

Everything here comes from the database: scores, and the bootstrap replicates the scorer
stored (:mod:`leaderboard.replicates`) for ties and private intervals — never the hidden
truth, so the web process that builds boards needs no ``data/private``."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import replicates as reps
from .models import Participant, Submission, Team, TeamMember
from .spec import CompetitionSpec
from .stats import kendall_tau

TIE_BOOTSTRAP = 500


@dataclass(frozen=True)
class Scored:
    id: int
    created_at: dt.datetime
    public: float            # the released public score
    private: float
    ci: tuple[float, float] | None
    cv_mean: float | None
    cv_std: float | None
    selected: bool


@dataclass
class Entry:
    team_id: int
    team: str
    members: list[str]
    entries: int
    last_submission: dt.datetime | None
    scored: list[Scored] = field(default_factory=list)


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    team_id: int
    team: str
    members: list[str]
    submission_id: int
    score: float
    ci: tuple[float, float] | None
    public_score: float
    cv_mean: float | None
    cv_std: float | None
    entries: int
    last_submission: dt.datetime | None
    submitted_at: dt.datetime
    tied_with_above: bool
    tie_group: int
    # the efficiency track (leaderboard.efficiency): set when the row's submission is a saved model
    model_format: str | None = None
    model_size_bytes: int | None = None
    latency_ms: float | None = None
    pareto: bool | None = None


@dataclass(frozen=True)
class LeaderboardView:
    competition: str
    private: bool
    metric: str
    direction: str
    rows: list[LeaderboardRow]
    generated_at: dt.datetime
    efficiency: list[Any] | None = None
    """The efficiency track's rows (:class:`leaderboard.efficiency.EfficiencyRow`), ranked by
    the combined score; None for a competition without one."""
    complete: bool = True
    """False while some rows' bootstrap replicates are not stored yet (scored before they
    were): those rows show no tie and no private interval, and caches build it again."""

    def row_of(self, team: str) -> LeaderboardRow | None:
        return next((r for r in self.rows if r.team == team), None)


@dataclass(frozen=True)
class ShakeRow:
    team: str
    public_rank: int
    private_rank: int

    @property
    def change(self) -> int:
        """Places gained (positive) or lost (negative) from public to private."""
        return self.public_rank - self.private_rank


@dataclass(frozen=True)
class ShakeUp:
    rows: list[ShakeRow]
    kendall_tau: float

    @property
    def mean_abs_change(self) -> float:
        return float(np.mean([abs(r.change) for r in self.rows])) if self.rows else 0.0


class BoardCache:
    """Tie flags and private CIs for a given set of chosen submissions (they only change
    when new submissions are scored)."""

    def __init__(self) -> None:
        self._data: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, make: Callable[[], object]) -> object:
        with self._lock:
            if key in self._data:
                return self._data[key]
        value = make()
        with self._lock:
            if len(self._data) > 256:
                self._data.clear()
            self._data[key] = value
        return value

    def discard(self, key: tuple) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def load_entries(s: Session, competition_id: int) -> list[Entry]:
    teams = {t.id: t for t in s.scalars(select(Team).where(Team.competition_id == competition_id))}
    members: dict[int, list[str]] = {}
    for team_id, name in s.execute(select(TeamMember.team_id, Participant.name)
                                   .join(Participant, Participant.id == TeamMember.participant_id)
                                   .where(TeamMember.competition_id == competition_id)
                                   .order_by(Participant.name)):
        members.setdefault(team_id, []).append(name)
    counts = dict(s.execute(select(Submission.team_id, func.count()).where(
        Submission.competition_id == competition_id).group_by(Submission.team_id)).all())
    last = dict(s.execute(select(Submission.team_id, func.max(Submission.created_at)).where(
        Submission.competition_id == competition_id).group_by(Submission.team_id)).all())
    entries: dict[int, Entry] = {}
    rows = s.execute(select(Submission.id, Submission.team_id, Submission.created_at, Submission.public_released,
                            Submission.private_score, Submission.public_ci_low, Submission.public_ci_high,
                            Submission.cv_mean, Submission.cv_std, Submission.selected)
                     .where(Submission.competition_id == competition_id, Submission.status == "complete"))
    for sid, team_id, created, pub, priv, lo, hi, cvm, cvs, sel in rows:
        if pub is None or priv is None or team_id not in teams:
            continue
        entry = entries.get(team_id)
        if entry is None:
            lst = last.get(team_id)
            if lst is not None and lst.tzinfo is None:
                lst = lst.replace(tzinfo=dt.timezone.utc)
            entry = entries[team_id] = Entry(team_id, teams[team_id].name, members.get(team_id, []),
                                             int(counts.get(team_id, 0)), lst)
        entry.scored.append(Scored(sid, created, pub, priv, (lo, hi) if lo is not None and hi is not None else None,
                                   cvm, cvs, bool(sel)))
    return list(entries.values())


def _best(entry: Entry, key: Callable[[Scored], float]) -> Scored:
    return min(entry.scored, key=lambda sc: (key(sc), sc.created_at, sc.id))


def build(spec: CompetitionSpec, version: str, entries: list[Entry], *, private: bool, cache: BoardCache,
          replicates: Callable[[list[int]], dict[int, reps.Replicates]], now: dt.datetime,
          plain: bool = True) -> LeaderboardView:
    """The board of ``entries``; ``replicates(ids)`` gives the stored bootstrap
    replicates of those submissions on this dataset ``version`` (one missing — scored
    before they were stored, or on an earlier version until ``compete rescore`` — shows no
    tie and no private interval)."""
    metric = spec.metric_obj()
    chosen: list[tuple[Entry, Scored]] = []
    for entry in entries:
        if not entry.scored:
            continue
        if not private:
            chosen.append((entry, _best(entry, lambda sc: metric.sort_key(sc.public))))
            continue
        finals = [sc for sc in entry.scored if sc.selected]
        if not finals:  # Kaggle's default: the best public ones
            finals = sorted(entry.scored, key=lambda sc: (metric.sort_key(sc.public), sc.created_at, sc.id))
            finals = finals[: spec.final_selections]
        best = min(finals, key=lambda sc: (metric.sort_key(sc.private), sc.created_at, sc.id))
        chosen.append((entry, best))

    def value(sc: Scored) -> float:
        return sc.private if private else sc.public

    chosen.sort(key=lambda pair: (metric.sort_key(value(pair[1])), pair[1].created_at, pair[1].id))
    ids = tuple(sc.id for _, sc in chosen)
    n_boot = min(spec.bootstrap, TIE_BOOTSTRAP)

    def stats() -> tuple[list[bool], dict[int, tuple[float, float]], bool]:
        if not (plain or private):
            return [False] * len(ids), {}, True  # the Ladder releases no more than it must
        found = replicates(list(ids)) if ids else {}
        vectors = [found[i].of(private) if i in found else None for i in ids]
        flags = [False] + [a is not None and b is not None and reps.tied(a, b, n_boot)
                           for a, b in pairwise(vectors)]
        cis = {i: reps.interval(v) for i, v in zip(ids, vectors, strict=True) if v is not None} if private else {}
        return flags, cis, len(found) == len(ids)

    key = ("board", version, private, plain, ids)
    made = cache.get(key, stats)
    assert isinstance(made, tuple)
    flags, cis, complete = made
    if not complete:
        cache.discard(key)  # some replicates are not stored yet: look again next time
    rows = []
    group = 0
    for rank, ((entry, sc), tied) in enumerate(zip(chosen, flags, strict=False), start=1):
        if not tied:
            group += 1
        rows.append(LeaderboardRow(
            rank=rank, team_id=entry.team_id, team=entry.team, members=entry.members, submission_id=sc.id,
            score=value(sc), ci=cis.get(sc.id) if private else (sc.ci if plain else None), public_score=sc.public,
            cv_mean=sc.cv_mean, cv_std=sc.cv_std, entries=entry.entries, last_submission=entry.last_submission,
            submitted_at=sc.created_at, tied_with_above=tied, tie_group=group))
    return LeaderboardView(spec.slug, private, metric.name, metric.direction, rows, now, complete=complete)


def shakeup(public: LeaderboardView, private: LeaderboardView) -> ShakeUp:
    pub = {r.team_id: r.rank for r in public.rows}
    rows = [ShakeRow(r.team, pub[r.team_id], r.rank) for r in private.rows if r.team_id in pub]
    tau = kendall_tau([r.public_rank for r in rows], [r.private_rank for r in rows])
    return ShakeUp(rows, tau)
