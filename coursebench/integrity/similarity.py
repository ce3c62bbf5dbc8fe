"""Which documents share answer code: an inverted index over winnowing fingerprints.

For one group of comparable documents (the same notebook of every student; a
competition's notebook submissions):

1. the **skeleton** is ignored: every k-gram of the released code (the notebook students
   started from), wherever it appears;
2. **common code** is ignored: k-grams found in the documents of more than
   ``max(common_min, common_fraction × owners)`` different owners (what everybody writes);
3. what is left of each document is its *distinctive* fingerprints, each weighted by how
   rare it is in the class, ``log((owners + 1) / owners that have it)`` (as tf-idf does):
   code only two students have weighs most, an idiom a third of the class writes little.
   Two documents' **score** is the weight of what they share over the weight of the
   smaller one (1.0: everything the smaller one wrote is in the other).  Pairs that share
   nothing are never built, so the work grows with what is shared, not with the square of
   the class.

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
    threshold: float = 0.75
    """Flag a pair from this score on."""
    min_shared: int = 8
    """... if it also shares at least this many fingerprints (tiny answers prove nothing)."""
    common_fraction: float = 0.5
    """Code that more than this share of the class has is left out (everybody writes it) ..."""
    common_min: int = 4
    """... when that is more than this many students."""
    floor: float = 0.2
    """Pairs are listed from this score on (the figure shows them all)."""


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
    """Pairs of different owners scoring at least ``floor`` (or flagged), best first."""
    owner_pairs: int
    """How many pairs of owners there are in all (the others share nothing)."""
    ignored: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    """Skeleton and common k-gram hashes, sorted."""
    common: int = 0
    """How many distinct k-grams were ignored as common code."""
    distinctive: dict[str, int] = field(default_factory=dict)
    """Document key → its number of distinctive fingerprints."""
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    """The score of every pair of owners that shares something (listed or not) ..."""
    flagged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)
    """... and whether it is flagged."""


def _minus(values: np.ndarray, remove: np.ndarray) -> np.ndarray:
    if not len(values) or not len(remove):
        return values
    return values[~np.isin(values, remove, assume_unique=True)]


def owner_counts(documents: list[Document]) -> tuple[np.ndarray, np.ndarray, int]:
    """Every k-gram of the documents (sorted), how many owners have it, and how many owners
    there are."""
    per_owner: dict[str, list[np.ndarray]] = defaultdict(list)
    for doc in documents:
        if len(doc.kgrams):
            per_owner[doc.owner].append(doc.kgrams)
    if not per_owner:
        return _EMPTY, np.zeros(0, dtype=np.int64), 0
    merged = [np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0] for parts in per_owner.values()]
    values, counts = np.unique(np.concatenate(merged), return_counts=True)
    return values, counts, len(per_owner)


def _pair_sums(doc_of: np.ndarray, weight: np.ndarray, bounds: tuple[np.ndarray, np.ndarray],
               n_docs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every pair of documents (i < j) that has a hash in common: i, j, how many
    hashes and their total weight.  ``doc_of``/``weight`` are sorted by hash; ``bounds``
    are the start and end of each hash's run."""
    starts, ends = bounds
    sizes = ends - starts
    codes, weights = [], []
    for g in np.unique(sizes[sizes > 1]):  # all runs of g documents at once
        first = starts[sizes == g]
        members = doc_of[first[:, None] + np.arange(g)]          # (runs, g)
        x, y = np.triu_indices(int(g), 1)
        i, j = members[:, x], members[:, y]
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        codes.append((lo * n_docs + hi).ravel())
        weights.append(np.repeat(weight[first], len(x)))
    if not codes:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    code = np.concatenate(codes)
    w = np.concatenate(weights)
    keys, inverse = np.unique(code, return_inverse=True)
    shared = np.bincount(inverse)
    total = np.bincount(inverse, weights=w)
    return keys, shared, total


def compare(documents: list[Document], skeleton: np.ndarray, settings: CodeSettings | None = None,
            group: str = "") -> GroupResult:
    """Rank the pairs of ``documents`` (of different owners) by shared distinctive code."""
    settings = settings or CodeSettings()
    values, counts, n_owners = owner_counts(documents)
    limit = max(settings.common_min, settings.common_fraction * n_owners)
    common = values[counts > limit]
    ignored = np.union1d(skeleton, common) if len(common) else np.asarray(skeleton, dtype=np.uint64)
    owner_pairs = n_owners * (n_owners - 1) // 2
    distinct = [_minus(d.fingerprints, ignored) for d in documents]
    sizes = np.array([len(f) for f in distinct], dtype=np.int64)
    result = GroupResult(group, documents, [], owner_pairs, ignored, len(common),
                         {d.key: int(s) for d, s in zip(documents, sizes, strict=True)})
    if not documents or not sizes.sum():
        return result
    hashes = np.concatenate(distinct)
    doc_of = np.repeat(np.arange(len(documents)), sizes)
    # rarer code weighs more: log((owners + 1) / owners that have it), as in tf-idf
    df = counts[np.searchsorted(values, hashes)]
    weight = np.log((n_owners + 1) / df)
    mass = np.bincount(doc_of, weights=weight, minlength=len(documents))
    order = np.argsort(hashes, kind="stable")
    hashes, doc_of, weight = hashes[order], doc_of[order], weight[order]
    cut = np.flatnonzero(np.diff(hashes)) + 1
    bounds = (np.concatenate([[0], cut]), np.concatenate([cut, [len(hashes)]]))
    keys, shared, total = _pair_sums(doc_of, weight, bounds, len(documents))
    i_of, j_of = keys // len(documents), keys % len(documents)
    owner_index = {o: n for n, o in enumerate(sorted({d.owner for d in documents}))}
    owner = np.array([owner_index[d.owner] for d in documents])
    keep = owner[i_of] != owner[j_of]
    i_of, j_of, shared, total = i_of[keep], j_of[keep], shared[keep], total[keep]
    smaller = np.minimum(mass[i_of], mass[j_of])
    score = np.where(smaller > 0, total / np.where(smaller > 0, smaller, 1), 0.0)
    score = np.minimum(score, 1.0)
    # one score per pair of owners: their most similar documents
    pair_owner = np.minimum(owner[i_of], owner[j_of]) * len(owner_index) + np.maximum(owner[i_of], owner[j_of])
    best = np.lexsort((-shared, -score, pair_owner))
    first = np.concatenate([[True], np.diff(pair_owner[best]) != 0]) if len(best) else np.zeros(0, bool)
    chosen = best[first]
    result.scores = score[chosen]
    result.flagged = (score[chosen] >= settings.threshold) & (shared[chosen] >= settings.min_shared)
    listed = chosen[(score[chosen] >= settings.floor) | result.flagged]
    pairs = []
    for n in listed:
        i, j = int(i_of[n]), int(j_of[n])
        a, b = documents[i], documents[j]
        if (a.owner, a.key) > (b.owner, b.key):
            a, b, i, j = b, a, j, i
        common_n = int(shared[n])
        pairs.append(CodePair(group, a, b, common_n, int(sizes[i]), int(sizes[j]), float(score[n]),
                              common_n / float(sizes[i] + sizes[j] - common_n),
                              flagged=bool(score[n] >= settings.threshold and common_n >= settings.min_shared)))
    # (the same rule as result.flagged, on the same numbers)
    result.pairs = sorted(pairs, key=lambda p: (-p.score, -p.shared, p.a.owner, p.b.owner))
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
