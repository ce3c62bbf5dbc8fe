"""``coursebench compete``: competitions from the command line, shaped like Kaggle's CLI.

Students::

    coursebench compete login TOKEN                 # once; saved like ~/.kaggle/kaggle.json
    coursebench compete list
    coursebench compete files wine-demo [-p DIR]
    coursebench compete submit -c wine-demo -f submission.csv -m "first try"
    coursebench compete submissions -c wine-demo
    coursebench compete leaderboard -c wine-demo [--private]
    coursebench compete select -c wine-demo 3 7

Instructors: ``prepare SLUG``, ``tokens``, ``rescore -c SLUG``, ``close -c SLUG``,
``export -c SLUG -o grades.csv``.

The CLI works against the course's database directly (SQLite file or PostgreSQL URL);
the web app and REST API reuse the same services layer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from coursebench.client import credentials
from coursebench.client.credentials import write_credentials

if TYPE_CHECKING:
    from .services import Service

console = Console()
err = Console(stderr=True)

compete = typer.Typer(
    name="compete",
    help="Kaggle-style competitions: data, submissions, leaderboards (students and instructors).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

CompOpt = Annotated[str, typer.Option("-c", "--competition", help="The competition's slug.")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (default: credentials, then the course's).")]


def register(app: typer.Typer) -> None:
    app.add_typer(compete, name="compete")


# -- credentials and wiring ------------------------------------------------------------------

def read_credentials() -> dict[str, Any]:
    """The saved login (see :mod:`coursebench.client.credentials`); a broken file is
    ignored with a warning on stderr."""
    return credentials.read_credentials(warn=lambda message: err.print(f"[yellow]warning:[/] {message}"))


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

    creds = read_credentials()
    default_db, default_comps = course_defaults()
    from coursebench.settings import get_settings

    settings = get_settings()
    url = db or settings.db or creds.get("database") or default_db
    comps = Path(settings.competitions or creds.get("competitions") or default_comps)
    return Service(url, comps, backend=settings.backend)


def _token() -> str | None:
    from coursebench.settings import get_settings

    token = get_settings().token
    return token.get_secret_value() if token else read_credentials().get("token")


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


# -- students -----------------------------------------------------------------------------

@compete.command()
def login(
    token: Annotated[str, typer.Argument(help="Your token from the instructor.")],
    db: DbOpt = None,
    competitions: Annotated[Path | None, typer.Option(help="Competitions folder (local mode).")] = None,
) -> None:
    """Check your token and save it (with the database) in ~/.config/coursebench/credentials.json."""
    svc = service(db)
    who = _run(lambda: svc.authenticate(token))
    data = read_credentials()
    data.update({"token": token, "database": svc.db.url})
    if competitions:
        data["competitions"] = str(competitions.resolve())
    path = write_credentials(data)
    console.print(f"Logged in as [bold]{who.name}[/] ({who.role}); saved to {path} (mode 600).")


@compete.command("list")
def list_cmd(db: DbOpt = None) -> None:
    """Competitions, their metric, deadline and your submissions left today."""
    svc = service(db)
    token = _token()
    who = _run(lambda: svc.authenticate(token)) if token else None
    table = Table(title="Competitions", title_justify="left")
    for col in ("slug", "title", "metric", "deadline", "status", "left today"):
        table.add_column(col)
    for c in svc.competitions():
        left = "-"
        if who is not None:
            q = svc.quota(c.slug, who)
            left = f"{q.remaining}/{q.limit}"
        status = "[green]open[/]" if c.is_open else ("[red]closed[/]" if c.closed else "not open yet")
        table.add_row(c.slug, c.title, f"{c.metric} ({c.direction})", _when(c.deadline), status, left)
    console.print(table)


@compete.command()
def files(
    slug: Annotated[str, typer.Argument(help="The competition's slug.")],
    path: Annotated[Path | None, typer.Option("-p", "--path", help="Copy the files into this folder.")] = None,
    db: DbOpt = None,
) -> None:
    """The competition's public data files (train, test, sample submission)."""
    import shutil

    svc = service(db)
    found = _run(lambda: svc.public_files(slug))
    table = Table(title=f"{slug}: data", title_justify="left")
    table.add_column("name")
    table.add_column("size", justify="right")
    for f in found:
        table.add_row(f.name, f"{f.stat().st_size:,}" if f.is_file() else "missing")
        if path is not None and f.is_file():
            path.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, path / f.name)
    console.print(table)
    if path is not None:
        console.print(f"Copied to {path}/")


def _student(svc: Service) -> Any:
    return _run(lambda: svc.authenticate(_token()))


def _resume_own(svc: Service, slug: str, who: Any) -> None:
    """Score the caller's submissions that an interrupted run left unscored (a crash or
    Ctrl-C during scoring leaves them pending; the next start picks them up).  A
    submission another scorer holds under a live lease is left alone."""
    claimable = set(_run(lambda: svc.pending(slug)))
    for view in _run(lambda: svc.submissions(slug, who)):
        if view.id not in claimable:
            continue
        err.print(f"[yellow]submission {view.id} ({view.filename}) was left unscored by an interrupted run; "
                  "scoring it now[/]")
        done = _run(lambda v=view: svc.process(v.id, viewer=who))
        if done.status in ("pending", "running"):
            err.print(f"  submission {done.id} is being scored elsewhere; it will show up shortly")
        elif done.status == "failed":
            err.print(f"  submission {done.id} failed: {done.failure_label}")
        else:
            err.print(f"  submission {done.id} scored: public {_fmt(done.public_score)}")


@compete.command()
def submit(
    competition: CompOpt,
    file: Annotated[Path, typer.Option("-f", "--file", help="A .csv/.csv.gz/.zip prediction file or a .ipynb notebook.")],
    message: Annotated[str, typer.Option("-m", "--message", help="A note to remember this submission by.")] = "",
    db: DbOpt = None,
) -> None:
    """Submit predictions (scored at once) or a notebook (scored by k-fold CV in the sandbox)."""
    svc = service(db)
    who = _student(svc)
    _resume_own(svc, competition, who)
    if file.suffix.lower() == ".ipynb":
        from coursebench.cli_progress import ProgressBar

        spec = _run(lambda: svc.competition(competition))
        with ProgressBar("Running your notebook", total=spec.folds + 1, counts=False, transient=True,
                         console=err) as bar:
            view = _run(lambda: svc.submit_notebook(competition, who, file, message=message, progress=bar))
    else:
        view = _run(lambda: svc.submit_file(competition, who, file, message=message))
    _print_result(svc, competition, who, view)


def _print_result(svc: Service, slug: str, who: Any, view: Any) -> None:
    if view.status == "complete":
        ci = f" (95% CI {view.public_ci[0]:.5f}-{view.public_ci[1]:.5f})" if view.public_ci else ""
        console.print(f"[green]✓ submission {view.id} scored[/]: public {_fmt(view.public_score)}{ci}")
        if view.cv_mean is not None:
            console.print(f"  CV {_fmt(view.cv_mean)} ± {_fmt(view.cv_std)} over {len(view.cv_folds or [])} folds")
        row = svc.leaderboard(slug, viewer=who).row_of(view.team)
        if row is not None:
            console.print(f"  your team's rank on the public leaderboard: {row.rank}")
    elif view.status == "failed":
        console.print(f"[red]✗ submission {view.id} failed: {view.failure_label}[/]"
                      + ("" if view.counted else " (not counted)"))
        console.print(view.error or "", markup=False, highlight=False)
        for run in view.runs:
            if run.get("traceback"):
                console.print(f"[bold]{'full run' if run['fold'] == -1 else 'fold ' + str(run['fold'])}:[/]")
                console.print(run["traceback"], markup=False, highlight=False)
                break
        raise typer.Exit(1)
    else:
        console.print(f"submission {view.id} is {view.status}; it will be scored shortly")
    q = svc.quota(slug, who)
    console.print(f"[dim]{q.remaining} of {q.limit} submissions left today[/]")


@compete.command()
def submissions(competition: CompOpt, db: DbOpt = None) -> None:
    """Your team's submissions, newest first (scoring any an interrupted run left pending)."""
    svc = service(db)
    who = _student(svc)
    _resume_own(svc, competition, who)
    rows = _run(lambda: svc.submissions(competition, who))
    table = Table(title=f"{competition}: your submissions", title_justify="left")
    for col in ("id", "date", "file", "status", "public", "CV", "private", "selected", "message"):
        table.add_column(col)
    for v in rows:
        status = v.status if v.status != "failed" else f"[red]{v.failure_label}[/]"
        cv = "-" if v.cv_mean is None else f"{v.cv_mean:.4f} ± {v.cv_std:.4f}"
        table.add_row(str(v.id), _when(v.created_at), v.filename, status, _fmt(v.public_score), cv,
                      _fmt(v.private_score), "✓" if v.selected else "", v.message)
    console.print(table)


@compete.command()
def leaderboard(
    competition: CompOpt,
    private: Annotated[bool, typer.Option("--private", help="The private leaderboard (after the deadline).")] = False,
    db: DbOpt = None,
) -> None:
    """The leaderboard: rank, team, score with its 95% CI, CV, entries; ≈ marks statistical ties."""
    svc = service(db)
    token = _token()
    who = _run(lambda: svc.authenticate(token)) if token else None
    view = _run(lambda: svc.leaderboard(competition, private=private, viewer=who))
    print_board(view, highlight=None if who is None else who.name)


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


@compete.command("select")
def select_cmd(
    competition: CompOpt,
    ids: Annotated[list[int], typer.Argument(help="Submission ids to count for the private leaderboard.")],
    db: DbOpt = None,
) -> None:
    """Choose your final submissions (replaces your previous choice)."""
    svc = service(db)
    who = _student(svc)
    chosen = _run(lambda: svc.select(competition, who, ids))
    console.print(f"Selected: {', '.join(map(str, chosen)) or 'none (your best public ones will count)'}")


@compete.command()
def team(
    competition: CompOpt,
    create: Annotated[str | None, typer.Option(help="Name your team.")] = None,
    invite: Annotated[str | None, typer.Option(help="Invite a participant (by roster id).")] = None,
    join: Annotated[str | None, typer.Option(help="Join (merge into) a team that invited you.")] = None,
    leave: Annotated[bool, typer.Option("--leave", help="Leave your team.")] = False,
    db: DbOpt = None,
) -> None:
    """Your team; create, invite, join or leave it (until the merger deadline)."""
    svc = service(db)
    who = _student(svc)
    if create:
        console.print(f"Your team is now called {_run(lambda: svc.create_team(competition, who, create))!r}.")
    if invite:
        _run(lambda: svc.invite(competition, who, invite))
        console.print(f"Invited {invite}; they join with `coursebench compete team -c {competition} --join TEAM`.")
    if join:
        console.print(f"You joined {_run(lambda: svc.accept(competition, who, join))!r}.")
    if leave:
        console.print(f"You left; your new team is {_run(lambda: svc.leave(competition, who))!r}.")
    view = svc.team(competition, who)
    if view is None:
        console.print("You are not in a team yet (your first submission makes a solo team).")
    else:
        console.print(f"Team [bold]{view.name}[/]: {', '.join(view.members)} (leader {view.leader})"
                      + (f"; invited: {', '.join(view.invites)}" if view.invites else ""))


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
def rescore(competition: CompOpt, db: DbOpt = None) -> None:
    """Instructor: score pending submissions (e.g. after a crash) and rescore all scored ones."""
    from coursebench.cli_progress import progress_bar

    svc = service(db)
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
