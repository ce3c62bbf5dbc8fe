"""The ``coursebench`` command.  Sub-apps are thin: parse, call the library, print.

Areas register themselves: a module listed in ``SUBCOMMANDS`` exposes
``register(app: typer.Typer) -> None``.  They import heavy libraries inside their
commands, so ``coursebench --help`` stays fast.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ._version import __version__

console = Console()
err = Console(stderr=True)

app = typer.Typer(
    name="coursebench",
    help=(
        "A Jupyter course and competition workbench: run notebooks in a sandbox, "
        "autograde nbgrader assignments in parallel, and host Kaggle-style competitions."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

SUBCOMMANDS = (
    "coursebench.grading.cli",
    "leaderboard.cli",
    "leaderboard.web.cli",
    "leaderboard.worker.cli",
    "coursebench.lectures",
    "coursebench.notebooks.cli",
    "coursebench.demo_show",
    "coursebench.images.cli",
    "coursebench.hub.cli",
    "coursebench.doctor",
)

STATUS_STYLE = {
    "ok": "green",
    "error": "red",
    "timeout": "yellow",
    "oom": "magenta",
    "killed": "red",
    "invalid": "bright_black",
}


def _version(value: bool) -> None:
    if value:
        console.print(f"coursebench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """coursebench: the course as software."""


PARAM_FLAGS = ("-p", "--parameter")


def _pair_parameters(argv: list[str]) -> list[str]:
    """papermill's habit `-p NAME VALUE` (two tokens) → `-p NAME=VALUE` for the parser."""
    out, i = [], 0
    while i < len(argv):
        token = argv[i]
        if token in PARAM_FLAGS and i + 2 < len(argv) and "=" not in argv[i + 1]:
            out += [token, f"{argv[i + 1]}={argv[i + 2]}"]
            i += 3
            continue
        out.append(token)
        i += 1
    return out


def _parse_params(pairs: list[str] | None) -> dict:
    params = {}
    for pair in pairs or []:
        name, sep, raw = pair.partition("=")
        if not sep or not name.isidentifier():
            raise typer.BadParameter(
                f"{pair!r}: write parameters as -p NAME VALUE (NAME a Python identifier)", param_hint="-p"
            )
        try:
            params[name] = json.loads(raw)
        except ValueError:
            params[name] = raw
    return params


def result_table(results, title: str = "Results") -> Table:
    from .execution import format_size

    table = Table(title=title, title_justify="left")
    for column in ("notebook", "status", "cell", "time", "memory", "backend", "message"):
        table.add_column(column, overflow="fold")
    for r in results:
        style = STATUS_STYLE.get(r.status, "")
        from .execution.result import cell_label

        cell = cell_label(r.notebook, r.failed_cell).replace("cell ", "") if r.failed_cell is not None else ""
        message = r.message if r.status != "error" else f"{r.ename}: {r.evalue}"
        table.add_row(
            r.name,
            f"[{style}]{r.status}[/]",
            cell,
            f"{r.wall_time:.1f}s",
            format_size(r.peak_memory),
            r.backend + ("" if r.sandboxed else " [yellow](not sandboxed)[/]"),
            (message or "")[:160],
        )
    return table


def failure_report(r) -> str:
    """One screen for a failed notebook: which cell, which error, last traceback lines."""
    from .execution.result import cell_label

    lines = [f"[bold red]✗ {r.name}[/]: {r.status}"]
    if r.failed_cell is not None:
        lines.append(f"  where: {cell_label(r.notebook, r.failed_cell)}")
        try:
            source = r.notebook.cells[r.failed_cell].source.strip().splitlines()
            lines.append("  code:  " + "\n         ".join(source[-5:]))
        except Exception:
            pass
    if r.status == "error" and r.ename:
        lines.append(f"  error: {r.ename}: {r.evalue}")
    elif r.message:
        lines.append(f"  why:   {r.message}")
    tail = r.traceback_tail(6) if r.status == "error" else ""
    if tail:
        lines.append("  traceback (last lines):\n    " + tail.replace("\n", "\n    "))
    return "\n".join(lines)


@app.command("run")
def run_cmd(
    notebooks: Annotated[list[Path], typer.Argument(help="Notebooks to run.", show_default=False)],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Where executed notebooks go: a .ipynb path (one notebook) or a directory."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "-p",
            "--parameter",
            help="A papermill parameter: -p NAME VALUE or -p NAME=VALUE (VALUE read as JSON when it can be).",
            metavar="NAME VALUE",
        ),
    ] = None,
    backend: Annotated[str, typer.Option(help="Sandbox: auto, docker, bwrap or subprocess.")] = "auto",
    timeout: Annotated[float, typer.Option(help="Seconds for each whole notebook.")] = 600,
    cell_timeout: Annotated[float | None, typer.Option(help="Seconds for any one cell.")] = None,
    memory: Annotated[str, typer.Option(help="Memory per notebook, e.g. 512M, 2G.")] = "2G",
    cpus: Annotated[float, typer.Option(help="CPU cores per notebook.")] = 1.0,
    gpus: Annotated[int, typer.Option(help="GPUs per notebook.")] = 0,
    workers: Annotated[int | None, typer.Option(help="Notebooks run at once (default: CPU cores).")] = None,
    cluster: Annotated[str | None, typer.Option(help="Run on a Dask scheduler, e.g. tcp://host:8786.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON result object per notebook.")] = False,
    trusted: Annotated[bool, typer.Option(
        "--trusted-notebooks", help="These are your own notebooks: allow --backend subprocess (no isolation).")] = False,
    warm: Annotated[bool, typer.Option("--warm/--no-warm", help="Fork kernels from a pre-imported template in "
                                       "warm sandboxes (docs/warm.md; default: course.toml [execution] warm).")] = True,
) -> None:
    """Run notebooks with papermill inside a sandbox, in parallel, with limits.

    Exit status: 0 when every notebook ran ok, 1 when any failed, 2 on a usage error.
    """
    import warnings

    from .execution import Job, Limits, run_many
    from .execution.errors import ExecutionError

    params = _parse_params(param)
    try:
        limits = Limits(timeout=timeout, cell_timeout=cell_timeout, memory=memory, cpus=cpus, gpus=gpus)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        from .execution import known_backends, resolve

        if cluster is not None:  # each Dask worker resolves the backend itself
            if backend != "auto" and backend not in known_backends():
                resolve(backend, trusted=trusted)  # raises UnknownBackend with the known names
            chosen, why = backend, f"running on the Dask cluster at {cluster} (backend {backend} on each worker)"
        else:
            chosen, why = resolve(backend, trusted=trusted)
    except ExecutionError as exc:
        from rich.markup import escape

        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if not as_json:
        err.print(f"[dim]{why}[/]")
    if chosen == "subprocess":
        err.print("[yellow]warning:[/] not sandboxed: the subprocess backend does not isolate notebooks; "
                  "trusted notebooks only.")
    warnings.filterwarnings("ignore", category=UserWarning, module="coursebench")
    jobs = []
    many = len(notebooks) > 1 or (output is not None and output.suffix != ".ipynb")
    for nb in notebooks:
        if output is None:
            out = nb.with_name(f"{nb.stem}.executed.ipynb")
        elif many:
            out = output / f"{nb.stem}.ipynb"
        else:
            out = output
        jobs.append(Job(notebook=nb, parameters=params, limits=limits, backend=chosen, output=out, trusted=trusted,
                        warm=None if warm else False))
    from .cli_progress import progress_bar

    label = "Running notebooks" if cluster is None else "Running notebooks on the cluster"
    with progress_bar(label, total=len(jobs), enabled=not as_json and sys.stderr.isatty()) as bar:
        results = run_many(jobs, workers=workers, progress=bar, cluster=cluster)
    if as_json:
        for r in results:  # JSON Lines: one object per notebook
            sys.stdout.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    else:
        console.print(result_table(results))
        for r in results:
            if not r.ok:
                console.print(failure_report(r))
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


# Subcommands whose module is known without importing the others: `coursebench compete
# ...` (what students type, on laptops and in containers) loads only its own module, not
# grading's nbgrader/SQLAlchemy or the web app.
ONLY_MODULE = {"compete": "leaderboard.cli"}


def _register_subcommands(argv: list[str] | None = None) -> None:
    first = next((a for a in (argv or []) if not a.startswith("-")), None)
    only = ONLY_MODULE.get(first or "")
    for module in (only,) if only else SUBCOMMANDS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name == module or module.startswith(exc.name + ".")):
                continue  # that area is not part of this installation
            raise
        register = getattr(mod, "register", None)
        if register is not None:
            register(app)


def main() -> None:
    # The CLI never validates string formats with jsonschema; skip the 1.2 s import of
    # rfc3987_syntax that jsonschema's format checkers would pay for.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    _register_subcommands(sys.argv[1:])
    from .errors import CoursebenchError

    try:
        app(args=_pair_parameters(sys.argv[1:]), prog_name="coursebench", standalone_mode=True)
    except CoursebenchError as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(2)




if __name__ == "__main__":
    main()
