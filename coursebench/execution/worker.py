"""The process that runs INSIDE the sandbox.

    python worker.py JOB_DIR

It reads ``JOB_DIR/job.json`` (settings), ``JOB_DIR/input.ipynb`` and
``JOB_DIR/parameters.json``, executes the notebook with papermill (working directory
``JOB_DIR/files``) and writes ``JOB_DIR/executed.ipynb`` and ``JOB_DIR/result.json``.

This file is deliberately standalone: it imports only the standard library, papermill
and nbclient, so that a sandbox can be given this one file and a Python environment and
nothing else of coursebench or of the course directory.  Results leave the sandbox only
as JSON and ``.ipynb``; nothing is pickled.

Everything the worker needs from the job directory (settings, notebooks, parameters, the
test guard's source) is read before any kernel starts: the kernels share that directory
and may rewrite it.  A notebook whose metadata asks for ``coursebench.guard = "tests"``
(autograding) runs in a kernel with the test guard (``guard.py``, shipped to the kernel
on a private pipe): its nbgrader test cells are run by the guard, and pass or fail by the
signed verdict the guard writes on its own pipe, never by what the kernel replies or
prints (see :class:`GuardRun`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
import traceback
from importlib import metadata

#: jsonschema's format checkers pull in rfc3987_syntax (1.2 s) and rfc3986_validator (its
#: regexes, ~0.05 s), papermill's iorw pulls in pyarrow (0.1 s); none is needed to execute
#: a notebook.  :func:`_block_slow_imports` blocks them in the worker process only, never
#: in the template or a kernel.
SLOW_IMPORTS = (
    "rfc3987_syntax",
    "rfc3987",
    "rfc3339_validator",
    "isoduration",
    "fqdn",
    "uri_template",
    "webcolors",
    "jsonpointer",
    "rfc3986_validator",
    "pyarrow",
)


def _block_slow_imports() -> None:
    for name in SLOW_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


RESULT_VERSION = 1
AUTOSAVE_SECONDS = 2.0
#: how long after a cell's reply its output may still be arriving (nbclient's default, 4 s,
#: is too short for a cell that prints a flood of lines on a loaded machine; papermill then
#: stops the notebook); the notebook's own time limit still bounds it
IOPUB_TIMEOUT = 30.0
ERROR_TAG = "papermill-error-cell-tag"
INJECTED_TAG = "injected-parameters"
#: cells tagged ``coursebench-…`` are the harness's, not the student's (not counted in "cell N")
HARNESS_TAG_PREFIX = "coursebench-"
GUARD_SOURCE = "guard.py"
META = "coursebench"
INVOKE = "__coursebench_test__"
VERDICT_WAIT = 10.0
INPUT_SCHEME = "coursebench-input://"
#: ``python -c BOOT -f CONNECTION_FILE``: a guarded IPython kernel (the same ipykernel_launcher
#: runs, through guard.main).  The working directory is off sys.path until the guard is in.
BOOT = (
    "# coursebench: ipykernel_launcher with the test guard\n"
    "import os, sys\n"
    "sys.path[:] = [p for p in sys.path if p not in ('', '.', os.getcwd())]\n"
    "r, w, d = %d, %d, b''\n"
    "while True:\n"
    "    b = os.read(r, 1 << 20)\n"
    "    if not b:\n"
    "        break\n"
    "    d += b\n"
    "os.close(r)\n"
    "k, _, s = d.partition(b'\\n')\n"
    "g = dict(__name__='coursebench_guard')\n"
    "exec(compile(s, '<coursebench-guard>', 'exec'), g)\n"
    "g['main'](bytes.fromhex(k.decode()), w)\n"
)
TRUNCATION_NOTE = (
    "\n[coursebench: output truncated here. This notebook printed more than {limit}; "
    "print less (e.g. df.head() instead of df) to see everything.]\n"
)
VERSION_PACKAGES = (
    "papermill",
    "nbclient",
    "ipykernel",
    "numpy",
    "pandas",
    "scikit-learn",
    "matplotlib",
    "tensorflow",
    "keras",
    "torch",
    "jax",
)


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def package_versions() -> dict[str, str]:
    return dict(_package_versions())


@functools.cache
def _package_versions() -> tuple[tuple[str, str], ...]:
    """Looked up once per sandbox (its runtime is read-only): ~15-25 ms of metadata parsing."""
    versions = [("python", sys.version.split()[0])]
    for name in VERSION_PACKAGES:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return tuple(versions)


class _State:
    """What the engine and the watchdog share."""

    def __init__(self, output_limit: int) -> None:
        self.client = None
        self.cell_index: int | None = None
        self.output_limit = output_limit
        self.output_bytes = 0
        self.truncated = False
        self.timed_out = False
        self.lock = threading.Lock()
        # The watchdog's deadline for the notebook now running (None: none running) and a
        # counter that changes with every notebook, so a late kill never hits the next one.
        self.deadline: float | None = None
        self.generation = 0
        self.guard_link: GuardLink | None = None
        self.guard: GuardRun | None = None

    def next_notebook(self, output_limit: int, deadline: float | None) -> None:
        with self.lock:
            self.client = None
            self.cell_index = None
            self.output_limit = output_limit
            self.output_bytes = 0
            self.truncated = False
            self.timed_out = False
            self.deadline = deadline
            self.generation += 1
            self.guard_link = None
            self.guard = None

    def notebook_done(self) -> None:
        with self.lock:
            self.deadline = None
            self.generation += 1


STATE = _State(output_limit=0)
WATCHDOG = threading.Thread(target=lambda: _watchdog(), daemon=True, name="watchdog")


def _message_size(content: dict) -> int:
    if "text" in content:
        return len(content["text"])
    size = 0
    for value in (content.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(json.dumps(value))
    if "traceback" in content:
        size += sum(len(line) for line in content["traceback"])
    return size


def _is_test_cell(cell) -> bool:
    """An nbgrader autograder test: a code cell that is graded and is not an answer."""
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _is_locked_code(cell) -> bool:
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return cell.get("cell_type") == "code" and bool(meta.get("locked")) and not meta.get("solution")


def _parse(source: str):
    """The AST of a cell, magics (``%…``, ``!…``) blanked out; None when it is not Python."""
    import ast

    for text in (source, "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                   for line in source.splitlines())):
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError):
            continue
    return None


def _imports(tree) -> dict[str, list[list]]:
    """name → [[module, attribute or None], ...]: what the import statements of a cell bind."""
    import ast

    out: dict[str, list[list]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                name = a.asname or a.name.split(".")[0]
                out.setdefault(name, []).append([a.name if a.asname else a.name.split(".")[0], None])
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name != "*":
                    out.setdefault(a.asname or a.name, []).append([node.module, a.name])
    return out


class GuardLink:
    """The worker's end of one kernel's test guard.

    Two pipes: one carries the per-kernel key and the guard's source to the kernel (read
    and closed by the bootstrap before IPython starts), the other carries the guard's
    signed verdicts back.  A message counts only if its HMAC checks out with the key and
    its nonce is one the worker issued for a test cell, once.
    """

    def __init__(self, source: bytes) -> None:
        self.key = os.urandom(32)
        self.cmd_r, cmd_w = os.pipe()
        self.verdict_r, self.verdict_w = os.pipe()
        try:
            import fcntl

            fcntl.fcntl(cmd_w, fcntl.F_SETPIPE_SZ, 1 << 20)
        except (ImportError, AttributeError, OSError):
            pass
        data = self.key.hex().encode() + b"\n" + source
        threading.Thread(target=_write_all, args=(cmd_w, data), daemon=True, name="guard-boot").start()
        self.cond = threading.Condition()
        self.expected: set[str] = set()
        self.verdicts: dict[str, dict] = {}
        self.loose: list[dict] = []
        self.ready = False
        self.invalid = 0
        self.reader = threading.Thread(target=self._read, daemon=True, name="guard-verdicts")

    def kernel_fds(self) -> tuple[int, int]:
        return self.cmd_r, self.verdict_w

    def launched(self) -> None:
        """The kernel has its ends now: drop ours, start listening."""
        for fd in (self.cmd_r, self.verdict_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self.verdict_r, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self._message(line)
            if len(buf) > 16 << 20:
                buf = b""
                with self.cond:
                    self.invalid += 1
        with self.cond:
            self.cond.notify_all()

    def _message(self, line: bytes) -> None:
        body = None
        try:
            outer = json.loads(line)
            text, mac = outer["v"], outer["mac"]
            want = hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()
            if hmac.compare_digest(want, str(mac)):
                body = json.loads(text)
        except Exception:
            body = None
        with self.cond:
            if not isinstance(body, dict):
                self.invalid += 1
            elif body.get("ready") is True:
                self.ready = True
            elif isinstance(body.get("nonce"), str) and body["nonce"] in self.expected:
                if body["nonce"] in self.verdicts:
                    self.invalid += 1
                else:
                    self.verdicts[body["nonce"]] = body
            else:
                self.loose.append(body)
            self.cond.notify_all()

    def invocation(self, test: dict) -> str:
        """The code the kernel is sent instead of the test: the test travels as data,
        signed, so a changed test is seen as changed."""
        raw = json.dumps(test).encode()
        mac = hmac.new(self.key, raw, hashlib.sha256).hexdigest()
        with self.cond:
            self.expected.add(test["nonce"])
        return f"{INVOKE}({base64.b64encode(raw).decode()!r}, {mac!r})"

    def wait(self, nonce: str, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while nonce not in self.verdicts:
                left = deadline - time.monotonic()
                if left <= 0 or not self.reader.is_alive():
                    break
                self.cond.wait(min(left, 0.5))
            return self.verdicts.get(nonce)

    def take_loose(self) -> tuple[list[dict], int]:
        with self.cond:
            loose, self.loose = self.loose, []
            return loose, self.invalid

    def close(self) -> None:
        try:
            os.close(self.verdict_r)
        except OSError:
            pass


def _write_all(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError:
        pass
    finally:
        os.close(fd)


class GuardRun:
    """One guarded notebook run: sends each test cell through the guard, and writes the
    trusted verdict into the executed notebook — the test cell's outputs (an error output
    for a failed test, whatever the kernel said; the guard's value for a passed one) and
    ``metadata.coursebench`` (``verdict``: pass / fail / missing, ``review`` notes)."""

    def __init__(self, link: GuardLink, nb) -> None:
        self.link, self.nb = link, nb
        self.pending: dict[int, tuple[str, str]] = {}
        self.notes: list[str] = []
        self.seen_notes: set[str] = set()
        self.tampered: str | None = None
        self.invalid_seen = 0
        self.aliases: dict[str, list[list]] = {}
        self.defines: list[dict[str, str]] = []  # per cell: what a locked or test cell defines
        import ast

        for cell in nb.cells:
            tree = _parse(cell.source) if cell.get("cell_type") == "code" else None
            defines: dict[str, str] = {}
            if tree is not None:
                for name, targets in _imports(tree).items():
                    known = self.aliases.setdefault(name, [])
                    known.extend(t for t in targets if t not in known)
                if _is_locked_code(cell) or _is_test_cell(cell):
                    defines = {node.name: cell.source for node in tree.body
                               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
            self.defines.append(defines)

    def _protected(self, index: int) -> dict[str, str]:
        """Functions and classes the locked cells (and earlier tests) before ``index`` define."""
        out: dict[str, str] = {}
        for defines in self.defines[:index]:
            out.update(defines)
        return out

    def before(self, cell, cell_index: int, **_: object) -> None:
        if not _is_test_cell(cell) or not cell.source.strip():
            return
        source = cell.source
        test = {
            "nonce": secrets.token_hex(16),
            "source": source,
            "aliases": {k: v for k, v in self.aliases.items() if k in source},
            "protected": {k: v for k, v in self._protected(cell_index).items() if k in source},
        }
        self.pending[cell_index] = (test["nonce"], source)
        cell.source = self.link.invocation(test)

    def sent(self, cell, cell_index: int, **_: object) -> None:
        if cell_index in self.pending:
            cell.source = self.pending[cell_index][1]

    def executed(self, cell, cell_index: int, execute_reply=None, **_: object) -> None:
        if cell_index not in self.pending:
            return
        nonce, source = self.pending.pop(cell_index)
        cell.source = source
        verdict = self.link.wait(nonce, VERDICT_WAIT)
        self.apply(cell, cell_index, verdict, replied=execute_reply is not None)

    def _label(self, cell, cell_index: int) -> str:
        gid = ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")
        where = _cell_name(self.nb, cell_index)
        return f"test {gid} ({where})" if gid else f"the test in {where}"

    def _note(self, what: str, when: str, label: str) -> str:
        phrase = {"during": f"while {label} ran", "between": f"before {label}"}.get(when, f"before {label}")
        note = f"needs review: {what} {phrase}"
        if what not in self.seen_notes:
            self.seen_notes.add(what)
            self.notes.append(note)
        return note

    def apply(self, cell, cell_index: int, verdict: dict | None, *, replied: bool, why: str = "") -> None:
        from nbformat import v4

        label = self._label(cell, cell_index)
        loose, invalid = self.link.take_loose()
        findings = [f for body in loose for f in (body.get("findings") or []) if isinstance(f, dict)]
        if verdict is not None:
            findings += [f for f in verdict.get("findings") or [] if isinstance(f, dict)]
        if any(body.get("grader_error") for body in loose) and verdict is None:
            why = why or "the grader's guard failed on this test: " + str(loose[0].get("grader_error"))
        if invalid > self.invalid_seen:
            findings.append({"what": "wrote to the grader's private verdict channel", "when": "before"})
            self.invalid_seen = invalid
        outputs = list(cell.get("outputs") or [])
        if any(o.get("output_type") == "execute_result" for o in outputs):
            findings.append({"what": "sent its own execute_result message into the test cell (a fake result)",
                             "when": "during"})
        if verdict is None and replied and not why:
            findings.append({"what": "kept the test from reaching the grader (the kernel ran something else "
                                     "when asked to run it)", "when": "during"})
        notes = [self._note(str(f.get("what"))[:300], str(f.get("when")), label) for f in findings]
        if notes and self.tampered is None:
            self.tampered = notes[0]
        passed = verdict is not None and verdict.get("passed") is True and self.tampered is None
        kept = [o for o in outputs if o.get("output_type") not in ("error", "execute_result")]
        if passed and any(o.get("output_type") == "error" for o in outputs):
            # the test passed, yet IPython showed an error in it (a magic such as %%time
            # catches and shows it): nbgrader scores that 0, and so does this
            kept = [o for o in outputs if o.get("output_type") != "execute_result"]
            passed = False
            verdict = None if verdict is None else {**verdict, "shown_error": True}
        elif passed:
            if isinstance(verdict.get("value"), str):
                kept.append(v4.new_output("execute_result", data={"text/plain": verdict["value"]},
                                          execution_count=cell.get("execution_count")))
        elif self.tampered is not None:
            shown = self.tampered if not notes else notes[0]
            tail = [f"{verdict.get('ename')}: {verdict.get('evalue')}"] if verdict and verdict.get("ename") else []
            kept.append(v4.new_output("error", ename="NeedsReview",
                                      evalue=f"this test scores 0 until an instructor reviews it: {shown}",
                                      traceback=[f"NeedsReview: {shown}", *tail]))
        elif verdict is not None and verdict.get("shown_error"):
            pass  # the error IPython showed stays, as nbgrader would see it
        elif verdict is not None and verdict.get("ename"):
            kept.append(v4.new_output("error", ename=str(verdict["ename"])[:200], evalue=str(verdict.get("evalue")),
                                      traceback=[str(t) for t in verdict.get("traceback") or []][:200]))
        else:
            reason = why or "the grader got no result for this test"
            kept.append(v4.new_output("error", ename="NoVerdict", evalue=reason, traceback=[f"NoVerdict: {reason}"]))
        cell.outputs = kept
        cell.setdefault("metadata", {})[META] = {
            "verdict": "pass" if passed else ("missing" if verdict is None else "fail"),
            "review": notes or ([self.tampered] if self.tampered and not passed else []),
        }

    def finish(self, result: dict) -> None:
        """After the run: tests that got no verdict fail, harness metadata is set."""
        for index, (_nonce, source) in list(self.pending.items()):
            self.nb.cells[index].source = source
        running = STATE.cell_index
        for index, cell in enumerate(self.nb.cells):
            meta = cell.setdefault("metadata", {})
            if not _is_test_cell(cell):
                meta.pop(META, None)
                continue
            if META in meta and "verdict" in meta[META]:
                continue
            meta.pop(META, None)
            if not cell.source.strip():
                meta[META] = {"verdict": "pass", "review": []}  # nothing to run: nbgrader gives the points
                continue
            ran = cell.get("execution_count") is not None or index == running
            why = ""
            if index == running and result.get("status") == "killed" and result.get("kernel_exit") == 0:
                self.apply(cell, index, None, replied=False, why="the kernel exited while the test ran")
                self._note("made the kernel exit (status 0) during the test", "during", self._label(cell, index))
                meta[META]["review"] = [self.notes[-1]]
                if self.tampered is None:
                    self.tampered = self.notes[-1]
                continue
            if ran:
                why = result.get("message") or "the test did not finish"
                self.apply(cell, index, None, replied=False, why=why)
            else:
                meta[META] = {"verdict": "missing", "review": []}
        loose, invalid = self.link.take_loose()
        for body in loose:
            for f in body.get("findings") or []:
                if isinstance(f, dict):
                    self._note(str(f.get("what"))[:300], "between", "the end of the notebook")
        if invalid > self.invalid_seen:
            self._note("wrote to the grader's private verdict channel", "between", "the end of the notebook")
        self.nb.metadata[META] = {"guard": "tests", "ready": self.link.ready, "review": self.notes}


def _make_engine():
    from nbclient.exceptions import CellExecutionError  # noqa: F401  (import check)
    from nbformat import v4
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class CappedClient(PapermillNotebookClient):
        """papermill's client with an output cap and a record of the running cell."""

        def execute_cell(self, cell, cell_index, *args, **kwargs):
            STATE.cell_index = cell_index
            return super().execute_cell(cell, cell_index, *args, **kwargs)

        def output(self, outs, msg, display_id, cell_index):
            limit = STATE.output_limit
            if limit:
                size = _message_size(msg.get("content", {}))
                with STATE.lock:
                    if STATE.output_bytes + size > limit:
                        if not STATE.truncated:
                            STATE.truncated = True
                            outs.append(
                                v4.new_output(
                                    "stream",
                                    name="stderr",
                                    text=TRUNCATION_NOTE.format(limit=_human(limit)),
                                )
                            )
                        return None
                    STATE.output_bytes += size
            return super().output(outs, msg, display_id, cell_index)

        def setup_kernel(self, **kwargs):
            STATE.client = self
            if STATE.guard_link is not None:  # nbclient's public per-cell hooks
                guard = STATE.guard = GuardRun(STATE.guard_link, self.nb)
                self.on_cell_execute = guard.before
                self.on_cell_complete = guard.sent
                self.on_cell_executed = guard.executed
            return super().setup_kernel(**kwargs)

    class CoursebenchEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=False,
                shutdown_kernel="immediate",
            )
            # papermill saves the whole notebook (nbformat.writes, schema validation
            # included) when every cell starts and again when it ends: O(cells²) work
            # that cost more than the cells of a typical lab.  Here a save happens at
            # most every AUTOSAVE_SECONDS while cells run; papermill's own saves after
            # the run (notebook_complete, final write) are untouched, and the worker
            # answers with the finished notebook anyway.  The autosave only serves the
            # host's backstop after a hard kill, which loses at most that much progress.
            original_save = nb_man.save
            last = [time.monotonic()]

            def throttled_save(**save_kwargs):
                now = time.monotonic()
                if now - last[0] >= AUTOSAVE_SECONDS:
                    last[0] = now
                    original_save(**save_kwargs)

            nb_man.save = throttled_save
            try:
                return CappedClient(nb_man, **final_kwargs).execute()
            finally:
                nb_man.save = original_save

    return CoursebenchEngine


# The pid of the kernel already booting for the group's NEXT notebook: it belongs to no
# notebook yet, so neither the watchdog nor the cleanup between notebooks touches it.
SPARE_PID: int | None = None


def _children() -> list[int]:
    """Pids whose parent is this process (the kernel), read from /proc; the spare
    kernel for the next notebook and the warm template are left out."""
    me, found, spare = os.getpid(), [], SPARE_PID
    template = TEMPLATE.pid if TEMPLATE is not None else None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and int(entry) not in (spare, template):
            found.append(int(entry))
    return found


def _watchdog() -> None:
    """At a notebook's deadline, interrupt its kernel (SIGINT), then kill it.

    papermill then records the running cell as failed and saves the notebook with every
    finished cell's outputs; the host's own hard kill comes only later, as a backstop.
    One watchdog serves every notebook of a job; a kill is only sent while the notebook
    whose deadline passed is still the one running (checked under the state's lock).
    """
    import signal

    while True:
        time.sleep(0.05)
        with STATE.lock:
            deadline, generation = STATE.deadline, STATE.generation
            if deadline is None or time.monotonic() < deadline:
                continue
            STATE.timed_out = True
        for sig, wait in ((signal.SIGINT, 1.5), (signal.SIGKILL, 0)):
            with STATE.lock:
                if STATE.generation != generation:
                    break
                for pid in _children():
                    try:
                        os.kill(pid, sig)
                    except OSError:
                        pass
            time.sleep(wait)
        while STATE.generation == generation:
            time.sleep(0.05)


def _become_subreaper() -> None:
    """Orphans of the student's code (a background process the kernel started) are
    re-parented to this process, so :func:`_kill_children` finds them between notebooks."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def _kill_children() -> None:
    """Kill every process below this one (the kernel and anything it left running) and
    reap them; orphans come back to us as children (subreaper), hence the rounds."""
    for _ in range(20):
        pids = _children()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass


@functools.cache
def _kernel_classes():
    """(manager class, client class): jupyter_client's AsyncKernelManager and its client
    without two fixed waits that cost every notebook ~0.3 s of idle time (measured here):

    - ``wait_for_ready`` ends by draining IOPub until 0.2 s pass without a message;
      here it drains only what has already arrived (nbclient ignores IOPub messages
      that do not answer its own requests, so stray start-up messages are harmless);
    - killing the kernel polls for its end every 0.1 s; here every 5 ms.
    """
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.utils import ensure_async

    class ReadyClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout=None):
            deadline = time.time() + (float("inf") if timeout is None else timeout)
            while True:  # as jupyter_client does: kernel_info until IOPub is connected
                self.kernel_info()
                try:
                    msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
                except Empty:
                    pass
                else:
                    if msg["msg_type"] == "kernel_info_reply":
                        try:
                            await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                        except Empty:
                            pass
                        else:
                            self._handle_kernel_info_reply(msg)
                            break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.time() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
            while True:
                try:
                    await ensure_async(self.iopub_channel.get_msg(timeout=0.005))
                except Empty:
                    break

    class KernelManager(AsyncKernelManager):
        async def _async_wait(self, pollinterval: float = 0.005) -> None:
            await super()._async_wait(pollinterval=pollinterval)

    return KernelManager, ReadyClient


@functools.cache
def _spec_manager_class():
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class TrustedSpecs(KernelSpecManager):
        """The kernel spec of a guarded kernel, made here: this sandbox's Python running the
        guard's bootstrap.  Never a kernel.json from disk, which the notebook could write
        (``$HOME`` is the sandbox's /tmp)."""

        argv: tuple[str, ...] = ()
        metadata: tuple = ()  # (key, value) pairs

        def get_kernel_spec(self, kernel_name, *args, **kwargs):
            return KernelSpec(argv=list(self.argv), display_name=kernel_name, language="python",
                              resource_dir="", env={}, metadata=dict(self.metadata), interrupt_mode="signal")

    return TrustedSpecs


def _start_kernel_early(kernel_name: str, cwd: str, guard_source: bytes | None = None):
    """An AsyncKernelManager whose kernel process is already starting, or None.  With
    ``guard_source`` the kernel runs the test guard (``km.coursebench_link`` is its
    :class:`GuardLink`)."""
    link = None
    try:
        import asyncio

        manager, client = _kernel_classes()
        km = manager(kernel_name=kernel_name)
        km.client_factory = client
        extra: dict = {}
        specs = None
        if guard_source is not None:
            link = GuardLink(guard_source)
            specs = _spec_manager_class()()
            specs.argv = [sys.executable, "-c", BOOT % link.kernel_fds(), "-f", "{connection_file}"]
            extra["pass_fds"] = link.kernel_fds()
        elif TEMPLATE is not None and kernel_name == "python3":
            specs = _spec_manager_class()()  # what `python3` runs: ipykernel in this sandbox's Python
            specs.argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        if specs is not None and TEMPLATE is not None:
            _warm_provisioner()
            specs.metadata = (("kernel_provisioner", {"provisioner_name": WARM_PROVISIONER}),)
        if specs is not None:
            km.kernel_spec_manager = specs
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(
                km.start_kernel(cwd=cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"], **extra)
            )
        finally:
            loop.close()
        if link is not None:
            link.launched()
        km.coursebench_link = link
        return km
    except Exception:
        if link is not None:
            for fd in (*link.kernel_fds(), link.verdict_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
        return None


# --- warm kernels: a pre-imported template process that forks each notebook's kernel ----
#
# ``worker.py --template FD PREIMPORT`` is a clean Python process that imports ipykernel
# and the course's heavy libraries once and never runs student code.  The worker asks it
# (over a socketpair only the two of them hold, FD) to fork a kernel: the template forks,
# the child forks the kernel and exits, so the kernel is re-parented to the worker (a
# subreaper) and is the worker's child like a kernel it had started itself (the watchdog,
# the cleanup between notebooks and the exit status work unchanged).  The kernel then
# runs exactly the command the kernel spec names (``-c BOOT`` with the test guard, or
# ``-m ipykernel_launcher``), in a fresh session, with its own cwd, env and fds.  See
# docs/warm.md.

WARM_PROVISIONER = "coursebench-warm"
#: what the template always imports: the kernel itself (the course's libraries come on top),
#: and what IPKernelApp.initialize() imports lazily in every kernel -- the debugger
#: (debugpy, ~0.11 s), the history database, psutil, pdb: a forked kernel's start-up
#: drops from ~0.20 s to ~0.07 s of CPU (none of them starts a thread) -- and what a kernel
#: imports on its first execute request or traceback (tornado's asyncio loop, IPython's
#: object inspector and debugger, stack_data: ~18 ms)
WARM_BASE = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython",
             "jupyter_client.session", "zmq", "tornado.ioloop", "ipykernel.debugger", "IPython.core.completer",
             "sqlite3", "psutil", "pdb", "cProfile", "tornado.platform.asyncio", "IPython.core.oinspect",
             "IPython.core.debugger", "IPython.core.completerlib", "stack_data")
#: what both the worker (papermill, nbclient, jupyter_client's manager) and a kernel import:
#: a booted worker imports these before it forks the template (Template.fork_here)
WARM_SHARED = ("asyncio", "ssl", "email.message", "http.client", "zmq", "zmq.asyncio", "tornado.ioloop",
               "traitlets", "jupyter_core.paths", "jupyter_client.session", "dateutil.parser", "psutil",
               "jupyter_client.localinterfaces")
WARM_READY_WAIT = 120.0
WARM_FORK_WAIT = 10.0
KERNEL_COMM = b"cb-kernel"


def _prctl(option: int, value: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(option, value, 0, 0, 0)
    except Exception:
        pass


def _set_comm(name: bytes) -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass


def template_main(fd: int, preimport: list[str]) -> int:
    """The template process: import, then fork kernels on request until the worker hangs up."""
    import signal
    import socket

    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]
    sock = socket.socket(fileno=fd)
    _set_comm(b"cb-importing")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the watchdog's SIGINT is for kernels
    return _template_serve(sock, _template_imports(preimport))


def _template_imports(preimport: list[str]) -> dict[str, str]:
    """What a template imports (in the template, or in a booted worker before it forks
    the template): the kernel, the course's libraries, matplotlib's font list.  Returns the
    modules that failed, with why."""
    import importlib

    # debugpy (ipykernel.debugger) warns about frozen modules unless told not to check; a
    # kernel's own spec would pass -Xfrozen_modules=off (each kernel gets its own env)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    failed: dict[str, str] = {}
    for name in (*WARM_BASE, *preimport):
        try:
            importlib.import_module(name)
        except BaseException as exc:  # a library missing from this image: the kernel imports it itself
            failed[name] = f"{type(exc).__name__}: {exc}"[:200]
    _load_local_ips()
    if "matplotlib" in sys.modules:
        try:  # the font list is built once here, not in every kernel
            from matplotlib import font_manager

            font_manager.findfont("DejaVu Sans")
        except Exception:
            pass
    try:  # every traceback IPython formats asks inspect which module a frame is in; the
        import inspect  # first maps the file of every loaded module (~35 ms): here, once

        inspect.getmodule(sys._getframe())
    except Exception:
        pass
    return failed


def _load_local_ips() -> None:
    """jupyter_client lists this machine's addresses (with psutil) once per process, the
    first time a kernel's connection is set up -- in the worker (the provisioner checks
    that the kernel's ip is local) and again in every kernel.  Listed once before the
    fork, the lists (module globals) are inherited: the sandbox has loopback only."""
    try:
        from jupyter_client.localinterfaces import localhost

        localhost()
    except Exception:
        pass


def _template_serve(sock, failed: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    import gc
    import socket

    gc.collect()
    gc.freeze()  # what is imported stays in the permanent generation: fewer copied pages per fork
    _prctl(4, 0)  # PR_SET_DUMPABLE: no kernel may ptrace this process or read its memory
    threads = threading.active_count()
    _set_comm(b"cb-template")  # the name says it is ready (tests wait for it)
    sock.sendall(json.dumps({"ready": True, "pid": os.getpid(), "threads": threads, "failed": failed,
                             "modules": len(sys.modules)}).encode())
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 16)
        except OSError:
            return 0
        if not data:
            return 0
        try:
            reply = _template_fork(json.loads(data), fds)
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            for f in fds:
                try:
                    os.close(f)
                except OSError:
                    pass
        try:
            sock.sendall(json.dumps(reply).encode())
        except OSError:
            return 0


def _template_fork(request: dict, fds: list[int]) -> dict:
    if threading.active_count() != 1:  # fork with other threads alive copies their locks held
        return {"error": f"the template has {threading.active_count()} threads; it forks only with one"}
    r, w = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            os.close(r)
            kernel = os.fork()
            if kernel == 0:
                os.close(w)
                _become_kernel(request, fds)  # never returns
            os.write(w, str(kernel).encode())
        finally:
            os._exit(0)
    os.close(w)
    raw = b""
    while True:
        chunk = os.read(r, 64)
        if not chunk:
            break
        raw += chunk
    os.close(r)
    os.waitpid(middle, 0)  # the kernel is the worker's child (subreaper) before we answer
    return {"pid": int(raw)} if raw.strip().isdigit() else {"error": "the fork failed"}


def _become_kernel(request: dict, fds: list[int]) -> None:
    """In the forked child: become a fresh kernel process, then run the kernel command."""
    code = 1
    try:
        import signal
        import types

        os.setsid()
        for sig in range(1, signal.NSIG):
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError):
                continue
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as CPython sets it at start
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        targets = [int(t) for t in request["targets"]]
        # the fds the worker sent land on the numbers the kernel command expects; every
        # other descriptor of the template (its socket to the worker above all) is closed
        import fcntl

        low = max([64, *targets]) + 1
        moved = [fcntl.fcntl(f, fcntl.F_DUPFD, low) for f in fds]
        for t, f in zip(targets, moved, strict=True):
            os.dup2(f, t, inheritable=t <= 2)
        keep = set(targets)
        for f in _open_fds():
            if f not in keep:
                try:
                    os.close(f)
                except OSError:
                    pass
        _prctl(4, 1)  # dumpable again, as any exec'd kernel is
        _set_comm(KERNEL_COMM)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _reseed()
        argv = list(request["argv"])
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = __builtins__
        sys.modules["__main__"] = main
        if len(argv) >= 3 and argv[1] == "-c":
            sys.argv = ["-c", *argv[3:]]
            sys.path.insert(0, "")
            exec(compile(argv[2], "<string>", "exec"), main.__dict__)
        elif len(argv) >= 3 and argv[1] == "-m":
            import runpy

            sys.argv = [argv[2], *argv[3:]]
            sys.path.insert(0, os.getcwd())
            sys.modules.pop("__main__", None)
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
        else:
            raise RuntimeError(f"the template runs python -c/-m kernels only, not {argv[:2]}")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _open_fds() -> list[int]:
    try:
        return [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


def _reseed() -> None:
    """Every random stream the template's imports created gets fresh OS entropy."""
    import random

    random.seed()
    np = sys.modules.get("numpy")
    if np is not None:
        try:
            np.random.seed()
        except Exception:
            pass
    for name in ("torch", "tensorflow"):
        mod = sys.modules.get(name)
        if mod is not None and hasattr(mod, "seed"):
            try:
                mod.seed()
            except Exception:
                pass


class Template:
    """The worker's end of the template: start it, fork kernels from it, replace it when
    a kernel killed, stopped or confused it."""

    def __init__(self, preimport: list[str], *, wait: bool = True) -> None:
        self.preimport = list(preimport)
        #: a kernel launched before the template is ready waits for it (a booted sandbox),
        #: or starts cold (a group in a sandbox started for it: the template serves the later ones)
        self.wait = wait
        self.lock = threading.Lock()
        self.proc = None
        self.sock = None
        self.info: dict | None = None
        self.forks = 0
        self.restarts = -1
        self.errors: list[str] = []

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def fork_here(self) -> None:
        """A booted sandbox, before its job exists: import what the worker and a kernel
        both use (:data:`WARM_SHARED`) in this process, then fork the template from it --
        one interpreter's start and those imports paid once instead of twice; then the
        template imports the kernel and the course's libraries while this process imports
        papermill, side by side.  Nothing of any job is in this process yet; the child
        closes every descriptor but its socket and the standard three.  A template that
        has to be replaced later is started fresh (:meth:`start`)."""
        import importlib
        import signal
        import socket

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for name in WARM_SHARED:
            try:
                importlib.import_module(name)
            except Exception:
                pass  # the template and the worker each import what they need themselves
        _load_local_ips()
        pid = os.fork()
        if pid == 0:  # the template
            code = 1
            try:
                ours.close()
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                for f in _open_fds():
                    if f > 2 and f != theirs.fileno():
                        try:
                            os.close(f)
                        except OSError:
                            pass
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the watchdog's SIGINT is for kernels
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]
                _set_comm(b"cb-importing")
                code = _template_serve(theirs, _template_imports(self.preimport))
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        theirs.close()
        self.proc = ForkedKernel(pid)  # Popen's face, as for a forked kernel: also our child
        self.sock, self.info = ours, None
        self.restarts += 1

    def start(self) -> None:
        import socket
        import subprocess

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--template", str(theirs.fileno()),
                 json.dumps(self.preimport)],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, close_fds=True)
        finally:
            theirs.close()
        self.sock, self.info = ours, None
        self.restarts += 1

    def _ready(self, timeout: float | None) -> bool:
        """Whether the template has imported everything (``timeout`` None: do not wait)."""
        if self.info is not None:
            return True
        if timeout is None:
            self.sock.setblocking(False)
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return False
            finally:
                self.sock.setblocking(True)
        else:
            self.sock.settimeout(timeout)
            data = self.sock.recv(1 << 20)
        if not data:
            raise OSError("the template exited before it was ready")
        self.info = json.loads(data)
        return True

    def fork(self, argv: list[str], cwd: str, env: dict, pass_fds=()) -> int | None:
        """The pid of a kernel forked from the template, running ``argv``; None when the
        template is still importing and this kernel should not wait for it (``wait`` False)."""
        import socket

        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self.stop()
                self.start()
            try:
                if not self._ready(WARM_READY_WAIT if self.wait else None):
                    return None
                targets = [0, 1, 2, *pass_fds]
                null = os.open(os.devnull, os.O_RDONLY)
                try:
                    request = {"argv": argv, "cwd": cwd, "env": env, "targets": targets}
                    self.sock.settimeout(WARM_FORK_WAIT)
                    socket.send_fds(self.sock, [json.dumps(request).encode()], [null, 1, 2, *pass_fds])
                finally:
                    os.close(null)
                reply = json.loads(self.sock.recv(1 << 16) or b"{}")
                if "pid" not in reply:
                    raise OSError(reply.get("error") or "the template did not answer")
                self.forks += 1
                return int(reply["pid"])
            except (OSError, ValueError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                self.stop()  # a kernel stopped or killed it: the next notebook gets a new one
                self.start()
                raise

    def stop(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            try:
                self.proc.kill()
                self.proc.wait()
            except OSError:
                pass
            self.proc = None

    def report(self) -> dict:
        info = self.info or {}
        return {"forks": self.forks, "restarts": max(0, self.restarts), "preimport": self.preimport,
                "failed": info.get("failed", {}), "threads": info.get("threads"), "errors": self.errors[-3:]}


#: the job's template (None: kernels start cold)
TEMPLATE: Template | None = None


class ForkedKernel:
    """``subprocess.Popen``'s face for a kernel the template forked (the worker's child), and
    for a template the worker forked (:meth:`Template.fork_here`)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (the cleanup between notebooks)
                try:
                    os.kill(self.pid, 0)
                except OSError:
                    self.returncode = -9
                return self.returncode
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                import subprocess

                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.005)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(9)

    def terminate(self) -> None:
        self.send_signal(15)


@functools.cache
def _warm_provisioner():
    """jupyter_client's extension point for how a kernel is launched: a provisioner, here
    registered under :data:`WARM_PROVISIONER` and named by the kernel spec's
    ``metadata.kernel_provisioner``.  It forks the kernel from the template; when the
    template cannot (it died, was stopped by a kernel, the fork failed) the kernel
    starts cold, exactly as LocalProvisioner starts it."""
    from jupyter_client.provisioning import LocalProvisioner
    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    class WarmProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd, **kwargs):
            template = TEMPLATE
            if template is not None:
                env = kwargs.get("env")
                try:
                    pid = template.fork(list(cmd), str(kwargs.get("cwd") or os.getcwd()),
                                        dict(os.environ if env is None else env), tuple(kwargs.get("pass_fds") or ()))
                except (OSError, ValueError):
                    pid = None
                if pid is not None:
                    self.process = ForkedKernel(pid)
                    self.pid = self.pgid = pid
                    self.cwd = kwargs.get("cwd")
                    return self.connection_info
            return await super().launch_kernel(cmd, **kwargs)

    class Entry:  # what the factory keeps for an entry point: something with load()
        name = WARM_PROVISIONER

        @staticmethod
        def load():
            return WarmProvisioner

    KernelProvisionerFactory.instance().provisioners[WARM_PROVISIONER] = Entry()
    return WarmProvisioner


def _preload() -> None:
    """What running a notebook imports in this process, imported ahead (a booted sandbox)."""
    try:
        import papermill  # noqa: F401
        from papermill.engines import papermill_engines  # noqa: F401

        _kernel_classes()
        _spec_manager_class()
        _warm_provisioner()
        _make_engine()
        _package_versions()
    except Exception:
        pass


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _cell_error(nb) -> tuple[int | None, str | None, str | None, list[str]]:
    """The first code cell whose papermill status is failed, with its error output."""
    for index, cell in enumerate(nb.cells):
        pm = cell.get("metadata", {}).get("papermill", {})
        if pm.get("exception") or pm.get("status") == "failed":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    tb = [_strip_ansi(line) for line in out.get("traceback", [])]
                    return index, out.get("ename"), out.get("evalue"), tb
            return index, None, None, []
    return None, None, None, []


def _cell_name(nb, index: int | None) -> str:
    """'cell 3' in the numbering the student sees: 1-based, papermill's injected
    parameters cell not counted."""
    if index is None:
        return "the notebook"
    injected = sum(1 for c in nb.cells[:index] if any(
        t == INJECTED_TAG or str(t).startswith(HARNESS_TAG_PREFIX) for t in c.get("metadata", {}).get("tags", [])))
    return f"cell {index + 1 - injected}"


def _durations(nb) -> list[float | None]:
    out: list[float | None] = []
    for cell in nb.cells:
        pm = cell.get("metadata", {}).get("papermill", {})
        duration = pm.get("duration")
        out.append(float(duration) if isinstance(duration, (int, float)) else None)
    return out


def notebooks_of(job: dict) -> list[dict]:
    """The notebooks a job runs, in order, each with its own settings.  A plain job has
    one (``input.ipynb``); a group job lists several under ``"notebooks"``, which share the
    sandbox and ``files/`` but each get a fresh kernel and their own limits."""
    items = job.get("notebooks")
    if not items:
        return [{**job, "input": "input.ipynb", "parameters": "parameters.json",
                 "output": "executed.ipynb", "result": "result.json"}]
    return [{**{k: v for k, v in job.items() if k != "notebooks"}, **item} for item in items]


def _kernel_process(km):
    """The kernel's ``subprocess.Popen`` behind a kernel manager, or None."""
    return getattr(getattr(km, "provisioner", None), "process", None)


def _alive(km) -> bool:
    process = _kernel_process(km)
    return process is not None and process.poll() is None


def run(job_dir: str, settings: dict | None = None, *, km=None,
        next_settings: dict | None = None) -> tuple[dict, object, object]:
    """Run one notebook of the job in ``job_dir`` (``settings``: one entry of
    :func:`notebooks_of`; default: the job's only notebook).

    ``km``: a kernel already launched for this notebook (the spare from the previous
    one), used when it is still alive.  ``next_settings``: the group's next notebook,
    whose kernel is launched now, so it boots while this notebook runs (kernel start-up
    is most of a short notebook's cost).  Returns (result, notebook, that spare kernel
    manager or None)."""
    global SPARE_PID
    started = time.monotonic()
    if settings is None:
        with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as fh:
            settings = load_inputs(job_dir, notebooks_of(json.load(fh)))[0]
    job = settings
    parameters = job["_parameters"]
    timeout = job.get("timeout")
    STATE.next_notebook(int(job.get("output_limit") or 0), started + float(timeout) if timeout else None)
    if not WATCHDOG.is_alive():
        WATCHDOG.start()

    work_dir = os.path.join(job_dir, "files")
    # Start the kernel first: it boots in its own process while this one imports
    # papermill (~0.4 s saved per notebook).  If that fails, nbclient starts one itself
    # (not for a guarded notebook: its kernel must be the guard's).  A spare launched
    # during the previous notebook is used only if it is alive and is the kernel this
    # notebook asks for; it is this notebook's from now on.
    SPARE_PID = None
    kernel_name = job.get("kernel_name", "python3")
    guarded = job.get("_guard") is not None or bool(job.get("_guard_missing"))
    if km is not None and not (_alive(km) and km.kernel_name == kernel_name
                               and (getattr(km, "coursebench_link", None) is not None) == guarded):
        _kill_kernel(km)
        km = None
    if km is None:
        km = _start_kernel_early(kernel_name, work_dir, job.get("_guard"))
    spare = None
    if next_settings is not None:
        spare = _start_kernel_early(next_settings.get("kernel_name", "python3"), work_dir,
                                    next_settings.get("_guard"))
        SPARE_PID = getattr(_kernel_process(spare), "pid", None)
    STATE.guard_link = getattr(km, "coursebench_link", None) if guarded else None

    import papermill
    from papermill.engines import papermill_engines

    if "coursebench" not in papermill_engines._engines:
        _skip_validation()
        papermill_engines.register("coursebench", _make_engine())
        _register_inputs()
    input_path = INPUT_SCHEME + job["input"]
    INPUTS[input_path] = job["_notebook"]
    output_path = os.path.join(job_dir, job["output"])

    result: dict = {
        "version": RESULT_VERSION,
        "status": "ok",
        "failed_cell": None,
        "ename": None,
        "evalue": None,
        "traceback": [],
        "cell_durations": [],
        "output_truncated": False,
        "versions": package_versions(),
        "message": "",
    }
    nb = None
    try:
        if guarded and STATE.guard_link is None:
            raise RuntimeError("the kernel with coursebench's test guard could not be started"
                               + ("" if job.get("_guard") else " (guard.py is missing from the job)"))
        for attempt in range(2):
            try:
                nb = papermill.execute_notebook(
                    input_path,
                    output_path,
                    parameters=parameters,
                    engine_name="coursebench",
                    kernel_name=job.get("kernel_name", "python3"),
                    language="python",
                    cwd=work_dir,
                    progress_bar=False,
                    log_output=False,
                    execution_timeout=job.get("cell_timeout"),
                    start_timeout=job.get("start_timeout", 60),
                    iopub_timeout=IOPUB_TIMEOUT,
                    km=km,
                )
                break
            except RuntimeError as exc:
                # the kernel died before it ever answered (the previous notebook of the
                # group killed it as it started, say): no cell of this notebook ran, so
                # it gets another kernel, once
                if attempt or STATE.cell_index is not None or "before replying to kernel_info" not in str(exc):
                    raise
                _kill_kernel(km)
                km = _start_kernel_early(kernel_name, work_dir, job.get("_guard"))
                STATE.guard_link = getattr(km, "coursebench_link", None) if guarded else None
                if guarded and STATE.guard_link is None:
                    raise
    except BaseException as exc:
        name = type(exc).__name__
        if STATE.timed_out:
            result["status"] = "timeout"
            result["message"] = (
                f"the notebook ran past its time limit of {timeout:g} s"
                + (f" in cell {STATE.cell_index}" if STATE.cell_index is not None else "")
            )
        elif name == "CellTimeoutError" and "IOPub" in str(exc):
            # the cell finished, but its output was still arriving long after (a flood of
            # prints on a loaded machine): papermill gives up on the notebook there
            result["status"] = "timeout"
            result["message"] = (
                f"cell {STATE.cell_index} finished, but its output was still arriving {IOPUB_TIMEOUT:g} s "
                "later; print less (only the first part of a long output is kept anyway)"
            )
        elif name == "CellTimeoutError":
            result["status"] = "timeout"
            limit = job.get("cell_timeout")
            result["message"] = (
                f"cell {STATE.cell_index} ran past the per-cell limit"
                + (f" of {limit:g} s" if isinstance(limit, (int, float)) else "")
            )
        elif name == "DeadKernelError":
            result["status"] = "killed"
            result["ename"] = name
            result["kernel_exit"] = _kernel_exit(km)
            result["message"] = (
                f"the Python kernel died while running cell {STATE.cell_index} "
                "(a crash, os._exit(), or a limit the sandbox enforces)"
            )
        elif name == "PapermillExecutionError":
            result["status"] = "error"
        elif name in ("NoSuchKernel",):
            result["status"] = "invalid"
            result["message"] = f"no such kernel: {exc}"
        else:
            result["status"] = "error"
            result["ename"] = name
            result["evalue"] = str(exc)
            result["traceback"] = traceback.format_exception(exc)[-20:]
            result["message"] = f"the runner failed before the notebook finished: {name}: {exc}"
        result["failed_cell"] = STATE.cell_index
    if nb is None and STATE.client is not None:
        # The notebook as it is in memory: never the file in the job directory, which
        # the kernel (or something it left running) can write.
        nb = STATE.client.nb
    if nb is not None:
        # papermill adds red "an exception was encountered" banner cells; they are not
        # the student's cells and would confuse graders, so they go.
        nb.cells = [c for c in nb.cells if ERROR_TAG not in c.get("metadata", {}).get("tags", [])]
        if STATE.guard is None:
            nb.metadata[META] = {}  # whatever the notebook brought under this key is not ours
        else:
            if result["status"] == "killed" and result.get("kernel_exit") is None:
                result["kernel_exit"] = _kernel_exit(km)
            STATE.guard.nb = nb
            STATE.guard.finish(result)
            if not STATE.guard.link.ready and result["status"] in ("ok", "error"):
                result["status"] = "error"
                result["message"] = "coursebench's test guard did not start in the kernel; no test could be checked"
        index, ename, evalue, tb = _cell_error(nb)
        if index is not None and result["status"] in ("error", "ok"):
            result["status"] = "error"
            result["failed_cell"] = index
            result["ename"], result["evalue"], result["traceback"] = ename, evalue, tb
            result["message"] = f"{_cell_name(nb, index)} raised {ename}: {evalue}"
        elif result["status"] in ("timeout", "killed") and index is not None and not result["ename"]:
            result["failed_cell"] = index
        result["cell_durations"] = _durations(nb)
    if nb is not None and result["status"] in ("timeout", "killed") and result["failed_cell"] is not None:
        raw = f"cell {STATE.cell_index}"
        result["message"] = result["message"].replace(raw, _cell_name(nb, result["failed_cell"]))
    result["output_truncated"] = STATE.truncated
    if STATE.truncated and not result["message"]:
        result["message"] = f"output truncated at {_human(STATE.output_limit)}"
    if TEMPLATE is not None:
        result["warm"] = {"forked": isinstance(_kernel_process(km), ForkedKernel), **TEMPLATE.report()}
    link = STATE.guard_link
    STATE.notebook_done()
    if link is not None:
        link.close()
    INPUTS.pop(input_path, None)
    result["worker_seconds"] = round(time.monotonic() - started, 4)
    return result, nb, spare


#: in-memory notebooks papermill reads through INPUT_SCHEME (read before any kernel ran)
INPUTS: dict[str, str] = {}


def _register_inputs() -> None:
    """papermill's I/O registry: ``coursebench-input://NAME`` reads the notebook the worker
    read into memory at the start, not the file (which a kernel may have rewritten)."""
    from papermill.iorw import papermill_io

    class MemoryInputs:
        @classmethod
        def read(cls, path):
            return INPUTS[path]

        @classmethod
        def write(cls, buf, path):
            raise PermissionError("the worker's inputs are read-only")

        @classmethod
        def listdir(cls, path):
            return []

        @classmethod
        def pretty_path(cls, path):
            return path

    papermill_io.register(INPUT_SCHEME, MemoryInputs)


def load_inputs(job_dir: str, items: list[dict]) -> list[dict]:
    """Read every notebook, its parameters and (when one is guarded) the guard's source
    into the settings, before any kernel starts."""
    guard: bytes | None = None
    for settings in items:
        with open(os.path.join(job_dir, settings["input"]), encoding="utf-8") as fh:
            settings["_notebook"] = fh.read()
        with open(os.path.join(job_dir, settings["parameters"]), encoding="utf-8") as fh:
            settings["_parameters"] = json.load(fh)
        try:
            wants = (json.loads(settings["_notebook"]).get("metadata") or {}).get(META, {}).get("guard") == "tests"
        except (ValueError, AttributeError):
            wants = False
        if wants and guard is None:
            try:
                with open(os.path.join(job_dir, GUARD_SOURCE), "rb") as fh:
                    guard = fh.read()
            except OSError:
                guard = b""
        settings["_guard"] = (guard or None) if wants else None
        if wants and not guard:
            settings["_guard_missing"] = True
    return items


def collected_hashes(work_dir: str, patterns: list[str]) -> dict[str, str]:
    """SHA-256 of the files the job collects, as they are once nothing of the notebook
    runs any more: the host takes only files with these contents."""
    out: dict[str, str] = {}
    for name, path in _collected(work_dir, patterns):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        out[name] = digest.hexdigest()
    return out


def _collected(work_dir: str, patterns: list[str]):  # type: ignore[no-untyped-def]
    """(name relative to ``work_dir``, path) of each regular file (not a link) the patterns match."""
    from pathlib import Path

    root = Path(work_dir)
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if not path.is_symlink() and path.is_file():
                yield str(path.relative_to(root)), path


def _kill_kernel(km) -> None:
    process = _kernel_process(km)
    if process is None:
        return
    try:
        process.kill()
        process.wait()
    except OSError:
        pass


def _skip_validation() -> None:
    """nbformat checks a notebook against its JSON schema on every read and write, and
    only logs what it finds; papermill reads once and writes several times.  In here that
    is wasted work (compiling the schema alone costs ~0.15 s per process): the host
    validated the input before the run and validates the answer after it, and trusts
    nothing in between.  Only this worker process is affected, never the kernel."""
    import nbformat

    nbformat.validate = lambda *args, **kwargs: None


def _kernel_exit(km) -> int | None:
    """The dead kernel's exit status (-9: SIGKILL, e.g. the kernel OOM killer), if known."""
    for manager in (km, getattr(STATE.client, "km", None)):
        process = _kernel_process(manager)
        if process is not None:
            try:
                for _ in range(20):
                    code = process.poll()
                    if code is not None:
                        return int(code)
                    time.sleep(0.05)
            except Exception:
                return None
    return None


def _no_dumping() -> None:
    """Make this process un-ptrace-able by the code it runs (same uid): the kernel must
    not read the worker's memory or write to its private result channel."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


# --- a group with separate files (JobGroup(separate_files=True): the folds of a submission)
#
# Each notebook's own input files wait in ``inputs-N/``.  Before any kernel starts the
# worker opens them and unlinks them: from then on only this process (not dumpable, its
# descriptors out of every kernel's reach) holds them.  Each is copied into ``files/`` just
# before its notebook runs; after it (everything it started killed), its collected files
# go to ``outputs-N/`` and ``files/`` and the sandbox's scratch are emptied.


def _take(path: str) -> int | None:
    """Open a file (never through a link) and unlink it: from then on only this process
    holds it.  None if it cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    os.unlink(path)
    return fd


def _hide_inputs(job_dir: str, items: list[dict]) -> None:
    for settings in items:
        held: list[tuple[str, int]] = []
        root = os.path.join(job_dir, settings.get("inputs") or "")
        if settings.get("inputs") and os.path.isdir(root) and not os.path.islink(root):
            for folder, dirs, names in os.walk(root, topdown=False):
                for name in names:
                    path = os.path.join(folder, name)
                    fd = _take(path)
                    if fd is not None:  # else not a regular file the host put there
                        held.append((os.path.relpath(path, root), fd))
                for name in dirs:
                    try:
                        os.rmdir(os.path.join(folder, name))
                    except OSError:
                        pass
            os.rmdir(root)
        settings["_inputs"] = held


def _write_held(work_dir: str, held: list[tuple[str, int]]) -> None:
    """Write the files this process holds (name, descriptor) under ``work_dir``."""
    for name, fd in held:
        dest = os.path.join(work_dir, name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            while os.sendfile(out, fd, None, 1 << 24):
                pass
        finally:
            os.close(out)


def _real_dir(path: str) -> None:
    """``path`` is a directory of ours again (a notebook may have put a link there)."""
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path)):
        os.unlink(path)
    os.makedirs(path, exist_ok=True)


def _empty(path: str, keep: set[str] | frozenset[str] = frozenset()) -> None:
    """Remove everything under ``path`` but the entries named in ``keep`` (never following
    a link), whatever modes a notebook gave it."""
    import shutil

    def unlock(folder: str, depth: int = 0) -> None:
        try:
            os.chmod(folder, 0o700, follow_symlinks=False)
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if depth < 64 and entry.is_dir(follow_symlinks=False):
                unlock(entry.path, depth + 1)

    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        if entry.name in keep:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                unlock(entry.path)
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


def _separate_after(job_dir: str, items: list[dict], index: int, scratch: list[str]) -> None:
    """After the ``index``-th notebook of a separate group, nothing of it running any more:
    its collected files (hashed already) are taken (opened, unlinked: only this process
    holds them); every finished notebook's ``outputs-N/`` is written again from what this
    process holds (a notebook may have changed an earlier one's); everything else in the
    job directory goes, then ``files/``, the scratch directories, SysV IPC objects, POSIX
    message queues and the uid's keyrings are emptied."""
    settings = items[index]
    work = os.path.join(job_dir, "files")
    _real_dir(work)
    held: list[tuple[str, int]] = []
    for name, path in _collected(work, settings.get("collect") or ()):
        fd = _take(str(path))
        if fd is not None:
            held.append((name, fd))
    settings["_outputs"] = held
    for done in items[:index + 1]:
        _write_outputs(job_dir, done)
    _empty(job_dir, keep={"files", settings["output"], *(s["outputs"] for s in items)})
    _empty(work)
    for folder in scratch:
        if os.path.isdir(folder) and not os.path.islink(folder):
            _empty(folder)
    _clear_ipc()


def _clear_ipc() -> None:
    """Remove what outlives processes inside a sandbox besides files: SysV shared memory,
    message queues and semaphores (listed in /proc/sysvipc: the sandbox has its own IPC
    namespace), POSIX message queues (/dev/mqueue, emptied as scratch) and the keys in this
    uid's user and user-session keyrings."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return
    for kind, remove in (("shm", lambda i: libc.shmctl(i, 0, None)), ("msg", lambda i: libc.msgctl(i, 0, None)),
                         ("sem", lambda i: libc.semctl(i, 0, 0))):  # IPC_RMID = 0
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and fields[1].isdigit():
                remove(int(fields[1]))
    keyctl = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
    if keyctl is not None:
        for ring in (-4, -5):  # KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING
            libc.syscall(keyctl, 7, ring)  # KEYCTL_CLEAR


def _write_outputs(job_dir: str, settings: dict) -> None:
    outputs = os.path.join(job_dir, settings["outputs"])
    _real_dir(outputs)
    _empty(outputs)
    try:
        _write_held(outputs, settings.get("_outputs") or [])
    except OSError:
        pass


def _own_files(job_dir: str, items: list[dict]) -> dict[str, str | None]:
    """The job directory's files that are the worker's (not the notebook's): their
    contents now, to notice a notebook rewriting them."""
    names = {"job.json", GUARD_SOURCE} | {s[k] for s in items for k in ("input", "parameters")}
    return {name: _digest(os.path.join(job_dir, name)) for name in sorted(names)}


def _write_for_people(path: str, result: dict) -> None:
    """``result.json``: never through a link the notebook put there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1)


def main(argv: list[str]) -> int:
    """Run the job's notebooks in order; after each, send
    ``{"index": i, "result": ..., "notebook": ...}`` as one line of JSON on the ORIGINAL
    standard output, which only this process holds: before any kernel starts, fd 1 is
    pointed at stderr, so nothing the student's code writes can reach the host's result
    channel.  ``result.json`` (``result-N.json`` in a group) is also written in the job
    dir for people to read.  Between notebooks every process the previous one left is
    killed, so each notebook starts from a clean sandbox (its files stay, as in nbgrader).
    """
    global TEMPLATE
    if len(argv) == 4 and argv[1] == "--template":
        return template_main(int(argv[2]), list(json.loads(argv[3])))
    booted = len(argv) == 4 and argv[2] == "--boot"
    if len(argv) != 2 and not booted:
        print("usage: worker.py JOB_DIR [--boot PREIMPORT_JSON]", file=sys.stderr)
        return 2
    job_dir = argv[1]
    _no_dumping()
    _become_subreaper()
    channel = os.dup(1)  # non-inheritable (PEP 446): the kernel never gets it
    os.dup2(2, 1)
    if booted:
        # A warm sandbox, booted before its job exists: this process imports the template's
        # modules and forks the template, imports what it runs notebooks with, then waits
        # for the host's "go" on stdin (the job directory is complete by then).
        TEMPLATE = Template([str(m) for m in json.loads(argv[3])])
        TEMPLATE.fork_here()
        _block_slow_imports()
        _preload()
        if sys.stdin.buffer.readline().strip() != b"go":
            os._exit(0)  # the host let the warm sandbox go unused
    with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as fh:
        job = json.load(fh)
    warm = job.get("warm")
    wanted = isinstance(warm, dict) and warm.get("enabled")
    if TEMPLATE is not None and (not wanted or list(warm.get("preimport") or []) != TEMPLATE.preimport):
        TEMPLATE.stop()  # booted for another configuration
        TEMPLATE = None
    elif TEMPLATE is None and wanted and (
            (job.get("separate") and len(job.get("notebooks") or ()) > 1)
            or (warm.get("in_groups") and len(job.get("notebooks") or ()) > 2)):
        # a group in a container started for it (Docker boots none ahead): the template
        # imports while the first notebooks run in kernels started cold (they do not wait
        # for it); the later ones are forked from it.  The runs of a separate group (the
        # folds of one submission: the same notebook) all wait for it instead: its one
        # import is all the group pays.  Elsewhere a sandbox started for its job starts its
        # kernels cold, as before: only a booted one has a template ready.
        TEMPLATE = Template([str(m) for m in warm.get("preimport") or []], wait=bool(job.get("separate")))
        try:
            TEMPLATE.start()
        except OSError:
            TEMPLATE = None
    _block_slow_imports()
    items = load_inputs(job_dir, notebooks_of(job))
    separate = bool(job.get("separate"))
    scratch = [str(d) for d in job.get("scratch") or ()]
    if separate:  # each notebook's own files, out of every kernel's reach until its turn; the
        _hide_inputs(job_dir, items)  # worker's own (read above) go, nothing to carry a message
        for name in ("job.json", GUARD_SOURCE, *(entry[k] for entry in items for k in ("input", "parameters"))):
            try:
                os.unlink(os.path.join(job_dir, name))
            except OSError:
                pass
    own = _own_files(job_dir, items) if not separate else {}
    spare = None
    for index, settings in enumerate(items):
        # separate files: no kernel of the next notebook may be alive while this one runs
        following = items[index + 1] if index + 1 < len(items) and not separate else None
        if separate:
            _real_dir(os.path.join(job_dir, "files"))
            _empty(os.path.join(job_dir, settings["outputs"]))  # nothing planted for it
            _write_held(os.path.join(job_dir, "files"), settings["_inputs"])
        result, nb, spare = run(job_dir, settings, km=spare, next_settings=following)
        _kill_children()  # the kernel and its leftovers: nothing may outlive a notebook
        if nb is not None and settings.get("collect"):
            nb.metadata[META]["artifacts"] = collected_hashes(os.path.join(job_dir, "files"), settings["collect"])
        if separate:
            _separate_after(job_dir, items, index, scratch)
        changed = sorted(name for name, digest in own.items() if _digest(os.path.join(job_dir, name)) != digest)
        if nb is not None and changed and isinstance(nb.metadata[META].get("review"), list):
            nb.metadata[META]["review"].append(
                f"needs review: rewrote the grader's files in the job directory ({', '.join(changed[:5])}) "
                "while the notebook ran (they were read before it started, so nothing changed)")
        own.update({name: _digest(os.path.join(job_dir, name)) for name in changed})
        notebook = json.loads(json.dumps(nb)) if nb is not None else None
        if not separate:  # a separate group's notebooks leave nothing for the next one to read
            _write_for_people(os.path.join(job_dir, settings["result"]), result)
            own[settings["result"]] = _digest(os.path.join(job_dir, settings["result"]))
        payload = json.dumps({"index": index, "result": result, "notebook": notebook}).encode("utf-8")
        view = memoryview(payload + b"\n")
        while view:
            written = os.write(channel, view)
            view = view[written:]
        if separate:  # answered: its executed notebook is not left for the notebooks after it
            try:
                os.unlink(os.path.join(job_dir, settings["output"]))
            except OSError:
                pass
    if separate:  # nothing of any notebook runs now: each one's outputs as it left them
        for settings in items:
            _write_outputs(job_dir, settings)
    os.close(channel)
    sys.stdout.flush()
    sys.stderr.flush()
    # Exit hard: a forked or stuck kernel thread must not keep the sandbox alive.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
