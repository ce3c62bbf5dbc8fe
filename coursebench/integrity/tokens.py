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
_SKIP = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER, tokenize.TYPE_COMMENT,
                   getattr(tokenize, "FSTRING_MIDDLE", -2), getattr(tokenize, "FSTRING_END", -3)})
_STRUCTURE = {tokenize.NEWLINE: ";", tokenize.INDENT: "{", tokenize.DEDENT: "}"}


@dataclass(frozen=True)
class Tokens:
    """The normalised symbols of one piece of code and where each came from."""

    symbols: list[str]
    starts: list[tuple[int, int]]
    """(row, column) where each symbol's token starts, as :mod:`tokenize` says (rows from 1)."""
    ends: list[tuple[int, int]]
    """... and where it ends."""

    def __len__(self) -> int:
        return len(self.symbols)

    def offsets(self, source: str) -> tuple[list[int], list[int]]:
        """The character offsets in ``source`` of every symbol's start and end."""
        line_starts = [0]
        for line in source.splitlines(keepends=True):
            line_starts.append(line_starts[-1] + len(line))
        last = len(line_starts) - 1

        def at(pos: tuple[int, int]) -> int:
            return min(line_starts[min(pos[0] - 1, last)] + pos[1], len(source))

        return [at(p) for p in self.starts], [at(p) for p in self.ends]


def _strip_magics(source: str) -> str:
    """Blank out IPython-only lines, keeping every offset where it was."""
    if "%" not in source and "!" not in source and "?" not in source:
        return source
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


_NAME, _STRING, _NUMBER, _NEWLINE, _ERROR = (tokenize.NAME, tokenize.STRING, tokenize.NUMBER, tokenize.NEWLINE,
                                             tokenize.ERRORTOKEN)
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_STATEMENT_START = frozenset({"", ";", "{", "}"})


def normalise(source: str) -> Tokens:
    """The normalised token stream of ``source`` (one notebook cell)."""
    symbols: list[str] = []
    starts: list[tuple[int, int]] = []
    ends: list[tuple[int, int]] = []
    add_symbol, add_start, add_end = symbols.append, starts.append, ends.append
    previous = ""          # the previous kept token's text (for '.', 'def', 'class', 'as')
    in_import = False      # inside an import statement
    def_header = False     # between 'def' and its ':' (parameters are the student's names)
    depth = 0              # bracket depth
    imported: set[str] = set()  # names an import line of this cell brought in (`from math import sqrt`)
    pending = None         # a name whose kind depends on the next token (a keyword argument?)
    try:
        for kind, string, start, end, _line in tokenize.generate_tokens(io.StringIO(_strip_magics(source)).readline):
            if kind in _SKIP or (kind == _ERROR and not string.strip()):
                continue
            if pending is not None:
                # keyword argument of a call, f(x, axis=0), keeps 'axis'
                keep = (string == "=" and depth > 0 and not def_header and len(symbols) > 0
                        and symbols[-1] in ("(", ","))
                add_symbol(pending[0] if keep else "V")
                add_start(pending[1])
                add_end(pending[2])
                pending = None
            if kind == _NAME:
                if in_import and previous != "as":
                    imported.add(string)
                    add_symbol(string)
                elif string in _KEEP or previous == "." or string in imported:
                    if string in ("import", "from") and previous in _STATEMENT_START:
                        in_import = True
                    add_symbol(string)
                elif previous == "def":
                    add_symbol("F")
                    def_header = True
                elif previous == "class":
                    add_symbol("C")
                else:
                    pending = (string, start, end)
                    previous = string
                    continue
            elif kind in _STRUCTURE:
                string = _STRUCTURE[kind]
                add_symbol(string)
                if kind == _NEWLINE:
                    in_import = def_header = False
                    depth = 0
            elif kind == _STRING or kind == _FSTRING_START:
                add_symbol("S")
            elif kind == _NUMBER:
                add_symbol("N")
            else:
                if string in _OPEN:
                    depth += 1
                elif string in _CLOSE:
                    depth = max(0, depth - 1)
                elif string == ":" and def_header and depth == 0:
                    def_header = False
                add_symbol(string)
            add_start(start)
            add_end(end)
            previous = string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # keep what was read before the error
    if pending is not None:
        add_symbol("V")
        add_start(pending[1])
        add_end(pending[2])
    return Tokens(symbols, starts, ends)
