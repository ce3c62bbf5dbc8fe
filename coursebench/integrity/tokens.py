"""A cell's code as a normalised token stream: what stays the same when a student renames
variables, rewrites comments, or reflows whitespace.

Python's own :mod:`tokenize` splits the code.  Then:

- comments, blank lines and the layout inside brackets are dropped; the statement
  structure stays (``NEWLINE``, ``INDENT`` and ``DEDENT`` become ``;``, ``{`` and ``}``);
- a name the student chose becomes a placeholder for its kind: ``F`` after ``def``,
  ``C`` after ``class``, ``V`` for every other variable, parameter or call of their own;
- names the student cannot rename keep their text: keywords, builtins (``len``, ``sum``),
  attributes (``.groupby``, ``.mean``), keyword arguments of a call (``axis=``), and
  module names in an ``import`` line and the names it imports (``import numpy as V``,
  ``from math import sqrt``);
- literals become ``S`` (strings, f-strings) and ``N`` (numbers);
- IPython lines (``%magic``, ``!shell``) are skipped; code that does not tokenize to the
  end (a syntax error) keeps the tokens read before the error.

Each token keeps its character span in the cell, so a match can be shown where it is.
"""

from __future__ import annotations

import builtins
import io
import keyword
import tokenize
from dataclasses import dataclass

_KEEP = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(
    name for name in dir(builtins) if not name.startswith("_"))
_SKIP = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER, tokenize.TYPE_COMMENT})
_STRUCTURE = {tokenize.NEWLINE: ";", tokenize.INDENT: "{", tokenize.DEDENT: "}"}


@dataclass(frozen=True)
class Tokens:
    """The normalised symbols of one piece of code and where each came from."""

    symbols: list[str]
    starts: list[int]
    """Character offset in the source where each symbol's token starts."""
    ends: list[int]
    """... and where it ends (exclusive)."""

    def __len__(self) -> int:
        return len(self.symbols)


def _strip_magics(source: str) -> str:
    """Blank out IPython-only lines, keeping every offset where it was."""
    lines = source.splitlines(keepends=True)
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped[:1] in ("%", "!") or stripped.startswith("?"):
            body = line.rstrip("\r\n")
            out.append(" " * len(body) + line[len(body):])
        else:
            out.append(line)
    return "".join(out)


def normalise(source: str) -> Tokens:
    """The normalised token stream of ``source`` (one notebook cell)."""
    text = _strip_magics(source)
    line_starts = [0]
    for line in text.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))

    def offset(pos: tuple[int, int]) -> int:
        row, col = pos
        return line_starts[min(row - 1, len(line_starts) - 1)] + col

    symbols: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    previous = ""          # the previous kept token's text (for '.', 'def', 'class')
    in_import = False      # inside an import statement
    def_header = False     # between 'def' and its ':' (parameters are the student's names)
    depth = 0              # bracket depth
    raw = tokenize.generate_tokens(io.StringIO(text).readline)
    pending_name: tuple[str, int, int] | None = None  # a name whose kind depends on the next token
    imported: set[str] = set()  # names an import line of this cell brought in (`from math import sqrt`)

    def emit(symbol: str, start: int, end: int) -> None:
        symbols.append(symbol)
        starts.append(start)
        ends.append(end)

    def flush(next_text: str) -> None:
        nonlocal pending_name
        if pending_name is None:
            return
        name, start, end = pending_name
        pending_name = None
        # keyword argument of a call: f(x, axis=0) keeps 'axis'
        is_kwarg = depth > 0 and next_text == "=" and not def_header and symbols and symbols[-1] in ("(", ",")
        emit(name if is_kwarg else "V", start, end)

    try:
        for tok in raw:
            kind, string = tok.type, tok.string
            if kind in _SKIP or (kind == tokenize.ERRORTOKEN and not string.strip()):
                continue
            flush(string)
            start, end = offset(tok.start), offset(tok.end)
            if kind in _STRUCTURE:
                emit(_STRUCTURE[kind], start, end)
                if kind == tokenize.NEWLINE:
                    in_import = def_header = False
                    depth = 0
                previous = _STRUCTURE[kind]
                continue
            if kind == tokenize.NAME:
                if string in ("import", "from") and previous in ("", ";", "{", "}"):
                    in_import = True
                if in_import and previous != "as":
                    imported.add(string)
                    emit(string, start, end)
                elif string in _KEEP or string in imported or previous == ".":
                    emit(string, start, end)
                elif previous == "def":
                    emit("F", start, end)
                    def_header = True
                elif previous == "class":
                    emit("C", start, end)
                else:
                    pending_name = (string, start, end)
                previous = string
                continue
            if kind == tokenize.STRING or kind == getattr(tokenize, "FSTRING_START", -1):
                emit("S", start, end)
            elif kind == tokenize.NUMBER:
                emit("N", start, end)
            else:
                if string in "([{":
                    depth += 1
                elif string in ")]}":
                    depth = max(0, depth - 1)
                elif string == ":" and def_header and depth == 0:
                    def_header = False
                emit(string, start, end)
            previous = string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # keep what was read before the error
    flush("")
    return Tokens(symbols, starts, ends)
