"""The course exchange end to end, without the hub: real nbgrader commands run as two
unprivileged students (different uids), each inside their own exchange view — the mounts
the hub gives their container — and coursebench's instructor side:

release → A and B fetch → A solves, both submit → collect → autograde (sandboxed) →
feedback --release → A fetches A's feedback; B sees nothing of A's (inbox, submission,
feedback), cannot submit in A's name, and cannot make collect follow a link."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import factory
import nbformat
import pytest
from exchange_helpers import Student, can_run_as_students

from coursebench.execution import Limits
from coursebench.grading import autograde
from coursebench.grading.collect import collect
from coursebench.grading.course import open_course_dir
from coursebench.grading.exchange import Exchange
from coursebench.grading.feedback import feedback
from coursebench.grading.release import release
from tests.helpers import checkout_reachable_by_other_users, must_have_or_skip

pytestmark = pytest.mark.slow

A, B = "bitdiddle", "hacker"  # course101's gradebook students


@pytest.fixture
def world() -> Path:
    """A world-traversable folder outside pytest's private tmp (students must reach their
    homes and views; the exchange lives here too, like /srv/nbgrader/exchange)."""
    why = can_run_as_students()
    if why:
        must_have_or_skip("running nbgrader as other uids", why)
    path = Path(tempfile.mkdtemp(prefix="cb-exchange-", dir="/tmp"))
    path.chmod(0o755)
    with checkout_reachable_by_other_users():
        yield path
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _solve(student: Student, course101: Path) -> None:
    """A fills in the solutions in A's fetched copy (written as A would: owned by A)."""
    for notebook in ("problem1", "problem2"):
        path = student.home / "ps1" / f"{notebook}.ipynb"
        nb = nbformat.read(path, as_version=4)
        sol = factory.solutions(course101, "ps1", notebook)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in sol:
                cell.source = sol[gid]
        nbformat.write(nb, path)
        os.chown(path, student.uid, student.uid)


def test_exchange_cycle_two_students(course101: Path, sandbox: str, world: Path) -> None:
    root = world / "exchange"
    cd = open_course_dir(course101)
    ex = Exchange(root, cd.course_id)
    out = release("ps1", course_dir=cd, exchange=root, force=True)
    assert out.exchange is not None and (ex.outbound / "ps1" / "problem1.ipynb").is_file()
    assert stat.S_IMODE(ex.students_path.stat().st_mode) == 0o700

    a, b = Student.make(A, 2001, world, ex), Student.make(B, 2002, world, ex)
    for s in (a, b):
        s.nbgrader(ex, "fetch_assignment", "ps1")
        assert (s.home / "ps1" / "problem1.ipynb").is_file()
        assert os.stat(s.home / "ps1" / "problem1.ipynb").st_uid == s.uid
    # the instructor's copy (solutions) is nowhere in a student's view
    assert "### BEGIN SOLUTION" not in (a.home / "ps1" / "problem1.ipynb").read_text()

    _solve(a, course101)
    a.nbgrader(ex, "submit", "ps1")
    b.nbgrader(ex, "submit", "ps1")
    # B's two attacks: a submission in A's name, and a link for collect to follow
    b.nbgrader(ex, "submit", "ps1", f"--student={A}")
    b.sh(ex, f"ln -s {course101}/source/ps1 '{b.view}/{cd.course_id}/inbound/{B}+ps1+2020-01-01 00:00:00.000000 UTC+x'",
         check=True)

    # B cannot see A's inbox or submission: not in B's view, and not on the host either
    seen = b.sh(ex, f"ls -la {b.view}/{cd.course_id}/inbound {b.view}/{cd.course_id}/feedback; "
                f"cat {ex.inbox(A)}/* 2>&1; ls {ex.students_path} 2>&1; ls {ex.inbox(A)} 2>&1")
    assert A not in seen.stdout.replace(f"{ex.students_path}/{A}", "")
    assert "Permission denied" in seen.stdout

    report = collect("ps1", course_dir=cd, exchange=root)
    by_student = {e.student: e for e in report.entries if e.status != "error"}
    assert set(by_student) == {A, B}
    errors = [e for e in report.entries if e.status == "error"]
    assert len(errors) == 1 and errors[0].student == B and "link" in errors[0].message
    assert any(f"submitted as {A!r}" in n for n in by_student[B].notes)
    # A's submission is A's own (solved), not the blank one B sent in A's name
    submitted = (course101 / "submitted" / A / "ps1" / "problem1.ipynb").read_text()
    assert "### BEGIN SOLUTION" not in submitted and "squares" in submitted

    graded = autograde("ps1", course_dir=cd, workers=2, backend=sandbox, limits=Limits(timeout=120))
    scores = {r.student: r.score for r in graded.results}
    assert scores[A] is not None and scores[B] is not None and scores[A] > scores[B]

    fb = feedback("ps1", course_dir=cd, release=True, exchange=root)
    assert set(fb.released) == {A, B}
    assert {p.parent for p in fb.released[A]} == {ex.feedback_box(A)}

    a.nbgrader(ex, "fetch_feedback", "ps1")
    fetched = sorted((a.home / "ps1" / "feedback").rglob("*.html"))
    assert {p.name for p in fetched} == {"problem1.html", "problem2.html"}
    mine = fetched[0].read_text()
    assert "Assignment ps1" in mine or "problem1" in mine

    # B's view holds only B's feedback: none of A's files, whatever B lists or reads
    a_names = {p.name for p in ex.feedback_box(A).iterdir()}
    b_list = b.sh(ex, f"ls {b.view}/{cd.course_id}/feedback")
    assert b_list.returncode == 0 and not (a_names & set(b_list.stdout.split()))
    for name in a_names:
        probe = b.sh(ex, f"cat {b.view}/{cd.course_id}/feedback/{name}")
        assert probe.returncode != 0
    probe = b.sh(ex, f"cat {ex.feedback_box(A)}/*")
    assert probe.returncode != 0 and "Permission denied" in probe.stderr
    b.nbgrader(ex, "fetch_feedback", "ps1")
    b_fetched = list((b.home / "ps1" / "feedback").rglob("*.html"))
    assert b_fetched and all(p.read_bytes() != fetched[0].read_bytes() for p in b_fetched)
    # B's view is read-only where it must be
    write = b.sh(ex, f"touch {b.view}/{cd.course_id}/feedback/x {b.view}/{cd.course_id}/outbound/ps1/x")
    assert write.returncode != 0 and "Read-only" in write.stderr


def test_gather_refuses_links_and_backdating(course101: Path, tmp_path: Path) -> None:
    """No process runs as a student here: the inbox entries are made directly, as a
    malicious student could make them."""
    from coursebench.grading.exchange_gather import gather

    cd = open_course_dir(course101)
    ex = Exchange(tmp_path / "exchange", cd.course_id)
    ex.setup([A, B])
    nested = ex.inbox(B) / f"{B}+ps1+2026-01-01 00:00:00.000000 UTC+abc"
    (nested / "sub").mkdir(parents=True)
    (nested / "problem1.ipynb").write_text("{}")
    os.symlink(course101 / "source" / "ps1", nested / "sub" / "solutions")
    early = ex.inbox(A) / f"{A}+ps1+2020-01-01 00:00:00.000000 UTC+def"  # claims 2020, written now
    early.mkdir()
    (early / "problem1.ipynb").write_text("{}")
    (early / "timestamp.txt").write_text("2020-01-01 00:00:00.000000 UTC")
    report = gather(ex, cd, "ps1")
    status = {e.student: e for e in report.entries}
    assert status[B].status == "rejected" and "link" in status[B].message
    assert status[A].status == "gathered" and "replaced by the time its files were written" in status[A].message
    [kept] = list(ex.inbound.iterdir())
    assert kept.name.startswith(f"{A}+ps1+") and "2020" not in kept.name
    assert "2020" not in (kept / "timestamp.txt").read_text()
    assert not any(p.is_symlink() for p in ex.inbound.rglob("*"))
