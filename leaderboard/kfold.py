"""Score a notebook submission by running it K+1 times in the sandbox.

Fold ``k`` runs see ``train.csv`` = the training rows outside fold ``k`` (with labels)
and ``test.csv`` = the features of fold ``k``'s rows only; the labels of the held-out
fold never enter the sandbox.  The full run sees all of ``train.csv`` and the public
``test.csv``.  Every run gets the papermill parameters ``train_path``, ``test_path``,
``output_path`` and ``fold`` (-1 for the full run) and must write a prediction file at
``output_path`` in the competition's submission format.

The runs go to :func:`coursebench.execution.run_many` together, so folds run
concurrently: as one group per slot (:func:`~coursebench.execution.split_separate`), its
runs one after another in one sandbox whose template imported the notebook's libraries
once, each run seeing only its own fold's files (``JobGroup(separate_files=True)``).  On a
Dask cluster every run is a job of its own.  Only CSV files come back from the sandbox;
nothing is unpickled.

A prediction file is scored only if it is the one the run produced: the sandbox's worker
hashes it once nothing of the notebook runs any more (every process it started is
killed first) and sends the hash over its private channel; a file that does not match
(rewritten later, or not there when the run ended) is not scored.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coursebench.execution import (
    ExecutionResult,
    Job,
    Limits,
    ProgressCallback,
    SlotPool,
    run_many,
    split_separate,
)

from .data import Dataset
from .errors import ScoringError, SubmissionInvalid
from .scoring import CVScores, Scores, cv_score, score
from .validation import SubmissionFormat, validate

OUTPUT = "submission.csv"
FULL = -1

#: Kaggle's categories of notebook failures, and whether the student caused them.
CATEGORIES: dict[str, tuple[str, bool]] = {
    "timeout": ("Notebook Timeout", True),
    "memory": ("Notebook Exceeded Allowed Compute (memory)", True),
    "exception": ("Notebook Threw Exception", True),
    "output_not_found": ("Submission CSV Not Found", True),
    "scoring_error": ("Submission Scoring Error", True),
    "invalid_notebook": ("Notebook Cannot Be Run", True),
    "infrastructure": ("Infrastructure Failure (not counted)", False),
    "invalid_model": ("Model Cannot Be Used (not counted)", True),  # the efficiency track's saved models
}


@dataclass
class RunReport:
    fold: int
    status: str
    wall_time: float
    message: str = ""
    traceback: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"fold": self.fold, "status": self.status, "wall_time": round(self.wall_time, 3),
                "message": self.message[:2000], "traceback": self.traceback[-4000:]}


@dataclass
class NotebookOutcome:
    ok: bool
    category: str | None = None
    message: str = ""
    cv: CVScores | None = None
    scores: Scores | None = None
    predictions: np.ndarray | None = None
    oof: np.ndarray | None = None
    runs: list[RunReport] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    image: str | None = None

    @property
    def student_caused(self) -> bool:
        return self.category is not None and CATEGORIES[self.category][1]


def _write_inputs(ds: Dataset, work: Path) -> list[tuple[Path, Path]]:
    """(train, test) CSV pairs for every fold and for the full run (last)."""
    train = pd.read_csv(ds.paths.public / "train.csv", dtype={ds.spec.id_column: str})
    target = ds.spec.target_column
    pairs = []
    for k in range(ds.spec.folds):
        held = ds.folds == k
        folder = work / f"fold{k}"
        folder.mkdir()
        train[~held].to_csv(folder / "train.csv", index=False)
        train.loc[held].drop(columns=[target]).to_csv(folder / "test.csv", index=False)
        pairs.append((folder / "train.csv", folder / "test.csv"))
    pairs.append((ds.paths.public / "train.csv", ds.paths.public / "test.csv"))
    return pairs


def classify(result: ExecutionResult, has_output: bool) -> tuple[str | None, str]:
    """(category, message) of a run; category None when it produced an output."""
    if result.infrastructure_failure:
        return "infrastructure", result.message or "the sandbox failed"
    if result.status == "timeout":
        return "timeout", result.message
    if result.status == "oom":
        return "memory", result.message
    if result.status == "invalid":
        return "invalid_notebook", result.message
    if result.status == "error":
        return "exception", f"{result.ename}: {result.evalue}" if result.ename else result.message
    if result.status != "ok":
        return "exception", result.message or f"the notebook stopped ({result.status})"
    if not has_output:
        return "output_not_found", (f"the notebook finished but wrote no {OUTPUT!s}; write your predictions "
                                    "to output_path, e.g. pred.to_csv(output_path, index=False)")
    return None, ""


def evaluate_notebook(
    ds: Dataset,
    notebook: str | Path,
    *,
    limits: Limits | None = None,
    backend: str = "auto",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    keep_dir: Path | None = None,
    cluster: Any = None,
    trusted: bool = False,
    pool: SlotPool | None = None,
) -> NotebookOutcome:
    """Run ``notebook`` K+1 times and score it; never raises for the student's mistakes.

    ``cluster`` (a Dask scheduler address, client or cluster object) fans the K+1 runs
    out to that cluster's workers, each in its own sandbox there; ``trusted`` lets a
    backend that does not isolate (``subprocess``, named explicitly) run them; ``pool``
    (a :class:`~coursebench.execution.SlotPool`) runs them on a scoring worker's slots,
    whose sandboxes were booted while it waited for this submission."""
    limits = limits or ds.spec.notebook.limits()
    work = Path(tempfile.mkdtemp(prefix=f"kfold-{ds.spec.slug}-"))
    try:
        pairs = _write_inputs(ds, work)
        jobs = []
        for index, (train_csv, test_csv) in enumerate(pairs):
            fold = index if index < ds.spec.folds else FULL
            name = f"fold{fold}" if fold != FULL else "full"
            jobs.append(Job(
                notebook=notebook,
                parameters={"train_path": "train.csv", "test_path": "test.csv", "output_path": OUTPUT, "fold": fold},
                limits=limits,
                files=[(train_csv, "train.csv"), (test_csv, "test.csv")],
                collect=[OUTPUT],
                artifacts_dir=work / "out" / name,
                name=name,
                backend=backend,
                trusted=trusted,
            ))
        results = _run(jobs, workers, progress, cluster, pool)
        return _score_runs(ds, results, work, keep_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(jobs: list[Job], workers: int | None, progress: ProgressCallback | None,
         cluster: Any, pool: SlotPool | None = None) -> list[ExecutionResult]:
    """The runs, locally or on the cluster; a cluster that cannot be used at all (no
    scheduler, no workers) ends every run as an infrastructure failure — retried later,
    never counted against the student."""
    if cluster is None:
        # one sandbox per slot, its share of the runs one after another in it, each with only
        # its own fold's files: the imports are paid once per slot, not once per fold
        import os

        slots = pool.workers if pool is not None else (workers or os.cpu_count() or 1)
        return run_many(split_separate(jobs, slots), workers=workers, progress=progress, pool=pool)
    from coursebench.execution.distributed import ClusterError

    try:
        return run_many(jobs, progress=progress, cluster=cluster)
    except ClusterError as exc:
        return [ExecutionResult(name=job.display_name(), status="killed", infrastructure_failure=True,
                                message=f"the Dask cluster could not run it: {exc}") for job in jobs]


def _score_runs(ds: Dataset, results: list[ExecutionResult], work: Path, keep_dir: Path | None) -> NotebookOutcome:
    outcome = NotebookOutcome(ok=False)
    for r in results:
        outcome.versions = outcome.versions or dict(r.versions)
        outcome.image = outcome.image or r.image or f"{r.backend}:host-python"
    k = ds.spec.folds
    oof = None
    first_problem: tuple[str, str] | None = None
    infra: tuple[str, str] | None = None
    for index, result in enumerate(results):
        fold = index if index < k else FULL
        output, why = produced(result, OUTPUT)
        category, message = classify(result, output is not None)
        if why and category == "output_not_found":
            message = why
        report = RunReport(fold, result.status, result.wall_time, message, result.traceback_tail(30))
        outcome.runs.append(report)
        if keep_dir is not None and result.notebook is not None:
            import nbformat

            keep_dir.mkdir(parents=True, exist_ok=True)
            nbformat.write(result.notebook, str(keep_dir / f"{'full' if fold == FULL else f'fold{fold}'}.ipynb"))
        if category == "infrastructure":
            infra = infra or (category, f"{_where(fold)}: {message}")
            continue
        if category is not None:
            first_problem = first_problem or (category, f"{_where(fold)}: {message}")
            continue
        assert output is not None
        try:
            if fold == FULL:
                preds = validate(output, SubmissionFormat.for_dataset(ds), filename=f"{_where(fold)} {OUTPUT}")
                outcome.predictions = preds
            else:
                held = ds.folds == fold
                fmt = SubmissionFormat.for_dataset(ds, ids=ds.train_ids[held])
                preds = validate(output, fmt, filename=f"{_where(fold)} {OUTPUT}")
                if oof is None:
                    oof = np.zeros((len(ds.train_ids), *preds.shape[1:]), dtype=preds.dtype)
                oof[held] = preds
        except SubmissionInvalid as exc:
            report.status = "scoring_error"
            report.message = str(exc)
            first_problem = first_problem or ("scoring_error", str(exc))
    if infra is not None:  # not the student's fault: the submission is retried, not counted
        outcome.category, outcome.message = infra
        return outcome
    if first_problem is not None:
        outcome.category, outcome.message = first_problem
        return outcome
    assert oof is not None and outcome.predictions is not None
    try:
        outcome.cv = cv_score(ds, oof)
        outcome.scores = score(ds, outcome.predictions)
    except ScoringError as exc:
        outcome.category, outcome.message = "scoring_error", str(exc)
        return outcome
    outcome.oof = oof
    outcome.ok = True
    return outcome


def produced(result: ExecutionResult, name: str) -> tuple[Path | None, str]:
    """The collected file ``name`` if its contents are what the run left when it ended
    (the worker's hash, from the notebook it sent over its private channel), else
    (None, why)."""
    import hashlib

    path = result.artifacts.get(name)
    if path is None:
        return None, ""
    meta = result.notebook.metadata.get("coursebench") if result.notebook is not None else None
    hashes = meta.get("artifacts") if isinstance(meta, dict) and result.notebook_trusted else None
    want = hashes.get(name) if isinstance(hashes, dict) else None
    if not isinstance(want, str):
        return None, (f"{name} was not there when the notebook's run ended (it cannot be shown to be what the "
                      "notebook wrote), so it was not scored; write your predictions before the notebook ends")
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != want:
        return None, f"{name} changed after the notebook's run ended, so it was not scored"
    return path, ""


def _where(fold: int) -> str:
    return "the full run" if fold == FULL else f"fold {fold}"
