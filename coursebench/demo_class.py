"""A simulated class for the demo: twelve students of varied skill and intent.

From each assignment's released (student) notebook and its source (solution) notebook,
this writes what a student of each kind would hand in, into nbgrader's
``submitted/<student>/<assignment>/`` with a ``timestamp.txt``:

=============  =================================================================
kind           what the submission does
=============  =================================================================
solved         every solution region filled in correctly
partial        about half of them filled in
blank          the released notebook, untouched
broken         solved, but one cell has a syntax error
late           solved, handed in two days after the due date
loop           an infinite loop in the first answer (stopped at the time limit)
memory         allocates memory until the sandbox's limit stops it
snoop          tries to read the solutions, the gradebook and other students' work
=============  =================================================================
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path

#: The demo class: student id → kind of submission.  Ids match course.toml's roster.
CLASS: dict[str, str] = {
    "s01": "solved",
    "s02": "solved",
    "s03": "late",
    "s04": "partial",
    "s05": "partial",
    "s06": "blank",
    "s07": "broken",
    "s08": "loop",
    "s09": "memory",
    "s10": "snoop",
    "s11": "solved",
    "s12": "partial",
}

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.MULTILINE)
HOSTILE = {
    "loop": "# I'll just train a little longer...\nwhile True:\n    pass\n",
    "memory": "# Cache everything, just in case\nhoard = []\nwhile True:\n    hoard.append(bytearray(64 * 2**20))\n",
    "snoop": (
        "# Maybe the answers are lying around somewhere?\nimport glob, os\n"
        "targets = ['../../source', '../../../gradebook.db', '../../../submitted', {course!r}, '/root', '/home']\n"
        "found = {{t: os.path.exists(t) for t in targets}}\nprint(found)\n"
        "print(sorted(os.listdir('/')), glob.glob('/job/../*'))\n"
        "open({gradebook!r}, 'rb').read()\n"
    ),
}
ANSWER_TEXT = (
    "Scaling matters because distance-based models weigh every feature by its range; "
    "standardising puts features on the same footing, so no single unit dominates."
)


@dataclass
class Handed:
    student: str
    kind: str
    assignment: str
    timestamp: dt.datetime


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def answer(cell, source_cell) -> str:
    if cell.cell_type == "markdown":
        return ANSWER_TEXT
    return SOLUTION_MARKERS.sub("", source_cell.source).strip("\n") + "\n"


def student_notebook(released, source, kind: str, *, seed: int, course_root: Path):
    """What a student of ``kind`` hands in, built from the released and source notebooks."""
    import copy

    nb = copy.deepcopy(released)
    by_id = {nbgrader_meta(c).get("grade_id"): c for c in source.cells if nbgrader_meta(c).get("grade_id")}
    answers = [c for c in nb.cells if nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade_id") in by_id]
    if kind == "blank":
        return nb
    rng = random.Random(seed)
    chosen = answers
    if kind == "partial":
        chosen = [c for c in answers if rng.random() < 0.5] or answers[:1]
    for cell in chosen:
        cell.source = answer(cell, by_id[nbgrader_meta(cell)["grade_id"]])
    code = [c for c in answers if c.cell_type == "code"]
    if kind == "broken" and code:
        victim = code[len(code) // 2]
        victim.source = victim.source.rstrip("\n") + "\nprint('almost done'\n"
    if kind in HOSTILE and code:
        text = HOSTILE[kind].format(course=str(course_root), gradebook=str(course_root / "gradebook.db"))
        code[0].source = text + code[0].source
    return nb


def hand_in(course_root: Path, assignment: str, due: dt.datetime | None,
            students: dict[str, str] | None = None) -> list[Handed]:
    """Write every simulated student's submission of ``assignment`` into ``submitted/``."""
    import nbformat

    students = students or CLASS
    release = course_root / "release" / assignment
    source = course_root / "source" / assignment
    notebooks = sorted(release.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{release} has no notebooks: release the assignment first")
    due = due or dt.datetime.now(dt.timezone.utc)
    handed = []
    for index, (student, kind) in enumerate(sorted(students.items())):
        target = course_root / "submitted" / student / assignment
        target.mkdir(parents=True, exist_ok=True)
        for extra in release.iterdir():  # data files handed out with the assignment
            if extra.is_file() and extra.suffix != ".ipynb":
                (target / extra.name).write_bytes(extra.read_bytes())
        for path in notebooks:
            released = nbformat.read(str(path), as_version=4)
            solution = nbformat.read(str(source / path.name), as_version=4)
            nb = student_notebook(released, solution, kind, seed=index, course_root=course_root)
            nbformat.write(nb, str(target / path.name))
        when = due - dt.timedelta(hours=3 + index) if kind != "late" else due + dt.timedelta(days=2, hours=1)
        (target / "timestamp.txt").write_text(when.isoformat(sep=" "))
        handed.append(Handed(student, kind, assignment, when))
    return handed
