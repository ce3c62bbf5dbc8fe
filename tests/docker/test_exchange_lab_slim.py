"""The exchange from inside a student's real container: the ``lab-slim`` image (what the hub
spawns), ``--network none``, uid 1000, with exactly the mounts the hub gives it
(``exchange.mounts_for``) — ``nbgrader fetch_assignment``, ``submit`` and ``fetch_feedback``
work there, and nothing of another student's is visible.

In tests/docker (the docker lane) so that it shares that lane's one engine; the course and
sandbox fixtures are the grading tests'."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from coursebench.execution import Limits
from coursebench.grading import autograde
from coursebench.grading.collect import collect
from coursebench.grading.course import open_course_dir
from coursebench.grading.exchange import CONTAINER_ROOT, mounts_for
from coursebench.grading.feedback import feedback
from coursebench.grading.release import release
from tests.docker.conftest import Engine
from tests.grading.conftest import course101, course101_template, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

A, B = "bitdiddle", "hacker"
SOLVE = (
    "import nbformat, sys\n"
    "p = 'ps1/problem1.ipynb'\n"
    "nb = nbformat.read(p, as_version=4)\n"
    "for c in nb.cells:\n"
    "    gid = c.metadata.get('nbgrader', {}).get('grade_id')\n"
    "    if gid == 'squares':\n"
    "        c.source = 'def squares(n):\\n    if n < 1:\\n        raise ValueError()\\n'"
    " + '    return [i ** 2 for i in range(1, n + 1)]'\n"
    "nbformat.write(nb, p)\n"
)


@pytest.fixture
def world() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="cb-exchange-lab-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _student(engine: Engine, image: str, student: str, root: Path, home: Path, course: Path,
             script: str) -> str:
    from docker.types import Mount

    mounts = mounts_for(student, course_dir=course, exchange=root)
    mounts.append(Mount("/home/student", str(home), type="bind"))
    out = engine.client.containers.run(  # type: ignore[attr-defined]
        image, ["sh", "-c", f"cd /home/student && {{ {script}; }}; exit 0"], user="1000:1000", network_mode="none",
        environment={"JUPYTERHUB_USER": student}, mounts=mounts, remove=True, stdout=True, stderr=True)
    return out.decode(errors="replace")


def test_nbgrader_in_the_lab_slim_container(course101: Path, sandbox: str, world: Path,  # noqa: F811
                                           docker_engine: Engine, lab_slim_image: str) -> None:
    root = world / "exchange"
    cd = open_course_dir(course101)
    release("ps1", course_dir=cd, exchange=root, force=True)
    homes = {}
    for s in (A, B):
        homes[s] = world / f"home-{s}"
        homes[s].mkdir()
        os.chown(homes[s], 1000, 1000)
    course = f"{CONTAINER_ROOT}/{cd.course_id}"

    out = _student(docker_engine, lab_slim_image, A, root, homes[A], course101,
                   f"nbgrader fetch_assignment ps1 2>&1 && python -c \"{SOLVE}\" && nbgrader submit ps1 2>&1 "
                   f"&& echo SUBMITTED; ls -a {course}/inbound 2>&1; ls {course}")
    assert "SUBMITTED" in out, out
    assert "Permission denied" in out  # an inbox cannot be listed, even one's own
    assert sorted(out.strip().splitlines()[-3:]) == ["feedback", "inbound", "outbound"], out
    out = _student(docker_engine, lab_slim_image, B, root, homes[B], course101,
                   "nbgrader fetch_assignment ps1 2>&1 && nbgrader submit ps1 2>&1 && echo SUBMITTED; "
                   f"touch {course}/outbound/ps1/x 2>&1; ls -R {CONTAINER_ROOT} 2>&1")
    assert "SUBMITTED" in out and "Read-only file system" in out, out
    assert A not in out, out  # nothing of A's anywhere in B's exchange

    report = collect("ps1", course_dir=cd, exchange=root)
    assert {e.student for e in report.entries if e.status == "collected"} == {A, B}
    graded = autograde("ps1", course_dir=cd, workers=2, backend=sandbox, limits=Limits(timeout=120))
    assert {r.student for r in graded.results if r.status == "graded"} == {A, B}
    released = feedback("ps1", course_dir=cd, release=True, exchange=root).released
    assert set(released) == {A, B}

    out = _student(docker_engine, lab_slim_image, A, root, homes[A], course101,
                   "nbgrader fetch_feedback ps1 2>&1; find ps1/feedback -name '*.html'")
    assert "ps1/feedback/" in out and "problem1.html" in out, out
    page = next((homes[A] / "ps1" / "feedback").rglob("problem1.html")).read_text()
    assert "squares" in page
    a_files = {p.name for p in (root / "students" / A / "feedback").iterdir()}
    out = _student(docker_engine, lab_slim_image, B, root, homes[B], course101, f"ls {course}/feedback")
    assert a_files and not (a_files & set(out.split())), out
