"""``coursebench grade collect``: submissions from the nbgrader exchange or an LMS download.

An LMS download is a folder or a zip with one file or one folder per student:

- Canvas: ``kimminjun_12345_67890_lab01.ipynb`` (``_LATE_`` inserted when late,
  ``lab01-1.ipynb`` when resubmitted);
- Moodle: ``Kim Minjun_12345_assignsubmission_file_/lab01.ipynb``;
- anything plain: ``<student>/lab01.ipynb``, ``<student>.ipynb``, ``<student>_lab01.ipynb``.

Names are mapped to the roster (course.toml ids, aliases and names; else the
gradebook's students).  Each problem is reported for its own entry — unknown student,
two entries for one student, a notebook with the wrong name, an unreadable notebook —
and never stops the others.  Nothing is deleted: an entry that cannot be collected stays
where it is.  Late submissions are flagged with their delay.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .course import CourseDir, nbgrader_environment, open_course_dir
from .errors import CollectError
from .intake import check_notebook, match_notebooks

MAX_ZIP_BYTES = 2 * 1024**3
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"


@dataclass
class CollectedEntry:
    source: str
    """The file or folder in the download."""
    student: str | None
    status: str
    """collected | updated | skipped | error"""
    message: str = ""
    timestamp: dt.datetime | None = None
    late_by: dt.timedelta | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class CollectReport:
    assignment: str
    entries: list[CollectedEntry] = field(default_factory=list)

    @property
    def errors(self) -> list[CollectedEntry]:
        return [e for e in self.entries if e.status == "error"]


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


class Roster:
    """Who may submit: course.toml's students (ids, aliases, names) or the gradebook's."""

    def __init__(self, cd: CourseDir) -> None:
        self.index: dict[str, str] = {}
        people: list[tuple[str, list[str]]] = []
        if cd.course is not None and cd.course.students:
            for s in cd.course.students:
                names = [s.id, *s.aliases, s.email.split("@")[0] if s.email else ""]
                if s.name:
                    parts = s.name.split()
                    names += [s.name, "".join(parts), "".join(reversed(parts))]
                people.append((s.id, names))
        else:
            with cd.gradebook() as gb:
                for s in gb.students:
                    names = [s.id, f"{s.first_name or ''}{s.last_name or ''}", f"{s.last_name or ''}{s.first_name or ''}"]
                    people.append((s.id, names))
        self.open = not people
        for sid, names in people:
            for name in names:
                if _key(name):
                    self.index.setdefault(_key(name), sid)

    def find(self, candidates: list[str]) -> str | None:
        for c in candidates:
            hit = self.index.get(_key(c))
            if hit:
                return hit
        if self.open:  # no roster anywhere: the name is the id, if it is a plain one
            for c in candidates:
                if re.fullmatch(r"[A-Za-z0-9._-]+", c) and not c.startswith("."):
                    return c
        return None


def _candidates(name: str) -> tuple[list[str], str | None]:
    """Student-name candidates for an entry, and (for files) the submitted file name."""
    stem = name[:-6] if name.endswith(".ipynb") else name
    tokens = [t for t in stem.split("_") if t != ""]
    candidates = [stem]
    # Canvas: name[_LATE]_userid_submissionid_original-file-name
    numeric = [i for i, t in enumerate(tokens) if t.isdigit()]
    original = None
    if numeric:
        first = numeric[0]
        candidates.append("_".join(t for t in tokens[:first] if t != "LATE"))
        rest = tokens[first:]
        while rest and rest[0].isdigit():
            rest = rest[1:]
        if rest and name.endswith(".ipynb"):
            original = "_".join(rest) + ".ipynb"
        if rest and rest[0] == "assignsubmission":  # Moodle folder
            original = None
    if tokens:
        candidates.append(tokens[0])
        if len(tokens) > 1 and name.endswith(".ipynb"):
            candidates.append("_".join(tokens[:-1]))
            original = original or (tokens[-1] + ".ipynb")
    return list(dict.fromkeys(c for c in candidates if c)), original


def _extract(zip_path: Path, dest: Path, tz: dt.tzinfo) -> None:
    """Unpack a zip safely: no absolute paths, no '..', no links, bounded size.  Zip
    times carry no zone: they are read in the course's time zone (the LMS's)."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise CollectError("not a zip file (or a damaged one)", path=str(zip_path),
                           hint="download it again from the LMS") from None
    total = 0
    with zf:
        for info in zf.infolist():
            name = info.filename
            parts = Path(name).parts
            if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                raise CollectError(f"unsafe path in the zip: {name!r}", path=str(zip_path))
            if stat.S_ISLNK(info.external_attr >> 16) or "__MACOSX" in parts:
                continue
            total += info.file_size
            if total > MAX_ZIP_BYTES:
                raise CollectError("the zip unpacks to more than 2 GiB", path=str(zip_path))
            target = dest / name
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            stamp = dt.datetime(*info.date_time, tzinfo=tz).timestamp()
            os.utime(target, (stamp, stamp))


def _entries(root: Path) -> list[Path]:
    items = [p for p in sorted(root.iterdir()) if not p.name.startswith((".", "__MACOSX"))]
    # a download that wraps everything in one folder (e.g. "submissions/")
    if len(items) == 1 and items[0].is_dir() and not any(p.suffix == ".ipynb" for p in items[0].iterdir()):
        return _entries(items[0])
    return items


def _timestamp(files: list[Path], folder: Path | None, tz: dt.tzinfo) -> dt.datetime:
    if folder is not None and (folder / "timestamp.txt").is_file():
        from nbgrader.utils import parse_utc

        try:
            return parse_utc((folder / "timestamp.txt").read_text().strip()).replace(tzinfo=dt.timezone.utc)
        except Exception:
            pass
    newest = max((f.stat().st_mtime for f in files), default=dt.datetime.now().timestamp())
    return dt.datetime.fromtimestamp(newest, tz=tz).astimezone(dt.timezone.utc)


def collect(
    assignment: str,
    source: str | os.PathLike | None = None,
    *,
    course_dir: str | os.PathLike | CourseDir | None = None,
    force: bool = False,
    exchange: str | os.PathLike | None = None,
) -> CollectReport:
    """Collect ``assignment`` from ``source`` (a folder or zip from an LMS), or from the
    nbgrader exchange when ``source`` is None."""
    cd = course_dir if isinstance(course_dir, CourseDir) else open_course_dir(course_dir)
    cd.check_assignment(assignment)
    if source is None:
        return _from_exchange(cd, assignment, exchange)
    src = Path(source)
    if not src.exists():
        raise CollectError("no such file or folder", assignment=assignment, path=str(src),
                           hint="pass the folder or zip downloaded from the LMS")
    with nbgrader_environment():
        cd.sync_gradebook(assignment)
        expected = cd.assignment_notebooks(assignment)
        roster = Roster(cd)
    tz = _course_tz(cd)
    due = cd.due_date(assignment) or _gradebook_due(cd, assignment)
    report = CollectReport(assignment)
    with tempfile.TemporaryDirectory(prefix="coursebench-collect-") as tmp:
        if src.is_file():
            _extract(src, Path(tmp), tz)
            root = Path(tmp)
        else:
            root = src
        by_student: dict[str, list[tuple[Path, CollectedEntry, str | None]]] = {}
        for entry_path in _entries(root):
            label = str(entry_path.relative_to(root))
            candidates, original = _candidates(entry_path.name)
            student = roster.find(candidates)
            entry = CollectedEntry(label, student, "collected")
            if student is None:
                entry.status = "error"
                entry.message = (f"no student on the roster matches {entry_path.name!r}; add the name as an "
                                 "alias of the right student in course.toml ([[students]] aliases) and collect again")
                report.entries.append(entry)
                continue
            by_student.setdefault(student, []).append((entry_path, entry, original))
        for student, found in sorted(by_student.items()):
            if len(found) > 1:
                names = ", ".join(repr(e.source) for _, e, _ in found)
                for _, entry, _ in found:
                    entry.status = "error"
                    entry.message = (f"{len(found)} entries belong to {student} ({names}); keep the one to grade "
                                     "(or put them in one folder) and collect again")
                    report.entries.append(entry)
                continue
            path, entry, original = found[0]
            _collect_one(cd, assignment, student, path, entry, original, expected, due, tz, force)
            report.entries.append(entry)
    report.entries.sort(key=lambda e: (e.student or "~", e.source))
    return report


def _collect_one(cd: CourseDir, assignment: str, student: str, path: Path, entry: CollectedEntry,
                 original: str | None, expected: list[str], due: dt.datetime | None, tz: dt.tzinfo,
                 force: bool) -> None:
    folder = path if path.is_dir() else None
    if folder is not None:
        inner = [p for p in folder.iterdir() if not p.name.startswith(".")]
        if len(inner) == 1 and inner[0].is_dir():
            folder = inner[0]  # <student>/<assignment>/...
        files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()
                 and ".ipynb_checkpoints" not in p.parts]
    else:
        files = [path]
    notebooks = {}
    for f in files:
        if f.suffix == ".ipynb" and (folder is None or f.parent == folder):
            stem = Path(original).stem if folder is None and original else f.stem
            if folder is None and len(expected) == 1 and stem not in expected:
                stem = stem if original else expected[0]
            notebooks[stem] = f
    mapping, unmatched = match_notebooks(sorted(notebooks), expected)
    if not mapping:
        entry.status = "error"
        entry.message = (f"no notebook of this assignment in it (expected "
                         f"{', '.join(e + '.ipynb' for e in expected)}; found "
                         f"{', '.join(n + '.ipynb' for n in sorted(notebooks)) or 'none'})")
        return
    for stem in unmatched:
        entry.notes.append(f"{stem}.ipynb is not part of {assignment}; copied but not graded")
    for stem, want in sorted(mapping.items()):
        if stem != want:
            entry.notes.append(f"{stem}.ipynb renamed to {want}.ipynb")
        problem = check_notebook(notebooks[stem])
        if problem:
            entry.notes.append(f"{want}.ipynb is unreadable ({problem}); it will score 0 — ask the student to resubmit")
    for want in expected:
        if want not in mapping.values():
            entry.notes.append(f"{want}.ipynb is missing: it will score 0")
    stamp = _timestamp(files, folder, tz)
    entry.timestamp = stamp
    if due is not None and stamp > due:
        entry.late_by = stamp - due
    dest = cd.step_dir("submitted", student, assignment)
    if dest.exists() and not force:
        old = cd.coursedir().get_existing_timestamp(str(dest))
        if old is not None and old.replace(tzinfo=dt.timezone.utc) >= stamp:
            entry.status = "skipped"
            entry.message = "already collected (same or newer); --force replaces it"
            return
        entry.status = "updated"
    elif dest.exists():
        entry.status = "updated"
    tmp = dest.with_name(f".{dest.name}.collecting")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in files:
        if f.suffix == ".ipynb" and f in notebooks.values():
            stem = next(s for s, p in notebooks.items() if p == f)
            name = f"{mapping.get(stem, stem)}.ipynb"
            shutil.copyfile(f, tmp / name)
        elif folder is not None:
            rel = f.relative_to(folder)
            if rel.name == "timestamp.txt":
                continue
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, tmp / rel)
    (tmp / "timestamp.txt").write_text(stamp.strftime(TIMESTAMP_FORMAT))
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(tmp, dest)
    if entry.late_by:
        entry.notes.append(f"late by {format_delay(entry.late_by)}")


def format_delay(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins or not (days or hours) else ""]
    return " ".join(p for p in parts if p)


def _course_tz(cd: CourseDir) -> dt.tzinfo:
    if cd.course is not None:
        try:
            from zoneinfo import ZoneInfo

            return ZoneInfo(cd.course.course.timezone)
        except Exception:
            pass
    return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc


def _gradebook_due(cd: CourseDir, assignment: str) -> dt.datetime | None:
    with cd.gradebook() as gb:
        due = gb.find_assignment(assignment).duedate
    return due.replace(tzinfo=dt.timezone.utc) if due is not None else None


def _from_exchange(cd: CourseDir, assignment: str, exchange: Any) -> CollectReport:
    from .exchange import Exchange
    from .exchange_gather import gather
    from .release import _api, _check

    report = CollectReport(assignment)
    with nbgrader_environment():
        api = _api(cd, assignment, exchange)
        # Each student's inbox into nbgrader's inbound, under its owner's name, screened
        # (no links, sizes, no backdating): exchange_gather.py.
        ex = Exchange.for_course(cd, exchange)
        gathered = gather(ex, cd, assignment)
        if ex.students():  # the inbox a submission came from says whose it is, not its files' owner
            api.config.CollectApp.check_owner = False
        notes: dict[str, list[str]] = {}
        for g in gathered.entries:
            if g.status == "rejected":
                report.entries.append(CollectedEntry(f"exchange:{g.student}/{g.name}", g.student, "error",
                                                     f"not collected: {g.message}"))
            elif g.message:
                notes.setdefault(g.student, []).append(g.message)
        before = {p.parent.name: cd.coursedir().get_existing_timestamp(str(p))
                  for p in cd.step_dir("submitted").glob(f"*/{assignment}")}
        _check(api.collect(assignment, update=True), "collect", assignment)
        for path in sorted(cd.step_dir("submitted").glob(f"*/{assignment}")):
            student = path.parent.name
            stamp = cd.coursedir().get_existing_timestamp(str(path))
            status = ("collected" if student not in before
                      else "updated" if stamp != before[student] else "skipped")
            entry = CollectedEntry(f"exchange:{student}", student, status, notes=list(notes.get(student, [])))
            due = cd.due_date(assignment) or _gradebook_due(cd, assignment)
            if stamp is not None:
                entry.timestamp = stamp.replace(tzinfo=dt.timezone.utc)
                if due is not None and entry.timestamp > due:
                    entry.late_by = entry.timestamp - due
                    entry.notes.append(f"late by {format_delay(entry.late_by)}")
            report.entries.append(entry)
    return report
