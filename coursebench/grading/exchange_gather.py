"""The instructor's side of the per-student exchange (:mod:`.exchange`).

- :func:`gather`, before ``nbgrader collect``: every submission in a student's inbox is
  copied into nbgrader's ``inbound`` under **that student's** name (a submission made with
  ``--student=someone_else`` is still its sender's), without following any link, with
  nbgrader's size limits, and with a timestamp the student cannot backdate: the files'
  change time (``ctime``, which no user can set) bounds the time the submission claims.
  nbgrader's own shared ``inbound`` is screened the same way (no links, no special files).
- :func:`distribute_feedback`, after ``nbgrader release_feedback``: each student's released
  feedback files (``<hash>.html``, nbgrader's names) are copied into that student's own
  feedback folder, the only one mounted into their container.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .exchange import Exchange, ExchangeError, check_student_id

if TYPE_CHECKING:
    from .course import CourseDir

#: A claimed submission time may be this much earlier than the files' change time.
CLOCK_SLACK = dt.timedelta(minutes=2)
#: Submissions looked at per student and assignment (the newest by change time).
MAX_ENTRIES = 20
NBGRADER_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f %Z"
REJECTED = "rejected"


@dataclass
class GatheredEntry:
    student: str
    name: str
    """The entry's name in the student's inbox (or nbgrader's inbound)."""
    status: str
    """gathered | present | rejected"""
    message: str = ""
    timestamp: dt.datetime | None = None


@dataclass
class GatherReport:
    assignment: str
    entries: list[GatheredEntry] = field(default_factory=list)

    @property
    def rejected(self) -> list[GatheredEntry]:
        return [e for e in self.entries if e.status == "rejected"]


def _claimed(name: str) -> tuple[str, str, str, str] | None:
    """``student+assignment+timestamp[+random]`` → its parts (random may be '')."""
    parts = name.split("+")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2], ""
    if len(parts) == 4:
        return parts[0], parts[1], parts[2], parts[3]
    return None


def _parse_time(text: str) -> dt.datetime | None:
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text.strip()).replace(tzinfo=dt.timezone.utc)
    except Exception:
        return None


def _scan(entry: Path, max_file: int, max_total: int) -> tuple[list[tuple[Path, int]], float, str | None]:
    """Regular files under ``entry`` (relative paths, sizes), the newest change time, or
    why the entry is refused.  Nothing is followed: a link anywhere refuses the entry."""
    files: list[tuple[Path, int]] = []
    newest = entry.lstat().st_ctime
    total = 0
    pending = [entry]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as it:
            for item in it:
                st = item.stat(follow_symlinks=False)
                newest = max(newest, st.st_ctime)
                rel = Path(item.path).relative_to(entry)
                if stat.S_ISLNK(st.st_mode):
                    return [], newest, f"it contains a link ({rel}); links are never followed"
                if stat.S_ISDIR(st.st_mode):
                    pending.append(Path(item.path))
                elif stat.S_ISREG(st.st_mode):
                    if st.st_size > max_file:
                        return [], newest, f"{rel} is larger than {max_file // 1000} kB"
                    total += st.st_size
                    if total > max_total:
                        return [], newest, f"it is larger than {max_total // 1000} kB in all"
                    files.append((rel, st.st_size))
                else:
                    return [], newest, f"{rel} is not a regular file"
    return files, newest, None


def _copy_nofollow(entry: Path, rel: Path, dest: Path, limit: int) -> None:
    """Copy ``entry/rel`` opening every component with ``O_NOFOLLOW`` relative to its
    parent's descriptor: a folder swapped for a link after the scan (the student owns
    the entry and may race the copy) fails instead of being followed.  At most ``limit``
    bytes are read, whatever the file grew to since."""
    nofollow = os.O_RDONLY | os.O_NOFOLLOW
    fds = [os.open(entry, nofollow | os.O_DIRECTORY)]
    try:
        for part in rel.parts[:-1]:
            fds.append(os.open(part, nofollow | os.O_DIRECTORY, dir_fd=fds[-1]))
        fd = os.open(rel.parts[-1], nofollow, dir_fd=fds[-1])
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ExchangeError("not a regular file any more", path=str(entry / rel))
        with os.fdopen(fd, "rb") as fin, open(dest, "wb") as fout:
            fout.write(fin.read(limit + 1)[:limit])
    finally:
        for d in fds:
            os.close(d)


def _limits(cd: CourseDir) -> tuple[int, int]:
    coursedir = cd.coursedir()
    return int(coursedir.max_file_size) * 1000, int(coursedir.max_dir_size) * 1000


def gather(ex: Exchange, cd: CourseDir, assignment: str) -> GatherReport:
    """Copy every student's submissions of ``assignment`` into nbgrader's inbound (see
    the module's docstring); screen what is already there."""
    report = GatherReport(assignment)
    max_file, max_total = _limits(cd)
    if not ex.inbound.is_dir():
        raise ExchangeError("nbgrader's inbound does not exist", path=str(ex.inbound), assignment=assignment,
                            hint=f"release the assignment first: coursebench grade release {assignment}")
    for student in ex.students():
        inbox = ex.inbox(student)
        if not inbox.is_dir() or inbox.is_symlink():
            continue
        found = []
        with os.scandir(inbox) as it:
            for item in it:
                claimed = _claimed(item.name)
                if claimed and claimed[1] == assignment:
                    found.append((item.stat(follow_symlinks=False).st_ctime, item))
        found.sort(key=lambda pair: pair[0], reverse=True)
        for _, item in found[:MAX_ENTRIES]:
            report.entries.append(_gather_one(ex, student, Path(item.path), assignment, max_file, max_total))
        for _, item in found[MAX_ENTRIES:]:
            report.entries.append(GatheredEntry(student, item.name, "rejected",
                                                f"more than {MAX_ENTRIES} submissions: only the newest are kept"))
    report.entries += _screen_inbound(ex, assignment, max_file, max_total)
    return report


def _gather_one(ex: Exchange, student: str, entry: Path, assignment: str, max_file: int,
                max_total: int) -> GatheredEntry:
    claimed = _claimed(entry.name)
    assert claimed is not None
    claimed_student, _, claimed_time, random_part = claimed
    result = GatheredEntry(student, entry.name, "gathered")
    st = entry.lstat()
    if stat.S_ISLNK(st.st_mode):
        result.status, result.message = "rejected", "it is a link; links are never followed"
        return result
    if not stat.S_ISDIR(st.st_mode):
        result.status, result.message = "rejected", "not a folder (nbgrader submits folders)"
        return result
    files, newest, problem = _scan(entry, max_file, max_total)
    if problem:
        result.status, result.message = "rejected", problem
        return result
    written = dt.datetime.fromtimestamp(newest, dt.timezone.utc)
    stamp = _parse_time(claimed_time)
    notes = []
    if claimed_student != student:
        notes.append(f"submitted as {claimed_student!r} from {student}'s server: filed as {student}'s")
    if stamp is None or stamp < written - CLOCK_SLACK or stamp > written + CLOCK_SLACK:
        shown = claimed_time if stamp is None else stamp.strftime("%Y-%m-%d %H:%M:%S UTC")
        notes.append(f"claimed time {shown} replaced by the time its files were written "
                     f"({written.strftime('%Y-%m-%d %H:%M:%S UTC')})")
        stamp = written
    result.timestamp = stamp
    result.message = "; ".join(notes)
    text = stamp.astimezone(dt.timezone.utc).strftime(NBGRADER_TIMESTAMP)  # "... UTC"
    random_part = re.sub(r"[^A-Za-z0-9_-]", "", random_part)[:16] or "x"
    name = f"{student}+{assignment}+{text}+{random_part}"
    dest = ex.inbound / name
    if dest.exists():
        result.status = "present"
        return result
    tmp = ex.inbound / f".{student}.{random_part}.gathering"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for rel, size in files:
            if rel.name == "timestamp.txt" and rel.parent == Path("."):
                continue
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            _copy_nofollow(entry, rel, tmp / rel, size)
    except (OSError, ExchangeError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        result.status, result.message = "rejected", f"it changed while it was copied ({exc}); collect again"
        return result
    (tmp / "timestamp.txt").write_text(text)
    for dirpath, _dirs, names in os.walk(tmp):
        os.chmod(dirpath, 0o700)
        for n in names:
            os.chmod(os.path.join(dirpath, n), 0o600)
    os.replace(tmp, dest)
    return result


def _screen_inbound(ex: Exchange, assignment: str, max_file: int, max_total: int) -> list[GatheredEntry]:
    """nbgrader's own inbound (students on one shared machine submit there directly):
    move out whatever ``nbgrader collect`` must not read — it follows links."""
    out = []
    with os.scandir(ex.inbound) as it:
        items = [i for i in it if not i.name.startswith(".")]
    for item in items:
        claimed = _claimed(item.name)
        if not claimed or claimed[1] != assignment:
            continue
        path = Path(item.path)
        st = path.lstat()
        problem = None
        if not stat.S_ISDIR(st.st_mode):
            problem = "not a folder (a link or a file)"
        else:
            problem = _scan(path, max_file, max_total)[2]
        if problem is None:
            continue
        try:
            check_student_id(claimed[0])
            student = claimed[0]
        except ExchangeError:
            student = "?"
        quarantine = ex.course_path / REJECTED
        quarantine.mkdir(mode=0o700, exist_ok=True)
        os.replace(path, quarantine / item.name)
        out.append(GatheredEntry(student, item.name, "rejected", f"{problem}; moved to {quarantine}"))
    return out


def distribute_feedback(ex: Exchange, cd: CourseDir, assignment: str, student: str = "*") -> dict[str, list[Path]]:
    """Copy each student's released feedback (``<course>/feedback/<hash>.html``) into that
    student's own feedback folder.  Returns student → files placed."""
    from nbgrader.utils import notebook_hash

    placed: dict[str, list[Path]] = {}
    for folder in sorted(cd.step_dir("feedback").glob(f"{student}/{assignment}")):
        sid = folder.parent.name
        secret_file = folder / "submission_secret.txt"
        if not secret_file.is_file():
            continue  # nbgrader release_feedback skipped it too (a submission from before secrets)
        try:
            box = ex.feedback_box(sid)
        except ExchangeError:
            continue
        if not box.is_dir():
            ex.setup([sid])
        secret = secret_file.read_text()
        for html in sorted(folder.glob("*.html")):
            name = f"{notebook_hash(secret=secret, notebook_id=html.stem)}.html"
            released = ex.feedback / name
            if not released.is_file():
                raise ExchangeError("nbgrader release_feedback did not release it", student=sid,
                                    assignment=assignment, path=str(released))
            tmp = box / f".{name}.tmp"
            shutil.copyfile(released, tmp)
            tmp.chmod(0o644)
            os.replace(tmp, box / name)
            placed.setdefault(sid, []).append(box / name)
    return placed
