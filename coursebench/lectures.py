"""The course's lecture notebooks: find them, run them in the sandbox, list them.

``coursebench lectures run [--smoke] [NAME...]`` executes ``lectures/NN_*.ipynb`` through
:func:`coursebench.execution.run_many` and writes the executed copies to
``build/lectures/``; ``coursebench lectures list`` shows what there is.

Inside the sandbox the toolkit is not installed (the sandbox sees the virtual
environment, not the checkout), so every job carries a small ``coursebench`` package
in its working directory holding just :mod:`coursebench.notebook`,
:mod:`coursebench.datasets` and :mod:`coursebench.intents` (with its corpus) — the modules
lectures import.  They import nothing else from coursebench.  The Jupyter kernel puts its
working directory on ``sys.path``, so ``from coursebench.notebook import setup`` finds
that copy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CoursebenchError

if TYPE_CHECKING:
    import typer

    from .execution import ExecutionResult, Job, Limits

LECTURE_PATTERN = re.compile(r"^(\d\d)_([a-z0-9_]+)\.ipynb$")
RUNTIME_MODULES = ("notebook.py", "datasets.py", "intents.py")
RUNTIME_DATA = ("data/intents/intents.csv", "data/intents/responses.csv", "data/intents/faq.csv")
RUNTIME_INIT = '''"""coursebench lecture runtime: the modules lecture notebooks import
(coursebench.notebook, coursebench.datasets, coursebench.intents and its corpus), copied in
by `coursebench lectures run`.  The full toolkit is not installed inside the sandbox."""
'''


#: Keras 3 backends a lecture can run on: name → (module that must be importable, how to install it).
KERAS_BACKENDS: dict[str, tuple[str, str]] = {
    "tensorflow": ("tensorflow", "pip install tensorflow-cpu   (or: pip install -e '.[dl]')"),
    "jax": ("jax", "pip install 'jax[cpu]'   (or: pip install -e '.[dl]')"),
    "torch": ("torch", "pip install torch --index-url https://download.pytorch.org/whl/cpu"),
}


class KerasBackendError(CoursebenchError):
    """An unknown Keras backend, or one whose library is not installed here."""

    code = "keras_backend"

    def __init__(self, message: str, *, backend: str) -> None:
        super().__init__(message)
        self.backend = backend

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "backend": self.backend}


def check_keras_backend(name: str) -> str:
    """``name`` if it is a Keras backend whose library is importable in this environment
    (the one the bwrap and subprocess sandboxes run); else :class:`KerasBackendError`
    naming the known backends or what to install."""
    if name not in KERAS_BACKENDS:
        raise KerasBackendError(
            f"Keras has no backend {name!r}; choose one of {', '.join(KERAS_BACKENDS)}.", backend=name
        )
    module, install = KERAS_BACKENDS[name]
    if importlib.util.find_spec(module) is None:
        raise KerasBackendError(
            f"the Keras backend {name!r} needs the {module!r} package, which is not installed "
            f"here: {install}",
            backend=name,
        )
    return name


@contextmanager
def keras_backend_env(name: str | None) -> Iterator[None]:
    """Set ``KERAS_BACKEND`` to ``name`` while the block runs (nothing when ``None``).

    The sandboxes pass ``KERAS_BACKEND`` from the host's environment into the notebook's
    kernel (``execution.backends.process.PASSTHROUGH_ENV``), and the lectures' setup cell
    only defaults it to ``tensorflow`` when it is unset — so this is how a lecture run
    picks its backend.  Process-wide: do not run lectures on two backends at once in one
    process.  A Dask cluster's workers keep their own environment."""
    if name is None:
        yield
        return
    check_keras_backend(name)
    before = os.environ.get("KERAS_BACKEND")
    os.environ["KERAS_BACKEND"] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("KERAS_BACKEND", None)
        else:
            os.environ["KERAS_BACKEND"] = before


def default_root() -> Path:
    """``lectures/`` of the checkout this module belongs to, else of the working directory."""
    here = Path(__file__).resolve().parent.parent / "lectures"
    return here if here.is_dir() else Path.cwd() / "lectures"


@dataclass(frozen=True)
class Lecture:
    number: int
    name: str
    """The file stem, e.g. ``03_regression``."""
    path: Path

    @property
    def title(self) -> str:
        """The first Markdown heading, without the leading ``#``."""
        first = self._first_markdown()
        for line in first.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip()
        return self.name

    @property
    def summary(self) -> str:
        """The notebook's one-line summary: ``metadata.coursebench.summary``, else the
        first plain paragraph line of the first Markdown cell."""
        meta = self._read().get("metadata", {}).get("coursebench", {})
        if meta.get("summary"):
            return str(meta["summary"])
        paragraph: list[str] = []
        for line in self._first_markdown().splitlines():
            text = line.strip()
            if text and not text.startswith("#"):
                paragraph.append(text)
            elif paragraph:
                break
        return " ".join(paragraph)

    def _read(self) -> dict[str, Any]:
        return json.loads(self.path.read_text(encoding="utf-8"))

    def _first_markdown(self) -> str:
        for cell in self._read().get("cells", []):
            if cell.get("cell_type") == "markdown":
                source = cell.get("source", "")
                return "".join(source) if isinstance(source, list) else source
        return ""


class LectureNotFound(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        super().__init__(f"no lecture matches {name!r}; lectures: {', '.join(known) or '(none found)'}")


def discover(root: str | Path | None = None) -> list[Lecture]:
    """Every ``NN_topic.ipynb`` in ``root`` (default: the course's ``lectures/``), in order."""
    root = Path(root) if root is not None else default_root()
    found = []
    for path in sorted(root.glob("*.ipynb")):
        match = LECTURE_PATTERN.match(path.name)
        if match:
            found.append(Lecture(number=int(match.group(1)), name=path.stem, path=path))
    return found


def select(lectures: Sequence[Lecture], names: Sequence[str]) -> list[Lecture]:
    """Pick lectures by number (``3``, ``03``), full name (``03_regression``), topic
    (``regression``) or path; no names → all.  Raises :class:`LectureNotFound`."""
    if not names:
        return list(lectures)
    chosen: list[Lecture] = []
    for name in names:
        key = Path(name).stem if name.endswith(".ipynb") else name
        hits = [
            lec for lec in lectures
            if key == lec.name or (key.isdigit() and int(key) == lec.number) or key == lec.name[3:]
        ]  # fmt: skip
        if not hits:
            hits = [lec for lec in lectures if key in lec.name]
        if len(hits) != 1:
            raise LectureNotFound(name, [lec.name for lec in lectures])
        if hits[0] not in chosen:
            chosen.append(hits[0])
    return chosen


def runtime_package(into: str | Path) -> Path:
    """Write the lecture runtime (``coursebench/{__init__,notebook,datasets,intents}.py`` and
    the corpus under ``data/``) under ``into`` and return the package directory, ready to be
    a job's input file."""
    package = Path(into) / "coursebench"
    package.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    for module in RUNTIME_MODULES:
        shutil.copyfile(here / module, package / module)
    for data in RUNTIME_DATA:  # the help-desk corpus of lecture 13 (coursebench.intents)
        (package / data).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(here / data, package / data)
    (package / "__init__.py").write_text(RUNTIME_INIT, encoding="utf-8")
    return package


def default_limits(smoke: bool) -> Limits:
    from .execution import Limits

    # Smoke runs must stay quick; full runs train real models on one core.
    return Limits(timeout=300 if smoke else 1800, memory="3G", cpus=1.0, pids=512)


def make_jobs(
    lectures: Sequence[Lecture],
    *,
    runtime: Path,
    smoke: bool = False,
    output: str | Path = "build/lectures",
    limits: Limits | None = None,
    backend: str = "auto",
    parameters: dict[str, Any] | None = None,
) -> list[Job]:
    """One job per lecture: the notebook, ``smoke`` (and any ``parameters``), the
    runtime package as an input file, the executed copy written to ``output/NAME.ipynb``."""
    from .execution import Job

    limits = limits or default_limits(smoke)
    out = Path(output)
    params = {"smoke": smoke, **(parameters or {})}
    return [
        Job(
            notebook=lec.path,
            parameters=params,
            limits=limits,
            files=[(runtime, "coursebench")],
            name=lec.name,
            output=out / f"{lec.name}.ipynb",
            backend=backend,
        )
        for lec in lectures
    ]


def run_lectures(
    lectures: Sequence[Lecture],
    *,
    smoke: bool = False,
    output: str | Path = "build/lectures",
    workers: int | None = None,
    backend: str = "auto",
    cluster: str | None = None,
    limits: Limits | None = None,
    parameters: dict[str, Any] | None = None,
    progress: Callable[[int, int, ExecutionResult], None] | None = None,
    keras_backend: str | None = None,
) -> list[ExecutionResult]:
    """Run ``lectures`` in the sandbox (in parallel) and return their results in order.

    ``keras_backend`` (``tensorflow``, ``jax``, ``torch``; default: the environment's
    ``KERAS_BACKEND``, else TensorFlow) is the backend the Keras lectures run on; see
    :func:`keras_backend_env`.  On a ``cluster`` the workers' own environment decides, so
    it is refused there."""
    from .execution import run_many

    if keras_backend is not None and cluster is not None:
        raise KerasBackendError(
            "a Dask cluster's workers keep their own environment: start them with "
            f"KERAS_BACKEND={keras_backend} instead of asking for it here",
            backend=keras_backend,
        )
    Path(output).mkdir(parents=True, exist_ok=True)
    with keras_backend_env(keras_backend), tempfile.TemporaryDirectory(prefix="coursebench-lecture-runtime-") as tmp:
        runtime = runtime_package(tmp)
        jobs = make_jobs(
            lectures, runtime=runtime, smoke=smoke, output=output, limits=limits,
            backend=backend, parameters=parameters,
        )  # fmt: skip
        return run_many(jobs, workers=workers, progress=progress, cluster=cluster)


# ---------------------------------------------------------------------------------- CLI


def register(app: typer.Typer) -> None:
    import typer

    lectures_app = typer.Typer(
        help="The course's lecture notebooks: list them, run them in the sandbox.",
        no_args_is_help=True,
    )

    @lectures_app.command("list")
    def list_cmd(
        root: Path = typer.Option(None, help="Folder with the lecture notebooks (default: the course's lectures/)."),
    ) -> None:
        """List the lectures with one line each."""
        from rich.table import Table

        from .cli import console

        found = discover(root)
        table = Table(title=f"Lectures ({len(found)})", title_justify="left")
        for column in ("#", "notebook", "title", "summary"):
            table.add_column(column, overflow="fold")
        for lec in found:
            table.add_row(f"{lec.number:02d}", lec.name, lec.title, lec.summary)
        console.print(table)

    @lectures_app.command("run")
    def run_cmd(
        names: list[str] = typer.Argument(None, help="Lectures to run: 3, 03, 03_regression or regression (default: all).", show_default=False),
        smoke: bool = typer.Option(False, "--smoke", help="Quick CI run: small data, few epochs (papermill parameter smoke=True)."),
        workers: int = typer.Option(None, help="Notebooks run at once (default: CPU cores)."),
        backend: str = typer.Option("auto", help="Sandbox: auto, docker, bwrap or subprocess."),
        cluster: str = typer.Option(None, help="Run on a Dask scheduler, e.g. tcp://host:8786."),
        output: Path = typer.Option(Path("build/lectures"), "-o", "--output", help="Where executed copies go."),
        root: Path = typer.Option(None, help="Folder with the lecture notebooks (default: the course's lectures/)."),
        timeout: float = typer.Option(None, help="Seconds per notebook (default: 300 smoke, 1800 full)."),
        memory: str = typer.Option("3G", help="Memory per notebook."),
        keras_backend: str = typer.Option(
            None, "--keras-backend",
            help="Keras 3 backend for the Keras lectures: tensorflow, jax or torch "
                 "(default: $KERAS_BACKEND, else tensorflow). Lecture 12's TFLite part needs tensorflow.",
        ),
    ) -> None:
        """Execute lectures in the sandbox; executed copies go to build/lectures/.

        Exit status 0 when all ran ok, 1 when any failed (the report names the cell and error).
        """
        import time

        from .cli import console, err, failure_report, result_table
        from .execution import resolve
        from .execution.errors import ExecutionError

        try:
            chosen = select(discover(root), names or [])
        except LectureNotFound as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
        if not chosen:
            err.print(f"[red]error:[/] no lectures (NN_topic.ipynb) in {root or default_root()}")
            raise typer.Exit(2)
        if keras_backend is not None:
            try:
                check_keras_backend(keras_backend)
            except KerasBackendError as exc:
                err.print(f"[red]error:[/] {exc}")
                raise typer.Exit(2) from None
            if cluster is not None:
                err.print(f"[red]error:[/] a Dask cluster's workers keep their own environment: start them "
                          f"with KERAS_BACKEND={keras_backend} instead of --keras-backend")
                raise typer.Exit(2)
        if cluster is None:
            try:
                backend, why = resolve(backend)
            except ExecutionError as exc:
                err.print(f"[red]error:[/] {exc}")
                raise typer.Exit(2) from None
            err.print(f"[dim]{why}[/]")
        limits = default_limits(smoke)
        try:
            limits = limits.replace(memory=memory, **({"timeout": timeout} if timeout else {}))
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        from .cli_progress import progress_bar

        started = time.monotonic()
        with progress_bar("Lectures (smoke)" if smoke else "Lectures", total=len(chosen)) as bar:
            results = run_lectures(
                chosen, smoke=smoke, output=output, workers=workers, backend=backend,
                cluster=cluster, limits=limits, progress=bar, keras_backend=keras_backend,
            )  # fmt: skip
        elapsed = time.monotonic() - started
        mode = ("smoke" if smoke else "full") + (f", Keras on {keras_backend}" if keras_backend else "")
        console.print(result_table(results, title=f"Lectures ({mode} run, {elapsed:.0f}s)"))
        for r in results:
            if not r.ok:
                console.print(failure_report(r))
        ok = sum(r.ok for r in results)
        console.print(f"{ok}/{len(results)} ok; executed copies in {output}/")
        raise typer.Exit(0 if ok == len(results) else 1)

    app.add_typer(lectures_app, name="lectures")
