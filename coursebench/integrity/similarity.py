"""Which documents share answer code: an inverted index over winnowing fingerprints.

For one group of comparable documents (the same notebook of every student; a
competition's notebook submissions):

1. the **skeleton** is ignored: every k-gram of the released code (the notebook students
   started from), wherever it appears;
2. **common code** is ignored: k-grams found in the documents of more than
   ``max(common_min, common_fraction × owners)`` different owners (an idiom everybody
   writes, a snippet from the lecture);
3. what is left of each document is its *distinctive* fingerprints.  Two documents'
   **score** is the share of the smaller one's distinctive fingerprints that the other has
   too (1.0: everything the smaller one wrote is in the other); pairs that share nothing
   are never built, so the work grows with what is shared, not with the square of the class.

A pair is *flagged* (worth a look — never a verdict) when its score is at least
``threshold`` and it shares at least ``min_shared`` fingerprints.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .fingerprint import Cell, Document, K, W

_EMPTY = np.zeros(0, dtype=np.uint64)


@dataclass(frozen=True)
class CodeSettings:
    k: int = K
    w: int = W
    threshold: float = 0.5
    """Flag a pair from this score on."""
    min_shared: int = 8
    """... if it also shares at least this many fingerprints (tiny answers prove nothing)."""
    common_fraction: float = 0.25
    common_min: int = 4


@dataclass
class CodePair:
    group: str
    a: Document
    b: Document
    shared: int
    """Distinctive fingerprints the two have in common."""
    size_a: int
    size_b: int
    score: float
    jaccard: float
    flagged: bool


@dataclass
class GroupResult:
    group: str
    documents: list[Document]
    pairs: list[CodePair]
    """Pairs of different owners that share at least one distinctive fingerprint, best first."""
    owner_pairs: int
    """How many pairs of owners there are in all (the others share nothing)."""
    ignored: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    """Skeleton and common k-gram hashes, sorted."""
    common: int = 0
    """How many distinct k-grams were ignored as common code."""
    distinctive: dict[str, int] = field(default_factory=dict)
    """Document key → its number of distinctive fingerprints."""


def _minus(values: np.ndarray, remove: np.ndarray) -> np.ndarray:
    if not len(values) or not len(remove):
        return values
    return values[~np.isin(values, remove, assume_unique=True)]


def common_kgrams(documents: list[Document], settings: CodeSettings) -> np.ndarray:
    """k-grams that more than ``max(common_min, common_fraction × owners)`` owners have."""
    per_owner: dict[str, list[np.ndarray]] = defaultdict(list)
    for doc in documents:
        if len(doc.kgrams):
            per_owner[doc.owner].append(doc.kgrams)
    if not per_owner:
        return _EMPTY
    limit = max(settings.common_min, settings.common_fraction * len(per_owner))
    merged = [np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0] for parts in per_owner.values()]
    values, counts = np.unique(np.concatenate(merged), return_counts=True)
    return values[counts > limit]


def compare(documents: list[Document], skeleton: np.ndarray, settings: CodeSettings | None = None,
            group: str = "") -> GroupResult:
    """Rank the pairs of ``documents`` (of different owners) by shared distinctive code."""
    settings = settings or CodeSettings()
    common = common_kgrams(documents, settings)
    ignored = np.union1d(skeleton, common) if len(common) else np.asarray(skeleton, dtype=np.uint64)
    owners = sorted({d.owner for d in documents})
    owner_pairs = len(owners) * (len(owners) - 1) // 2
    distinct = [_minus(d.fingerprints, ignored) for d in documents]
    sizes = np.array([len(f) for f in distinct], dtype=np.int64)
    result = GroupResult(group, documents, [], owner_pairs, ignored, len(common),
                         {d.key: int(s) for d, s in zip(documents, sizes, strict=True)})
    if not documents or not sizes.sum():
        return result
    hashes = np.concatenate(distinct)
    doc_of = np.repeat(np.arange(len(documents)), sizes)
    order = np.argsort(hashes, kind="stable")
    hashes, doc_of = hashes[order], doc_of[order]
    bounds = np.flatnonzero(np.diff(hashes)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(hashes)]])
    counts: dict[tuple[int, int], int] = defaultdict(int)
    owner_of = [d.owner for d in documents]
    for s, e in zip(starts[ends - starts > 1], ends[ends - starts > 1], strict=True):
        members = doc_of[s:e]
        for x in range(len(members)):
            i = int(members[x])
            for y in range(x + 1, len(members)):
                j = int(members[y])
                if owner_of[i] != owner_of[j]:
                    counts[(i, j) if i < j else (j, i)] += 1
    best: dict[tuple[str, str], CodePair] = {}
    for (i, j), shared in counts.items():
        small = int(min(sizes[i], sizes[j]))
        score = shared / small if small else 0.0
        jaccard = shared / float(sizes[i] + sizes[j] - shared)
        a, b = documents[i], documents[j]
        if (a.owner, a.key) > (b.owner, b.key):
            a, b, i, j = b, a, j, i
        pair = CodePair(group, a, b, shared, int(sizes[i]), int(sizes[j]), score, jaccard,
                        flagged=score >= settings.threshold and shared >= settings.min_shared)
        key = (a.owner, b.owner)
        if key not in best or (pair.score, pair.shared) > (best[key].score, best[key].shared):
            best[key] = pair
    result.pairs = sorted(best.values(), key=lambda p: (-p.score, -p.shared, p.a.owner, p.b.owner))
    return result


@dataclass
class MatchedCells:
    """One row of side-by-side evidence: a cell of each document and the character ranges
    of each that the other one shares (either side may be missing)."""

    a: Cell | None
    a_spans: list[tuple[int, int]]
    b: Cell | None
    b_spans: list[tuple[int, int]]


def evidence(pair: CodePair, result: GroupResult, k: int = K) -> list[MatchedCells]:
    """The cells of both documents that share distinctive code, each of A's next to the
    cell of B it shares most with (cells may be in any order in either notebook)."""
    shared = _minus(np.intersect1d(pair.a.kgrams, pair.b.kgrams, assume_unique=True), result.ignored)
    if not len(shared):
        return []
    a_cells = [c for c in pair.a.cells if len(c.kgrams) and np.isin(c.kgrams, shared).any()]
    b_cells = [c for c in pair.b.cells if len(c.kgrams) and np.isin(c.kgrams, shared).any()]
    used: set[int] = set()
    rows: list[MatchedCells] = []
    for ca in a_cells:
        mine = np.intersect1d(np.unique(ca.kgrams), shared, assume_unique=True)
        best, best_n = None, 0
        for index, cb in enumerate(b_cells):
            n = len(np.intersect1d(mine, np.unique(cb.kgrams), assume_unique=True))
            if n > best_n:
                best, best_n = index, n
        if best is None:
            rows.append(MatchedCells(ca, ca.spans(shared, k), None, []))
            continue
        cb = b_cells[best]
        common = np.intersect1d(mine, np.unique(cb.kgrams), assume_unique=True)
        if best in used:  # a B cell shared with two A cells: show it once, at its best match
            rows.append(MatchedCells(ca, ca.spans(shared, k), None, []))
        else:
            used.add(best)
            rows.append(MatchedCells(ca, ca.spans(common, k), cb, cb.spans(common, k)))
    for index, cb in enumerate(b_cells):
        if index not in used:
            rows.append(MatchedCells(None, [], cb, cb.spans(shared, k)))
    return rows
