"""``coursebench grade ...``: nbgrader's verbs, with sandboxed parallel autograding.

Thin: parse, call :mod:`coursebench.grading`, print.  Heavy imports happen inside the
commands so ``coursebench --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)

grade = typer.Typer(
    name="grade",
    help="Release, collect, autograde (sandboxed, in parallel), feedback and course grades — nbgrader's verbs.",
    no_args_is_help=True,
)

CourseDirOpt = Annotated[
    Path | None,
    typer.Option("--course-dir", help="An nbgrader course directory (default: the course's assignments/).",
                 file_okay=False),
]
STYLE = {"graded": "green", "skipped": "bright_black", "timeout": "yellow", "oom": "magenta",
         "killed": "red", "invalid": "red", "error": "red", "collected": "green", "updated": "cyan"}


def register(app: typer.Typer) -> None:
    app.add_typer(grade, name="grade")


def _fail(exc: Exception) -> None:
    from rich.markup import escape

    err.print(f"[red]error:[/] {escape(str(exc))}")
    raise typer.Exit(2)


@grade.command()
def release(
    assignment: Annotated[str, typer.Argument(help="Assignment name (a folder in source/).")],
    course_dir: CourseDirOpt = None,
    zip_to: Annotated[Path | None, typer.Option("--zip", help="Write a zip for an LMS (a .zip path or a folder) instead of using the exchange.")] = None,
    exchange: Annotated[Path | None, typer.Option(help="nbgrader exchange directory (default: nbgrader's config).")] = None,
    no_publish: Annotated[bool, typer.Option("--no-publish", help="Only generate release/<assignment>/.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Regenerate even if the student version exists.")] = False,
) -> None:
    """Generate the student version (nbgrader generate_assignment) and publish it."""
    from .errors import GradingError
    from .release import release as do_release

    try:
        report = do_release(assignment, course_dir=course_dir, zip_path=zip_to, exchange=exchange,
                            publish=not no_publish, force=force)
    except GradingError as exc:
        _fail(exc)
    console.print(f"[green]✓[/] {assignment}: student version in {report.release_dir} "
                  f"({', '.join(report.notebooks)})")
    if report.zip_path:
        console.print(f"  zip for the LMS: {report.zip_path}")
    elif report.exchange:
        console.print(f"  published to the nbgrader exchange: {report.exchange}")


@grade.command()
def collect(
    assignment: Annotated[str, typer.Argument(help="Assignment name.")],
    source: Annotated[Path | None, typer.Option("--from", help="An LMS download (folder or zip). Default: the nbgrader exchange.")] = None,
    course_dir: CourseDirOpt = None,
    exchange: Annotated[Path | None, typer.Option(help="nbgrader exchange directory.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace submissions already collected.")] = False,
) -> None:
    """Collect submissions into submitted/<student>/<assignment>/, mapped to the roster."""
    from .collect import collect as do_collect
    from .collect import format_delay
    from .errors import GradingError

    try:
        report = do_collect(assignment, source, course_dir=course_dir, force=force, exchange=exchange)
    except GradingError as exc:
        _fail(exc)
    table = Table(title=f"Collected {assignment}", title_justify="left")
    for column in ("student", "from", "status", "late", "notes"):
        table.add_column(column, overflow="fold")
    for e in report.entries:
        notes = "; ".join(([e.message] if e.message else []) + e.notes)
        table.add_row(e.student or "?", e.source, f"[{STYLE.get(e.status, '')}]{e.status}[/]",
                      f"[yellow]{format_delay(e.late_by)}[/]" if e.late_by else "", notes)
    console.print(table)
    if report.errors:
        console.print(f"[red]{len(report.errors)} entr{'y' if len(report.errors) == 1 else 'ies'} not collected[/]"
                      " — fix them as the notes say and collect again (the others are in).")
        raise typer.Exit(1)


@grade.command()
def autograde(
    assignment: Annotated[str, typer.Argument(help="Assignment name.")],
    course_dir: CourseDirOpt = None,
    student: Annotated[str, typer.Option("--student", help="Only this student (a glob, as nbgrader's --student).")] = "*",
    force: Annotated[bool, typer.Option("--force", help="Regrade submissions already graded.")] = False,
    workers: Annotated[int | None, typer.Option(help="Submissions graded at once, each in its own sandbox (default: course.toml, else CPU cores).")] = None,
    backend: Annotated[str | None, typer.Option(help="Sandbox: auto, docker, bwrap or subprocess.")] = None,
    cluster: Annotated[str | None, typer.Option(help="Run on a Dask scheduler, e.g. tcp://host:8786.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per notebook (default: course.toml).")] = None,
    cell_timeout: Annotated[float | None, typer.Option(help="Seconds per cell.")] = None,
    memory: Annotated[str | None, typer.Option(help="Memory per notebook, e.g. 1G.")] = None,
    trusted: Annotated[bool, typer.Option(
        "--trusted-notebooks", help="Allow --backend subprocess (NO isolation): never for students' work.")] = False,
) -> None:
    """Autograde submissions: nbgrader's sanitize and gradebook steps, execution in the sandbox."""
    from ..errors import CoursebenchError
    from .autograde import autograde as do_autograde
    from .autograde import default_limits
    from .course import open_course_dir
    from .errors import GradingError

    try:
        cd = open_course_dir(course_dir)
        limits = default_limits(cd, assignment)
        changes = {k: v for k, v in {"timeout": timeout, "cell_timeout": cell_timeout, "memory": memory}.items()
                   if v is not None}
        limits = limits.replace(**changes) if changes else limits
        settings = cd.course.execution if cd.course is not None else None
        chosen_backend = backend or (settings.backend if settings else "auto")
        chosen_workers = workers if workers is not None else (settings.workers if settings and settings.workers else None)
        trusted = trusted or bool(settings and settings.trusted_notebooks)
    except (GradingError, ValueError) as exc:
        _fail(exc)
    bar = _Bar(assignment) if sys.stderr.isatty() else None
    try:
        report = do_autograde(assignment, course_dir=cd, student=student, force=force, workers=chosen_workers,
                              backend=chosen_backend, cluster=cluster, limits=limits,
                              progress=bar.update if bar else None, trusted=trusted)
    except CoursebenchError as exc:  # a grading problem, or no sandbox to grade in (fail closed)
        _fail(exc)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: the submissions graded so far are saved; "
                  f"run `coursebench grade autograde {assignment}` again to grade the rest.")
        raise typer.Exit(130) from None
    finally:
        if bar:
            bar.stop()
    console.print(summary_table(report))
    for r in report.results:
        for note in r.notes:
            console.print(f"  [yellow]•[/] {r.student}: {note}")
        for note in r.review:
            console.print(f"  [bold red]![/] {r.student}: {note}")
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    console.print(f"[dim]{report.assignment}: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                  + f" in {report.wall_time:.1f} s ("
                  + (f"{report.backend} sandbox" if all(r.sandboxed for r in report.results)
                     else f"[yellow]NOT SANDBOXED[/]: {report.backend}") + ")[/]")
    raise typer.Exit(1 if any(r.status == "error" for r in report.results) else 0)


def summary_table(report) -> Table:
    table = Table(title=f"Autograded {report.assignment}", title_justify="left")
    for column in ("student", "score", "status", "time", "why"):
        table.add_column(column, overflow="fold")
    for r in report.results:
        if r.score is None:
            score = "-"
        else:
            score = f"{r.final_score:g} / {r.max_score:g}"
            if r.late_penalty:
                score += f" (late −{r.late_penalty:g})"
        time = f"{r.wall_time:.1f}s" if r.status != "skipped" else ""
        status = f"[{STYLE.get(r.status, '')}]{r.status}[/]" + ("" if r.sandboxed else " [yellow](not sandboxed)[/]")
        table.add_row(r.student, score, status, time, r.message[:300])
    return table


class _Bar:
    def __init__(self, assignment: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn(f"[bold]Autograding {assignment}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[last]}"), TimeElapsedColumn(), console=err)
        self.task = None

    def update(self, done: int, total: int, result) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("grading", total=total, last="")
        last = f"{result.student}: {result.status}" if result is not None else ""
        self.progress.update(self.task, completed=done, last=last)

    def stop(self) -> None:
        if self.task is not None:
            self.progress.stop()


@grade.command()
def feedback(
    assignment: Annotated[str, typer.Argument(help="Assignment name.")],
    course_dir: CourseDirOpt = None,
    student: Annotated[str, typer.Option("--student", help="Only this student (a glob).")] = "*",
    force: Annotated[bool, typer.Option("--force", help="Regenerate existing feedback.")] = False,
    show_hidden_messages: Annotated[bool | None, typer.Option(
        "--show-hidden-messages/--hide-hidden-messages",
        help="Show a failed hidden test's error message (never its code). Default: config, else hidden.")] = None,
    release_: Annotated[bool, typer.Option(
        "--release", help="Release it through the exchange (students fetch it in the Assignment List).")] = False,
    exchange: Annotated[Path | None, typer.Option(help="nbgrader exchange directory.")] = None,
) -> None:
    """Feedback HTML per student (nbgrader generate_feedback) without hidden tests; --release publishes it."""
    from .errors import GradingError
    from .feedback import feedback as do_feedback

    try:
        report = do_feedback(assignment, course_dir=course_dir, student=student, force=force,
                             show_hidden_messages=show_hidden_messages, release=release_, exchange=exchange)
    except GradingError as exc:
        _fail(exc)
    console.print(f"[green]✓[/] {len(report.files)} feedback file(s) for {assignment}")
    for f in report.files:
        console.print(f"  {f}")
    if release_:
        count = sum(len(v) for v in report.released.values())
        console.print(f"[green]✓[/] released {count} file(s) to {len(report.released)} student(s) "
                      "(they fetch it in the Assignment List, or `nbgrader fetch_feedback`)")


@grade.command()
def report(
    course_dir: CourseDirOpt = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for grades.csv and the plots.")] = Path("build/report"),
    attendance: Annotated[Path | None, typer.Option(help="Attendance CSV (default: course.toml [grades] attendance_csv).")] = None,
    competition_scores: Annotated[list[str], typer.Option(
        "--competition-scores", help="SLUG=CSV: a competition's final private-leaderboard scores (student,private_score).",
        metavar="SLUG=CSV")] = [],  # noqa: B006 - typer needs a literal default
    fmt: Annotated[str, typer.Option("--format", help="grades CSV for: generic, canvas.")] = "generic",
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the distribution PNGs.")] = False,
) -> None:
    """Course grades from assignments, competitions and attendance, with the syllabus weights."""
    from .errors import GradingError
    from .report import course_grades, write_report

    sources = {}
    for item in competition_scores:
        slug, sep, path = item.partition("=")
        if not sep or not slug or not path:
            raise typer.BadParameter("write it as SLUG=path/to/scores.csv", param_hint="--competition-scores")
        sources[slug] = Path(path)
    try:
        result = course_grades(course_dir=course_dir, attendance=attendance, competition_scores=sources)
        from .course import open_course_dir

        files = write_report(result, output, fmt=fmt, course=open_course_dir(course_dir).course, plots=not no_plots)
    except GradingError as exc:
        _fail(exc)
    console.print(grades_table(result))
    for w in result.warnings:
        console.print(f"  [yellow]•[/] {w}")
    console.print(f"wrote {files[0]}" + (f" and {len(files) - 1} plot(s) in {files[0].parent / 'plots'}"
                                         if len(files) > 1 else ""))


def grades_table(report, title: str = "Course grades") -> Table:
    """Per-category percentages, the weighted total and the letter, one row per student."""
    table = Table(title=title, title_justify="left")
    shown = ["student_id", "name", *report.weights, "total", "letter"]
    shown += [c for c in report.columns if c == "not_sandboxed"]
    for column in shown:
        table.add_column(column)
    for row in report.rows:
        table.add_row(*["" if row.get(c) is None else (f"{row[c]:.1f}" if isinstance(row[c], float) else str(row[c]))
                        for c in shown])
    return table


@grade.command()
def integrity(
    assignment: Annotated[str, typer.Argument(help="Assignment name.")],
    course_dir: CourseDirOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the report (default: <build>/reports/integrity/<lab>/).", file_okay=False)] = None,
    threshold: Annotated[float, typer.Option(help="Flag pairs from this score on (0-1).")] = 0.75,
    student: Annotated[str, typer.Option("--student", help="Only these students (a glob).")] = "*",
    top: Annotated[int, typer.Option(help="Pairs shown here (all are in the files).")] = 10,
) -> None:
    """Which students' notebooks share answer code: ranked pairs, CSV + HTML + figure (evidence, not a verdict)."""
    from ..integrity.report import write_report
    from ..integrity.similarity import CodeSettings
    from .course import open_course_dir
    from .errors import GradingError
    from .integrity import default_output, lab_integrity

    try:
        cd = open_course_dir(course_dir)
        with err.status(f"comparing the notebooks of {assignment}…"):
            result = lab_integrity(assignment, course_dir=cd, student=student,
                                   settings=CodeSettings(threshold=threshold))
            files = write_report(result.report, out or default_output(cd, assignment))
    except GradingError as exc:
        _fail(exc)
    section = result.report.sections[0]
    table = Table(title=f"Integrity — {assignment}: most similar pairs", title_justify="left")
    for column in ("#", "notebook", "student", "student", "score", "shared", "flagged"):
        table.add_column(column)
    for row in section.rows[:top]:
        table.add_row(str(row["rank"]), row["notebook"], row["a"], row["b"], f"{row['score']:.2f}",
                      str(row["shared"]), "[red]yes[/]" if row["flagged"] else "")
    console.print(table)
    for note in result.notes:
        console.print(f"  [yellow]•[/] {note}", highlight=False)
    console.print(f"{section.flagged} flagged pair(s) among {len(result.students)} students — worth a look, "
                  "not a verdict: read the evidence in the report.")
    console.print(f"  {files.html}\n  {files.figure}\n  " + "\n  ".join(str(p) for p in files.csv), highlight=False)
