"""``coursebench compete``: competitions from the command line, shaped like Kaggle's CLI.

Students (:mod:`coursebench.compete_cli`, over HTTP only — the REST API of ``coursebench
serve``; no database, no course files, no private data on their machine)::

    coursebench compete login --server URL TOKEN    # once; or COURSEBENCH_SERVER / COURSEBENCH_TOKEN
    coursebench compete list
    coursebench compete files wine-demo [-p DIR]
    coursebench compete submit -c wine-demo -f submission.csv -m "first try"
    coursebench compete submissions -c wine-demo
    coursebench compete leaderboard -c wine-demo [--private]
    coursebench compete select -c wine-demo 3 7
    coursebench compete team -c wine-demo [--create NAME | --invite ID | --join TEAM | --leave]

Instructors (this module): ``prepare SLUG``, ``tokens``, ``rescore -c SLUG``, ``close -c
SLUG``, ``export -c SLUG -o grades.csv``, ``integrity SLUG``.  They work on the course's
database directly (``--db``, else ``COURSEBENCH_DB``, else the course's SQLite file) and
read ``data/private``: they run where the course is, as the instructor — the labels and
the database never leave that machine.  The web app and REST API reuse the same services
layer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from coursebench.compete_cli import add_student_commands

if TYPE_CHECKING:
    from .services import Service

console = Console()
err = Console(stderr=True)

compete = typer.Typer(
    name="compete",
    help="Kaggle-style competitions: data, submissions, leaderboards.\n\n"
         "Student verbs (login, list, files, submit, submissions, leaderboard, select, team) talk to the "
         "course server over HTTP only: `coursebench compete login --server URL TOKEN` once (or set "
         "COURSEBENCH_SERVER and COURSEBENCH_TOKEN). Instructor verbs (prepare, tokens, rescore, close, export, "
         "integrity) work on the course's database and private data directly, where the course is.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

CompOpt = Annotated[str, typer.Option("-c", "--competition", help="The competition's slug.")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Instructor: database URL (default: COURSEBENCH_DB, then "
                                                         "the course's SQLite file).")]


def register(app: typer.Typer) -> None:
    app.add_typer(compete, name="compete")


# -- credentials and wiring ------------------------------------------------------------------

def read_credentials() -> dict[str, Any]:
    """The saved student login (see :mod:`coursebench.client.credentials`): server and
    token only.  A ``database`` or ``competitions`` entry an older coursebench saved there
    is ignored (a database URL never comes from a student's login); a broken file is
    ignored with a warning on stderr."""
    from coursebench.client import credentials

    data = credentials.read_credentials(warn=lambda message: err.print(f"[yellow]warning:[/] {message}"))
    return {k: v for k, v in data.items() if k not in ("database", "competitions")}


def course_defaults() -> tuple[str, Path]:
    """The course's own leaderboard database (SQLite under its build folder) and
    competitions folder, from course.toml."""
    from coursebench.config import load_course

    course = load_course()
    build = course.root / course.paths.get("build", "build")
    from .db import sqlite_url

    return sqlite_url(build / "leaderboard.db"), course.path("competitions")


def service(db: str | None = None) -> Service:
    from .services import Service

    default_db, default_comps = course_defaults()
    from coursebench.settings import get_settings

    settings = get_settings()
    url = db or settings.db or default_db
    comps = Path(settings.competitions or default_comps)
    return Service(url, comps, backend=settings.backend)


def _fail(exc: Exception) -> None:
    from .errors import SubmissionInvalid

    if isinstance(exc, SubmissionInvalid):
        err.print(f"[red]✗ {exc.filename or 'the file'} is not a valid submission[/] (it was not counted)")
        for p in exc.problems:
            err.print(f"  • {p}", markup=False, highlight=False)
        if exc.more:
            err.print(f"  • ... and {exc.more} more problem(s)")
    else:
        err.print(f"[red]error:[/] {exc}", markup=True, highlight=False)
    raise typer.Exit(1)


def _run(fn: Any) -> Any:
    from .errors import LeaderboardError

    try:
        return fn()
    except LeaderboardError as exc:
        _fail(exc)


def _fmt(value: float | None, digits: int = 5) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _when(value: Any) -> str:
    return "-" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M")


# -- students: HTTP only (coursebench/compete_cli.py) ------------------------------------------

add_student_commands(compete)


def print_board(view: Any, highlight: str | None = None) -> None:
    kind = "private" if view.private else "public"
    table = Table(title=f"{view.competition}: {kind} leaderboard ({view.metric}, {view.direction} is better)",
                  title_justify="left")
    for col in ("#", "team", "score", "95% CI", "CV mean ± std", "entries", "last"):
        table.add_column(col)
    for r in view.rows:
        tie = " ≈" if r.tied_with_above else ""
        ci = "-" if r.ci is None else f"{r.ci[0]:.4f} – {r.ci[1]:.4f}"
        cv = "-" if r.cv_mean is None else f"{r.cv_mean:.4f} ± {r.cv_std:.4f}"
        style = "bold" if highlight and highlight in r.members else None
        table.add_row(f"{r.rank}{tie}", r.team, f"{r.score:.5f}", ci, cv, str(r.entries), _when(r.last_submission),
                      style=style)
    console.print(table)
    if any(r.tied_with_above for r in view.rows):
        console.print("[dim]≈ statistically tied with the row above (paired bootstrap, 95%)[/]")


# -- instructors --------------------------------------------------------------------------

@compete.command()
def prepare(slug: Annotated[str, typer.Argument(help="The competition's slug.")], db: DbOpt = None) -> None:
    """Instructor: write data/public and data/private from prepare.py (deterministic) and register it."""
    svc = service(db)
    view = _run(lambda: svc.prepare(slug))
    console.print(f"[green]Prepared {slug}[/]: dataset version {view.dataset_version[:12]} "
                  f"({view.task}, {view.metric}, {view.folds} folds)")
    for f in svc.public_files(slug):
        console.print(f"  {f}")


@compete.command()
def tokens(
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write name,token (CSV, mode 600).")] = Path(
        "tokens.csv"),
    instructor: Annotated[list[str], typer.Option(help="Roster ids who are instructors.")] = [],  # noqa: B006
    db: DbOpt = None,
) -> None:
    """Instructor: make a token for every student in course.toml (replacing old ones)."""
    import csv

    from coursebench.config import load_course

    course = load_course()
    svc = service(db)
    names = [(s.id, s.name, s.email, "student") for s in course.students]
    names += [(i, i, "", "instructor") for i in instructor]
    if not names:
        err.print("[red]error:[/] course.toml lists no students ([[students]] entries)")
        raise typer.Exit(1)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "role", "token"])
        for pid, name, email, role in names:
            writer.writerow([pid, name, role, svc.add_participant(pid, display_name=name, email=email, role=role)])
    console.print(f"Wrote {len(names)} tokens to {output} (only their hashes are stored).")


@compete.command()
def rescore(competition: CompOpt, db: DbOpt = None,
            cluster: Annotated[str | None, typer.Option(help="Dask scheduler address: pending notebook "
                                                             "submissions' folds run there.")] = None) -> None:
    """Instructor: score pending submissions (e.g. after a crash) and rescore all scored ones."""
    from coursebench.cli_progress import progress_bar

    svc = service(db)
    svc.scoring.cluster = cluster
    with progress_bar("Scoring notebook") as bar:  # one row per notebook submission scored
        pending = _run(lambda: svc.score_pending(competition, progress=bar))
    count = _run(lambda: svc.rescore(competition))
    console.print(f"Scored {len(pending)} pending and rescored {count} submissions of {competition}.")


@compete.command()
def close(
    competition: CompOpt,
    force: Annotated[bool, typer.Option("--force", help="Close before the deadline.")] = False,
    db: DbOpt = None,
) -> None:
    """Instructor: close the competition; show the private leaderboard and the shake-up."""
    svc = service(db)
    view = _run(lambda: svc.close(competition, force=force))
    print_board(view)
    shake = svc.shakeup(competition)
    table = Table(title="Shake-up", title_justify="left")
    for col in ("team", "public", "private", "change"):
        table.add_column(col)
    for r in shake.rows:
        arrow = f"[green]▲{r.change}[/]" if r.change > 0 else (f"[red]▼{-r.change}[/]" if r.change < 0 else "=")
        table.add_row(r.team, str(r.public_rank), str(r.private_rank), arrow)
    console.print(table)
    console.print(f"Kendall τ between public and private ranks: {shake.kendall_tau:.3f}")


@compete.command()
def export(
    competition: CompOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")] = Path("competition.csv"),
    db: DbOpt = None,
) -> None:
    """Instructor: one row per participant with the private rank and score (for grading)."""
    import csv

    svc = service(db)
    rows = _run(lambda: svc.export(competition))
    with open(output, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["participant"])
        writer.writeheader()
        writer.writerows(rows)
    console.print(f"Wrote {len(rows)} rows to {output}.")


@compete.command()
def integrity(
    slug: Annotated[str, typer.Argument(help="The competition's slug.")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the report (default: <build>/reports/integrity/<slug>/).", file_okay=False)] = None,
    threshold: Annotated[float, typer.Option(help="Flag pairs of teams whose excess agreement is at least this on public and private rows.")] = 0.8,
    code_threshold: Annotated[float, typer.Option(help="Flag notebook submissions that share at least this share of distinctive code.")] = 0.75,
    top: Annotated[int, typer.Option(help="Pairs shown here (all are in the files).")] = 10,
    competitions: Annotated[Path | None, typer.Option(help="Competitions folder (default: settings, then the course's).", file_okay=False)] = None,
    db: DbOpt = None,
) -> None:
    """Instructor: teams whose predictions agree more than their scores explain, and notebooks that share code (CSV + HTML + figure; evidence, not a verdict)."""
    from coursebench.integrity.report import write_report
    from coursebench.integrity.similarity import CodeSettings

    from .integrity import PredictionSettings, competition_integrity

    svc = service(db)
    if competitions is not None:
        from .services import Service

        svc = Service(svc.db, competitions, migrate=False)
    if out is None:
        try:
            from coursebench.config import load_course

            course = load_course()
            out = course.root / course.paths.get("build", "build") / "reports" / "integrity" / slug
        except Exception:
            out = Path("reports") / "integrity" / slug
    with err.status(f"comparing the submissions of {slug}…"):
        result = _run(lambda: competition_integrity(svc, slug, settings=PredictionSettings(threshold=threshold),
                                                    code=CodeSettings(threshold=code_threshold)))
        files = write_report(result.report, out)
    for section in result.report.sections:
        predictions = section.key == "predictions"
        extra = ("excess public", "excess private") if predictions else ("submissions", "shared")
        table = Table(title=f"{slug} — {section.title.lower()}", title_justify="left")
        for column in ("#", "team", "team", "score", *extra, "flagged"):
            table.add_column(column)
        for row in section.rows[:top]:
            values = ((_fmt(row["excess_public"], 2), _fmt(row["excess_private"], 2)) if predictions
                      else (f"{row['a_doc']} / {row['b_doc']}", str(row["shared"])))
            table.add_row(str(row["rank"]), str(row["a"]), str(row["b"]), f"{row['score']:.2f}", *values,
                          "[red]yes[/]" if row["flagged"] else "")
        console.print(table)
        console.print(f"{section.flagged} flagged pair(s) — worth a look, not a verdict: read the evidence.")
    for note in result.notes:
        console.print(f"  [yellow]•[/] {note}", highlight=False)
    console.print(f"  {files.html}\n  {files.figure}\n  " + "\n  ".join(str(p) for p in files.csv), highlight=False)
