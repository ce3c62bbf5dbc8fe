"""``coursebench grade integrity``: planted copies of lab01 solutions are found at the top
of the report; independent correct solutions are not flagged."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from coursebench.grading.course import open_course_dir
from coursebench.grading.integrity import answer_cells, lab_integrity, released_notebooks
from coursebench.integrity.report import write_report
from tests.integrity import corpus as C

PLANTED = {"c_renamed": ("s00", "renamed"), "c_restyled": ("s01", "restyled"),
           "c_reordered": ("s02", "reordered"), "c_edited": ("s03", "edited")}
INDEPENDENT = 7


@pytest.fixture(scope="module")
def lab01(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lab01's five tasks solved by 7 students in their own styles, and 4 planted copies."""
    root = C.make_lab(tmp_path_factory.mktemp("integrity") / "course", "lab01", {"lab01": C.LAB01})
    released = C.released_version(root, "lab01", "lab01")
    students = {f"s{i:02d}": C.independent(i) for i in range(INDEPENDENT)}
    rng = random.Random(11)
    for copier, (original, how) in PLANTED.items():
        students[copier] = C.copy_of(students[original], how, rng)
    for sid, student in students.items():
        C.submit(root, "lab01", "lab01", sid, student, released)
    return root


def _pair(row: dict) -> tuple[str, str]:
    return (row["a"], row["b"])


def test_the_independent_solutions_are_correct_and_different() -> None:
    """The corpus is what it says: every student's code passes the task's checks, and no two
    independent students wrote a task of several steps the same way (they do share single
    steps, and the one-line task, as real students do)."""
    import itertools

    setup: dict = {}
    exec(C.SETUP, setup)
    students = [C.independent(i) for i in range(INDEPENDENT)]
    for name in C.LAB01:
        for s in students:
            namespace = dict(setup)
            exec(s.answers[name], namespace)
            exec(C.TASKS[name].test, namespace)
    shared_steps = []
    for a, b in itertools.combinations(range(INDEPENDENT), 2):
        same = [t for t in C.LAB01 if C.style(C.TASKS[t], a) == C.style(C.TASKS[t], b)]
        assert same in ([], ["petal_means"]), (a, b, same)
        shared_steps.append(sum(x == y for t in C.LAB01
                                for x, y in zip(C.style(C.TASKS[t], a), C.style(C.TASKS[t], b), strict=True)))
    assert max(shared_steps) >= 5  # some pairs write a third of the steps alike: they must not be flagged


def test_planted_copies_are_at_the_top_and_independent_solutions_are_not_flagged(lab01: Path) -> None:
    result = lab_integrity("lab01", course_dir=lab01)
    rows = result.report.section("code").rows
    expected = {tuple(sorted((copier, original))) for copier, (original, _) in PLANTED.items()}
    top = {_pair(r) for r in rows[: len(expected)]}
    assert top == expected, rows[:6]
    assert all(r["flagged"] and r["score"] >= 0.85 for r in rows[: len(expected)])
    independent_pairs = [r for r in rows if _pair(r) not in expected]
    assert not any(r["flagged"] for r in independent_pairs), independent_pairs[:3]
    best_other = max(r["score"] for r in independent_pairs)
    assert best_other < 0.6, "independent solutions should not look like copies"
    print(f"\nplanted copies scored {[r['score'] for r in rows[:4]]}; best independent pair {best_other:.2f}")


def test_the_report_files(lab01: Path, tmp_path: Path) -> None:
    result = lab_integrity("lab01", course_dir=lab01)
    files = write_report(result.report, tmp_path / "out")
    page = files.html.read_text()
    assert "Not a verdict" in page and "no penalty" in page
    assert page.count("<mark>") > 10 and "data:image/png;base64," in page
    assert 'id="code-0"' in page  # the top pair's evidence, side by side
    assert files.figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(files.csv[0], newline="") as handle:
        table = list(csv.DictReader(handle))
    assert table[0]["flagged"] == "True" and {table[0]["a"], table[0]["b"]} & set(PLANTED)
    assert [int(r["rank"]) for r in table] == list(range(1, len(table) + 1))


def test_answer_cells_are_the_students_own_code(lab01: Path) -> None:
    cd = open_course_dir(lab01)
    released = released_notebooks(cd, "lab01")["lab01"]
    nb = json.loads((lab01 / "submitted" / "s02" / "lab01" / "lab01.ipynb").read_text())
    labels = [label for label, _, _ in answer_cells(nb, released)]
    assert labels == ["cell 3", *C.LAB01]  # s02 added a helper cell; no setup, no tests
    # the metadata stripped by the student: the tests are still left out (they are as released)
    for cell in nb["cells"]:
        cell["metadata"] = {}
    assert len(answer_cells(nb, released)) == len(C.LAB01) + 1
    # the released notebook as submitted (a blank submission) has no answer code at all
    blank = C.released_version(lab01, "lab01", "lab01")
    assert answer_cells(blank, released) == []


def test_blank_and_unreadable_submissions(lab01: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "course"
    shutil.copytree(lab01, root)
    blank = C.released_version(root, "lab01", "lab01")
    for sid in ("blank1", "blank2"):
        (root / "submitted" / sid / "lab01").mkdir(parents=True)
        (root / "submitted" / sid / "lab01" / "lab01.ipynb").write_text(json.dumps(blank))
    (root / "submitted" / "broken" / "lab01").mkdir(parents=True)
    (root / "submitted" / "broken" / "lab01" / "lab01.ipynb").write_text("{not json")
    result = lab_integrity("lab01", course_dir=root)
    rows = result.report.section("code").rows
    assert not any({"blank1", "blank2"} & {r["a"], r["b"]} for r in rows)
    assert any("broken" in note and "left out" in note for note in result.notes)


def test_precision_and_recall_on_a_class_with_planted_copies(tmp_path: Path) -> None:
    """40 students, 3 notebooks, 4 copiers (renamed / restyled / reordered / edited, one or
    two at once): every copy flagged, nothing else."""
    planted = C.make_class(tmp_path / "class", "lab", students=40, notebooks=3, seed=1)
    result = lab_integrity("lab", course_dir=tmp_path / "class")
    precision, recall, flagged, hits = C.precision_recall(result.report.section("code").rows, planted)
    print(f"\n{planted.copies} copies planted: {flagged} pairs flagged, {hits} of them copies — "
          f"precision {precision:.2f}, recall {recall:.2f}")
    assert recall == 1.0 and precision >= 0.9


def test_cli(lab01: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from coursebench import cli

    cli._register_subcommands()
    app = cli.app
    out = tmp_path / "report"
    run = CliRunner().invoke(app, ["grade", "integrity", "lab01", "--course-dir", str(lab01), "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "flagged pair(s)" in run.output and "not a verdict" in run.output
    assert "c_renamed" in run.output
    assert (out / "integrity.html").is_file() and (out / "integrity.png").is_file()
    assert (out / "pairs-code.csv").is_file()
    missing = CliRunner().invoke(app, ["grade", "integrity", "lab99", "--course-dir", str(lab01)])
    assert missing.exit_code == 2 and "known assignments: lab01" in " ".join(missing.output.split())


def test_the_release_folder_is_the_skeleton_when_there_is_one(lab01: Path, tmp_path: Path) -> None:
    """What students really got (release/<lab>/) is left out, not the source's guess of it."""
    import shutil

    root = tmp_path / "course"
    shutil.copytree(lab01, root)
    released = C.released_version(root, "lab01", "lab01")
    given = "def helper_we_gave_them(values):\n    return sorted(values)[len(values) // 2]\n"
    released["cells"].insert(2, {"cell_type": "code", "id": "given", "metadata": {}, "source": given,
                                 "outputs": [], "execution_count": None})
    (root / "release" / "lab01").mkdir(parents=True)
    (root / "release" / "lab01" / "lab01.ipynb").write_text(json.dumps(released))
    code = released_notebooks(open_course_dir(root), "lab01")["lab01"].code
    assert given in code
    assert given not in released_notebooks(open_course_dir(lab01), "lab01")["lab01"].code
