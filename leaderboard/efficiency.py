"""The efficiency track: what is measured of a model submission, the combined score that
ranks the track, and the Pareto front (accuracy ↑, size ↓, latency ↓).

The combined score of the competition's ``[efficiency]`` table (:class:`EfficiencySpec`)::

    combined = accuracy − size_weight · log10(size / size_ref)
                        − latency_weight · log10(latency_ms / latency_ref_ms)

Logarithms because a model ten times smaller (or faster) is what counts, not ten bytes:
with ``size_weight = 0.02``, a 4× smaller file (quantisation) is worth 1.2 points of
accuracy, a 10× smaller one 2 points.  A submission is on the **Pareto front** when no
other model submission is at least as good on all three and better on one.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from .board import LeaderboardView
from .models import Blob, Submission, Team
from .spec import EfficiencySpec


@dataclass(frozen=True)
class Measurement:
    """A model's size and latency, as measured in the sandbox.

    ``latency_ms``, the figure the track ranks by, is the median over the timed batches
    (the lowest of the rounds' medians) of the process's CPU time per batch when the
    probe measured it (with the threads
    pinned to ``threads``, that is the batch's latency on that many dedicated cores, and
    other load on the scoring machine barely moves it: the benchmark's CV over repeated
    scorings is about half the wall clock's), else the wall-clock median; ``wall_ms`` is
    the wall-clock median, ``p90_ms`` and ``cv`` describe the wall-clock batches."""

    format: str
    size_bytes: int
    latency_ms: float
    p90_ms: float
    cv: float                 # coefficient of variation of the timed batches (wall clock)
    batch_size: int
    timed_batches: int
    threads: int
    cpu_ms: float | None = None   # the median CPU time per batch
    wall_ms: float | None = None  # the median wall-clock time per batch

    @classmethod
    def from_times(cls, fmt: str, size: int, times_ms: list[float], *, batch_size: int, threads: int,
                   cpu_ms: list[float] | None = None, rounds: list[int] | None = None) -> Measurement:
        """From the timed batches, in ``rounds`` (their sizes, in order; default one round):
        each figure is the lowest of the rounds' medians, so a burst of other work that
        slowed one round does not count."""
        ordered = sorted(times_ms)
        mean = statistics.fmean(ordered)
        cv = statistics.pstdev(ordered) / mean if mean > 0 else 0.0
        p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
        wall = _best_median(times_ms, rounds)
        cpu = _best_median(cpu_ms, rounds) if cpu_ms else None
        latency = cpu if cpu is not None and cpu > 0 else wall
        return cls(fmt, size, latency, float(p90), float(cv), batch_size, len(ordered), threads, cpu, wall)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Measurement:
        return cls(**json.loads(data))


def _best_median(values: list[float], rounds: list[int] | None) -> float:
    sizes = rounds or [len(values)]
    medians, start = [], 0
    for n in sizes:
        medians.append(statistics.median(values[start:start + n]))
        start += n
    return float(min(medians))


def combined_score(spec: EfficiencySpec, accuracy: float, size_bytes: int, latency_ms: float) -> float:
    """The track's ranking score (higher is better); see the module docstring."""
    size_term = spec.size_weight * math.log10(max(size_bytes, 1) / spec.size_ref_bytes)
    latency_term = spec.latency_weight * math.log10(max(latency_ms, 1e-6) / spec.latency_ref_ms)
    return accuracy - size_term - latency_term


def _dominates(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
    """``a`` (accuracy, size, latency) at least as good as ``b`` everywhere, better somewhere."""
    no_worse = a[0] >= b[0] and a[1] <= b[1] and a[2] <= b[2]
    return no_worse and (a[0] > b[0] or a[1] < b[1] or a[2] < b[2])


def pareto_front(points: dict[int, tuple[float, float, float]]) -> set[int]:
    """Keys of the points (accuracy, size, latency) no other point dominates."""
    return {k for k, p in points.items() if not any(_dominates(q, p) for j, q in points.items() if j != k)}


@dataclass(frozen=True)
class EfficiencyRow:
    rank: int
    team: str
    submission_id: int
    format: str
    accuracy: float
    size_bytes: int
    latency_ms: float
    combined: float
    pareto: bool


@dataclass(frozen=True)
class ModelScore:
    """One completed model submission, as the board reads it."""

    submission_id: int
    team: str
    accuracy: float
    measurement: Measurement


def efficiency_rows(spec: EfficiencySpec, scores: list[ModelScore]) -> list[EfficiencyRow]:
    """Each team's best model submission by combined score, ranked; ``pareto`` marks the
    rows whose submission is on the front of all the competition's model submissions."""
    front = pareto_front({s.submission_id: (s.accuracy, s.measurement.size_bytes, s.measurement.latency_ms)
                          for s in scores})
    best: dict[str, tuple[float, ModelScore]] = {}
    for s in scores:
        value = combined_score(spec, s.accuracy, s.measurement.size_bytes, s.measurement.latency_ms)
        held = best.get(s.team)
        if held is None or (value, -s.submission_id) > (held[0], -held[1].submission_id):
            best[s.team] = (value, s)
    ordered = sorted(best.values(), key=lambda vs: (-vs[0], vs[1].submission_id))
    return [EfficiencyRow(rank=i, team=s.team, submission_id=s.submission_id, format=s.measurement.format,
                          accuracy=s.accuracy, size_bytes=s.measurement.size_bytes,
                          latency_ms=s.measurement.latency_ms, combined=value, pareto=s.submission_id in front)
            for i, (value, s) in enumerate(ordered, start=1)]


def load_model_scores(s: Session, competition_id: int, *, private: bool) -> list[ModelScore]:
    """The competition's completed model submissions with their measurements (the
    released public accuracy, or the private one for the private board)."""
    accuracy = Submission.private_score if private else Submission.public_released
    rows = s.execute(select(Submission.id, Team.name, accuracy, Blob.data)
                     .join(Team, Team.id == Submission.team_id)
                     .join(Blob, (Blob.submission_id == Submission.id) & (Blob.kind == "efficiency"))
                     .where(Submission.competition_id == competition_id, Submission.kind == "model",
                            Submission.status == "complete"))
    return [ModelScore(sid, team, float(acc), Measurement.from_json(data))
            for sid, team, acc, data in rows if acc is not None]


def with_efficiency(view: LeaderboardView, spec: EfficiencySpec, scores: list[ModelScore]) -> LeaderboardView:
    """The board with the efficiency track: each row whose chosen submission is a model
    gets its size and latency, and ``view.efficiency`` ranks the track."""
    by_id = {sc.submission_id: sc for sc in scores}
    rows = efficiency_rows(spec, scores)
    front = {r.submission_id for r in rows if r.pareto}
    marked = []
    for row in view.rows:
        sc = by_id.get(row.submission_id)
        if sc is not None:
            row = replace(row, model_format=sc.measurement.format, model_size_bytes=sc.measurement.size_bytes,
                          latency_ms=sc.measurement.latency_ms, pareto=row.submission_id in front)
        marked.append(row)
    return replace(view, rows=marked, efficiency=rows)
