"""competition.toml, prepare (deterministic, no leaks) and strict prediction-file validation."""

from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaderboard.data import load_dataset, prepare
from leaderboard.errors import SpecError, SubmissionInvalid
from leaderboard.spec import load_spec, parse_spec
from leaderboard.validation import SubmissionFormat, validate

from .conftest import make_competition


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    root = make_competition(tmp_path_factory.mktemp("c"), "bin", task="binary", metric="roc_auc")
    prepare(root)
    return load_dataset(root)


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    root = make_competition(tmp_path_factory.mktemp("c"), "multi", task="multiclass", metric="log_loss",
                            n_train=150, n_test=90)
    prepare(root)
    return load_dataset(root)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    root = make_competition(tmp_path_factory.mktemp("c"), "lab", task="multiclass", metric="accuracy",
                            n_train=150, n_test=90)
    prepare(root)
    return load_dataset(root)


def sub(ds, values, ids=None) -> bytes:
    frame = pd.DataFrame({"id": ds.ids if ids is None else ids, "y": values})
    return frame.to_csv(index=False).encode()


def problems(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


# -- spec and prepare -------------------------------------------------------------------------

def test_spec_defaults_and_errors(tmp_path):
    spec = parse_spec({"slug": "x-1", "title": "X", "task": "binary", "metric": "roc_auc",
                       "deadline": "2026-05-01T00:00:00+09:00"})
    assert (spec.public_fraction, spec.folds, spec.daily_limit, spec.final_selections) == (0.3, 5, 5, 2)
    assert spec.use_stratified and spec.release == "plain"
    with pytest.raises(SpecError, match=r"\[metric\].*known metrics"):
        parse_spec({"slug": "xy", "title": "X", "task": "binary", "metric": "auc", "deadline": "2026-05-01T00:00:00Z"})
    with pytest.raises(SpecError, match="does not fit a regression task"):
        parse_spec({"slug": "xy", "title": "X", "task": "regression", "metric": "accuracy",
                    "deadline": "2026-05-01T00:00:00Z"})
    with pytest.raises(SpecError, match=r"\[deadline\].*timezone"):
        parse_spec({"slug": "xy", "title": "X", "task": "binary", "metric": "accuracy", "deadline": "2026-05-01T00:00:00"})
    (tmp_path / "competition.toml").write_text("slug = 'a'\n[oops")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(tmp_path)


def test_prepare_is_deterministic_split_and_folds_are_sound(tmp_path):
    a = make_competition(tmp_path / "a", "same", task="binary")
    b = make_competition(tmp_path / "b", "same", task="binary")
    va, vb = prepare(a), prepare(b)
    assert va.sha256 == vb.sha256 and va.files == vb.files
    ds = load_dataset(a)
    assert ds.version == va.sha256
    solution = pd.read_csv(a / "data/private/solution.csv")
    assert set(solution["Usage"]) == {"Public", "Private"}
    assert solution["Usage"].eq("Public").mean() == pytest.approx(0.3, abs=0.01)
    # stratified: both parts keep the class balance
    by = solution.groupby("Usage")["y"].apply(lambda s: (s == "yes").mean())
    assert abs(by["Public"] - by["Private"]) < 0.05
    test = pd.read_csv(a / "data/public/test.csv")
    assert "y" not in test.columns and list(test["id"]) == list(solution["id"])
    folds = pd.read_csv(a / "data/private/folds.csv")
    assert sorted(folds["fold"].unique()) == [0, 1, 2]
    assert not (a / "data/public/solution.csv").exists()
    # another seed, another split
    c = make_competition(tmp_path / "c", "same", task="binary")
    (c / "competition.toml").write_text((c / "competition.toml").read_text().replace("seed = 7", "seed = 8"))
    assert prepare(c).sha256 != va.sha256
    # the sample submission is itself valid
    preds = validate(a / "data/public/sample_submission.csv", SubmissionFormat.for_dataset(ds))
    assert preds.shape == (len(ds.ids),) and np.all(preds == 0.5)


# -- valid files ------------------------------------------------------------------------------

def test_any_order_gz_zip_bom_crlf_are_accepted(binary):
    fmt = SubmissionFormat.for_dataset(binary)
    values = np.linspace(0, 1, len(binary.ids))
    order = np.random.default_rng(0).permutation(len(binary.ids))
    raw = sub(binary, values[order], binary.ids[order])
    out = validate(raw, fmt, filename="s.csv")
    np.testing.assert_allclose(out, values)
    crlf_bom = b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n")
    np.testing.assert_allclose(validate(crlf_bom, fmt, filename="s.csv"), values)
    np.testing.assert_allclose(validate(gzip.compress(raw), fmt, filename="s.csv.gz"), values)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("submission.csv", raw)
    np.testing.assert_allclose(validate(zipped.getvalue(), fmt, filename="s.zip"), values)
    # ids written as floats by pandas ('17.0') and spaces around the header are harmless
    floats = raw.replace(b"id,y", b" id , y ").replace(b"\n1,", b"\n1.0,")
    np.testing.assert_allclose(validate(floats, fmt, filename="s.csv"), values)


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(200))))
def test_validation_round_trips_any_row_order(binary, order):
    fmt = SubmissionFormat.for_dataset(binary)
    values = (np.arange(len(binary.ids)) % 97) / 96
    idx = np.array(order)
    out = validate(sub(binary, values[idx], binary.ids[idx]), fmt, filename="s.csv")
    np.testing.assert_allclose(out, values)


def test_multiclass_probability_columns(multi):
    fmt = SubmissionFormat.for_dataset(multi)
    assert fmt.columns == ("a", "b", "c")
    frame = pd.DataFrame({"id": multi.ids, "c": 0.2, "a": 0.5, "b": 0.3})  # any column order
    out = validate(frame.to_csv(index=False).encode(), fmt, filename="s.csv")
    assert out.shape == (len(multi.ids), 3) and np.allclose(out[:, 0], 0.5)


# -- invalid files ----------------------------------------------------------------------------

def test_header_problems_name_the_column_and_the_fix(binary):
    fmt = SubmissionFormat.for_dataset(binary)
    with pytest.raises(SubmissionInvalid) as e:
        validate(b"ID,y,extra\n1,0.5,1\n", fmt, filename="s.csv")
    text = "\n".join(problems(e))
    assert "column 'ID': column 'ID' has the wrong case — rename it to 'id'" in text
    assert "column 'extra': unexpected column" in text
    with pytest.raises(SubmissionInvalid) as e:
        validate(b",id,y\n0,201,0.5\n", fmt, filename="s.csv")
    assert any("index=False" in p for p in problems(e))
    first_id = binary.ids[0].encode()
    with pytest.raises(SubmissionInvalid) as e:
        validate(first_id + b",0.5\n", fmt, filename="s.csv")
    assert any("looks like data" in p and "id,y" in p for p in problems(e))


def test_row_level_problems_name_row_and_column(binary):
    fmt = SubmissionFormat.for_dataset(binary)
    values = np.full(len(binary.ids), 0.5).astype(object)
    values[4] = "abc"
    with pytest.raises(SubmissionInvalid) as e:
        validate(sub(binary, values), fmt, filename="s.csv")
    assert problems(e) == ["row 5 (line 6), column 'y': 'abc' is not a number — write plain numbers like 0.73 "
                           "(no quotes, units or commas inside)"]
    values = np.full(len(binary.ids), 0.5)
    values[[2, 9]] = [np.nan, 1.7]
    values[11] = np.inf
    with pytest.raises(SubmissionInvalid) as e:
        validate(sub(binary, values), fmt, filename="s.csv")
    text = problems(e)
    assert any(p.startswith("row 3 (line 4), column 'y': missing value") for p in text)
    assert any(p.startswith("row 12 (line 13), column 'y': inf is infinite") for p in text)
    assert any(p.startswith("row 10 (line 11), column 'y': 1.7 is not a probability") and "predict_proba" in p
               for p in text)
    raw = sub(binary, np.full(len(binary.ids), 0.5)).splitlines()
    raw[3] = raw[3] + b",9"
    with pytest.raises(SubmissionInvalid) as e:
        validate(b"\n".join(raw), fmt, filename="s.csv")
    assert problems(e)[0].startswith("row 3 (line 4): this row has 3 fields; the header has 2")


def test_id_problems(binary):
    fmt = SubmissionFormat.for_dataset(binary)
    ids = binary.ids.astype(object)
    ids[7] = ids[6]          # a duplicate, so one id is missing
    ids[10] = "999999"       # unknown
    with pytest.raises(SubmissionInvalid) as e:
        validate(sub(binary, np.full(len(ids), 0.5), ids), fmt, filename="s.csv")
    text = "\n".join(problems(e))
    assert "row 11 (line 12), column 'id': id '999999' is not a test id" in text
    assert f"row 8 (line 9), column 'id': id '{binary.ids[6]}' appears again (duplicate)" in text
    assert "2 test id(s) have no prediction" in text


def test_labels_files_and_limits(labelled, binary):
    fmt = SubmissionFormat.for_dataset(labelled)
    values = np.array(["a"] * len(labelled.ids), dtype=object)
    values[3] = "d"
    values[5] = "0.7"
    with pytest.raises(SubmissionInvalid) as e:
        validate(sub(labelled, values), fmt, filename="s.csv")
    text = problems(e)
    assert text[0].startswith("row 4 (line 5), column 'y': 'd' is not a label — use one of the labels: a, b, c")
    assert text[1].startswith("row 6 (line 7), column 'y': '0.7' is not a label")
    fmt_bin = SubmissionFormat.for_dataset(binary)
    small = SubmissionFormat(**{**fmt_bin.__dict__, "max_bytes": 100})
    with pytest.raises(SubmissionInvalid, match=r"the limit is \d+ MiB"):
        validate(sub(binary, np.full(len(binary.ids), 0.5)), small, filename="s.csv")
    two = io.BytesIO()
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.csv", "id,y\n")
        z.writestr("b.csv", "id,y\n")
    with pytest.raises(SubmissionInvalid, match=r"exactly one \.csv"):
        validate(two.getvalue(), fmt_bin, filename="s.zip")
    with pytest.raises(SubmissionInvalid, match=r"not a \.csv"):
        validate(b"id,y\n", fmt_bin, filename="s.xlsx")
    with pytest.raises(SubmissionInvalid, match="empty"):
        validate(b"", fmt_bin, filename="s.csv")
    with pytest.raises(SubmissionInvalid, match="';' or tabs"):
        validate(b"id;y\n1;0.5\n", fmt_bin, filename="s.csv")
