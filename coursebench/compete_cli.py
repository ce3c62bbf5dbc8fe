"""``coursebench compete``'s student verbs: the Rich printer over :mod:`coursebench.client`.

Every verb here speaks HTTP to the course server's REST API and nothing else — no
database driver, no course files, no private data — so it works from a laptop or a
JupyterLab container with only the server's address and a token::

    coursebench compete login --server https://course.example TOKEN   # or COURSEBENCH_SERVER / _TOKEN
    coursebench compete list
    coursebench compete files wine-demo -p data/
    coursebench compete submit -c wine-demo -f submission.csv -m "first try"
    coursebench compete submissions -c wine-demo
    coursebench compete leaderboard -c wine-demo [--private]
    coursebench compete select -c wine-demo 3 7
    coursebench compete team -c wine-demo [--create NAME] [--invite ID] [--join TEAM] [--leave]

The instructor verbs stay in :mod:`leaderboard.cli` (they work on the course's database).
This module imports neither SQLAlchemy nor the leaderboard: ``tests/client`` checks it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .client import boards, competitions, credentials, teams
from .client.http import CompeteError, config
from .client.login import login as client_login
from .client.results import SubmissionResult
from .client.submitting import mine, select, send

console = Console()
err = Console(stderr=True)

CompOpt = Annotated[str, typer.Option("-c", "--competition", help="The competition's slug.")]
ServerOpt = Annotated[str | None, typer.Option(
    "--server", envvar="COURSEBENCH_SERVER", show_envvar=True,
    help="The course server's address, e.g. https://course.example (default: the saved login).")]


def _call(fn: Any) -> Any:
    """Run one client call; a refusal or an unreachable server is printed and exits 1."""
    try:
        return fn()
    except CompeteError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None


def _fmt(value: float | None, digits: int = 5) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _when(value: str | None) -> str:
    if not value:
        return "-"
    return dt.datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M")


def _has_token(server: str | None = None) -> bool:
    return bool(config(server, None, required=False)[1])


# -- logging in -------------------------------------------------------------------------------

def login(
    token: Annotated[str, typer.Argument(envvar="COURSEBENCH_TOKEN", show_envvar=True,
                                         help="Your token from the instructor.")],
    server: ServerOpt = None,
) -> None:
    """Check your token with the server and save the server and token (mode 600) — never a database URL."""
    done = _call(lambda: client_login(token, server=server))
    if done.dropped:
        err.print(f"[yellow]note:[/] dropped {' and '.join(done.dropped)} from your credentials (an older coursebench "
                  "saved them): students now talk to the course server only")
    console.print(f"Logged in to {done.server} as [bold]{done.name}[/]; saved to {credentials.credentials_path()} "
                  "(mode 600).", highlight=False)


# -- competitions and data --------------------------------------------------------------------

def list_cmd() -> None:
    """Competitions, their metric, deadline and your submissions left today."""
    found = _call(competitions.competitions)
    mine = _has_token()
    table = Table(title="Competitions", title_justify="left")
    for col in ("slug", "title", "metric", "deadline", "status", "left today"):
        table.add_column(col)
    for c in found:
        left = "-"
        if mine and c["is_open"]:
            q = _call(lambda c=c: competitions.quota(c["slug"]))
            left = f"{q['remaining']}/{q['limit']}"
        status = "[green]open[/]" if c["is_open"] else ("[red]closed[/]" if c["closed"] else "not open yet")
        table.add_row(c["slug"], c["title"], f"{c['metric']} ({c['direction']})", _when(c["deadline"]), status, left)
    console.print(table)


def files(
    slug: Annotated[str, typer.Argument(help="The competition's slug.")],
    path: Annotated[Path | None, typer.Option("-p", "--path", help="Download the files into this folder.")] = None,
) -> None:
    """The competition's public data files (train, test, sample submission); -p downloads them (SHA-256 checked)."""
    found = _call(lambda: competitions.files(slug))
    table = Table(title=f"{slug}: data", title_justify="left")
    for col, justify in (("name", "left"), ("size", "right"), ("sha256", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for f in found:
        table.add_row(f["name"], "missing" if f["size"] is None else f"{f['size']:,}", (f.get("sha256") or "")[:16])
    console.print(table)
    if path is None:
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def report(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done)

        written = _call(lambda: competitions.download(slug, path, progress=report))
    console.print(f"Downloaded {len(written)} file(s) to {path}/ (checked against the server's SHA-256).")


# -- submitting -------------------------------------------------------------------------------

class _SubmitBar:
    """The progress callback of :func:`coursebench.client.submitting.send`, drawn with Rich:
    a bar while uploading, a spinner while the score is awaited."""

    def __init__(self, progress: Progress, filename: str) -> None:
        self.progress, self.filename = progress, filename
        self.task = progress.add_task(f"uploading {filename}", total=None)

    def __call__(self, stage: str, done: float, total: float | None) -> None:
        if stage == "uploading":
            self.progress.update(self.task, completed=done, total=total)
        else:
            self.progress.update(self.task, description=f"{self.filename}: {stage}, waiting for the score",
                                 completed=0, total=None)


def submit(
    competition: CompOpt,
    file: Annotated[Path, typer.Option("-f", "--file", help="A .csv/.csv.gz/.zip prediction file, a .ipynb notebook, or a .keras/.tflite model (efficiency track).")],
    message: Annotated[str, typer.Option("-m", "--message", help="A note to remember this submission by.")] = "",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the score (0: just upload).")] = 900,
) -> None:
    """Upload predictions (scored at once) or a notebook (scored by k-fold CV in the server's sandbox) and wait for the score."""
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        result = _call(lambda: send(competition, file, message, wait=wait, progress=_SubmitBar(bar, file.name)))
    print_result(result, file.name)


def print_result(result: SubmissionResult, filename: str) -> None:
    """A submission's outcome, as the TA would say it; exits 1 unless it was stored."""
    raw = result.raw
    if result.status == "invalid":
        err.print(f"[red]✗ {filename} is not a valid submission[/] (it was not stored and did not count against "
                  "your daily limit); fix these and submit again:", highlight=False)
        table = Table(title_justify="left")
        for col in ("row", "column", "problem", "how to fix it"):
            table.add_column(col)
        for p in result.problems:
            table.add_row("" if p.row is None else str(p.row), p.column or "", p.message, p.fix)
        err.print(table)
        if result.more:
            err.print(f"  … and {result.more} more problem(s) of the same kinds")
        raise typer.Exit(1)
    if result.status == "refused":
        err.print(f"[red]✗ not accepted:[/] {result.error}", highlight=False)
        raise typer.Exit(1)
    if result.status == "complete":
        ci = f" (95% CI {result.public_ci[0]:.5f}-{result.public_ci[1]:.5f})" if result.public_ci else ""
        console.print(f"[green]✓ submission {result.id} scored[/]: public {_fmt(result.public_score)}{ci}")
        if result.cv_mean is not None:
            console.print(f"  CV {_fmt(result.cv_mean)} ± {_fmt(result.cv_std)} over "
                          f"{len(raw.get('cv_folds') or [])} folds")
        if result.rank:
            console.print(f"  your team's rank on the public leaderboard: {result.rank}")
    elif result.status == "failed":
        console.print(f"[red]✗ submission {result.id} failed: {raw.get('failure_label') or 'error'}[/]"
                      + ("" if raw.get("counted", True) else " (not counted)"))
        console.print(result.error or "", markup=False, highlight=False)
        for run in raw.get("runs") or []:
            if run.get("traceback"):
                console.print(f"[bold]{'full run' if run['fold'] == -1 else 'fold ' + str(run['fold'])}:[/]")
                console.print(run["traceback"], markup=False, highlight=False)
                break
        raise typer.Exit(1)
    else:
        console.print(f"submission {result.id} is {result.status}; see `coursebench compete submissions -c "
                      f"{result.competition}` for its score")
    q = _call(lambda: competitions.quota(result.competition))
    console.print(f"[dim]{q['remaining']} of {q['limit']} submissions left today[/]")


def submissions(competition: CompOpt) -> None:
    """Your team's submissions, newest first."""
    rows = _call(lambda: mine(competition))
    table = Table(title=f"{competition}: your submissions", title_justify="left")
    for col in ("id", "date", "file", "status", "public", "CV", "private", "selected", "message"):
        table.add_column(col)
    for v in rows:
        status = v["status"] if v["status"] != "failed" else f"[red]{v.get('failure_label') or 'failed'}[/]"
        cv = "-" if v.get("cv_mean") is None else f"{v['cv_mean']:.4f} ± {v.get('cv_std') or 0:.4f}"
        table.add_row(str(v["id"]), _when(v["created_at"]), v["filename"], status, _fmt(v.get("public_score")), cv,
                      _fmt(v.get("private_score")), "✓" if v.get("selected") else "", v.get("message") or "")
    console.print(table)


def leaderboard(
    competition: CompOpt,
    private: Annotated[bool, typer.Option("--private", help="The private leaderboard (after the deadline).")] = False,
) -> None:
    """The leaderboard: rank, team, score with its 95% CI, CV, entries; ≈ marks statistical ties."""
    view = _call(lambda: boards.board(competition, private=private))
    me = _call(competitions.me)["name"] if _has_token() else None
    table = Table(title=f"{view['competition']}: {view['board']} leaderboard ({view['metric']}, "
                        f"{view['direction']} is better)", title_justify="left")
    for col in ("#", "team", "score", "95% CI", "CV mean ± std", "entries", "last"):
        table.add_column(col)
    for r in view["rows"]:
        ci = "-" if r.get("ci_low") is None else f"{r['ci_low']:.4f} – {r['ci_high']:.4f}"
        cv = "-" if r.get("cv_mean") is None else f"{r['cv_mean']:.4f} ± {r.get('cv_std') or 0:.4f}"
        table.add_row(f"{r['rank']}{' ≈' if r['tied_with_above'] else ''}", r["team"], f"{r['score']:.5f}", ci, cv,
                      str(r["entries"]), _when(r.get("last_submission")),
                      style="bold" if me and me in r["members"] else None)
    console.print(table)
    if any(r["tied_with_above"] for r in view["rows"]):
        console.print("[dim]≈ statistically tied with the row above (paired bootstrap, 95%)[/]")


def select_cmd(
    competition: CompOpt,
    ids: Annotated[list[int], typer.Argument(help="Submission ids to count for the private leaderboard.")],
) -> None:
    """Choose your final submissions (replaces your previous choice)."""
    chosen = _call(lambda: select(competition, ids))
    console.print(f"Selected: {', '.join(map(str, chosen)) or 'none (your best public ones will count)'}")


def team(
    competition: CompOpt,
    create: Annotated[str | None, typer.Option(help="Name your team (you must lead it).")] = None,
    invite: Annotated[str | None, typer.Option(help="Invite a participant (by roster id).")] = None,
    join: Annotated[str | None, typer.Option(help="Join (merge into) a team that invited you.")] = None,
    leave: Annotated[bool, typer.Option("--leave", help="Leave your team.")] = False,
) -> None:
    """Your team; create, invite, join or leave it (until the merger deadline)."""
    if create:
        _call(lambda: teams.create(competition, create))
        console.print(f"Your team is now called {create!r}.")
    if invite:
        _call(lambda: teams.invite(competition, invite))
        console.print(f"Invited {invite}; they join with `coursebench compete team -c {competition} --join TEAM`.")
    if join:
        _call(lambda: teams.join(competition, join))
        console.print(f"You joined {join!r}.")
    if leave:
        left = _call(lambda: teams.leave(competition))
        console.print(f"You left; your new team is {left['name']!r}." if left else "You left your team.")
    view = _call(lambda: teams.team(competition))
    if view is None:
        console.print("You are not in a team yet (your first submission makes a solo team).")
    else:
        console.print(f"Team [bold]{view['name']}[/]: {', '.join(view['members'])} (leader {view['leader']})"
                      + (f"; invited: {', '.join(view['invites'])}" if view["invites"] else ""), highlight=False)


STUDENT_COMMANDS = {"login": login, "list": list_cmd, "files": files, "submit": submit, "submissions": submissions,
                    "leaderboard": leaderboard, "select": select_cmd, "team": team}


def add_student_commands(app: typer.Typer) -> None:
    """Register the student verbs on ``coursebench compete``."""
    for name, fn in STUDENT_COMMANDS.items():
        app.command(name)(fn)
