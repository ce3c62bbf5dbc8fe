"""``coursebench compete integrity SLUG``: teams whose predictions agree far more than
their scores explain, and notebook submissions that share code.

**Predictions.**  Each team's submission that counts (the one on the private
leaderboard) is compared with every other team's, on the public rows and on the private
rows separately:

- *labels* (accuracy, F1, kappa; map@k's first guess): the share of rows where the two
  give the same label, against the share two teams would have if each erred
  independently of the other with its own accuracy on each class (its confusion matrix);
  the **excess** ``(agree - expected) / (1 - expected)`` is 0 for independent teams and 1
  for identical answers.  The same wrong answers are counted too: two good models agree
  where they are right; copies also agree where they are wrong.
- *numbers* (regression, probabilities): the correlation of the two teams' residuals
  (prediction − truth) against that of a typical pair of this competition (the median
  pair), as the same kind of excess — or the share of rows with identical values, when
  that is higher.

A pair's **score** is the smaller of its public and private excess: copied predictions
agree on the private part too.  It is flagged from ``threshold`` on.

**Code.**  Notebook submissions are compared as the labs are
(:mod:`coursebench.integrity`), the competition's ``baseline.ipynb`` being the released
skeleton.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from coursebench.integrity.fingerprint import Document, all_kgrams, fingerprint_cells
from coursebench.integrity.model import IntegrityReport, Plot, Section
from coursebench.integrity.report import code_section
from coursebench.integrity.similarity import CodeSettings, GroupResult, compare

from .data import Dataset
from .models import Blob, Competition, Submission, Team
from .services.blobs import from_parquet

if TYPE_CHECKING:
    from .services import Service

PREDICTION_COLUMNS = ["rank", "a", "b", "a_members", "b_members", "a_submission", "b_submission",
                      "a_public", "a_private", "b_public", "b_private", "agree_public", "expected_public",
                      "excess_public", "agree_private", "expected_private", "excess_private", "same_wrong",
                      "expected_same_wrong", "identical_rows", "score", "flagged"]
EXAMPLES = 8


@dataclass(frozen=True)
class PredictionSettings:
    threshold: float = 0.8
    """Flag a pair whose excess agreement is at least this on the public and the private rows."""
    tolerance: float = 1e-9
    """Two numbers are identical within this (times the spread of the truth)."""


@dataclass
class TeamPredictions:
    team: str
    members: list[str]
    submission: int
    public: float
    private: float
    values: np.ndarray


@dataclass
class CompetitionIntegrity:
    slug: str
    teams: list[TeamPredictions]
    predictions: Section
    code: GroupResult | None
    report: IntegrityReport
    notes: list[str] = field(default_factory=list)


# -- predictions -------------------------------------------------------------------------------

def _labels(ds: Dataset, values: np.ndarray) -> np.ndarray | None:
    """Hard labels (codes) when the metric takes labels; None for numbers."""
    kind = ds.spec.metric_obj().kind
    if kind == "label":
        return values.astype(np.int64)
    if kind == "ranking":
        return (values[:, 0] if values.ndim == 2 else values).astype(np.int64)
    return None


def _numeric(ds: Dataset, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, residuals), both rows × columns: probabilities against the one-hot truth,
    numbers against the truth."""
    v = values.astype(float).reshape(len(values), -1)
    if ds.spec.is_classification:
        if v.shape[1] == 1:  # binary: P(positive)
            truth = (ds.truth == ds.positive_code).astype(float)[:, None]
        else:
            truth = np.eye(len(ds.labels))[ds.truth]
        return v, v - truth
    return v, v - ds.truth.astype(float)[:, None]


def _confusion(truth: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """P(label j | truth c), classes × classes (+1 column for 'no guess')."""
    width = classes + 1
    counts = np.bincount(truth * width + np.where(labels < 0, classes, labels),
                         minlength=classes * width).reshape(classes, width).astype(float)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


STRATA = 4
"""Rows are put in this many bands of difficulty (the share of the other teams that get
them wrong) when there are at least :data:`MIN_OTHERS` other teams."""
MIN_OTHERS = 3


def _expected(prior: np.ndarray, ca: np.ndarray, cb: np.ndarray) -> tuple[float, float]:
    """Agreement, and agreement on a wrong label, of two independent predictors with these
    confusion matrices on rows with these class frequencies."""
    joint = ca * cb
    both = joint.sum(axis=1)
    right = joint[np.arange(len(prior)), np.arange(len(prior))]
    return float(prior @ both), float(prior @ (both - right))


def _label_part(ds: Dataset, rows: np.ndarray, labels: list[np.ndarray]) -> dict[tuple[int, int], dict]:
    truth = ds.truth[rows].astype(np.int64)
    classes = len(ds.labels)
    preds = [lab[rows] for lab in labels]
    wrong = np.array([p != truth for p in preds], dtype=np.int64) if preds else np.zeros((0, len(rows)))
    wrong_total = wrong.sum(axis=0)
    others = len(preds) - 2
    out = {}
    for i in range(len(preds)):
        for j in range(i + 1, len(preds)):
            a, b = preds[i], preds[j]
            # how hard each row is for the other teams: two good models agree on the easy rows
            # and are often both wrong on the hard ones; the expected agreement counts that
            if others >= MIN_OTHERS:
                hard = (wrong_total - wrong[i] - wrong[j]) / others
                band = np.minimum((hard * STRATA).astype(np.int64), STRATA - 1)
            else:
                band = np.zeros(len(rows), dtype=np.int64)
            expected = expected_wrong = 0.0
            for k in np.unique(band):
                here = band == k
                t = truth[here]
                prior = np.bincount(t, minlength=classes) / len(t)
                e, w = _expected(prior, _confusion(t, a[here], classes), _confusion(t, b[here], classes))
                share = here.mean()
                expected += share * e
                expected_wrong += share * w
            same = a == b
            agree = float(same.mean()) if len(same) else 0.0
            excess = (agree - expected) / (1 - expected) if expected < 1 - 1e-12 else 0.0
            out[(i, j)] = {"agree": agree, "expected": expected, "excess": excess,
                           "same_wrong": int((same & (a != truth)).sum()),
                           "either_wrong": int(((a != truth) | (b != truth)).sum()),
                           "expected_same_wrong": expected_wrong * len(truth)}
    return out


def _numeric_part(ds: Dataset, rows: np.ndarray, numeric: list[tuple[np.ndarray, np.ndarray]],
                  tolerance: float) -> dict[tuple[int, int], dict]:
    scale = 1.0 if ds.spec.is_classification else float(np.std(ds.truth)) or 1.0
    residuals = np.array([r[rows].ravel() for _, r in numeric])
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.nan_to_num(np.corrcoef(residuals)) if len(numeric) > 1 else np.ones((1, 1))
    upper = rho[np.triu_indices(len(numeric), 1)]
    reference = float(np.median(upper)) if len(numeric) >= 3 else 0.0
    reference = min(reference, 0.999)
    out = {}
    for i in range(len(numeric)):
        for j in range(i + 1, len(numeric)):
            close = np.all(np.abs(numeric[i][0][rows] - numeric[j][0][rows]) <= tolerance * scale, axis=1)
            identical = float(close.mean()) if len(close) else 0.0
            corr = float(rho[i, j])
            excess = max(identical, (corr - reference) / (1 - reference))
            out[(i, j)] = {"agree": corr, "expected": reference, "excess": excess, "identical": identical}
    return out


def _examples(ds: Dataset, a: np.ndarray, b: np.ndarray, labels: bool) -> str:
    """A few test ids where the two give the same wrong label (or identical numbers)."""
    if labels:
        rows = np.flatnonzero((a == b) & (a != ds.truth))[:EXAMPLES]
        names = ds.labels + ["(none)"]
        return "; ".join(f"id {ds.ids[r]}: both {names[a[r]]!r}, truth {names[ds.truth[r]]!r}" for r in rows)
    rows = np.flatnonzero(np.all(a.reshape(len(a), -1) == b.reshape(len(b), -1), axis=1))[:EXAMPLES]
    return "; ".join(f"id {ds.ids[r]}: both {np.round(a[r], 6).tolist()}" for r in rows)


def prediction_section(ds: Dataset, teams: list[TeamPredictions], settings: PredictionSettings,
                       times: dict[int, str]) -> Section:
    labels = [_labels(ds, t.values) for t in teams]
    use_labels = bool(teams) and labels[0] is not None
    parts = {"public": np.flatnonzero(ds.public), "private": np.flatnonzero(~ds.public)}
    stats = {}
    for part, rows in parts.items():
        if use_labels:
            stats[part] = _label_part(ds, rows, labels)  # type: ignore[arg-type]
        else:
            stats[part] = _numeric_part(ds, rows, [_numeric(ds, t.values) for t in teams], settings.tolerance)
    rows_out, facts = [], {}
    pairs = [(i, j) for i in range(len(teams)) for j in range(i + 1, len(teams))]
    for i, j in pairs:
        pub, priv = stats["public"][(i, j)], stats["private"][(i, j)]
        a, b = teams[i], teams[j]
        score = min(pub["excess"], priv["excess"])
        rows_out.append({
            "a": a.team, "b": b.team, "a_members": " ".join(a.members), "b_members": " ".join(b.members),
            "a_submission": a.submission, "b_submission": b.submission, "a_public": a.public,
            "a_private": a.private, "b_public": b.public, "b_private": b.private,
            "agree_public": round(pub["agree"], 4), "expected_public": round(pub["expected"], 4),
            "excess_public": round(pub["excess"], 4), "agree_private": round(priv["agree"], 4),
            "expected_private": round(priv["expected"], 4), "excess_private": round(priv["excess"], 4),
            "same_wrong": pub.get("same_wrong", 0) + priv.get("same_wrong", 0) if use_labels else None,
            "expected_same_wrong": round(pub["expected_same_wrong"] + priv["expected_same_wrong"], 1)
            if use_labels else None,
            "identical_rows": None if use_labels else round(min(pub["identical"], priv["identical"]), 4),
            "score": round(score, 4), "flagged": score >= settings.threshold, "_pair": (i, j)})
    rows_out.sort(key=lambda r: (-r["score"], r["a"], r["b"]))
    for rank, row in enumerate(rows_out, 1):
        row["rank"] = rank
        i, j = row.pop("_pair")
        if row["flagged"] or rank <= 10:
            facts[rank - 1] = _facts(ds, row, teams[i], teams[j], stats, (i, j), use_labels, times)
    what = ("the same label" if use_labels else "correlated residuals")
    intro = [
        "Each row is a pair of teams, compared on the predictions that count for them (their "
        "submission on the private leaderboard), on the public rows and on the private rows separately.",
        ("agree: the share of rows with the same label; expected: the share two teams with these accuracies "
         "(per class) would have if their errors were independent; excess = (agree − expected) / "
         "(1 − expected): 0 for independent teams, 1 for identical answers. same_wrong counts the rows where "
         "both give the same wrong label." if use_labels else
         "agree: the correlation of the two teams' residuals (prediction − truth); expected: that of the "
         "median pair of this competition; excess = (agree − expected) / (1 − expected), or the share of "
         "rows with identical values when higher."),
        f"score = the smaller of the public and private excess; flagged from {settings.threshold:g}. "
        "Two strong models agree a lot where both are right: what they share where they are wrong is "
        f"the stronger evidence. {len(teams)} teams, {len(rows_out)} pairs ({what}).",
    ]
    plot = Plot("scatter", [r["excess_public"] for r in rows_out], [r["flagged"] for r in rows_out],
                y=[r["excess_private"] for r in rows_out], labels=[f"{r['a']}–{r['b']}" for r in rows_out],
                threshold=settings.threshold, xlabel="excess agreement, public rows",
                ylabel="excess agreement, private rows", title="Predictions: every pair of teams")
    shown = ["rank", "a", "b", "a_private", "b_private", "agree_public", "expected_public", "excess_public",
             "agree_private", "expected_private", "excess_private",
             *(["same_wrong", "expected_same_wrong"] if use_labels else ["identical_rows"]), "score", "flagged"]
    return Section("predictions", "Predictions that agree more than the scores explain", intro,
                   PREDICTION_COLUMNS, rows_out, plot, facts=facts, shown=shown)


def _facts(ds: Dataset, row: dict, a: TeamPredictions, b: TeamPredictions, stats: dict, pair: tuple[int, int],
           use_labels: bool, times: dict[int, str]) -> list[tuple[str, str]]:
    out = [("submissions", f"{a.team}: #{a.submission} ({times.get(a.submission, '?')}), "
                           f"{b.team}: #{b.submission} ({times.get(b.submission, '?')})"),
           ("scores (public / private)", f"{a.team}: {a.public:.4f} / {a.private:.4f}; "
                                         f"{b.team}: {b.public:.4f} / {b.private:.4f}")]
    for part in ("public", "private"):
        s = stats[part][pair]
        if use_labels:
            out.append((f"{part} rows", f"same label on {s['agree']:.1%} (expected {s['expected']:.1%} if "
                                        f"independent) → excess {s['excess']:.2f}; the same wrong label on "
                                        f"{s['same_wrong']} of the {s['either_wrong']} rows either got wrong "
                                        f"(expected {s['expected_same_wrong']:.1f})"))
        else:
            out.append((f"{part} rows", f"residual correlation {s['agree']:.3f} (median pair {s['expected']:.3f}), "
                                        f"identical values on {s['identical']:.1%} → excess {s['excess']:.2f}"))
    if use_labels:
        la, lb = _labels(ds, a.values), _labels(ds, b.values)
        example = _examples(ds, la, lb, True)  # type: ignore[arg-type]
        out.append(("the same wrong answers", example or "none"))
    else:
        out.append(("identical values", _examples(ds, a.values, b.values, False) or "none"))
    return out


# -- reading what was submitted ----------------------------------------------------------------

def counted_predictions(svc: Service, slug: str) -> tuple[list[TeamPredictions], dict[int, str]]:
    """Each team's submission on the private leaderboard, with its predictions."""
    board = svc.leaderboard(slug, private=True)  # trusted code: the instructor's view
    ids = [r.submission_id for r in board.rows]
    with svc.db.read() as s:
        blobs = dict(s.execute(select(Blob.submission_id, Blob.data).where(
            Blob.submission_id.in_(ids), Blob.kind == "predictions")).all()) if ids else {}
        times = {sid: when.strftime("%Y-%m-%d %H:%M UTC") for sid, when in s.execute(
            select(Submission.id, Submission.created_at).where(Submission.id.in_(ids))).all()} if ids else {}
    teams = [TeamPredictions(r.team, list(r.members), r.submission_id, r.public_score, r.score,
                             from_parquet(blobs[r.submission_id]))
             for r in board.rows if r.submission_id in blobs]
    return teams, times


def notebook_documents(svc: Service, slug: str, settings: CodeSettings) -> tuple[list[Document], list[str]]:
    """Every notebook submission of the competition, its code cells fingerprinted."""
    notes: list[str] = []
    docs = []
    with svc.db.read() as s:
        comp_id = s.scalar(select(Competition.id).where(Competition.slug == slug))
        rows = s.execute(select(Submission.id, Team.name, Blob.data)
                         .join(Team, Team.id == Submission.team_id)
                         .join(Blob, (Blob.submission_id == Submission.id) & (Blob.kind == "notebook"))
                         .where(Submission.competition_id == comp_id, Submission.kind == "notebook")
                         .order_by(Submission.id)).all()
    for sub_id, team, data in rows:
        try:
            nb = json.loads(data.decode("utf-8-sig"))
            cells = [c for c in nb.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
        except (ValueError, AttributeError) as exc:
            notes.append(f"notebook submission #{sub_id} of {team} left out: {exc}")
            continue
        sources = [(f"#{sub_id} cell {n + 1}", _source(c)) for n, c in enumerate(cells) if _source(c).strip()]
        docs.append(fingerprint_cells(f"#{sub_id}", team, sources, k=settings.k, w=settings.w,
                                      label=f"submission #{sub_id}"))
    return docs, notes


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _baseline(ds: Dataset) -> list[str]:
    path = ds.root / "baseline.ipynb"
    if not path.is_file():
        return []
    try:
        nb = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return []
    return [_source(c) for c in nb.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]


def competition_integrity(svc: Service, slug: str, *, settings: PredictionSettings | None = None,
                          code: CodeSettings | None = None) -> CompetitionIntegrity:
    """The integrity report of a competition (instructors only: it reads every team's
    predictions and private scores)."""
    settings = settings or PredictionSettings()
    code = code or CodeSettings()
    ds = svc.dataset(slug)
    teams, times = counted_predictions(svc, slug)
    notes: list[str] = []
    if len(teams) < 2:
        notes.append(f"{len(teams)} team(s) on the private leaderboard: no pair of predictions to compare")
    section = prediction_section(ds, teams, settings, times)
    docs, more = notebook_documents(svc, slug, code)
    notes += more
    sections = [section]
    result = None
    if docs:
        result = compare(docs, all_kgrams(_baseline(ds), code.k), code, group=slug)
        sections.append(code_section([result], code, title="Notebook submissions that share code",
                                     what="notebook submission", documents=True))
    report = IntegrityReport(
        title=f"Integrity report — {slug}",
        subject=f"{len(teams)} teams on the private leaderboard, {len(docs)} notebook submission(s); "
                f"metric {ds.spec.metric}",
        sections=sections, notes=notes,
        settings={"prediction threshold": settings.threshold, "code threshold": code.threshold})
    return CompetitionIntegrity(slug, teams, section, result, report, notes)
