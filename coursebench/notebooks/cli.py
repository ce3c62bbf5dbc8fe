"""``coursebench notebooks build [--check]``."""

from __future__ import annotations

from pathlib import Path

import typer


def notebooks_app() -> typer.Typer:
    notebooks = typer.Typer(help="The course's notebooks, built from their jupytext sources (_src/*.py).",
                            no_args_is_help=True)

    @notebooks.callback()
    def _group() -> None:
        """The course's notebooks, built from their jupytext sources (_src/*.py)."""

    @notebooks.command("build")
    def build_cmd(
        check: bool = typer.Option(False, "--check", help="Change nothing; fail naming the notebooks that differ from their sources (CI)."),
        root: Path = typer.Option(None, help="The course checkout (default: the one coursebench runs from)."),
    ) -> None:
        """Write every notebook from its source: lectures, labs, the exam, competition baselines.

        Exit status 0 when everything is built (--check: up to date), 1 otherwise.
        """
        from rich.console import Console

        from .build import build
        from .errors import NotebookSourceError

        out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
        try:
            report = build(root, check=check)
        except NotebookSourceError as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
        for path in report.changed:
            if check:
                err.print(f"[red]differs from its source:[/] {path}", highlight=False)
            else:
                out.print(f"wrote {path}", highlight=False)
        for path in report.orphans:
            err.print(f"[red]no source builds it:[/] {path} — add its jupytext source in a _src/ folder "
                      "(jupytext --to py:percent), see docs/lectures.md", highlight=False)
        if check and report.changed:
            err.print("run [bold]coursebench notebooks build[/] (or make notebooks) and commit the result")
        if report.ok:
            state = "up to date" if check or not report.changed else "built"
            out.print(f"{len(report.files)} files {state}", highlight=False)
        raise typer.Exit(0 if report.ok else 1)

    return notebooks


def register(app: typer.Typer) -> None:
    app.add_typer(notebooks_app(), name="notebooks")
