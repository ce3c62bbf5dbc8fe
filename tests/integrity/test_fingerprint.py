"""The fingerprinting itself: what the normalised token stream keeps and drops, the
winnowing guarantee, and that cell order does not matter."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from coursebench.integrity.fingerprint import K, W, all_kgrams, fingerprint_cells, kgram_hashes, winnow
from coursebench.integrity.similarity import CodeSettings, compare
from coursebench.integrity.tokens import normalise

ORIGINAL = '''
def mean_and_std(values):
    # the mean first
    n = len(values)
    mean = sum(values) / n
    var = sum((x - mean) ** 2 for x in values) / n
    return mean, var ** 0.5
'''
DISGUISED = '''
def mean_and_std(data):
  """Another docstring? No: a comment."""[:0]
  count = len(data)          # how many



  mu = sum(data) / count
  v = sum((item - mu) ** 2
          for item in data) / count
  return mu, v ** 0.5
'''


def test_names_comments_and_layout_do_not_matter() -> None:
    a = normalise(ORIGINAL).symbols
    b = normalise(DISGUISED.replace('  """Another docstring? No: a comment."""[:0]\n', "")).symbols
    assert a == b
    assert "mean" not in a and "values" not in a  # the student's names are placeholders ...
    assert "len" in a and "sum" in a and "return" in a  # ... builtins and keywords are not


def test_what_a_student_cannot_rename_is_kept() -> None:
    symbols = normalise('import numpy as np\nz = df.groupby("species").mean(numeric_only=True)\n').symbols
    assert symbols[:4] == ["import", "numpy", "as", "V"]
    assert "groupby" in symbols and "mean" in symbols and "numeric_only" in symbols
    assert symbols.count("S") == 1
    # a parameter's default is the student's name, not a keyword argument
    assert normalise("def f(x, scale=2):\n    return x * scale\n").symbols[:9] == \
        ["def", "F", "(", "V", ",", "V", "=", "N", ")"]
    # names imported by name stay what they are in the cell
    assert normalise("from math import sqrt\ny = sqrt(x)\n").symbols[-7:] == ["V", "=", "sqrt", "(", "V", ")", ";"]


def test_magics_and_broken_code_still_tokenize() -> None:
    tokens = normalise("%matplotlib inline\n!pip install foo\nx = compute(1)\n")
    assert tokens.symbols == ["V", "=", "V", "(", "N", ")", ";"]
    source = "%time y = 2\nx = compute(1)\n"
    starts, ends = normalise(source).offsets(source)
    assert source[starts[0]:ends[0]] == "x"  # offsets still point into the cell as written
    assert normalise("def f(:\n    x = (1,").symbols  # a syntax error keeps what came before it


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**63), min_size=1, max_size=200), st.integers(1, 8))
def test_winnowing_keeps_a_fingerprint_in_every_window(values: list[int], w: int) -> None:
    hashes = np.array(values, dtype=np.uint64)
    chosen = set(winnow(hashes, w).tolist())
    for start in range(max(1, len(hashes) - w + 1)):
        window = range(start, min(start + w, len(hashes)))
        assert chosen & set(window), f"window at {start} has no fingerprint"
        low = min(hashes[i] for i in window)
        rightmost = max(i for i in window if hashes[i] == low)
        assert rightmost in chosen


def test_a_long_enough_shared_run_is_always_caught() -> None:
    rng = random.Random(3)
    shared = "\n".join(f"v{i} = f{i}(x, {i}) + g(y)[{i}]" for i in range(3))  # far more than W + K - 1 tokens
    for _ in range(20):
        left = "\n".join(f"a{j} = {rng.random()} * b" for j in range(rng.randint(0, 5)))
        right = "\n".join(f"c = d.e{j}()" for j in range(rng.randint(0, 5)))
        one = fingerprint_cells("1", "one", [("c", f"{left}\n{shared}\n")])
        two = fingerprint_cells("2", "two", [("c", f"{right}\n{shared}\nprint(z)\n")])
        assert len(np.intersect1d(one.fingerprints, two.fingerprints)) > 0
    assert len(normalise(shared).symbols) >= W + K - 1


def test_the_order_of_the_cells_does_not_matter() -> None:
    cells = [("a", ORIGINAL), ("b", "total = 0\nfor v in values:\n    total += v * v\n"), ("c", "x = [i for i in y]")]
    one = fingerprint_cells("1", "s1", cells)
    two = fingerprint_cells("2", "s2", cells[::-1])
    assert np.array_equal(one.fingerprints, two.fingerprints)
    assert np.array_equal(one.kgrams, two.kgrams)


def test_stable_hashes() -> None:
    """The same code gives the same fingerprints in every process (no salted hash())."""
    assert int(kgram_hashes(normalise(ORIGINAL).symbols)[0]) == 1159964994656916704


def test_released_code_and_common_code_are_left_out() -> None:
    skeleton = "def mean_and_std(values):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    idiom = "import numpy as np\nresult = np.asarray(values, dtype=float).mean(axis=0)\n"
    docs = [fingerprint_cells(f"s{i}", f"s{i}", [("x", skeleton), ("y", idiom)]) for i in range(10)]
    result = compare(docs, all_kgrams([skeleton]), CodeSettings())
    assert result.pairs == [] and len(result.scores) == 0  # nothing distinctive: nobody is similar
    assert result.common > 0
