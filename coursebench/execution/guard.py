"""The test guard: runs INSIDE the student's kernel and decides whether each test passed.

nbgrader's test cells run in the student's own kernel, after the student's code, so that
code can change how later cells are run or how their errors are shown.  The guard takes
the verdict away from that machinery:

* it is installed before any student code can run: ``worker.py`` starts the kernel as
  ``python -c BOOT`` with this file's source and a per-kernel key on a private pipe
  (read and closed at once), the working directory off ``sys.path`` until the guard is
  in, and no IPython startup files or profile config (``/tmp`` is the student's);
* it snapshots the machinery while it is pristine (IPython's run/compile/transform/error
  display methods, the kernel's execute handlers, ``builtins``, trace hooks, import
  hooks, event callbacks) and keeps its own references to ``compile``/``exec``;
* the worker sends each test cell as ``__coursebench_test__(PAYLOAD, MAC)``: the guard
  checks the MAC (a changed test is a failed test), checks the machinery and the names
  the test uses against the snapshot, runs the test itself with the pristine
  ``compile``/``exec``, catches the outcome, checks again, and writes a signed verdict on
  its own pipe to the worker.  The worker never reads a verdict from the kernel's replies
  or outputs; no verdict means the test failed.

Once anything was tampered with, this test and every later one fail, with what was found.
The limits (one interpreter: an attacker who knows this code can read the key from
memory) are in docs/grading.md, "Threat model".

Standalone: the standard library and IPython/ipykernel only.
"""

from __future__ import annotations

import ast
import base64
import builtins
import functools
import hashlib
import hmac
import io
import json
import linecache
import operator
import os
import sys
import threading
import tokenize
import traceback
import types

MISSING = object()
GUARD_FILE = "<coursebench-guard>"
ENTRY, CMP, CHAIN, TRUTH = ("__coursebench_test__", "__coursebench_cmp__", "__coursebench_chain__",
                            "__coursebench_truth__")
SHELL_ATTRS = (
    "run_cell", "run_cell_async", "_run_cell", "should_run_async", "run_ast_nodes", "run_code",
    "transform_cell", "transform_ast", "showtraceback", "_showtraceback", "showsyntaxerror",
    "showindentationerror", "_get_exc_info", "get_exception_only", "excepthook", "set_custom_exc",
    "CustomTB", "custom_exceptions", "InteractiveTB", "SyntaxTB", "compile", "events",
    "input_transformer_manager", "input_transformers_cleanup", "input_transformers_post",
    "ast_transformers", "displayhook", "display_pub", "user_ns", "user_global_ns", "builtin_trap",
    "kernel", "run_line_magic", "run_cell_magic",
)
KERNEL_ATTRS = ("do_execute", "execute_request", "dispatch_shell", "process_one", "dispatch_queue",
                "_publish_execute_input", "_publish_status", "shell_handlers", "session", "iopub_socket")
SESSION_ATTRS = ("send", "serialize", "sign", "msg")
TB_ATTRS = ("structured_traceback", "text", "stb2text")
COMPILER_ATTRS = ("__call__", "cache", "ast_parse", "get_code_name")
MANAGER_ATTRS = ("transform_cell", "do_token_transforms", "do_one_token_transform", "cleanup_transforms",
                 "line_transforms", "token_transformers")
#: module names tests conventionally reach through these aliases
CONVENTIONAL = {"np": "numpy", "pd": "pandas", "plt": "matplotlib.pyplot", "math": "math", "npt": "numpy.testing",
                "pdt": "pandas.testing", "tf": "tensorflow", "keras": "keras", "torch": "torch", "sp": "scipy",
                "statistics": "statistics", "sklearn": "sklearn"}
PLAIN = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)
OPS = {"Eq": (operator.eq, "__eq__"), "NotEq": (operator.ne, "__ne__"), "Lt": (operator.lt, "__lt__"),
       "LtE": (operator.le, "__le__"), "Gt": (operator.gt, "__gt__"), "GtE": (operator.ge, "__ge__"),
       "In": (lambda a, b: a in b, "__contains__"), "NotIn": (lambda a, b: a not in b, "__contains__")}
OWNERS = {"IPython": "IPython's", "kernel": "the kernel's", "kernel.session": "the kernel session's",
          "IPython.InteractiveTB": "IPython's traceback formatter's", "IPython.compile": "IPython's compiler's",
          "IPython.input_transformer_manager": "IPython's input transformer",
          "IPython.TransformerManager": "IPython's TransformerManager", "IPython.displayhook": "IPython's displayhook",
          "IPython.display_pub": "IPython's display publisher"}


def main(key: bytes, fd: int) -> None:
    """Start the IPython kernel with the guard installed before anything else runs."""
    os.set_inheritable(fd, False)
    guard = Guard(key, fd)
    from ipykernel.kernelapp import IPKernelApp
    from IPython.paths import get_ipython_dir

    class GuardedKernelApp(IPKernelApp):
        def init_path(self) -> None:  # the working directory joins sys.path after the guard
            pass

        def load_config_file(self, *args, **kwargs):  # no config from the student-writable profile
            own = os.path.realpath(get_ipython_dir())
            self.config_file_paths = [p for p in self.config_file_paths
                                      if not os.path.realpath(p).startswith(own)]
            return super().load_config_file(*args, **kwargs)

        def _run_startup_files(self) -> None:  # nor its startup files
            pass

        def init_code(self) -> None:
            guard.install(self.shell)
            IPKernelApp.init_path(self)
            super().init_code()

    GuardedKernelApp.launch_instance()


def _state(value, deep: bool = False):
    """What identifies ``value`` for the snapshot comparison (compared with ``is``)."""
    if isinstance(value, types.MethodType):
        return ("m", value.__func__, value.__self__)
    if isinstance(value, list):
        return ("l", value, tuple(value))
    if deep and isinstance(value, dict):
        return ("d", value, dict(value))
    return ("o", value, type(value))


def _same(a, b) -> bool:
    """Snapshot ``a`` still holds in ``b`` (a dict may have gained keys, not changed any)."""
    if a[0] != b[0] or len(a) != len(b):
        return False
    if a[0] == "d":
        return a[1] is b[1] and all(b[2].get(k, MISSING) is v for k, v in a[2].items())
    for x, y in zip(a[1:], b[1:], strict=True):
        if isinstance(x, tuple) and isinstance(y, tuple):
            if len(x) != len(y) or any(p is not q for p, q in zip(x, y, strict=True)):
                return False
        elif x is not y:
            return False
    return True


def _name(obj) -> str:
    for attr in ("__qualname__", "__name__"):
        try:
            value = type.__getattribute__(obj, attr) if isinstance(obj, type) else getattr(obj, attr)
        except Exception:
            continue
        if isinstance(value, str):
            return value[:80]
    return _name(type(obj)) if not isinstance(obj, type) else "?"


class Guard:
    def __init__(self, key: bytes, fd: int) -> None:
        self.key, self.fd = key, fd
        self.lock = threading.Lock()
        self.compile, self.exec, self.eval = builtins.compile, builtins.exec, builtins.eval
        self.mac = functools.partial(hmac.new, key, digestmod=hashlib.sha256)
        self.digest_eq, self.b64decode, self.loads = hmac.compare_digest, base64.b64decode, json.loads
        self.dumps, self.write, self.gettrace, self.getprofile = json.dumps, os.write, sys.gettrace, sys.getprofile
        self.format_exception, self.tb_type = traceback.format_exception, types.TracebackType
        self.nodes = {n: getattr(ast, n) for n in ("Module", "Expression", "Expr", "Call", "Name", "Load", "Constant",
                                                   "Lambda", "arguments", "Tuple", "walk")}
        self.used: set[str] = set()
        self.findings: list[dict] = []  # found since the last verdict
        self.reported: set[str] = set()
        self.tampered = False
        self.busy = False
        self.calls: list[str] = []  # trace/profile functions set since install
        self.originals: dict = {}
        self.roots: tuple[str, ...] = ()
        self.trusted: tuple[str, ...] = ()
        self.files: dict[str, bool] = {}
        self.sources: dict[str, object] = {}

    # --- installation ----------------------------------------------------------------

    def install(self, shell) -> None:
        import sysconfig
        import tempfile

        from IPython.core.formatters import PlainTextFormatter
        from IPython.core.inputtransformer2 import TransformerManager

        self.shell, self.kernel = shell, shell.kernel
        self.user_ns, self.global_ns = shell.user_ns, shell.user_global_ns
        self.flags = int(getattr(shell.compile, "flags", 0))
        self.cache = functools.partial(type(shell.compile).cache, shell.compile)
        self.code_name = functools.partial(type(shell.compile).get_code_name, shell.compile)
        try:  # ipykernel names a cell's code by its source only, so a locked cell's functions are known
            self.names_by_source = self.code_name("x", "x", 0) == self.code_name("x", "x", 1)
        except Exception:
            self.names_by_source = False
        self.tm = TransformerManager()
        self.transform = functools.partial(TransformerManager.transform_cell, self.tm)
        self.plain = PlainTextFormatter()
        self.itb = shell.InteractiveTB
        self.structured = functools.partial(type(shell.InteractiveTB).structured_traceback, shell.InteractiveTB)
        paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}
        self.trusted = tuple(sorted({os.path.realpath(p) + os.sep for p in paths if p}))
        home = os.environ.get("HOME") or tempfile.gettempdir()
        cwd = os.getcwd()
        self.roots = tuple(sorted({os.path.realpath(p) + os.sep for p in
                                   (cwd, os.path.dirname(cwd), tempfile.gettempdir(), home, "/dev/shm")}))
        self.builtins_mod = builtins
        builtins.__dict__.update({ENTRY: self.entry, CMP: self._cmp, CHAIN: self._chain, TRUTH: self._truth})
        with shell.builtin_trap:
            self.snapshot = self._machinery()
            self.builtins = dict(builtins.__dict__)
        self.events = {k: list(v) for k, v in shell.events.callbacks.items()}
        self.initial_ns = dict(shell.user_ns)  # what IPython itself put there (get_ipython, exit, ...)
        self.meta_path, self.path_hooks = list(sys.meta_path), list(sys.path_hooks)
        self.hooks = {n: getattr(sys, n, None) for n in ("excepthook", "unraisablehook")}
        self._wrap_tracing()
        sys.addaudithook(self._audit)
        self.send({"ready": True, "pid": os.getpid()})

    def _wrap_tracing(self) -> None:
        guard = self

        def wrap(owner, attr, label):
            original = guard.originals[label] = getattr(owner, attr)

            def setter(function, /):
                if function is not None:
                    guard.calls.append(label)
                return original(function)

            setter.__name__ = attr
            setattr(owner, attr, setter)

        wrap(sys, "settrace", "sys.settrace")
        wrap(sys, "setprofile", "sys.setprofile")
        wrap(threading, "settrace", "threading.settrace")
        wrap(threading, "setprofile", "threading.setprofile")

    def _machinery(self) -> dict[str, tuple]:
        """label → state of every piece of machinery that runs cells or reports errors."""
        shell, out = self.shell, {}

        def add(owner, names, label):
            out[f"{label}.__class__"] = ("o", type(owner), type)
            for n in names:
                try:
                    out[f"{label}.{n}"] = _state(getattr(owner, n), deep=n.endswith("_handlers"))
                except Exception:
                    continue

        add(shell, SHELL_ATTRS, "IPython")
        add(self.kernel, KERNEL_ATTRS, "kernel")
        add(self.kernel.session, SESSION_ATTRS, "kernel.session")
        add(shell.InteractiveTB, TB_ATTRS, "IPython.InteractiveTB")
        add(shell.compile, COMPILER_ATTRS, "IPython.compile")
        add(shell.input_transformer_manager, MANAGER_ATTRS, "IPython.input_transformer_manager")
        add(self.tm, MANAGER_ATTRS, "IPython.TransformerManager")
        add(shell.displayhook, ("__call__", "write_format_data", "finish_displayhook"), "IPython.displayhook")
        add(shell.display_pub, ("publish", "clear_output"), "IPython.display_pub")
        return out

    # --- where code comes from ---------------------------------------------------------

    def _file_from_notebook(self, filename: str) -> bool:
        known = self.files.get(filename)
        if known is None:
            if filename.startswith("<"):
                known = filename.startswith(("<ipython-input", "<stdin>"))
            else:
                real = os.path.realpath(filename)
                known = real.startswith(self.roots) and not real.startswith(self.trusted)
            self.files[filename] = known
        return known

    def from_notebook(self, obj, depth: int = 0) -> bool:
        """True when ``obj`` (a function, method, partial, class or callable object) was
        made by code the notebook ran, not by the installed libraries or the guard."""
        if depth > 4:
            return False
        try:
            if isinstance(obj, types.MethodType):
                return self.from_notebook(obj.__func__, depth + 1)
            if isinstance(obj, (functools.partial, functools.partialmethod)):
                return self.from_notebook(obj.func, depth + 1)
            if isinstance(obj, types.FunctionType):
                return obj.__globals__ is self.global_ns or self._file_from_notebook(obj.__code__.co_filename)
            if isinstance(obj, (types.BuiltinFunctionType, types.WrapperDescriptorType,
                                types.MethodDescriptorType, types.ModuleType)):
                return False
            cls = obj if isinstance(obj, type) else type(obj)
            if type.__getattribute__(cls, "__module__") == "__main__":
                return True
            return any(isinstance(v, (types.FunctionType, classmethod, staticmethod))
                       and self.from_notebook(getattr(v, "__func__", v), depth + 1)
                       for v in list(type.__getattribute__(cls, "__dict__").values()))
        except Exception:
            return False

    def genuine_module(self, module) -> bool:
        if not isinstance(module, types.ModuleType) or self.from_notebook(type(module)):
            return False
        name = getattr(module, "__name__", None)
        if not isinstance(name, str) or sys.modules.get(name) is not module:
            return False
        file = getattr(module, "__file__", None)
        if file is None:
            return True  # a built-in or namespace package
        return isinstance(file, str) and not self._file_from_notebook(file)

    # --- the checks --------------------------------------------------------------------

    def _found(self, what: str, when: str) -> None:
        if what not in self.reported:
            self.reported.add(what)
            self.findings.append({"what": what, "when": when})

    def check_machinery(self, when: str) -> None:
        now = self._machinery()
        for label, before in self.snapshot.items():
            after = now.get(label)
            if after is None or not _same(before, after):
                owner, attr = label.rsplit(".", 1)
                owner = OWNERS.get(owner, owner)
                if attr == "__class__":
                    self._found(f"replaced the class of {owner} object", when)
                elif before[0] == "l" and after is not None and after[0] == "l":
                    new = [x for x in after[2] if not any(x is y for y in before[2])]
                    added = f" (added {', '.join(_name(x) for x in new[:3])})" if new else ""
                    self._found(f"changed {owner} {attr}{added}", when)
                else:
                    self._found(f"replaced {owner} {attr}", when)
        current = builtins.__dict__
        for name, value in self.builtins.items():
            now = current.get(name, MISSING)
            if now is not value and name not in ("_", "__", "___") and not self._kernel_input(name, now):
                self._found(f"{'replaced' if name in current else 'deleted'} the builtin {name}", when)
        if self.user_ns.get("__builtins__", builtins) not in (builtins, builtins.__dict__):
            self._found("replaced the notebook's __builtins__", when)
        for name in (ENTRY, CMP, CHAIN, TRUTH):
            if name in self.user_ns:
                self._found(f"defined {name}, a name the grader uses", when)
        if self.gettrace() is not None or getattr(threading, "_trace_hook", None) is not None:
            self._found("set a trace function (sys.settrace), which can skip lines of a test", when)
        if self.getprofile() is not None or getattr(threading, "_profile_hook", None) is not None:
            self._found("set a profile function (sys.setprofile)", when)
        for label in self.calls:
            self._found(f"called {label}", when)
        self.calls.clear()
        for event, callbacks in self.shell.events.callbacks.items():
            for cb in callbacks:
                if not any(cb is old for old in self.events.get(event, ())) and self.from_notebook(cb):
                    self._found(f"registered its own IPython {event} callback ({_name(cb)})", when)
        for label, now_list, old_list in (("sys.meta_path", sys.meta_path, self.meta_path),
                                          ("sys.path_hooks", sys.path_hooks, self.path_hooks)):
            for item in now_list:
                if not any(item is old for old in old_list) and self.from_notebook(item):
                    self._found(f"added an import hook to {label} ({_name(item)})", when)
        for name, old in self.hooks.items():
            value = getattr(sys, name, None)
            if value is not old and self.from_notebook(value):
                self._found(f"replaced sys.{name}", when)

    def _kernel_input(self, name: str, value) -> bool:
        """ipykernel points ``input`` at the kernel's own ``raw_input`` while a cell runs."""
        return name == "input" and isinstance(value, types.MethodType) and value.__self__ is self.kernel and \
            value.__func__ is getattr(type(self.kernel), "raw_input", None)

    def check_names(self, test: dict, tree, when: str) -> None:
        """What the test's own names resolve to: builtins it calls, modules and library
        functions it reaches, helpers the locked cells defined."""
        loaded, bound, chains, imported = _names(tree, self.nodes["walk"])
        ns, b = self.user_ns, builtins.__dict__
        for name in sorted(loaded - bound):
            value = ns.get(name, MISSING)
            original = self.builtins.get(name, MISSING)
            if original is not MISSING and value is not MISSING and value is not original and callable(value) \
                    and value is not self.initial_ns.get(name, MISSING):
                if self.from_notebook(value) or not self._library_alias(value, name):
                    self._found(f"redefined {name}, which the test uses", when)
            if value is MISSING and original is MISSING:
                added = b.get(name, MISSING)
                if added is not MISSING and self.from_notebook(added):
                    self._found(f"added a builtin {name}, which the test uses", when)
            expected = [self._imported(t) for t in test.get("aliases", {}).get(name, ())]
            expected = [e for e in expected if e is not MISSING]
            if value is not MISSING and expected and not any(value is e for e in expected):
                self._found(f"rebound {name}, which the notebook imports and the test uses "
                            f"(it is now {self._describe(value)})", when)
            elif value is not MISSING and not expected and name in CONVENTIONAL and name not in test.get("aliases", {}):
                want = sys.modules.get(CONVENTIONAL[name])
                if not self.genuine_module(value) or (want is not None and value is not want):
                    self._found(f"{name} is not the {CONVENTIONAL[name]} module the test expects "
                                f"(it is {self._describe(value)})", when)
            raw = test.get("protected", {}).get(name) if self.names_by_source else None
            if raw is not None and value is not MISSING and not self._defined_by(value, raw):
                self._found(f"redefined {name}, which a locked cell defines and the test uses", when)
        for module in imported:
            m = sys.modules.get(module, MISSING)
            if m is not MISSING and m is not None and not self.genuine_module(m):
                self._found(f"put its own object in sys.modules[{module!r}]", when)
        budget = [400]
        for chain in sorted(chains):
            if chain[0] not in bound:
                self._check_chain(chain, when, budget)

    def _describe(self, value) -> str:
        kind = "module" if isinstance(value, types.ModuleType) else (
            "class" if isinstance(value, type) else ("function" if callable(value) else "value"))
        return f"a {kind} defined in the notebook" if self.from_notebook(value) else f"the {kind} {_name(value)}"

    def _library_alias(self, value, name: str) -> bool:
        """``abs`` from ``from numpy import *``: a library's own function of that name."""
        module = sys.modules.get(getattr(value, "__module__", None) or "", None)
        return module is not None and self.genuine_module(module) and getattr(module, name, None) is value

    def _imported(self, target) -> object:
        module, attr = target
        m = sys.modules.get(module)
        if m is None:
            return MISSING
        return m if attr is None else vars(m).get(attr, MISSING)

    def _defined_by(self, value, raw: str) -> bool:
        try:
            filename = self.code_name(raw, raw, 0)
        except Exception:
            return True
        funcs = [value] if isinstance(value, types.FunctionType) else (
            [v for v in vars(value).values() if isinstance(v, types.FunctionType)] if isinstance(value, type) else [])
        if not funcs:
            return not callable(value)
        return any(f.__code__.co_filename == filename for f in funcs)

    def _check_chain(self, chain: tuple[str, ...], when: str, budget: list[int]) -> None:
        obj = self.user_ns.get(chain[0], builtins.__dict__.get(chain[0], MISSING))
        path = chain[0]
        for attr in chain[1:]:
            if isinstance(obj, types.ModuleType) and self.genuine_module(obj):
                nxt, path = vars(obj).get(attr, MISSING), f"{obj.__name__}.{attr}"
            elif isinstance(obj, type) and not self.from_notebook(obj):
                nxt = next((vars(k)[attr] for k in obj.__mro__ if attr in vars(k)), MISSING)
                path = f"{path}.{attr}"
            else:
                return
            if nxt is MISSING:
                return
            if self.from_notebook(nxt):
                self._found(f"replaced {path}", when)
                return
            if isinstance(nxt, functools.partial) and isinstance(obj, types.ModuleType):
                self._found(f"replaced {path} with a functools.partial", when)
                return
            obj = nxt
        if len(chain) == 1 and (obj is MISSING or self.from_notebook(obj)):
            return  # the student's own answer: not the guard's business
        if isinstance(obj, types.FunctionType):
            self._check_defaults(obj, path, when)
            self._check_globals(obj, path, when, budget, 0)
        elif isinstance(obj, type) and obj.__module__ != "builtins":
            for klass in obj.__mro__[:-1]:
                for attr, value in list(vars(klass).items()):
                    if isinstance(value, (types.FunctionType, staticmethod, classmethod)) and \
                            self.from_notebook(getattr(value, "__func__", value)):
                        self._found(f"replaced {_name(klass)}.{attr}, which the test uses", when)

    def _check_globals(self, fn, path: str, when: str, budget: list[int], depth: int) -> None:
        """A library function's own helpers (``assert_allclose`` → ``assert_array_compare``)."""
        codes, names = [fn.__code__], set()
        while codes:
            code = codes.pop()
            names.update(code.co_names)
            codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        g = fn.__globals__
        for name in sorted(names):
            budget[0] -= 1
            if budget[0] < 0:
                return
            value = g.get(name, MISSING)
            if value is MISSING or isinstance(value, (types.ModuleType, int, str, float)):
                continue
            if self.from_notebook(value):
                self._found(f"replaced {g.get('__name__', '?')}.{name}, which {path} uses", when)
            elif isinstance(value, types.FunctionType) and depth < 1:
                self._check_globals(value, path, when, budget, depth + 1)

    def _check_defaults(self, fn, path: str, when: str) -> None:
        """Defaults that differ from the literals in the library's source
        (``assert_allclose.__defaults__ = (1e9, ...)``)."""
        code = fn.__code__
        want = self.sources.get(code)
        if want is None:
            want = self.sources[code] = _source_defaults(code)
        if not want:
            return
        defaults, kwdefaults = want
        have, kwhave = fn.__defaults__ or (), fn.__kwdefaults__ or {}
        same = len(defaults) == len(have) and all(type(a) is type(b) and a == b for a, b in zip(defaults, have, strict=True)) \
            and all(type(kwhave.get(k, MISSING)) is type(v) and kwhave.get(k) == v for k, v in kwdefaults.items())
        if not same:
            self._found(f"changed the default arguments of {path}", when)

    # --- comparisons in asserts --------------------------------------------------------

    def _lies(self, value, dunder: str) -> bool:
        cls = type(value)
        if cls in PLAIN:
            return False
        for klass in cls.__mro__:
            method = vars(klass).get(dunder)
            if method is not None:
                return self.from_notebook(klass) or self.from_notebook(method)
        return False

    def _cmp(self, a, opname, b):
        op, dunder = OPS[opname]
        result = bool(op(a, b))
        if result:
            for x, y in ((a, b), (b, a)):
                if (type(y) in PLAIN or type(y).__module__ == "numpy") and self._lies(x, dunder):
                    self._found(f"an assert compared a value of type {_name(type(x))}, whose {dunder} is "
                                "defined in the notebook, with a plain value", "during")
        return result

    def _chain(self, ops, *thunks):
        left = thunks[0]()
        for opname, thunk in zip(ops, thunks[1:], strict=False):
            right = thunk()
            if not self._cmp(left, opname, right):
                return False
            left = right
        return True

    def _truth(self, value):
        result = bool(value)
        if type(value) not in PLAIN and (self._lies(value, "__bool__") or self._lies(value, "__len__")):
            self._found(f"an assert tested a value of type {_name(type(value))}, whose truth value is defined "
                        "in the notebook", "during")
        return result

    # --- running a test ----------------------------------------------------------------

    def entry(self, payload: str, mac: str) -> None:
        """What a test cell runs: ``__coursebench_test__(PAYLOAD, MAC)``."""
        if self.busy:
            self._found("ran the grader's test runner from inside a test", "during")
            return None
        self.busy = True
        interrupted = None
        try:
            try:
                raw = self.b64decode(payload)
                test = self.loads(raw)
                good = self.digest_eq(self.mac(raw).hexdigest(), mac) and isinstance(test, dict)
            except Exception:
                test, good = {}, False
            nonce = test.get("nonce") if isinstance(test, dict) else None
            if not good or not isinstance(nonce, str) or nonce in self.used:
                self.tampered = True
                self.send({"nonce": nonce if isinstance(nonce, str) else None, "passed": False,
                           "findings": [{"what": "the test code was altered before it reached the grader",
                                         "when": "before"}]})
                return None
            self.used.add(nonce)
            verdict, interrupted = self.run_test(test)
            verdict["nonce"] = nonce
            self.send(verdict)
        except BaseException as exc:  # never let a grader bug look like a pass
            try:
                self.send({"nonce": None, "passed": False, "grader_error": f"{type(exc).__name__}: {exc}"[:500]})
            except BaseException:
                pass
        finally:
            self.busy = False
        if interrupted is not None:
            raise interrupted
        return None

    def run_test(self, test: dict) -> tuple[dict, BaseException | None]:
        source = test.get("source", "")
        number = self.shell.execution_count
        tree = None
        try:
            transformed = self.transform(source)
            filename = self.cache(transformed, number, raw_code=source)
            tree = self.compile(transformed, filename, "exec", ast.PyCF_ONLY_AST | self.flags, True)
        except BaseException as exc:
            self.check_machinery("before")
            return self._verdict(exc, None), None
        self.check_machinery("before")
        self.check_names(test, tree, "before")
        if self.gettrace() is not None:  # found above; the test itself runs untraced
            self.originals["sys.settrace"](None)
        quiet = _ends_with_semicolon(transformed)
        value, failure = None, None
        try:
            tree = _Asserts(self.nodes).visit(tree)
            ast.fix_missing_locations(tree)
            body, last = list(tree.body), None
            if body and isinstance(body[-1], self.nodes["Expr"]) and not quiet:
                last = body.pop()
            code = self.compile(self.nodes["Module"](body=body, type_ignores=[]), filename, "exec", self.flags, True)
            self.exec(code, self.global_ns, self.user_ns)
            if last is not None:
                expr = self.compile(self.nodes["Expression"](body=last.value), filename, "eval", self.flags, True)
                value = self.eval(expr, self.global_ns, self.user_ns)
        except BaseException as exc:
            failure = exc
        self.check_machinery("during")
        self.check_names(test, tree, "during")
        verdict = self._verdict(failure, value)
        return verdict, failure if isinstance(failure, KeyboardInterrupt) else None

    def _verdict(self, failure: BaseException | None, value) -> dict:
        if failure is not None and self._lies(failure, "_render_traceback_"):
            self._found(f"the test raised an exception of type {_name(type(failure))}, whose _render_traceback_ "
                        "(how IPython shows it) is defined in the notebook", "during")
        findings, self.findings = self.findings, []
        self.tampered = self.tampered or bool(findings)
        verdict: dict = {"passed": failure is None and not self.tampered, "findings": findings,
                         "tampered": self.tampered}
        if failure is not None:
            etype = type(failure)
            verdict["ename"] = type.__dict__["__name__"].__get__(etype, type)
            try:
                verdict["evalue"] = str(failure)[:10_000]
            except BaseException:
                verdict["evalue"] = "<the exception could not be printed>"
            verdict["traceback"] = self._traceback(failure)
        elif value is not None:
            try:
                text = self.plain(value)
            except BaseException:
                text = None
            if isinstance(text, str):
                verdict["value"] = text[:10_000]
        return verdict

    def _traceback(self, exc: BaseException) -> list[str]:
        """The traceback as IPython would show it, without the guard's own frames."""
        frames, tb = [], exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename != GUARD_FILE:
                frames.append(tb)
            tb = tb.tb_next
        chain = None
        for t in reversed(frames):
            chain = self.tb_type(chain, t.tb_frame, t.tb_lasti, t.tb_lineno)
        try:
            lines = self.structured(type(exc), exc, chain, tb_offset=0)
        except BaseException:
            try:
                lines = self.format_exception(type(exc), exc, chain)
            except BaseException:
                lines = [f"{type(exc).__name__}"]
        return [str(line)[:20_000] for line in lines[:200]]

    # --- talking to the worker ---------------------------------------------------------

    def send(self, body: dict) -> None:
        text = self.dumps(body, sort_keys=True, default=str)
        line = self.dumps({"v": text, "mac": self.mac(text.encode()).hexdigest()}).encode() + b"\n"
        with self.lock:
            view = memoryview(line)
            while view:
                view = view[self.write(self.fd, view):]

    def _audit(self, event: str, args: tuple) -> None:
        """Between tests: after every cell the notebook runs, look for tampering (found
        things are sent at once, so they are known even if no test reaches the guard)."""
        if event != "exec" or self.busy:
            return
        try:
            code = args[0] if args else None
            if not isinstance(code, types.CodeType) or code.co_name != "<module>" or \
                    not self._file_from_notebook(code.co_filename):
                return
            self.busy = True
            self.check_machinery("between")
            if self.findings:
                findings, self.findings, self.tampered = self.findings, [], True
                self.send({"nonce": None, "findings": findings, "tampered": True})
        except BaseException:
            pass
        finally:
            self.busy = False


class _Asserts:
    """Rewrites ``assert`` statements so comparisons go through the guard's checks
    (``assert f(x) == [1, 2]`` → ``assert __coursebench_cmp__(f(x), 'Eq', [1, 2])``);
    evaluation order and the number of ``bool()`` calls stay as they were."""

    def __init__(self, nodes: dict) -> None:
        self.n = nodes

    def visit(self, tree):
        walk = self.n["walk"]
        in_class = {id(n) for c in walk(tree) if type(c).__name__ == "ClassDef" for n in walk(c)}
        for node in walk(tree):
            if type(node).__name__ == "Assert" and id(node) not in in_class:
                node.test = self.wrap(node.test)
        return tree

    def call(self, helper: str, args: list, like):
        n = self.n
        return ast.copy_location(n["Call"](func=n["Name"](id=helper, ctx=n["Load"]()), args=args, keywords=[]), like)

    def wrap(self, e):
        kind = type(e).__name__
        if kind == "BoolOp":
            e.values = [self.wrap(v) for v in e.values]
            return e
        if kind == "UnaryOp" and type(e.op).__name__ == "Not":
            e.operand = self.wrap(e.operand)
            return e
        if kind == "Compare":
            names = [type(op).__name__ for op in e.ops]
            if any(n not in OPS for n in names):
                return e
            if len(names) == 1:
                return self.call(CMP, [e.left, self.n["Constant"](value=names[0]), e.comparators[0]], e)
            parts = [e.left, *e.comparators]
            if any(type(x).__name__ in ("NamedExpr", "Await", "Yield", "YieldFrom") for p in parts
                   for x in self.n["walk"](p)):
                return e
            args = self.n["arguments"](posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
            thunks = [ast.copy_location(self.n["Lambda"](args=args, body=p), p) for p in parts]
            ops = self.n["Tuple"](elts=[self.n["Constant"](value=x) for x in names], ctx=self.n["Load"]())
            return self.call(CHAIN, [ops, *thunks], e)
        if kind == "Constant":
            return e
        return self.call(TRUTH, [e], e)


def _names(tree, walk) -> tuple[set[str], set[str], set[tuple[str, ...]], set[str]]:
    """(names loaded, names bound, attribute chains from a name, modules imported) in a test."""
    loaded, bound, chains, imported = set(), set(), set(), set()
    for node in walk(tree):
        kind = type(node).__name__
        if kind == "Name":
            (loaded if type(node.ctx).__name__ == "Load" else bound).add(node.id)
        elif kind in ("FunctionDef", "AsyncFunctionDef", "ClassDef"):
            bound.add(node.name)
        elif kind == "arg":
            bound.add(node.arg)
        elif kind == "ExceptHandler" and node.name:
            bound.add(node.name)
        elif kind in ("Import", "ImportFrom"):
            for alias in node.names:
                bound.add((alias.asname or alias.name).split(".")[0])
                if kind == "Import":
                    imported.add(alias.name)
            if kind == "ImportFrom" and node.module and not node.level:
                imported.add(node.module)
        elif kind == "Attribute" and type(node.ctx).__name__ == "Load":
            parts, value = [node.attr], node.value
            while type(value).__name__ == "Attribute":
                parts.append(value.attr)
                value = value.value
            if type(value).__name__ == "Name":
                chains.add((value.id, *reversed(parts)))
    for name in loaded:
        chains.add((name,))
    return loaded, bound, chains, imported


def _source_defaults(code) -> tuple | bool:
    """(defaults, keyword defaults) written in the source of ``code``'s ``def``, when they
    are all literals; False when that cannot be known."""
    import inspect
    import textwrap

    try:
        lines = linecache.getlines(code.co_filename)
        block = inspect.getblock(lines[code.co_firstlineno - 1:])
        tree = ast.parse(textwrap.dedent("".join(block)))
        node = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
        if node.name != code.co_name:
            return False
        defaults = tuple(ast.literal_eval(d) for d in node.args.defaults)
        kw = {a.arg: ast.literal_eval(d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if d is not None}
        return defaults, kw
    except Exception:
        return False


def _ends_with_semicolon(source: str) -> bool:
    """IPython shows no value for a cell whose last token is ``;``."""
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
                  if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER,
                                    tokenize.INDENT, tokenize.DEDENT)]
    except Exception:
        return False
    return bool(tokens) and tokens[-1].string == ";"
