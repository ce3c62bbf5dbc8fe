"""Integrity report: `coursebench grade integrity` for 200 students × 12 notebooks.

The class is generated from the planted-copy corpus of tests/integrity (lab01's tasks and
three more, each step written in one of several ways, with the small variations and
personal lines students add; 10 % of the students copy 1-4 notebooks from another, with
one or two of: renamed variables, other comments and layout, reordered cells, a line
added).  Timed: everything the command does after the submissions are there — reading
the 2,400 notebooks, fingerprinting (two worker processes: the 2 cores), comparing,
writing the CSV, the HTML page and the figure.  Target: ≤ 30 s on 2 cores.  Also
reported: precision and recall of the flagged pairs against the planted copies, and the
inverted index against comparing every pair of notebooks directly (one notebook).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import Row  # noqa: E402


def _cpu() -> float:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _all_pairs(docs, skeleton) -> float:  # type: ignore[no-untyped-def]
    """The obvious alternative: intersect every pair's fingerprints (skeleton removed).
    CPU seconds (this process), like :func:`_timed`."""
    import numpy as np

    started = time.process_time()
    prints = [d.fingerprints[~np.isin(d.fingerprints, skeleton)] for d in docs]
    for i in range(len(prints)):
        for j in range(i + 1, len(prints)):
            shared = len(np.intersect1d(prints[i], prints[j], assume_unique=True))
            _ = shared / max(1, min(len(prints[i]), len(prints[j])))
    return time.process_time() - started


def run(quick: bool) -> list[Row]:
    from coursebench.grading.integrity import lab_integrity
    from coursebench.integrity.fingerprint import all_kgrams
    from coursebench.integrity.report import write_report
    from coursebench.integrity.similarity import compare
    from tests.integrity import corpus

    students, notebooks = (60, 4) if quick else (200, 12)
    with tempfile.TemporaryDirectory(prefix="bench-integrity-") as tmp:
        root = Path(tmp) / "course"
        planted = corpus.make_class(root, "lab", students=students, notebooks=notebooks, seed=0)
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), _cpu()
        result = lab_integrity("lab", course_dir=root, workers=2)
        files = write_report(result.report, Path(tmp) / "report")
        wall, cpu = time.perf_counter() - started, _cpu() - cpu
        load = max(load, os.getloadavg()[0])
        rows = result.report.section("code").rows
        precision, recall, flagged, hits = corpus.precision_recall(rows, planted)
        truth = sum(len(p) for p in planted.pairs.values())
        print(f"   {students} students × {notebooks} notebooks: {wall:.1f} s wall, {cpu:.1f} s CPU "
              f"(all processes; load average {load:.1f} on {os.cpu_count()} cores); {planted.copies} copies planted ({truth} copy pairs); flagged {flagged}, "
              f"of which {hits} copies: precision {precision:.3f}, recall {recall:.3f}; "
              f"{files.html.stat().st_size // 1024} KiB page", flush=True)
        first = result.results[0]
        skeleton = all_kgrams(_released_code(root, first.group))
        ours = _timed(lambda: compare(first.documents, skeleton))
        theirs = _all_pairs(first.documents, skeleton)
    return [
        Row(f"integrity report, {students} students × {notebooks} notebooks, 2 workers (wall)", wall, 30.0,
            target=1.0, note=f"budget 30 s; CPU {cpu:.1f} s, load average {load:.1f}; precision {precision:.3f}, recall {recall:.3f} "
                             f"({hits} of {flagged} flagged are planted copies; {truth} copy pairs)"),
        Row(f"comparing one notebook of {students} students: inverted index vs every pair (CPU)", ours, theirs,
            note=f"{students * (students - 1) // 2} pairs; ours also weighs and filters common code"),
    ]


def _released_code(root: Path, notebook: str) -> list[str]:
    from coursebench.grading.course import open_course_dir
    from coursebench.grading.integrity import released_notebooks

    return released_notebooks(open_course_dir(root), "lab")[notebook].code


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.process_time()
    fn()
    return time.process_time() - started
