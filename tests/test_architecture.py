"""The dependency rule (docs/architecture.md, `.importlinter`) holds, and its runtime side too.

- import-linter's contracts pass (the same `lint-imports` that `make lint` runs);
- no module of ``coursebench`` or ``leaderboard`` can reach itself through imports
  (import-linter's ``acyclic_siblings`` contract sees circles between siblings; this
  sees the rest, e.g. a package's ``__init__`` and its own submodules), on grimp's graph;
- the student client imports, in a fresh interpreter, nothing but the standard library
  and coursebench's dependency-free error root — no SQLAlchemy, leaderboard, Typer,
  pandas — and still none of them after a request;
- the code copied into the sandbox (worker.py, the lecture runtime) imports standalone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _python(code: str, *, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh, isolated interpreter (-I: no PYTHON* variables, no user site,
    no current directory on sys.path)."""
    return subprocess.run([sys.executable, "-I", "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def test_dependency_contracts_hold() -> None:
    assert LINT_IMPORTS.exists(), f"import-linter is not installed in this environment ({LINT_IMPORTS})"
    done = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, "lint-imports found broken contracts:\n" + done.stdout[-12000:] + done.stderr[-3000:]


def test_no_import_circle_anywhere() -> None:
    import grimp

    graph = grimp.build_graph("coursebench", "leaderboard", cache_dir=None)
    ours = {m for m in graph.modules if m.split(".")[0] in ("coursebench", "leaderboard")}
    circles: set[tuple[str, ...]] = set()
    for importer in sorted(ours):
        for imported in graph.find_modules_directly_imported_by(importer) & ours:
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                circle = (importer, *back)  # importer -> imported -> ... -> importer
                start = circle.index(min(circle[:-1]))
                circles.add(circle[start:-1] + circle[:start] + (circle[start],))
    assert not circles, "import circles (imports inside functions count):\n" + "\n".join(
        "  " + " -> ".join(c) for c in sorted(circles))


CLIENT_PROBE = """
    import json, sys
    before = set(sys.modules)
    import coursebench.client, coursebench.compete
    from coursebench import compete
    loaded = sorted(set(sys.modules) - before)
    try:
        compete.submit("demo", b"id,y\\n1,0\\n", server="http://127.0.0.1:9", token="t", wait=0)
    except compete.CompeteError as exc:
        error = str(exc)
    else:
        error = None
    print(json.dumps({"loaded": loaded, "after_request": sorted(sys.modules), "error": error,
                      "stdlib": sorted(sys.stdlib_module_names)}))
"""
HEAVY = ("sqlalchemy", "leaderboard", "typer", "pandas", "numpy", "pydantic", "pydantic_settings", "nbformat",
         "coursebench.execution", "coursebench.settings", "coursebench.config")


def test_student_client_imports_only_the_standard_library(tmp_path: Path) -> None:
    done = _python(CLIENT_PROBE, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout)
    stdlib = set(probe["stdlib"])
    own = {"coursebench", "coursebench._version", "coursebench.errors", "coursebench.compete"}
    foreign = [m for m in probe["loaded"] if m.split(".")[0] not in stdlib and m not in own
               and not m.startswith("coursebench.client")]
    assert not foreign, f"importing the student client loaded more than the standard library: {foreign}"
    # the request went out through httpx (port 9 has no server) and pulled in nothing heavy
    assert probe["error"] and "cannot reach" in probe["error"], probe["error"]
    assert "httpx" in probe["after_request"]
    heavy = [m for m in probe["after_request"] if m in HEAVY or m.split(".")[0] in HEAVY]
    assert not heavy, f"a request of the student client loaded {heavy}"


def test_worker_runs_standalone(tmp_path: Path) -> None:
    """worker.py is copied into the sandbox as /opt/coursebench/worker.py, next to nothing."""
    (tmp_path / "worker.py").write_bytes((REPO / "coursebench" / "execution" / "worker.py").read_bytes())
    done = _python(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import worker
        assert worker.__file__.startswith({str(tmp_path)!r}), worker.__file__
        mine = sorted(m for m in sys.modules if m == "coursebench" or m.startswith("coursebench."))
        assert not mine, f"worker.py imported host-side modules: {{mine}}"
    """, cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_lecture_runtime_runs_standalone(tmp_path: Path) -> None:
    """The runtime modules (notebook.py, datasets.py, ...) are all the coursebench a lecture's kernel gets."""
    from coursebench.lectures import RUNTIME_MODULES, runtime_package

    package = runtime_package(tmp_path)
    names = sorted(f"coursebench.{module.removesuffix('.py')}" for module in RUNTIME_MODULES)
    done = _python(f"""
        import importlib, sys
        sys.path.insert(0, {str(tmp_path)!r})
        for name in {names!r}:
            importlib.import_module(name)
        import coursebench
        assert coursebench.__file__.startswith({str(package)!r}), coursebench.__file__
        extra = sorted(m for m in sys.modules if m.startswith("coursebench.") and m not in {names!r})
        assert not extra, f"the lecture runtime imported host-side modules: {{extra}}"
    """, cwd=tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", ["Job", "Limits", "run_many", "load_course", "__version__"])
def test_package_names_load_on_first_use(name: str) -> None:
    import coursebench

    assert getattr(coursebench, name) is not None
    assert name in dir(coursebench)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        coursebench.nope  # noqa: B018
