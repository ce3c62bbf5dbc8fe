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

import numpy as np

from .tokens import Tokens, normalise

K = 12
"""Tokens per k-gram: about one short statement (``V = V . mean ( axis = N ) ;`` is 10)."""
W = 6
"""Winnowing window: a shared run of ``W + K - 1`` = 17 tokens is always caught."""

_BASE = np.uint64(0x100000001B3)
_EMPTY = np.zeros(0, dtype=np.uint64)


_SYMBOL_IDS: dict[str, int] = {}


def _symbol_id(symbol: str) -> int:
    value = _SYMBOL_IDS.get(symbol)
    if value is None:
        value = int.from_bytes(hashlib.blake2b(symbol.encode(), digest_size=8).digest(), "little")
        if len(_SYMBOL_IDS) < 1 << 20:
            _SYMBOL_IDS[symbol] = value
    return value


def _ids(symbols: list[str]) -> np.ndarray:
    get = _SYMBOL_IDS.get
    return np.fromiter((get(s) or _symbol_id(s) for s in symbols), dtype=np.uint64, count=len(symbols))


def _kgrams_of(ids: np.ndarray, k: int) -> np.ndarray:
    n = len(ids) - k + 1
    if n <= 0:
        return _EMPTY
    with np.errstate(over="ignore"):
        h = ids[:n].copy()
        for j in range(1, k):  # polynomial hash, wrapping modulo 2**64
            h *= _BASE
            h += ids[j:j + n]
        return _mix(h)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the bits so that the window minimum is a fair pick."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def kgram_hashes(symbols: list[str], k: int = K) -> np.ndarray:
    """The hash of every k-gram of ``symbols`` (``len - k + 1`` of them; none if shorter)."""
    return _kgrams_of(_ids(symbols), k) if len(symbols) >= k else _EMPTY


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
    """One answer cell: its source and k-gram hashes (the tokens are found again when a
    match is to be shown: a class's worth of them would be costly to keep and to pass
    between processes)."""

    label: str
    source: str
    kgrams: np.ndarray
    """Hash of the k-gram starting at each token position."""

    def spans(self, wanted: np.ndarray, k: int = K) -> list[tuple[int, int]]:
        """Character ranges of the source covered by the k-grams whose hash is in ``wanted``
        (a sorted array), merged."""
        if not len(self.kgrams) or not len(wanted):
            return []
        hits = np.flatnonzero(np.isin(self.kgrams, wanted))
        if not len(hits):
            return []
        starts, ends = normalise(self.source).offsets(self.source)
        out: list[tuple[int, int]] = []
        for i in hits:
            start, end = starts[i], max(ends[i:i + k])
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


def fingerprint_cells(key: str, owner: str, sources: list[tuple[str, str]] | list[tuple[str, str, Tokens]], *,
                      k: int = K, w: int = W, label: str = "") -> Document:
    """A :class:`Document` from ``(cell label, cell source[, its tokens])`` tuples.

    Each cell is hashed and winnowed on its own (no k-gram or window spans two cells), in
    one pass over all of them."""
    items = [(item[0], item[1], item[2] if len(item) > 2 else normalise(item[1])) for item in sources]  # type: ignore[misc]
    doc = Document(key, owner, [], label=label)
    symbols = [sym for _, _, tokens in items for sym in tokens.symbols]
    hashes = _kgrams_of(_ids(symbols), k) if symbols else _EMPTY
    pieces, owners, at = [], [], 0
    for index, (cell_label, source, tokens) in enumerate(items):
        n = max(0, len(tokens) - k + 1)
        cell_hashes = hashes[at:at + n] if n else _EMPTY
        doc.cells.append(Cell(cell_label, source, cell_hashes))
        if n:
            pieces.append(cell_hashes)
            owners.append(np.full(n, index, dtype=np.int32))
        at += len(tokens)
    if not pieces:
        return doc
    every = np.concatenate(pieces)
    cell_of = np.concatenate(owners)
    chosen = []
    if len(every) >= w:  # every window inside one cell
        windows = np.lib.stride_tricks.sliding_window_view(every, w)
        start = np.arange(len(windows))
        inside = cell_of[start] == cell_of[start + w - 1]
        rightmost = w - 1 - np.argmin(windows[inside, ::-1], axis=1)
        chosen.append(every[start[inside] + rightmost])
    for piece in pieces:  # a cell shorter than one window keeps its minimum
        if len(piece) < w:
            chosen.append(piece[winnow(piece, w)])
    doc.fingerprints = np.unique(np.concatenate(chosen))
    doc.kgrams = np.unique(every)
    return doc


def all_kgrams(sources: list[str], k: int = K) -> np.ndarray:
    """Every k-gram hash of some code (the released skeleton, say), sorted and distinct."""
    parts = [kgram_hashes(normalise(s).symbols, k) for s in sources]
    parts = [p for p in parts if len(p)]
    return np.unique(np.concatenate(parts)) if parts else _EMPTY
