"""Writes the deliberately bad notebooks of this folder (run it after changing one).

Each notebook carries, in ``metadata.coursebench_test``, the status it must get, a
fragment its message (or ename) must contain, and the limits to run it with.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat import v4

HERE = Path(__file__).parent
PY = {"name": "python3", "display_name": "Python 3", "language": "python"}


def notebook(name: str, cells: list[str], expect: dict, *, params: str | None = None, kernelspec=PY) -> None:
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = kernelspec
    nb.metadata["coursebench_test"] = expect
    if params is not None:
        nb.cells.append(v4.new_code_cell(params, metadata={"tags": ["parameters"]}))
    nb.cells += [v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, str(HERE / f"{name}.ipynb"))


def main() -> None:
    notebook("infinite_loop", ["x = 1", "while True:\n    pass", "print('never')"],
             {"status": "timeout", "contains": "time limit", "cell": 2, "limits": {"timeout": 15}})
    notebook("cell_timeout", ["import time", "time.sleep(60)"],
             {"status": "timeout", "contains": "per-cell limit", "cell": 2,
              "limits": {"cell_timeout": 2, "timeout": 30}})
    notebook("memory_bomb", ["print('before')", "blocks = []\nwhile True:\n    blocks.append(bytearray(64 * 2**20))"],
             {"status": "oom", "contains": "memory limit", "cell": 2,
              "limits": {"memory": "384M", "timeout": 60}})
    notebook("fork_bomb", ["import os\nwhile True:\n    os.fork()"],
             {"status": ["error", "killed", "timeout"], "contains": "", "limits": {"pids": 64, "timeout": 20}})
    notebook("os_exit", ["print('about to exit')", "import os\nos._exit(1)", "print('never')"],
             {"status": "killed", "contains": "kernel died", "cell": 2})
    notebook("segfault", ["import ctypes\nctypes.string_at(0)"],
             {"status": "killed", "contains": "kernel died", "cell": 1})
    notebook("sys_exit", ["import sys\nsys.exit(3)"],
             {"status": "error", "ename": "SystemExit", "cell": 1})
    notebook("keyboard_interrupt", ["raise KeyboardInterrupt"],
             {"status": "error", "ename": "KeyboardInterrupt", "cell": 1})
    notebook("network", ["import socket\nsocket.create_connection(('151.101.0.223', 443), timeout=5)"],
             {"status": "error", "ename": "OSError", "cell": 1, "isolated_only": True})
    notebook("read_outside",
             ["secret = open(secret_path).read()\nprint(secret)"],
             {"status": "error", "ename": "FileNotFoundError", "cell": 2, "isolated_only": True},
             params="secret_path = ''")
    notebook("write_outside",
             ["open(target, 'w').write('pwned')"],
             {"status": "error", "ename": "", "cell": 2, "isolated_only": True},
             params="target = ''")
    notebook("print_100mb", ["line = 'x' * (1024 * 1024)\nfor _ in range(100):\n    print(line)", "print('after')"],
             {"status": "ok", "contains": "", "truncated": True, "limits": {"output": "2M"}})
    notebook("no_cells", [], {"status": "ok", "contains": ""})
    notebook("other_language", ["print('hi')"],
             {"status": "invalid", "contains": "runs Python notebooks"},
             kernelspec={"name": "ir", "display_name": "R", "language": "R"})
    notebook("korean_emoji",
             ["# 회귀 (regression) 🎉\n인사 = '안녕하세요 👋'\nprint(인사, '과적합 overfitting 😅')"],
             {"status": "ok", "contains": "", "stdout": "안녕하세요 👋 과적합 overfitting 😅"})
    notebook("parameters_override", ["print(f'n = {n}, name = {name}')"],
             {"status": "ok", "contains": "", "parameters": {"n": 7, "name": "학생"},
              "stdout": "n = 7, name = 학생"},
             params="n = 1\nname = 'default'")
    notebook("zero_division", ["a = 1", "b = 0", "a / b"],
             {"status": "error", "ename": "ZeroDivisionError", "cell": 3, "contains": "cell 3"})
    (HERE / "invalid_json.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "print(1)",\n  "metadata": {}\n', encoding="utf-8")
    (HERE / "invalid_json.expect.json").write_text(json.dumps({"status": "invalid", "contains": "not valid JSON at line 3"}))


if __name__ == "__main__":
    main()
