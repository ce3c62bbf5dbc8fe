"""``coursebench grade autograde``: nbgrader's autograde, executed in the sandbox, in parallel.

For each submission (``submitted/<student>/<assignment>/``) that is not graded yet:

1. *intake*: a safe copy (no links, unreadable notebooks reported and scored 0,
   renamed notebooks mapped back) — :mod:`.intake`;
2. nbgrader's ``Autograde.init_assignment`` (gradebook student and submission, the
   assignment's own files copied over the student's, missing notebooks scored 0) and its
   *sanitize* pass (locked and test cells, hidden tests, kernelspec restored from the
   gradebook) — :mod:`.converter`;
3. every notebook runs in the sandbox through :func:`coursebench.execution.run_many`
   (parallel, limits, its submission's files as the working directory, nothing else);
4. as each submission's notebooks come back: outputs merged into the sanitized copy,
   unfinished test cells scored 0 (:mod:`.runs`), then nbgrader's autograde pass without
   ``Execute`` (SaveAutoGrades, AssignLatePenalties...) into ``gradebook.db``, and the
   graded folder moved into ``autograded/`` in one rename.

A crash or Ctrl-C never leaves a half-graded folder in ``autograded/``: rerunning grades
exactly what is missing (and submissions newer than their grading, as nbgrader does).
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..execution import Job, JobGroup, Limits, run_many
from . import provenance, runs, verdicts
from .course import CourseDir, nbgrader_environment, open_course_dir, shared_gradebook_engines
from .errors import GradingError, UnknownAssignment
from .intake import make_intake
from .tampering import EDITED_RE

log = logging.getLogger("coursebench.grading")

#: statuses of a submission in the summary
STATUSES = ("graded", "timeout", "oom", "killed", "invalid", "error", "skipped")
_SEVERITY = {s: i for i, s in enumerate(("graded", "skipped", "timeout", "oom", "killed", "invalid", "error"))}


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    status: str
    score: float | None = None
    max_score: float | None = None
    late_penalty: float = 0.0
    seconds_late: float = 0.0
    wall_time: float = 0.0
    message: str = ""
    notes: list[str] = field(default_factory=list)
    """Tampering restored, renamed or unreadable notebooks, ignored files..."""
    notebooks: dict[str, str] = field(default_factory=dict)
    """Notebook → its own status."""
    review: list[str] = field(default_factory=list)
    """"needs review: …" — what the submission did to the kernel's execution or error
    reporting (the tests it affected score 0; see :mod:`.verdicts`)."""
    sandboxed: bool = True
    """False when its notebooks ran without isolation (the subprocess backend, trusted
    notebooks only): the summary and ``grade report`` mark it "not sandboxed"."""

    @property
    def final_score(self) -> float | None:
        return None if self.score is None else max(0.0, self.score - self.late_penalty)


@dataclass
class AutogradeReport:
    assignment: str
    results: list[SubmissionResult]
    backend: str = ""
    wall_time: float = 0.0

    @property
    def graded(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.status != "skipped"]

    @property
    def skipped(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.status == "skipped"]


ProgressCallback = Callable[[int, int, "SubmissionResult | None"], None]


class _Capture(logging.Handler):
    """Collects nbgrader's warnings about one submission (tampering, missing files)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:
            self.messages.append(str(record.msg))


_CHANGED = re.compile(r"Attribute '(\w+)' for cell (\S+) has changed! \(should be: (.*), got: (.*)\)", re.S)
_RESTORED = re.compile(r"Restored metadata '(\w+)' for cell (\S+) \(should be: (.*), got: (.*)\)", re.S)


def _note(message: str) -> str | None:
    """nbgrader's log line → a note for the instructor (None: not worth showing)."""
    if m := _CHANGED.match(message):
        what, cell = m.group(1), m.group(2)
        if what == "checksum":
            # nbgrader compares with the source that still has the hidden tests, so every
            # test cell with hidden tests "changed"; CheckReleasedCells reports real edits.
            return None
        return f"tampering: {what} of cell {cell} was changed ({m.group(4)}); restored to {m.group(3)}"
    if m := EDITED_RE.match(message):
        return f"tampering: locked cell {m.group(1)} was edited ({m.group(2)}); restored from the gradebook"
    if m := _RESTORED.match(message):
        return f"tampering: metadata '{m.group(1)}' of cell {m.group(2)} was changed ({m.group(4)}); restored"
    if message.startswith("Missing grade cell"):
        cell = message.split()[3]
        return f"tampering: test cell {cell} was deleted; restored from the gradebook"
    if "does not exist in the database" in message:
        return f"unknown nbgrader cell ignored: {message}"
    if "seconds late" in message or message.startswith("Late submission penalty"):
        return None
    if message.startswith(("No submitted file", "Skipping unknown notebook", "Adjusting late")):
        return None
    return message


@dataclass
class _Plan:
    student: str
    staging: Path
    dest: Path
    notebooks: dict[str, Path]
    """notebook id → staged (sanitized) path"""
    result: SubmissionResult
    pending: set[str] = field(default_factory=set)
    runs: dict[str, Any] = field(default_factory=dict)
    done: bool = False


def default_limits(cd: CourseDir, assignment: str) -> Limits:
    """Limits from course.toml (its [execution] defaults and the assignment's overrides)."""
    from ..config import load_course

    course = cd.course
    if course is None:
        try:
            course = load_course()
        except Exception:
            course = None
    if course is None:
        return Limits()
    overrides: dict[str, Any] = {}
    for a in course.assignments:
        if a.name == assignment:
            overrides = {"timeout": a.timeout, "memory": a.memory, "gpus": a.gpus}
    return course.execution.limits(**overrides)


def autograde(
    assignment: str,
    *,
    course_dir: str | os.PathLike | CourseDir | None = None,
    student: str = "*",
    force: bool = False,
    workers: int | None = None,
    backend: str = "auto",
    cluster: str | None = None,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    trusted: bool = False,
    forging_defence: bool = True,
) -> AutogradeReport:
    """Autograde ``assignment``'s submissions; see the module docstring.

    Never without isolation: with no sandbox usable this raises
    :class:`~coursebench.execution.NoSandbox` (what to install) before anything runs;
    ``backend="subprocess"`` needs ``trusted=True`` (else
    :class:`~coursebench.execution.TrustRequired`), and its grades say "not sandboxed".

    ``forging_defence=False`` scores test cells by the kernel's outputs alone, as
    nbgrader does (forgeable; only to measure what the test guard costs).
    """
    from nbgrader.converters.base import NbGraderException

    from ..execution import resolve
    from .converter import SandboxedAutograde

    cd = course_dir if isinstance(course_dir, CourseDir) else open_course_dir(course_dir)
    cd.check_assignment(assignment)
    started = time.monotonic()
    limits = limits or default_limits(cd, assignment)
    chosen, _ = resolve(backend, trusted=trusted) if cluster is None else (backend, "")
    with nbgrader_environment(), shared_gradebook_engines(), warnings.catch_warnings():
        # nbgrader's gradebook code trips SQLAlchemy's autoflush warnings; they are noise.
        warnings.filterwarnings("ignore", module="nbgrader")
        warnings.filterwarnings("ignore", message=".*not in session.*")
        cd.sync_gradebook(assignment)
        expected = cd.assignment_notebooks(assignment)
        coursedir = cd.coursedir(assignment, student)
        config = cd.config.copy()
        if "add_missing_cells" not in config.get("OverwriteCells", {}):
            config.OverwriteCells.add_missing_cells = True
        converter = SandboxedAutograde(coursedir=coursedir, config=config)
        converter.log.propagate = False
        if not converter.log.handlers:
            converter.log.addHandler(logging.NullHandler())
        cwd = os.getcwd()
        os.chdir(coursedir.root)  # nbgrader resolves config paths (e.g. the header) from here
        try:
            converter.setup()
            driver = _Driver(cd, converter, assignment, expected, force, trusted=trusted)
            driver.guard = forging_defence
            results = driver.run(limits, workers, chosen, cluster, progress)
        except NbGraderException as exc:
            raise GradingError(str(exc), assignment=assignment) from None
        finally:
            os.chdir(cwd)
    return AutogradeReport(assignment, results, backend=chosen, wall_time=time.monotonic() - started)


class _Driver:
    def __init__(self, cd: CourseDir, conv: Any, assignment: str, expected: list[str], force: bool,
                 *, trusted: bool = False) -> None:
        self.cd, self.conv, self.assignment, self.expected, self.force = cd, conv, assignment, expected, force
        self.trusted = trusted
        self.guard = True
        self.coursedir = conv.coursedir
        self.capture = _Capture()
        conv.log.addHandler(self.capture)

    # --- which submissions --------------------------------------------------------

    def submissions(self) -> list[str]:
        cdir = self.coursedir
        pattern = cdir.format_path(cdir.submitted_directory, cdir.student_id, self.assignment)
        found = sorted(p for p in glob.glob(pattern) if os.path.isdir(p))
        regexp = cdir.format_path(cdir.submitted_directory, "(?P<student_id>.*)", self.assignment, escape=True)
        students = []
        for path in found:
            m = re.match(regexp, path)
            if m and not m.group("student_id").startswith("."):
                students.append(m.group("student_id"))
        if not students:
            where = cdir.format_path(cdir.submitted_directory, cdir.student_id, self.assignment)
            raise UnknownAssignment(
                "no submissions to grade", assignment=self.assignment, path=where,
                hint=f"collect them first: coursebench grade collect {self.assignment} --from DIR",
            )
        excluded = set(filter(None, (cdir.student_id_exclude or "").split(",")))
        return [s for s in students if s not in excluded]

    def should_grade(self, student: str) -> bool:
        dest = self.cd.step_dir("autograded", student, self.assignment)
        if self.force or not dest.exists():
            return True
        src = self.cd.step_dir("submitted", student, self.assignment)
        new, old = self.coursedir.get_existing_timestamp(str(src)), self.coursedir.get_existing_timestamp(str(dest))
        return new is not None and old is not None and new > old

    # --- the pipeline ---------------------------------------------------------------

    def run(self, limits: Limits, workers: int | None, backend: str, cluster: str | None,
            progress: ProgressCallback | None) -> list[SubmissionResult]:
        results: dict[str, SubmissionResult] = {}
        plans: list[_Plan] = []
        todo = []
        for student in self.submissions():
            if self.should_grade(student):
                todo.append(student)
            else:
                results[student] = self.existing(student)
        total = len(todo)
        finished = 0
        if progress:
            progress(0, total, None)
        jobs: list[Job] = []
        owners: list[tuple[_Plan, str]] = []
        self._index = {}

        def submissions() -> Iterator[JobGroup]:
            """One sandbox per submission, its notebooks in order (as nbgrader runs them),
            prepared lazily: the next submission's intake overlaps the running ones."""
            nonlocal finished
            for student in todo:
                start = len(jobs)
                plan = self.prepare(student, limits, backend, jobs, owners)
                results[student] = plan.result
                if plan.done or not plan.pending:
                    if not plan.done:
                        self.finalize(plan)
                    finished += 1
                    if progress:
                        progress(finished, total, plan.result)
                    continue
                plans.append(plan)
                for position in range(start, len(jobs)):
                    self._index[jobs[position].display_name()] = position
                yield JobGroup(jobs[start:], name=f"{student}/{self.assignment}")

        try:
            def on_result(done: int, _total: int, result: Any) -> None:
                nonlocal finished
                plan, notebook = owners[self._index[result.name]]
                plan.runs[notebook] = result
                plan.pending.discard(notebook)
                if not plan.pending and not plan.done:
                    self.finalize(plan)
                    finished += 1
                    if progress:
                        progress(finished, total, plan.result)

            outcome = run_many(submissions(), workers=workers, progress=on_result, cluster=cluster)
            if outcome:
                for (plan, notebook), result in zip(owners, outcome, strict=False):
                    if not plan.done:
                        plan.runs.setdefault(notebook, result)
                        plan.pending.discard(notebook)
                        if not plan.pending:
                            self.finalize(plan)
                            finished += 1
                            if progress:
                                progress(finished, total, plan.result)
        finally:
            for plan in plans:
                if not plan.done:
                    shutil.rmtree(plan.staging, ignore_errors=True)
            self.cleanup_private()
        return [results[s] for s in sorted(results)]

    def _private(self, step: str, student: str) -> Path:
        return Path(self.coursedir.format_path(self.conv.private_step(step), student, self.assignment))

    def cleanup_private(self) -> None:
        root = Path(self.coursedir.root) / self.coursedir.autograded_directory / ".coursebench"
        for step in ("intake", "staging"):
            for d in sorted((root / step).glob(f"*/{self.assignment}")):
                shutil.rmtree(d, ignore_errors=True)
                try:
                    d.parent.rmdir()
                except OSError:
                    pass

    def prepare(self, student: str, limits: Limits, backend: str, jobs: list[Job],
                owners: list[tuple[_Plan, str]]) -> _Plan:
        """Intake, nbgrader's init_assignment and sanitize; queue the sandbox jobs."""
        import nbformat

        self.capture.messages.clear()
        result = SubmissionResult(student, self.assignment, "graded")
        intake, staging = self._private("intake", student), self._private("staging", student)
        plan = _Plan(student, staging, self.cd.step_dir("autograded", student, self.assignment), {}, result)
        for d in (intake, staging):
            shutil.rmtree(d, ignore_errors=True)
        try:
            report = make_intake(self.cd.step_dir("submitted", student, self.assignment), intake,
                                 self.expected, list(self.coursedir.ignore))
            result.notes += report.notes
            for name in report.unreadable:
                result.notebooks[name] = "invalid"
            self.conv.notebooks = sorted(str(p) for p in intake.glob("*.ipynb"))
            if not self.conv.notebooks:
                plan.result.status = "invalid"
                raise GradingError(
                    "no readable notebook in this submission (expected "
                    + ", ".join(f"{e}.ipynb" for e in self.expected) + ")",
                    hint="ask the student to submit again",
                )
            self.conv.run_pre_convert_hook()
            self.conv.init_assignment(self.assignment, student)
            for path in self.conv.notebooks:
                staged = Path(self.conv.sanitize(path))
                plan.notebooks[staged.stem] = staged
        except Exception as exc:
            return self._failed(plan, exc)
        result.notes += [n for n in map(_note, self.capture.messages) if n]
        for notebook, staged in sorted(plan.notebooks.items()):
            nb = nbformat.read(str(staged), as_version=4)
            if not runs.needs_kernel(nb):
                plan.runs[notebook] = None
                continue
            files = [(str(p), str(p.relative_to(staging))) for p in sorted(staging.rglob("*"))
                     if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb"]
            jobs.append(Job(notebook=runs.for_sandbox(nb, guard=self.guard), limits=limits, files=files, backend=backend,
                            name=f"{student}/{self.assignment}/{notebook}", trusted=self.trusted))
            owners.append((plan, notebook))
            plan.pending.add(notebook)
        shutil.rmtree(intake, ignore_errors=True)
        return plan

    def _failed(self, plan: _Plan, exc: BaseException) -> _Plan:
        shutil.rmtree(plan.staging, ignore_errors=True)
        shutil.rmtree(self._private("intake", plan.student), ignore_errors=True)
        if plan.result.status != "invalid":
            plan.result.status = "error"
        plan.result.message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, GradingError) else str(exc)
        plan.result.notes += [n for n in map(_note, self.capture.messages) if n]
        plan.done = True
        log.warning("could not grade %s/%s: %s", plan.student, self.assignment, plan.result.message)
        return plan

    def finalize(self, plan: _Plan) -> None:
        """Merge outputs, nbgrader's autograde pass, move into autograded/ atomically."""
        import nbformat

        self.capture.messages.clear()
        result = plan.result
        try:
            statuses = dict(result.notebooks)
            messages = []
            for notebook, staged in sorted(plan.notebooks.items()):
                run = plan.runs.get(notebook)
                sanitized = nbformat.read(str(staged), as_version=4)
                merged = runs.merge(sanitized, run, skipped=run is None, guarded=self.guard)
                result.review += [n for n in (f"{notebook}: {note}" for note in merged.review) if n not in result.review]
                statuses[notebook] = merged.status
                result.wall_time += merged.wall_time
                if merged.message:
                    messages.append(f"{notebook}: {merged.message}")
                if merged.unfinished_grade_cells:
                    messages.append(f"{notebook}: 0 points for {', '.join(merged.unfinished_grade_cells)} (did not finish)")
                nbformat.write(merged.notebook, str(staged))
                self.conv.grade(str(staged))
                if merged.affected:
                    with self.cd.gradebook() as gb:
                        verdicts.annotate_gradebook(gb, self.assignment, plan.student, notebook, merged.notebook,
                                                    merged.affected)
            self._provenance(plan)
            self.conv.set_permissions(self.assignment, plan.student)
            self._publish(plan)
            self.conv.run_post_convert_hook()
            result.notebooks = statuses
            result.status = max(statuses.values(), key=lambda s: _SEVERITY.get(s, 0), default="graded")
            result.message = "; ".join(messages)
            result.notes += [n for n in map(_note, self.capture.messages) if n]
            self._scores(result)
        except Exception as exc:
            log.exception("finalizing %s failed", plan.student)
            self._failed(plan, exc)
        plan.done = True

    def _provenance(self, plan: _Plan) -> None:
        """Record (for ``grade report``) whether the grades just written came from a sandbox."""
        ran = [r for r in plan.runs.values() if r is not None]
        result = plan.result
        result.sandboxed = all(r.sandboxed for r in ran)
        provenance.record(self.cd, provenance.RunRecord(plan.student, self.assignment,
                                                        ran[0].backend if ran else "", result.sandboxed))
        if not result.sandboxed:
            result.notes.append(f"not sandboxed: graded on the {ran[0].backend} backend, without isolation "
                                "(trusted notebooks only)")

    def _publish(self, plan: _Plan) -> None:
        dest = plan.dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(dest, old)
        os.replace(plan.staging, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _scores(self, result: SubmissionResult) -> None:
        from nbgrader.api import MissingEntry

        with self.cd.gradebook() as gb:
            try:
                sub = gb.find_submission(self.assignment, result.student)
            except MissingEntry:
                return
            result.score, result.max_score = float(sub.score), float(sub.max_score)
            result.late_penalty = float(sub.late_submission_penalty or 0.0)
            result.seconds_late = float(sub.total_seconds_late or 0.0)

    def existing(self, student: str) -> SubmissionResult:
        result = SubmissionResult(student, self.assignment, "skipped",
                                  message="already graded (--force regrades)")
        result.sandboxed = student not in provenance.not_sandboxed(self.cd, self.assignment)
        try:
            self._scores(result)
        except Exception as exc:  # a gradebook problem must not hide the others
            result.message += f"; gradebook: {exc}"
        return result


def summarize(results: Sequence[SubmissionResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts
