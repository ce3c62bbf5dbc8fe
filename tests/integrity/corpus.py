"""A planted-copy corpus for the integrity report: lab01's tasks (and three more),
solved independently in several styles, and copies of them made the ways students make
them.

Every task is written as **steps** (check the input, count, compute, return ...), each
with several genuinely different ways of writing it, all with the same canonical names.
Any choice of one way per step is a correct solution (``test_corpus_solutions_are_correct``
runs them); a student then gets their own variable names, comments and layout.

- :func:`independent` — the test corpus: student ``s`` writes every step in style ``s``
  (a different way for every student where the step has that many ways);
- :func:`random_student` — the benchmark corpus: one random way per step, the small
  variations people make without thinking (:func:`paraphrase`) and some personal lines (a
  docstring, a debug print), so 200 students are not 200 copies of a few styles;
- :func:`rename`, :func:`restyle`, :func:`reorder`, :func:`edit` — the planted copies:
  renamed variables, other comments and whitespace, reordered cells, a line added or
  changed.

:func:`make_lab` writes an nbgrader course directory (``source/<lab>/`` with solution and
test cells, nbgrader metadata and all) and :func:`submit` a student's notebook into
``submitted/<student>/<lab>/``.
"""

from __future__ import annotations

import io
import itertools
import json
import keyword
import random
import re
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Task:
    name: str
    signature: str | None
    """``def f(...):`` (the body is indented under it), or None for top-level code."""
    steps: list[list[str]]
    test: str
    tail: str = ""
    """Released code after the solution region (``petal_means`` to show it)."""
    renamable: tuple[str, ...] = ()
    """Canonical local names a student may call something else."""


def _d(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


TASKS: dict[str, Task] = {
    "mean_std": Task(
        "mean_std", "def mean_and_std(values):",
        [
            [_d('''
                if len(values) == 0:
                    raise ValueError("mean_and_std needs at least one value")'''),
             _d('''
                if not values:
                    raise ValueError("empty list")'''),
             _d('''
                if len(values) < 1:
                    raise ValueError("no values given")''')],
            ["n = len(values)",
             _d('''
                n = 0
                for _ in values:
                    n += 1'''),
             "n = float(len(values))",
             "n = sum(1 for _ in values)"],
            ["mean = sum(values) / n",
             _d('''
                total = 0.0
                for x in values:
                    total += x
                mean = total / n'''),
             _d('''
                import math
                mean = math.fsum(values) / n'''),
             _d('''
                from functools import reduce
                mean = reduce(lambda a, b: a + b, values, 0.0) / n''')],
            ["var = sum((x - mean) ** 2 for x in values) / n",
             _d('''
                var = 0.0
                for x in values:
                    var += (x - mean) * (x - mean)
                var = var / n'''),
             _d('''
                squares = [(x - mean) ** 2 for x in values]
                var = sum(squares) / n'''),
             "var = max(0.0, sum(x * x for x in values) / n - mean * mean)",
             _d('''
                deviations = list(map(lambda x: x - mean, values))
                var = sum(d ** 2 for d in deviations) / n''')],
            ["return mean, var ** 0.5",
             _d('''
                import math
                return (mean, math.sqrt(var))'''),
             _d('''
                std = var ** (1 / 2)
                return mean, std'''),
             "return mean, pow(var, 0.5)"],
        ],
        _d('''
            m, s = mean_and_std([2, 4, 4, 4, 5, 5, 7, 9])
            assert abs(m - 5.0) < 1e-12 and abs(s - 2.0) < 1e-12
            assert mean_and_std([3.0]) == (3.0, 0.0)
            try:
                mean_and_std([])
            except ValueError:
                pass
            else:
                raise AssertionError("an empty list must raise ValueError")'''),
        renamable=("values", "n", "mean", "var", "total", "squares", "deviations", "std", "x", "d"),
    ),
    "standardize": Task(
        "standardize", "def standardize(X):",
        [
            ["X = np.asarray(X, dtype=float)", "X = np.array(X, dtype=np.float64)", "X = X.astype(float)",
             "X = np.asarray(X) * 1.0"],
            [_d('''
                mu = X.mean(axis=0)
                sigma = X.std(axis=0)'''),
             _d('''
                mu = np.mean(X, axis=0)
                sigma = np.std(X, axis=0)'''),
             _d('''
                mu = X.sum(axis=0) / X.shape[0]
                sigma = np.sqrt(((X - mu) ** 2).mean(axis=0))'''),
             _d('''
                mu = np.average(X, axis=0)
                sigma = np.sqrt(np.var(X, axis=0))''')],
            ["return (X - mu) / sigma",
             _d('''
                centered = X - mu
                return centered / sigma'''),
             "return np.divide(np.subtract(X, mu), sigma)",
             _d('''
                Z = (X - mu[np.newaxis, :]) / sigma[np.newaxis, :]
                return Z''')],
        ],
        _d('''
            X = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0]])
            before = X.copy()
            Z = standardize(X)
            assert np.array_equal(X, before)
            assert np.allclose(Z, (X - X.mean(0)) / X.std(0))'''),
        renamable=("X", "mu", "sigma", "centered", "Z"),
    ),
    "petal_means": Task(
        "petal_means", None,
        [
            ['petal_means = df.groupby("species")["petal length (cm)"].mean().sort_values(ascending=False)',
             _d('''
                grouped = df.groupby("species")
                petal_means = grouped["petal length (cm)"].mean()
                petal_means = petal_means.sort_values(ascending=False)'''),
             _d('''
                table = df.pivot_table(index="species", values="petal length (cm)", aggfunc="mean")
                petal_means = table["petal length (cm)"].sort_values(ascending=False)'''),
             _d('''
                means = {}
                for name in df["species"].unique():
                    means[name] = df.loc[df["species"] == name, "petal length (cm)"].mean()
                petal_means = pd.Series(means).sort_values(ascending=False)''')],
        ],
        _d('''
            assert list(petal_means.index) == ["virginica", "versicolor", "setosa"]
            assert np.allclose(petal_means.to_numpy(), [5.552, 4.26, 1.462])'''),
        tail="petal_means",
        renamable=("grouped", "table", "means", "name"),
    ),
    "wide_sepals": Task(
        "wide_sepals", "def wide_sepals(df, min_width):",
        [
            ['rows = df[df["sepal width (cm)"] >= min_width]',
             _d('''
                mask = df["sepal width (cm)"] >= min_width
                rows = df.loc[mask]'''),
             'rows = df.loc[lambda d: d["sepal width (cm)"] >= min_width]',
             'rows = df[df["sepal width (cm)"].ge(min_width)]'],
            ["rows = rows.copy()", "rows = pd.DataFrame(rows, copy=True)", "rows = rows.copy(deep=True)"],
            ['rows["petal ratio"] = rows["petal length (cm)"] / rows["petal width (cm)"]',
             _d('''
                ratio = rows["petal length (cm)"].div(rows["petal width (cm)"])
                rows["petal ratio"] = ratio'''),
             'rows.insert(len(rows.columns), "petal ratio", rows["petal length (cm)"] / rows["petal width (cm)"])',
             'rows = rows.assign(**{"petal ratio": rows["petal length (cm)"] / rows["petal width (cm)"]})'],
            ["return rows",
             _d('''
                result = rows
                return result'''),
             "return rows.reset_index(drop=True)"],
        ],
        _d('''
            for w in (3.0, 3.8, 100):
                got = wide_sepals(df, w)
                mask = df["sepal width (cm)"].to_numpy() >= w
                assert len(got) == int(mask.sum())
                assert np.allclose(got["petal ratio"].to_numpy(),
                                   df["petal length (cm)"].to_numpy()[mask] / df["petal width (cm)"].to_numpy()[mask])
            assert "petal ratio" not in df.columns'''),
        renamable=("df", "min_width", "rows", "mask", "ratio", "result", "d"),
    ),
    "missing_report": Task(
        "missing_report", "def missing_report(frame):",
        [
            ["fraction = frame.isna().mean()",
             "fraction = frame.isnull().sum() / len(frame)",
             "fraction = pd.Series({c: frame[c].isna().sum() / len(frame) for c in frame.columns}, dtype=float)",
             _d('''
                counts = frame.isna().sum()
                fraction = counts / frame.shape[0]''')],
            ["fraction = fraction[fraction > 0]",
             "fraction = fraction.loc[fraction.gt(0)]",
             "fraction = fraction[fraction != 0]",
             _d('''
                keep = [c for c in fraction.index if fraction[c] > 0]
                fraction = fraction[keep]''')],
            ["return fraction.sort_values(ascending=False)",
             _d('''
                fraction = fraction.sort_values(ascending=False)
                return fraction'''),
             'return fraction.iloc[np.argsort(-fraction.to_numpy(), kind="stable")]',
             _d('''
                order = sorted(fraction.index, key=lambda c: -fraction[c])
                return fraction[order]''')],
        ],
        _d('''
            example = pd.DataFrame({"a": [1, None, 3, 4], "b": [None, None, None, 1.0], "c": [1, 2, 3, 4]})
            report = missing_report(example)
            assert list(report.index) == ["b", "a"] and np.allclose(report.to_numpy(), [0.75, 0.25])
            assert len(missing_report(pd.DataFrame({"x": [1, 2]}))) == 0'''),
        renamable=("frame", "fraction", "counts", "keep", "order", "c"),
    ),
    "accuracy": Task(
        "accuracy", "def accuracy(y_true, y_pred):",
        [
            [_d('''
                if len(y_true) != len(y_pred):
                    raise ValueError("lengths differ")'''),
             'assert len(y_true) == len(y_pred), "lengths differ"',
             _d('''
                if np.shape(y_true) != np.shape(y_pred):
                    raise ValueError("shapes differ")''')],
            ["correct = sum(1 for t, p in zip(y_true, y_pred) if t == p)",
             _d('''
                correct = 0
                for t, p in zip(y_true, y_pred):
                    if t == p:
                        correct += 1'''),
             "correct = int(np.sum(np.asarray(y_true) == np.asarray(y_pred)))",
             "correct = len([i for i in range(len(y_true)) if y_true[i] == y_pred[i]])"],
            ["return correct / len(y_true)",
             _d('''
                total = len(y_true)
                return correct / total if total else 0.0'''),
             "return float(correct) / float(len(y_pred))"],
        ],
        "assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5",
        renamable=("y_true", "y_pred", "correct", "t", "p", "i", "total"),
    ),
    "one_hot": Task(
        "one_hot", "def one_hot(labels):",
        [
            ["k = max(labels) + 1", "k = int(np.max(labels)) + 1", "k = 1 + max(int(v) for v in labels)"],
            ["out = np.zeros((len(labels), k))", "out = np.zeros(shape=(len(labels), k), dtype=float)",
             "out = [[0.0] * k for _ in labels]"],
            [_d('''
                for i, label in enumerate(labels):
                    out[i][label] = 1.0'''),
             _d('''
                for i in range(len(labels)):
                    out[i][int(labels[i])] = 1'''),
             _d('''
                positions = list(range(len(labels)))
                for r, c in zip(positions, labels):
                    out[r][c] = 1.0''')],
            ["return np.asarray(out)", "return np.array(out, dtype=float)",
             _d('''
                result = np.asarray(out, dtype=float)
                return result''')],
        ],
        "assert one_hot([0, 2, 1]).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]",
        renamable=("labels", "k", "out", "i", "label", "positions", "r", "c", "result", "v"),
    ),
    "moving_average": Task(
        "moving_average", "def moving_average(values, window):",
        [
            [_d('''
                if window <= 0:
                    raise ValueError("window must be positive")'''),
             _d('''
                if window < 1 or window > len(values):
                    raise ValueError("bad window")'''),
             'assert window > 0, "window must be positive"'],
            [_d('''
                out = []
                for i in range(len(values) - window + 1):
                    out.append(sum(values[i:i + window]) / window)'''),
             "out = [sum(values[i:i + window]) / window for i in range(len(values) - window + 1)]",
             _d('''
                cs = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
                out = (cs[window:] - cs[:-window]) / window'''),
             'out = np.convolve(values, np.ones(window) / window, mode="valid")'],
            ["return list(out)", "return [float(v) for v in out]", "return np.asarray(out, dtype=float).tolist()"],
        ],
        "assert np.allclose(moving_average([1, 2, 3, 4, 5], 2), [1.5, 2.5, 3.5, 4.5])",
        renamable=("values", "window", "out", "i", "cs", "v"),
    ),
}
LAB01 = ["mean_std", "standardize", "petal_means", "wide_sepals", "missing_report"]
SETUP = _d('''
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_iris
    iris = load_iris(as_frame=True)
    df = iris.frame.drop(columns="target")
    df["species"] = pd.Categorical.from_codes(iris.target, iris.target_names).astype(str)''')

NAMES = ["a", "b", "val", "tmp", "res", "acc", "cur", "item", "elem", "num", "arr", "data", "seq", "vec",
         "buf", "part", "piece", "thing", "stuff", "obj", "q", "w", "z", "u", "h", "g"]


# -- writing a solution --------------------------------------------------------------------

def code_of(task: Task, choices: list[int], extras: dict[int, str] | None = None) -> str:
    """The task's code with way ``choices[i]`` for step ``i``; ``extras`` adds a line before
    step ``i`` (``len(steps)``: at the end of the body, before nothing)."""
    lines: list[str] = []
    for i, (step, way) in enumerate(zip(task.steps, choices, strict=True)):
        if extras and i in extras:
            lines.append(extras[i])
        lines.extend(step[way % len(step)].splitlines())
    body = "\n".join(lines)
    if task.signature is None:
        return body + (f"\n{task.tail}" if task.tail else "")
    return task.signature + "\n" + textwrap.indent(body, "    ")


def style(task: Task, s: int) -> list[int]:
    """Student ``s``'s way for every step: for each step in turn, the way that the fewest of
    students ``0..s-1`` wrote like student ``s`` so far (so that two styles coincide on as
    few steps as the numbers of ways allow)."""
    return _styles(task.name, s + 1)[s]


_STYLE_CACHE: dict[tuple[str, int], list[list[int]]] = {}


def _styles(name: str, count: int) -> list[list[int]]:
    key = (name, count)
    if key not in _STYLE_CACHE:
        steps = TASKS[name].steps
        chosen: list[list[int]] = []
        for s in range(count):
            mine: list[int] = []
            for i, step in enumerate(steps):
                def cost(way: int, i: int = i, mine: list[int] = mine, s: int = s) -> tuple[int, int, int]:
                    same = [sum(o[j] == m for j, m in enumerate(mine)) + (o[i] == way) for o in chosen]
                    return (max(same, default=0), sum(same), (way - s - i) % len(steps[i]))
                mine.append(min(range(len(step)), key=cost))
            chosen.append(mine)
        _STYLE_CACHE[key] = chosen
    return _STYLE_CACHE[key]


def rename(code: str, mapping: dict[str, str]) -> str:
    """Rename variables (names only: not attributes, keyword arguments or strings)."""
    if not mapping:
        return code
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    lines = code.splitlines(keepends=True)
    edits = []
    for index, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string not in mapping:
            continue
        before = tokens[index - 1].string if index else ""
        after = tokens[index + 1].string if index + 1 < len(tokens) else ""
        if before == "." or (after == "=" and before in ("(", ",")):
            continue
        edits.append((tok.start, tok.end, mapping[tok.string]))
    for (row, col), (_, end_col), new in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[end_col:]
    return "".join(lines)


def names_for(task: Task, rng: random.Random) -> dict[str, str]:
    """A student's own names for the task's renamable variables."""
    pool = [n for n in NAMES]
    rng.shuffle(pool)
    out = {}
    for name in task.renamable:
        if rng.random() < 0.7 and pool:
            new = pool.pop() + (rng.choice(["", "s", "_", "1", "2"]) if rng.random() < 0.5 else "")
            out[name] = new + "_" if keyword.iskeyword(new) else new
    return out


COMMENTS = ["# compute it step by step", "# TODO double-check", "# as in the lecture", "# edge case first",
            "# this took me a while", "# works for the examples", "# see the docs", "# vectorised version"]


def restyle(code: str, rng: random.Random, indent: str = "  ") -> str:
    """Other comments and layout: comments dropped and new ones added, another indent width,
    blank lines, spaces."""
    out = []
    widths = [len(line) - len(line.lstrip()) for line in code.splitlines() if line.strip() and line[0] in " \t"]
    unit = min(widths) if widths else 4
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("#"):
            continue
        depth = (len(line) - len(stripped)) // unit
        if "#" in stripped and not any(q in stripped for q in "\"'"):
            stripped = stripped.split("#", 1)[0].rstrip()
        new = indent * depth + stripped.replace(" = ", "  =  ", 1) if rng.random() < 0.3 else indent * depth + stripped
        if rng.random() < 0.3:
            out.append(indent * depth + rng.choice(COMMENTS))
        out.append(new)
        if rng.random() < 0.2 and not stripped.endswith(":"):
            out.append("")
    return "\n".join(out)


def edit(code: str, rng: random.Random) -> str:
    """A light edit: one line added (a print) after a line of the body."""
    lines = code.splitlines()
    spots = [i for i, line in enumerate(lines) if line.strip() and not line.rstrip().endswith(":")
             and not line.lstrip().startswith(("return", "raise", "#"))]
    if not spots:
        return code + '\nprint("done")'
    at = rng.choice(spots)
    pad = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    return "\n".join([*lines[: at + 1], pad + 'print("checking", ' + rng.choice(['"here"', "1", "0.5"]) + ")",
                      *lines[at + 1:]])


_AUG = re.compile(r"^(\s*)(\w+) \+= (.+)$")
_SQUARE = re.compile(r"\b([A-Za-z_]\w*) \*\* 2\b")
_RETURN = re.compile(r"^(\s*)return (.+)$")
_ASSIGN = re.compile(r"^(\s*)([A-Za-z_]\w*) = (.+)$")


def paraphrase(code: str, rng: random.Random, p: float = 0.2) -> str:
    """What independent students vary without thinking: ``a += b`` or ``a = a + b``,
    ``x ** 2`` or ``x * x``, an intermediate name before ``return``, brackets around a
    right-hand side.  Each line is touched with probability ``p``; the meaning is kept."""
    out = []
    for line in code.splitlines():
        if rng.random() >= p or line.rstrip().endswith(":"):
            out.append(line)
            continue
        if m := _AUG.match(line):
            out.append(f"{m[1]}{m[2]} = {m[2]} + ({m[3]})")
        elif _SQUARE.search(line):
            out.append(_SQUARE.sub(lambda m: f"{m[1]} * {m[1]}", line, count=1))
        elif (m := _RETURN.match(line)) and "," not in m[2] and " if " not in m[2]:
            out += [f"{m[1]}answer = {m[2]}", f"{m[1]}return answer"]
        elif (m := _ASSIGN.match(line)) and not m[3].startswith(("(", "[", "{")) and "lambda" not in m[3]:
            out.append(f"{m[1]}{m[2]} = ({m[3]})")
        else:
            out.append(line)
    return "\n".join(out)


EXTRAS = ['"""My solution."""', 'print("start")', "debug = False", "# note to self", "pass",
          "checked = True", 'print("ok so far")']


@dataclass
class Student:
    """One student's answers: task name → solution code."""

    answers: dict[str, str]
    order: list[str]
    """Tasks in the order the student's notebook has them."""
    helper: str | None = None
    """An extra code cell the student added."""


def independent(s: int, tasks: list[str] = LAB01, seed: int = 0) -> Student:
    """Test student ``s`` (0, 1, ...): style ``s`` for every task, their own names, comments
    and layout."""
    rng = random.Random(f"{seed}/{s}")
    answers = {}
    for name in tasks:
        task = TASKS[name]
        code = rename(code_of(task, style(task, s)), names_for(task, rng))
        answers[name] = restyle(code, rng, indent=" " * rng.choice([4, 4, 2]))
    helper = '# my own check\nassert abs(sum([1, 2, 3]) / 3 - 2) < 1e-9' if s % 3 == 2 else None
    return Student(answers, list(tasks), helper)


def random_student(rng: random.Random, tasks: list[str]) -> Student:
    """Benchmark student: one random way per step, some personal lines, own names."""
    answers = {}
    for name in tasks:
        task = TASKS[name]
        choices = [rng.randrange(len(step)) for step in task.steps]
        extras = {i: rng.choice(EXTRAS) for i in range(len(task.steps))
                  if task.signature is not None and rng.random() < 0.25}
        code = rename(paraphrase(code_of(task, choices, extras), rng), names_for(task, rng))
        answers[name] = restyle(code, rng, indent=" " * rng.choice([4, 4, 4, 2]))
    return Student(answers, list(tasks))


def copy_of(original: Student, how: str, rng: random.Random) -> Student:
    """A planted copy of ``original``: ``renamed``, ``restyled`` (comments and whitespace),
    ``reordered`` (the task cells in another order) or ``edited`` (a line added)."""
    answers = dict(original.answers)
    order = list(original.order)
    if how == "renamed":
        for name in answers:
            answers[name] = rename(answers[name], names_for(TASKS[name], rng) | _second_names(answers[name], rng))
    elif how == "restyled":
        answers = {name: restyle(code, rng, indent=rng.choice(["  ", "   ", "\t"])) for name, code in answers.items()}
    elif how == "reordered":
        while order == original.order and len(order) > 1:
            rng.shuffle(order)
    elif how == "edited":
        for name in rng.sample(sorted(answers), k=min(2, len(answers))):
            answers[name] = edit(answers[name], rng)
    else:
        raise ValueError(f"unknown kind of copy {how!r}; known: renamed, restyled, reordered, edited")
    return Student(answers, order, original.helper)


def _second_names(code: str, rng: random.Random) -> dict[str, str]:
    """Rename what the original student named (their names are not the canonical ones)."""
    used = {tok.string for tok in tokenize.generate_tokens(io.StringIO(code).readline)
            if tok.type == tokenize.NAME and tok.string.rstrip("s_12") in NAMES}
    return {name: f"{name}_{rng.choice(['x', 'my', 'v2', 'tmp'])}" for name in used}


# -- notebooks and the course directory ----------------------------------------------------

_IDS = itertools.count()


def _cell(kind: str, source: str, **nbgrader: object) -> dict:
    cell: dict = {"cell_type": kind, "id": f"c{next(_IDS)}", "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if nbgrader:
        cell["metadata"]["nbgrader"] = {"schema_version": 3, "solution": False, "grade": False,
                                        "locked": False, **nbgrader}
    return cell


def _notebook(cells: list[dict]) -> dict:
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def source_notebook(tasks: list[str]) -> dict:
    """The instructor's version: style 0 inside ``### BEGIN/END SOLUTION`` markers."""
    cells = [_cell("markdown", "# A lab"), _cell("code", SETUP, grade_id="setup", locked=True)]
    for name in tasks:
        task = TASKS[name]
        cells.append(_cell("markdown", f"## {name}", grade_id=f"{name}_md", locked=True))
        body = code_of(task, [0] * len(task.steps))
        if task.signature is None:
            solution = "### BEGIN SOLUTION\n" + body.removesuffix(f"\n{task.tail}") + "\n### END SOLUTION" + (
                f"\n{task.tail}" if task.tail else "")
        else:
            inner = body.split("\n", 1)[1]
            solution = task.signature + "\n    ### BEGIN SOLUTION\n" + inner + "\n    ### END SOLUTION"
        cells.append(_cell("code", solution, grade_id=name, solution=True))
        cells.append(_cell("code", task.test, grade_id=f"test_{name}", grade=True, locked=True, points=1))
    return _notebook(cells)


def student_notebook(released: dict, student: Student) -> dict:
    """The released notebook with the student's answers in the solution cells, the task
    blocks (heading, answer, test) in the student's order."""
    head, blocks, current = [], {}, None
    for cell in released["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        task = next((t for t in student.order if grade_id in (f"{t}_md", t, f"test_{t}")), None)
        if task is None and current is None:
            head.append(cell)
            continue
        current = task or current
        cell = json.loads(json.dumps(cell))
        if grade_id == task and task in student.answers:
            cell["source"] = student.answers[task]
        blocks.setdefault(current, []).append(cell)
    cells = list(head)
    if student.helper:
        cells.append(_cell("code", student.helper))
    for task in student.order:
        cells.extend(blocks.get(task, []))
    return _notebook(cells)


NBGRADER_CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "integrity-test"\n'


def make_lab(root: Path, lab: str, notebooks: dict[str, list[str]]) -> Path:
    """An nbgrader course directory with ``source/<lab>/<notebook>.ipynb`` for each
    notebook name → its tasks."""
    (root / "source" / lab).mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    for name, tasks in notebooks.items():
        (root / "source" / lab / f"{name}.ipynb").write_text(json.dumps(source_notebook(tasks), indent=1))
    return root


def released_version(root: Path, lab: str, notebook: str) -> dict:
    """What students get (nbgrader's ClearSolutions on the source)."""
    import nbformat
    from nbgrader.preprocessors import ClearSolutions

    nb = nbformat.read(root / "source" / lab / f"{notebook}.ipynb", as_version=4)
    nb, _ = ClearSolutions().preprocess(nb, {})
    return json.loads(nbformat.writes(nb))


def submit(root: Path, lab: str, notebook: str, student_id: str, student: Student,
           released: dict | None = None) -> Path:
    released = released or released_version(root, lab, notebook)
    folder = root / "submitted" / student_id / lab
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.ipynb"
    path.write_text(json.dumps(student_notebook(released, student), indent=1))
    return path


# -- a whole class, with planted copies ----------------------------------------------------

COPIES = ("renamed", "restyled", "reordered", "edited")


@dataclass
class Planted:
    """Who copied whom: per notebook, the pairs of students that are copies of one another
    (a copier and its source, and two copiers of the same source)."""

    pairs: dict[str, set[tuple[str, str]]]
    copies: int

    def is_copy(self, notebook: str, a: str, b: str) -> bool:
        return (min(a, b), max(a, b)) in self.pairs.get(notebook, set())


def make_class(root: Path, lab: str, *, students: int, notebooks: int, copiers: float = 0.1,
               seed: int = 0, tasks_per_notebook: int = 4) -> Planted:
    """A course directory with ``students`` submissions of a lab of ``notebooks`` notebooks
    (each a different choice of ``tasks_per_notebook`` tasks).  A share ``copiers`` of the
    students copy 1-4 notebooks each from another student, with one or two of the
    :data:`COPIES` mutations; every other notebook is the student's own work
    (:func:`random_student`)."""
    rng = random.Random(seed)
    names = sorted(TASKS)
    layout = {f"nb{i + 1:02d}": rng.sample(names, tasks_per_notebook) for i in range(notebooks)}
    make_lab(root, lab, layout)
    released = {nb: released_version(root, lab, nb) for nb in layout}
    ids = [f"u{i:03d}" for i in range(students)]
    work = {(sid, nb): random_student(rng, tasks) for sid in ids for nb, tasks in layout.items()}
    edges: dict[str, list[tuple[str, str]]] = {nb: [] for nb in layout}
    copies = 0
    for copier in rng.sample(ids, round(copiers * students)):
        source = rng.choice([s for s in ids if s != copier])
        for nb in rng.sample(sorted(layout), rng.randint(1, min(4, notebooks))):
            student = work[(source, nb)]
            for how in rng.sample(COPIES, rng.randint(1, 2)):
                student = copy_of(student, how, rng)
            work[(copier, nb)] = student
            edges[nb].append((copier, source))
            copies += 1
    for (sid, nb), student in work.items():
        submit(root, lab, nb, sid, student, released[nb])
    return Planted({nb: _closure(e) for nb, e in edges.items()}, copies)


def _closure(edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Every pair within a connected group of copy edges (a copier's copier included)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    return {(min(a, b), max(a, b)) for g in groups.values() for a in g for b in g if a < b}


def precision_recall(rows: list[dict], planted: Planted) -> tuple[float, float, int, int]:
    """(precision, recall, flagged, true positives) of the report's flagged rows."""
    flagged = [r for r in rows if r["flagged"]]
    hits = sum(1 for r in flagged if planted.is_copy(r["notebook"], r["a"], r["b"]))
    truth = sum(len(p) for p in planted.pairs.values())
    return (hits / len(flagged) if flagged else 1.0, hits / truth if truth else 1.0, len(flagged), hits)
