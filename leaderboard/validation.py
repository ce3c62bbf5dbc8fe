"""Strict, fast validation of prediction files against the competition's format.

The fast path reads the file once with pyarrow's multithreaded CSV reader, with the
column types fixed up front, and checks everything with vectorised Arrow/numpy kernels:
ids by hash lookup (``pyarrow.compute.index_in``), duplicates and missing ids by
``bincount``, values by ``isfinite`` and range masks.  Only when something is wrong does
a slower pass run to name the exact row and column.

A UTF-8 byte-order mark, CRLF line ends, surrounding spaces in the header, quoted
fields, a trailing newline and a Latin-1/UTF-16 file whose ids are plain text are
tolerated; anything that could change the meaning of a row is an error.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .data import PublicData
from .errors import Problem, SubmissionInvalid
from .metrics import Kind

MAX_PROBLEMS = 12
EXAMPLES = 3
SUFFIXES = (".csv", ".csv.gz", ".gz", ".zip")
_NULLS = ["", "NA", "N/A", "NaN", "nan", "NAN", "null", "NULL", "None", "#N/A", "-nan", "-NaN"]


@dataclass(frozen=True)
class SubmissionFormat:
    """What a valid prediction file looks like."""

    id_column: str
    columns: tuple[str, ...]
    kind: Kind
    ids: pa.Array                 # expected ids (strings), in scoring order
    labels: tuple[str, ...] = ()
    k: int = 1
    min_prediction: float | None = None
    max_bytes: int = 50 * 1024**2
    task: str = "binary"
    int_lookup: tuple[int, np.ndarray] | None = field(default=None, compare=False, repr=False)
    """When every expected id is a plain integer: (smallest id, table id-offset → position),
    so ids are matched by array indexing instead of string hashing."""

    @classmethod
    def for_dataset(cls, ds: PublicData, ids: np.ndarray | None = None) -> SubmissionFormat:
        if ids is None:
            cached = ds.cache.get("format")
            if cached is None:
                cached = ds.cache["format"] = cls._make(ds, ds.ids)
            return cached
        return cls._make(ds, ids)

    @classmethod
    def _make(cls, ds: PublicData, ids: np.ndarray) -> SubmissionFormat:
        metric = ds.spec.metric_obj()
        expected = pa.array(ids, type=pa.string())
        return cls(
            id_column=ds.spec.id_column,
            columns=tuple(ds.columns),
            kind=metric.kind,
            ids=expected,
            labels=tuple(ds.labels),
            k=ds.spec.k,
            min_prediction=metric.min_prediction,
            max_bytes=ds.spec.max_bytes,
            task=ds.spec.task,
            int_lookup=_int_lookup(expected),
        )

    @property
    def header(self) -> str:
        return ",".join((self.id_column, *self.columns))

    @property
    def numeric(self) -> bool:
        return self.kind in ("proba", "value")


def _int_lookup(ids: pa.Array) -> tuple[int, np.ndarray] | None:
    """A direct-address table for canonical integer ids ('17', not '017' or '17.0')
    spanning a range at most 4× their number."""
    if len(ids) == 0:
        return None
    try:
        as_int = pc.cast(ids, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not pc.all(pc.equal(pc.cast(as_int, pa.string()), ids)).as_py():
        return None
    values = np.asarray(as_int)
    lo, hi = int(values.min()), int(values.max())
    if hi - lo + 1 > 4 * len(values) + 1024:
        return None
    table = np.full(hi - lo + 1, -1, dtype=np.int64)
    table[values - lo] = np.arange(len(values))
    return lo, table


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.more = 0

    def add(self, message: str, fix: str = "", row: int | None = None, column: str | None = None) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(message, fix, row, column))
        else:
            self.more += 1

    def rows(self, rows: np.ndarray, column: str | None, message, fix: str) -> None:
        """Report up to EXAMPLES offending rows (0-based indexes) of one kind."""
        for r in rows[:EXAMPLES]:
            self.add(message(int(r)), fix, int(r) + 1, column)
        if len(rows) > EXAMPLES:
            self.add(f"... and {len(rows) - EXAMPLES} more row(s) with the same problem", fix, None, column)

    def raise_if_any(self, filename: str | None) -> None:
        if self.items:
            raise SubmissionInvalid(self.items, filename=filename, more=self.more)


# -- reading ------------------------------------------------------------------------------

def read_bytes(source: str | Path | bytes, fmt: SubmissionFormat, filename: str | None = None) -> bytes:
    """The CSV bytes of an upload: size limit, then .gz / .zip unpacked (by content, not
    just by name), then the text made UTF-8 without a BOM."""
    name = filename or (Path(source).name if not isinstance(source, bytes) else "submission.csv")
    if isinstance(source, bytes):
        size, raw = len(source), source
    else:
        path = Path(source)
        if not path.is_file():
            raise SubmissionInvalid([Problem("no such file", "check the path you gave")], filename=name)
        size = path.stat().st_size
        raw = b"" if size > fmt.max_bytes else path.read_bytes()
    if size > fmt.max_bytes:
        raise SubmissionInvalid([Problem(
            f"the file is {size / 1024**2:.1f} MiB; the limit is {fmt.max_bytes / 1024**2:.0f} MiB",
            "compress it (.csv.gz or .zip) or drop extra columns and digits")], filename=name)
    lower = name.lower()
    if not lower.endswith(SUFFIXES) and raw[:2] not in (b"\x1f\x8b", b"PK"):
        raise SubmissionInvalid([Problem(f"{name!r} is not a .csv, .csv.gz or .zip file",
                                         "save your predictions with DataFrame.to_csv('submission.csv', index=False)")],
                                filename=name)
    unpacked_limit = max(20 * fmt.max_bytes, 512 * 1024**2)
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
                raw = gz.read(unpacked_limit + 1)
        except (OSError, EOFError) as exc:
            raise SubmissionInvalid([Problem(f"the .gz file is damaged: {exc}", "compress it again")],
                                    filename=name) from None
    elif raw[:4] == b"PK\x03\x04" or lower.endswith(".zip"):
        raw = _unzip(raw, name, unpacked_limit)
    if len(raw) > unpacked_limit:
        raise SubmissionInvalid([Problem("the unpacked file is too large", "submit fewer columns or digits")],
                                filename=name)
    return _to_utf8(raw)


def _unzip(raw: bytes, name: str, limit: int) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise SubmissionInvalid([Problem("the .zip file is damaged or not a zip", "zip it again")],
                                filename=name) from None
    members = [m for m in archive.infolist()
               if not m.is_dir() and not m.filename.startswith("__MACOSX/") and not m.filename.split("/")[-1].startswith(".")]
    csvs = [m for m in members if m.filename.lower().endswith(".csv")]
    if len(csvs) != 1 or len(members) != 1:
        listed = ", ".join(m.filename for m in members) or "nothing"
        raise SubmissionInvalid([Problem(f"a .zip must hold exactly one .csv file; this one holds {listed}",
                                         "zip only your submission.csv")], filename=name)
    if csvs[0].file_size > limit:
        raise SubmissionInvalid([Problem("the csv inside the zip is too large", "submit fewer digits")], filename=name)
    with archive.open(csvs[0]) as handle:
        return handle.read(limit + 1)


def _to_utf8(raw: bytes) -> bytes:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16").encode("utf-8")
    return raw


# -- the header ---------------------------------------------------------------------------

def _check_header(data: bytes, fmt: SubmissionFormat, problems: _Problems) -> list[str]:
    first = data.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        text = first.decode("latin-1")
    if not text.strip():
        problems.add("the file is empty or its first line is blank",
                     f"the first line must be the header: {fmt.header}")
        return []
    names = [n.strip() for n in next(csv.reader([text]))]
    expected = [fmt.id_column, *fmt.columns]
    if (";" in text and "," not in text) or ("\t" in text and "," not in text):
        problems.add("the columns are separated by ';' or tabs, not commas",
                     "save with commas: DataFrame.to_csv('submission.csv', index=False)")
        return names
    if names and names[0] in ("", "Unnamed: 0") and fmt.id_column in names[1:]:
        problems.add("the file has an unnamed first column (a pandas index)", "save with index=False",
                     column=names[0] or "(blank)")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.add("this column appears twice in the header", "keep one of them", column=name)
        seen.add(name)
    lower = {n.lower(): n for n in expected}
    ids_as_names = set(names) & set(fmt.ids.slice(0, 1000).to_pylist())
    if fmt.id_column not in names and ids_as_names:
        problems.add("the first line looks like data, not a header", f"add the header line: {fmt.header}",
                     row=None)
        return names
    for name in names:
        if name not in expected and name not in ("", "Unnamed: 0"):
            if name.lower() in lower:
                problems.add(f"column {name!r} has the wrong case", f"rename it to {lower[name.lower()]!r}",
                             column=name)
            else:
                problems.add("unexpected column", f"the columns are exactly: {fmt.header}", column=name)
    for name in expected:
        if name not in names and name.lower() not in {n.lower() for n in names}:
            problems.add("this column is missing", f"the header must be: {fmt.header}", column=name)
    return names


# -- the slow pass that names rows --------------------------------------------------------

def _locate_parse_error(data: bytes, ncols: int, problems: _Problems) -> None:
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader, None)
    bad = 0
    row = 0
    for fields in reader:
        if not fields:
            continue
        row += 1
        if len(fields) != ncols:
            bad += 1
            if bad <= EXAMPLES:
                problems.add(f"this row has {len(fields)} fields; the header has {ncols}",
                             "every row needs exactly one value per header column (check for extra commas "
                             "or quotes)", row=row)
    if bad > EXAMPLES:
        problems.add(f"... and {bad - EXAMPLES} more row(s) with the wrong number of fields")
    if not bad:
        problems.add("the file cannot be read as CSV (an unclosed quote?)",
                     "open it in a text editor or save it again with DataFrame.to_csv")


def _locate_bad_numbers(table_str: pa.Table, fmt: SubmissionFormat, problems: _Problems) -> None:
    for name in fmt.columns:
        col = table_str[name].combine_chunks()
        nulls = np.asarray(pc.is_in(col, value_set=pa.array(_NULLS)).fill_null(True))
        stripped = pc.utf8_trim_whitespace(col)
        numeric = np.asarray(pc.match_substring_regex(
            stripped, r"^[+-]?((\d+\.?\d*)|(\.\d+))([eE][+-]?\d+)?$|^[+-]?(inf|Inf|INF|infinity|Infinity)$"
        ).fill_null(False))
        rows = np.flatnonzero(~numeric & ~nulls)
        if len(rows):
            values = col.to_pylist()
            problems.rows(rows, name, lambda r, v=values: f"{v[r][:40]!r} is not a number",
                          "write plain numbers like 0.73 (no quotes, units or commas inside)")


# -- the main entry -----------------------------------------------------------------------

def validate(source: str | Path | bytes, fmt: SubmissionFormat, filename: str | None = None) -> np.ndarray:
    """Validate a prediction file; return the predictions in the order of ``fmt.ids``.

    The result is a float vector (binary probabilities, regression), an ``n × C`` float
    matrix (multiclass probabilities), a vector of label codes, or an ``n × k`` matrix
    of label codes with ``-1`` for no guess (map@k).  Raises :class:`SubmissionInvalid`
    listing every problem found, each with its row and column and how to fix it.
    """
    name = filename or (Path(source).name if not isinstance(source, bytes) else None)
    data = read_bytes(source, fmt, name)
    problems = _Problems()
    names = _check_header(data, fmt, problems)
    problems.raise_if_any(name)
    table = None
    if fmt.int_lookup is not None:  # fast path; anything unusual falls back to string ids
        table = _read_table(data, fmt, names, _Problems(), int_ids=True)
    if table is None:
        table = _read_table(data, fmt, names, problems)
    problems.raise_if_any(name)
    assert table is not None
    positions = _check_ids(table, fmt, problems)
    values = _check_values(table, fmt, problems)
    problems.raise_if_any(name)
    assert positions is not None and values is not None
    out_shape = (len(fmt.ids), *values.shape[1:])
    out = np.empty(out_shape, dtype=values.dtype)
    out[positions] = values
    return out


def _read_table(data: bytes, fmt: SubmissionFormat, names: list[str], problems: _Problems,
                int_ids: bool = False) -> pa.Table | None:
    types: dict[str, pa.DataType] = {fmt.id_column: pa.int64() if int_ids else pa.string()}
    for column in fmt.columns:
        types[column] = pa.float64() if fmt.numeric else pa.string()
    read = pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=8 * 1024**2)
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False, null_values=_NULLS,
                                   quoted_strings_can_be_null=False)
    try:
        return pacsv.read_csv(io.BytesIO(data), read_options=read, convert_options=convert)
    except pa.ArrowInvalid as exc:
        message = str(exc)
    if int_ids:
        return None
    if "invalid UTF8" in message:
        try:
            return _read_table(data.decode("cp1252").encode("utf-8"), fmt, names, problems)
        except UnicodeDecodeError:
            return _read_table(data.decode("latin-1").encode("utf-8"), fmt, names, problems)
    if "parse error" in message.lower():
        _locate_parse_error(data, len(names), problems)
        return None
    if "conversion error" in message:
        as_str = pacsv.ConvertOptions(column_types=dict.fromkeys(types, pa.string()),
                                      strings_can_be_null=False)
        try:
            table = pacsv.read_csv(io.BytesIO(data), read_options=read, convert_options=as_str)
        except pa.ArrowInvalid:
            _locate_parse_error(data, len(names), problems)
            return None
        _locate_bad_numbers(table, fmt, problems)
        if not problems.items:
            match = re.search(r"invalid value '([^']*)'", message)
            problems.add(f"cannot read {match.group(1)!r} as a number" if match else message,
                         "write plain numbers like 0.73")
        return None
    problems.add(f"the file cannot be read as CSV: {message}", "save it again with DataFrame.to_csv(index=False)")
    return None


def _check_ids(table: pa.Table, fmt: SubmissionFormat, problems: _Problems) -> np.ndarray | None:
    col = fmt.id_column
    ids = table[col].combine_chunks()
    n_expected = len(fmt.ids)
    if pa.types.is_integer(ids.type) and fmt.int_lookup is not None:
        lo, lookup = fmt.int_lookup
        offset = np.asarray(ids.fill_null(lo - 1), dtype=np.int64) - lo
        inside = (offset >= 0) & (offset < len(lookup))
        positions = np.full(len(offset), -1, dtype=np.int64)
        positions[inside] = lookup[offset[inside]]
    elif len(ids) == n_expected and ids.type == fmt.ids.type and pc.all(pc.equal(ids, fmt.ids)).as_py():
        positions = np.arange(n_expected, dtype=np.int64)  # the sample submission's order
    else:
        index = pc.index_in(ids, value_set=fmt.ids)
        if index.null_count:
            trimmed = pc.utf8_trim_whitespace(ids)
            index = pc.index_in(trimmed, value_set=fmt.ids)  # spaces around ids are harmless
            if index.null_count:
                index = _as_integers(trimmed, fmt.ids, index)
        positions = np.asarray(index.fill_null(-1), dtype=np.int64)
    unknown = np.flatnonzero(positions < 0)
    if len(unknown):
        values = ids.to_pylist() if len(unknown) else []
        problems.rows(unknown, col, lambda r: f"id {'' if values[r] is None else str(values[r])!r} is not a test id",
                      "predict exactly the ids in test.csv / sample_submission.csv")
    known = positions[positions >= 0]
    counts = np.bincount(known, minlength=n_expected)
    dup_ids = np.flatnonzero(counts > 1)
    if len(dup_ids):
        repeated = np.flatnonzero(np.isin(positions, dup_ids))
        seen: set[int] = set()
        later = [r for r in repeated if positions[r] in seen or seen.add(int(positions[r]))]
        problems.rows(np.asarray(later), col, lambda r: f"id {fmt.ids[int(positions[r])].as_py()!r} appears again "
                      "(duplicate)", "keep one prediction per id")
    missing = np.flatnonzero(counts == 0)
    if len(missing):
        shown = ", ".join(repr(fmt.ids[int(m)].as_py()) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        problems.add(f"{len(missing)} test id(s) have no prediction: {shown}{more}",
                     "predict every id in sample_submission.csv", column=col)
    return positions if not problems.items else None


def _as_integers(trimmed: pa.Array, value_set: pa.Array, index: pa.Array) -> pa.Array:
    """'17.0' for id or label '17' (pandas turned them into floats) is harmless: map it."""
    try:
        as_float = pc.cast(trimmed, pa.float64())
        whole = pc.equal(pc.floor(as_float), as_float)
        as_int = pc.if_else(whole, pc.cast(pc.cast(as_float, pa.int64(), safe=False), pa.string()), trimmed)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return index
    return pc.index_in(as_int, value_set=value_set)


def _check_values(table: pa.Table, fmt: SubmissionFormat, problems: _Problems) -> np.ndarray | None:
    if fmt.numeric:
        cols = []
        for name in fmt.columns:
            arr = table[name].combine_chunks()
            values = np.asarray(arr.fill_null(np.nan) if arr.null_count else arr, dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(values))
            if len(bad):
                problems.rows(bad, name, lambda r, v=values: "missing value" if np.isnan(v[r]) else f"{v[r]} is infinite",
                              "every row needs a finite number (fill gaps, e.g. with the training mean)")
            if fmt.kind == "proba":
                out = np.flatnonzero((values < 0) | (values > 1))
                problems.rows(out, name, lambda r, v=values: f"{v[r]:g} is not a probability",
                              "probabilities must be between 0 and 1 (use predict_proba, not predict)")
            elif fmt.min_prediction is not None:
                out = np.flatnonzero(values < fmt.min_prediction)
                problems.rows(out, name, lambda r, v=values: f"{v[r]:g} is below {fmt.min_prediction:g}",
                              f"this metric needs predictions ≥ {fmt.min_prediction:g} (clip them)")
            cols.append(values)
        return cols[0] if len(cols) == 1 else np.column_stack(cols)
    name = fmt.columns[0]
    arr = pc.utf8_trim_whitespace(table[name].combine_chunks())
    labels = pa.array(list(fmt.labels), type=pa.string())
    if fmt.kind == "ranking":
        lists = pc.utf8_split_whitespace(arr)
        lengths = np.asarray(pc.list_value_length(lists), dtype=np.int64)
        too_many = np.flatnonzero(lengths > fmt.k)
        problems.rows(too_many, name, lambda r: f"{lengths[r]} guesses; at most {fmt.k} are scored",
                      f"give at most {fmt.k} space-separated labels per row")
        flat = pc.list_flatten(lists)
        codes = np.asarray(pc.index_in(flat, value_set=labels).fill_null(-2), dtype=np.int64)
        bad_flat = np.flatnonzero(codes == -2)
        if len(bad_flat):
            row_of = np.repeat(np.arange(len(lengths)), lengths)
            flat_py = flat.to_pylist()
            rows = row_of[bad_flat]
            _, first = np.unique(rows, return_index=True)
            problems.rows(rows[np.sort(first)], name,
                          lambda r: f"{next(flat_py[i] for i in bad_flat if row_of[i] == r)!r} is not a label",
                          f"use labels from: {', '.join(fmt.labels[:20])}")
        if problems.items:
            return None
        out = np.full((len(lengths), fmt.k), -1, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        within = np.arange(len(codes)) - np.repeat(offsets[:-1], lengths)
        out[np.repeat(np.arange(len(lengths)), lengths), within] = codes
        return out
    codes_arr = pc.index_in(arr, value_set=labels)
    if codes_arr.null_count:
        codes_arr = _as_integers(arr, labels, codes_arr)
    codes = np.asarray(codes_arr.fill_null(-1), dtype=np.int64)
    bad = np.flatnonzero(codes < 0)
    if len(bad):
        values = arr.to_pylist()
        problems.rows(bad, name, lambda r: "missing label" if values[r] == "" else f"{values[r][:40]!r} is not a label",
                      f"use one of the labels: {', '.join(fmt.labels[:20])}"
                      + (" (predict the class, not a probability)" if fmt.task != "regression" else ""))
    return codes
