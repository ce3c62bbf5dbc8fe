"""`coursebench demo`: the main job on the embedded defaults (SQLite, local sandbox).

The sandbox part: a batch of sample student notebooks — good ones and the usual
trouble (an exception, an infinite loop, a memory bomb, a peek at the answer key, a cell
that prints far too much) — runs through the sandboxed runner in parallel, and the
result table shows what each one got and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

SAMPLES: dict[str, tuple[str, list[str]]] = {
    "regression": (
        "Fits a linear regression on scikit-learn's diabetes data.",
        [
            "from sklearn.datasets import load_diabetes\nfrom sklearn.linear_model import LinearRegression\n"
            "from sklearn.model_selection import cross_val_score",
            "X, y = load_diabetes(return_X_y=True)\nscores = cross_val_score(LinearRegression(), X, y, cv=5, scoring='r2')\n"
            "print(f'R² = {scores.mean():.3f} ± {scores.std():.3f}')",
        ],
    ),
    "knn": (
        "k-nearest neighbours on iris, with and without scaling.",
        [
            "from sklearn.datasets import load_iris\nfrom sklearn.neighbors import KNeighborsClassifier\n"
            "from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
            "from sklearn.model_selection import cross_val_score",
            "X, y = load_iris(return_X_y=True)\nfor k in (1, 5, 15):\n"
            "    acc = cross_val_score(make_pipeline(StandardScaler(), KNeighborsClassifier(k)), X, y, cv=5).mean()\n"
            "    print(f'k={k:2d}  accuracy={acc:.3f}')",
        ],
    ),
    "plot": (
        "Draws a figure (kept in the executed notebook).",
        [
            "import numpy as np\nimport matplotlib.pyplot as plt\nx = np.linspace(0, 6, 200)\n"
            "plt.plot(x, np.sin(x), label='sin')\nplt.legend(); plt.title('회귀 regression?')\nplt.show()",
        ],
    ),
    "typo": (
        "A student's typo: NameError in cell 2.",
        ["import numpy as np\ndata = np.arange(10)", "print(dat.mean())"],
    ),
    "infinite_loop": (
        "Never finishes: stopped at the time limit, earlier outputs kept.",
        ["print('training...')", "while True:\n    pass"],
    ),
    "memory_bomb": (
        "Allocates until it hits the memory limit.",
        ["blocks = []\nwhile True:\n    blocks.append(bytearray(64 * 2**20))"],
    ),
    "peek_at_answers": (
        "Tries to read the course's answer key and gradebook.",
        ["import pathlib\nfor p in ['ANSWERS', '/etc/shadow', str(pathlib.Path.home() / '.ssh')]:\n"
         "    print(p, pathlib.Path(p).exists())\nopen('ANSWERS').read()"],
    ),
    "too_loud": (
        "Prints 50 MB: the output is truncated with a note.",
        ["for i in range(50):\n    print('x' * 2**20)", "print('done')"],
    ),
}


def write_samples(directory: Path, answers: Path) -> list[Path]:
    import nbformat
    from nbformat import v4

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (description, cells) in SAMPLES.items():
        nb = v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        sources = [c.replace("'ANSWERS'", repr(str(answers))) for c in cells]
        nb.cells = [v4.new_markdown_cell(f"# {name}\n{description}"), *map(v4.new_code_cell, sources)]
        path = directory / f"{name}.ipynb"
        nbformat.write(nb, str(path))
        paths.append(path)
    return paths


def run_sandbox_batch(build: Path, *, backend: str = "auto", workers: int | None = None, progress=True):
    """Write the sample notebooks and run them; returns their results (input order)."""
    from .execution import Job, Limits, run_many

    answers = build / "instructor" / "ANSWER_KEY.txt"
    answers.parent.mkdir(parents=True, exist_ok=True)
    answers.write_text("the answers, which no notebook may read\n")
    limits = Limits(timeout=20, memory="512M", output="2M", cpus=1, pids=128)
    notebooks = write_samples(build / "notebooks", answers)
    jobs = [Job(nb, limits=limits, backend=backend, output=build / "executed" / nb.name) for nb in notebooks]
    return run_many(jobs, workers=workers, progress=progress, description="Sample notebooks")


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        build: Annotated[Path, typer.Option(help="Where the demo writes its files.")] = Path("build/demo"),
        backend: Annotated[str, typer.Option(help="Sandbox: auto, docker, bwrap or subprocess.")] = "auto",
        workers: Annotated[Optional[int], typer.Option(help="Notebooks run at once.")] = None,
    ) -> None:
        """Run the sample course: a batch of student notebooks through the sandbox."""
        from rich.console import Console

        from .cli import failure_report, result_table
        from .execution import resolve

        console = Console()
        chosen, why = resolve(backend)
        console.rule("[bold]coursebench demo")
        console.print(f"[dim]{why}[/]")
        results = run_sandbox_batch(build, backend=chosen, workers=workers)
        console.print(result_table(results, title="Sample student notebooks, run in the sandbox"))
        for r in results:
            if not r.ok:
                console.print(failure_report(r))
        console.print(
            f"\nExecuted notebooks: [bold]{build / 'executed'}[/]. Every notebook ran with papermill inside "
            f"the {chosen} sandbox with a 20 s limit, 512 MiB of memory and a 2 MiB output cap; "
            "failures are reported with their cell and error, and one failure never stops the batch."
        )
