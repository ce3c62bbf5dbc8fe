"""Winnowing fingerprints (Schleimer, Wilkerson and Aiken, SIGMOD 2003 — what MOSS uses)
over the normalised token stream of :mod:`coursebench.integrity.tokens`.

Every run of ``k`` consecutive tokens (a *k-gram*) is hashed; in every window of ``w``
consecutive k-gram hashes the smallest one is kept (the rightmost on a tie), so any
shared run of at least ``w + k - 1`` tokens is certain to share a fingerprint, while only
about ``2 / (w + 1)`` of the k-grams are stored.  Hashes are stable 64-bit values (the same
code gives the same fingerprints in every run and on every machine).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .tokens import Tokens, normalise

K = 12
"""Tokens per k-gram: about one short statement (``V = V . mean ( axis = N ) ;`` is 10)."""
W = 6
"""Winnowing window: a shared run of ``W + K - 1`` = 17 tokens is always caught."""

_BASE = np.uint64(0x100000001B3)
_EMPTY = np.zeros(0, dtype=np.uint64)


@lru_cache(maxsize=65536)
def _symbol_hash(symbol: str) -> int:
    return int.from_bytes(hashlib.blake2b(symbol.encode(), digest_size=8).digest(), "little")


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the bits so that the window minimum is a fair pick."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def kgram_hashes(symbols: list[str], k: int = K) -> np.ndarray:
    """The hash of every k-gram of ``symbols`` (``len - k + 1`` of them; none if shorter)."""
    n = len(symbols) - k + 1
    if n <= 0:
        return _EMPTY
    ids = np.fromiter((_symbol_hash(s) for s in symbols), dtype=np.uint64, count=len(symbols))
    with np.errstate(over="ignore"):
        h = np.zeros(n, dtype=np.uint64)
        for j in range(k):  # polynomial hash, wrapping modulo 2**64
            h = h * _BASE + ids[j:j + n]
        return _mix(h)


def winnow(hashes: np.ndarray, w: int = W) -> np.ndarray:
    """Positions of the fingerprints winnowing keeps: the rightmost minimum of every window
    of ``w`` hashes (a sequence shorter than one window keeps its minimum)."""
    n = len(hashes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n <= w:
        return np.array([n - 1 - int(np.argmin(hashes[::-1]))], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(hashes, w)
    rightmost = w - 1 - np.argmin(windows[:, ::-1], axis=1)
    return np.unique(np.arange(n - w + 1) + rightmost)


@dataclass
class Cell:
    """One answer cell: its source, tokens and k-gram hashes."""

    label: str
    source: str
    tokens: Tokens
    kgrams: np.ndarray
    """Hash of the k-gram starting at each token position."""

    def spans(self, wanted: np.ndarray, k: int = K) -> list[tuple[int, int]]:
        """Character ranges of the source covered by the k-grams whose hash is in ``wanted``
        (a sorted array), merged."""
        if not len(self.kgrams) or not len(wanted):
            return []
        hits = np.flatnonzero(np.isin(self.kgrams, wanted, assume_unique=False))
        out: list[tuple[int, int]] = []
        for i in hits:
            start = self.tokens.starts[i]
            end = max(self.tokens.ends[i:i + k])
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        return out


@dataclass
class Document:
    """The answer code of one notebook: its cells fingerprinted one by one, so that the
    order of the cells does not matter (the fingerprints are the union over the cells)."""

    key: str
    """What the document is (a student's notebook, a submission)."""
    owner: str
    """Whose it is (student or team): documents of one owner are never compared."""
    cells: list[Cell]
    fingerprints: np.ndarray = field(default_factory=lambda: _EMPTY)
    """Sorted distinct winnowed hashes of all cells."""
    kgrams: np.ndarray = field(default_factory=lambda: _EMPTY)
    """Sorted distinct hashes of every k-gram of all cells."""
    label: str = ""

    @property
    def tokens(self) -> int:
        return sum(len(c.tokens) for c in self.cells)


def fingerprint_cells(key: str, owner: str, sources: list[tuple[str, str]], *, k: int = K, w: int = W,
                      label: str = "") -> Document:
    """A :class:`Document` from ``(cell label, cell source)`` pairs."""
    cells, chosen, every = [], [], []
    for cell_label, source in sources:
        tokens = normalise(source)
        hashes = kgram_hashes(tokens.symbols, k)
        cells.append(Cell(cell_label, source, tokens, hashes))
        if len(hashes):
            chosen.append(hashes[winnow(hashes, w)])
            every.append(hashes)
    doc = Document(key, owner, cells, label=label)
    if chosen:
        doc.fingerprints = np.unique(np.concatenate(chosen))
        doc.kgrams = np.unique(np.concatenate(every))
    return doc


def all_kgrams(sources: list[str], k: int = K) -> np.ndarray:
    """Every k-gram hash of some code (the released skeleton, say), sorted and distinct."""
    parts = [kgram_hashes(normalise(s).symbols, k) for s in sources]
    parts = [p for p in parts if len(p)]
    return np.unique(np.concatenate(parts)) if parts else _EMPTY
