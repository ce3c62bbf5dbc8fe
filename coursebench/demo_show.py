"""The `coursebench demo` command: runs the demo (:mod:`coursebench.demo`) and prints it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .demo import DEFAULT_LABS, DemoResult, UnknownLab, run_demo
from .demo_class import CLASS

console = Console()


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        build: Annotated[Path, typer.Option(help="Where the demo writes its files.")] = Path("build/demo"),
        labs: Annotated[str, typer.Option(help="Comma-separated labs to release and grade.")] = ",".join(DEFAULT_LABS),
        backend: Annotated[str, typer.Option(help="Sandbox: auto, docker, bwrap or subprocess.")] = "auto",
        workers: Annotated[int | None, typer.Option(help="Notebooks run at once (default: CPU cores).")] = None,
        serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the web app at the end.")] = True,
        host: Annotated[str, typer.Option(help="Address the web app listens on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port of the web app.")] = 8000,
    ) -> None:
        """Run the sample course end to end: release, simulated class, sandboxed autograding,
        the midterm competition, the course report — then serve the leaderboard."""
        chosen = tuple(x.strip() for x in labs.split(",") if x.strip())
        try:
            result = show(build, chosen, backend=backend, workers=workers)
        except UnknownLab as exc:
            raise typer.BadParameter(str(exc), param_hint="--labs") from None
        if serve:
            serve_web(result, host=host, port=port)


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


def show(build: Path, labs: tuple[str, ...], *, backend: str, workers: int | None) -> DemoResult:
    from .execution import resolve

    chosen, why = resolve(backend)
    console.rule("[bold]coursebench demo")
    console.print(f"[dim]{why}[/]")
    bars = _progress()
    tasks: dict[str, int] = {}

    def progress(lab: str):
        def update(done: int, total: int, _result) -> None:
            if lab not in tasks:
                tasks[lab] = bars.add_task(f"autograde {lab}", total=total)
            bars.update(tasks[lab], completed=done, total=total)
        return update

    status = console.status("running the midterm...")
    with bars:
        result = run_demo(build, labs=labs, backend=chosen, workers=workers, progress=progress,
                          on_step=lambda text: status.update(f"midterm: {text}"))
    print_grading(result)
    print_boards(result)
    print_report(result)
    return result


def print_grading(result: DemoResult) -> None:
    for lab, report in result.grading.items():
        if not hasattr(report, "results"):
            continue
        table = Table(title=f"{lab}: autograded in the sandbox ({report.wall_time:.0f} s)", title_justify="left")
        for col in ("student", "kind", "score", "status", "time", "note"):
            table.add_column(col, overflow="fold")
        for r in report.results:
            score = "" if r.final_score is None else f"{r.final_score:g} / {r.max_score:g}"
            late = f"late {r.seconds_late / 86400:.1f} d, -{r.late_penalty:g}" if r.seconds_late > 0 else ""
            note = "; ".join(n for n in (late, r.message, *r.notes) if n)[:120]
            table.add_row(r.student, CLASS.get(r.student, ""), score, r.status, f"{r.wall_time:.1f}s", note)
        console.print(table)


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def print_boards(result: DemoResult) -> None:
    for title, view in ((f"{result.midterm}: public leaderboard (before the deadline)", result.leaderboard),
                        (f"{result.midterm}: private leaderboard (after the deadline)", result.private)):
        table = Table(title=title, title_justify="left")
        for col in ("#", "team", "score", "95% CI", "CV", "entries", "tie"):
            table.add_column(col)
        for row in view.rows:
            ci = f"[{row.ci[0]:.3f}, {row.ci[1]:.3f}]" if row.ci else ""
            cv = f"{row.cv_mean:.3f} ± {row.cv_std:.3f}" if row.cv_mean is not None else ""
            table.add_row(str(row.rank), row.team, _score(row.score), ci, cv, str(row.entries),
                          "≈" if row.tied_with_above else "")
        console.print(table)
    moves = ", ".join(f"{r.team} {r.change:+d}" for r in result.shakeup.rows if r.change)
    console.print(f"Shake-up: Kendall τ between public and private ranks = {result.shakeup.kendall_tau:.2f}"
                  + (f"; moves: {moves}" if moves else "; nobody moved"))


def print_report(result: DemoResult) -> None:
    report = result.report
    from .grading.cli import grades_table

    weights = ", ".join(f"{k} {v:.0%}" for k, v in report.weights.items())
    console.print(grades_table(report, title=f"Course grades ({weights})"))
    unreleased = [w.split(":")[0] for w in report.warnings if "not released yet" in w]
    for warning in report.warnings:
        if "not released yet" not in warning:
            console.print(f"[yellow]note:[/] {warning}")
    if unreleased:
        console.print(f"[dim]not released in the demo, so left out of the grades: {', '.join(unreleased)}[/]")
    console.print("[dim]Manually graded answers (prose) score 0 until graded in `nbgrader formgrader`.[/]")
    console.print("\nWhat the demo wrote:")
    console.print(f"  course copy, gradebook, autograded notebooks: {result.course_dir}")
    console.print(f"  student versions for the LMS:               {result.build / 'lms'}")
    console.print(f"  leaderboard database:                       {result.db_url}")
    for path in result.report_files:
        console.print(f"  report: {path}")
    console.print("\nThe final exam is graded the same way (`coursebench grade autograde final_exam`); "
                  "the demo leaves it ungraded, so its column is empty.")


def serve_web(result: DemoResult, *, host: str, port: int) -> None:
    import uvicorn

    from leaderboard.services import Service
    from leaderboard.web.app import WebSettings, create_app

    svc = Service(result.db_url, result.course_dir / "competitions")
    app = create_app(svc, WebSettings(workers=1))
    table = Table(title="Log in with a token (kept in build/demo/tokens.csv)", title_justify="left")
    table.add_column("who")
    table.add_column("token")
    lines = ["who,token"]
    for who, token in result.tokens.items():
        lines.append(f"{who},{token}")
        if who in ("instructor", "s01", "s02"):
            table.add_row(who, token)
    (result.build / "tokens.csv").write_text("\n".join(lines) + "\n")
    console.print(table)
    console.print(f"Serving the leaderboard at [bold]http://{host}:{port}[/] — Ctrl-C to stop.")
    uvicorn.run(app, host=host, port=port, log_level="warning")
