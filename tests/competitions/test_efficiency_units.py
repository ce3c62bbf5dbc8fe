"""The efficiency track's pure parts, without a sandbox: the [efficiency] spec, the
combined score, the Pareto front, the board's rows and the .keras config check."""

from __future__ import annotations

import math

import pytest

from leaderboard.efficiency import Measurement, ModelScore, combined_score, efficiency_rows, pareto_front
from leaderboard.errors import SpecError
from leaderboard.model_files import code_in_config
from leaderboard.spec import load_spec, parse_spec

from .conftest import COMPETITIONS

BASE = {"slug": "shapes-x", "title": "x", "task": "multiclass", "metric": "accuracy",
        "deadline": "2026-12-13T23:59:00+09:00"}


def test_cnn_shapes_has_an_efficiency_track():
    spec = load_spec(COMPETITIONS / "cnn-shapes")
    assert "model" in spec.submission_types and spec.efficiency is not None
    assert spec.efficiency.formats == ["keras", "tflite"] and spec.efficiency.cpus == 1
    assert spec.efficiency.max_model_bytes == 20 * 2**20


def test_model_submissions_and_the_efficiency_table_go_together():
    with pytest.raises(SpecError, match="go together"):
        parse_spec({**BASE, "submission_types": ["file", "model"]})
    with pytest.raises(SpecError, match="go together"):
        parse_spec({**BASE, "efficiency": {"input_shape": [4]}})
    with pytest.raises(SpecError, match="multiclass accuracy"):
        parse_spec({**BASE, "task": "binary", "metric": "roc_auc", "submission_types": ["model"],
                    "efficiency": {"input_shape": [4]}})
    with pytest.raises(SpecError, match="formats"):
        parse_spec({**BASE, "submission_types": ["model"], "efficiency": {"input_shape": [4], "formats": ["onnx"]}})
    ok = parse_spec({**BASE, "submission_types": ["model"], "efficiency": {"input_shape": [4]}})
    assert ok.efficiency is not None and ok.efficiency.batch_size == 64


def test_the_combined_score_rewards_a_smaller_and_faster_model_logarithmically():
    eff = load_spec(COMPETITIONS / "cnn-shapes").efficiency
    assert eff is not None
    base = combined_score(eff, 0.9, 2**20, 1.0)
    assert base == pytest.approx(0.9)
    assert combined_score(eff, 0.9, 2**18, 1.0) - base == pytest.approx(0.02 * math.log10(4))
    assert combined_score(eff, 0.9, 2**20, 0.1) - base == pytest.approx(0.02)


def test_the_pareto_front_keeps_the_undominated():
    points = {1: (0.95, 400_000, 2.0), 2: (0.94, 100_000, 1.0), 3: (0.93, 200_000, 1.5), 4: (0.95, 400_000, 3.0)}
    assert pareto_front(points) == {1, 2}


def _score(sid: int, team: str, acc: float, size: int, ms: float, fmt: str = "tflite") -> ModelScore:
    return ModelScore(sid, team, acc, Measurement.from_times(fmt, size, [ms] * 10, batch_size=64, threads=1))


def test_the_track_ranks_each_teams_best_model_by_the_combined_score():
    eff = load_spec(COMPETITIONS / "cnn-shapes").efficiency
    assert eff is not None
    rows = efficiency_rows(eff, [_score(1, "ann", 0.96, 400_000, 3.0, "keras"), _score(2, "ann", 0.955, 100_000, 0.5),
                                 _score(3, "ben", 0.97, 4_000_000, 20.0, "keras")])
    assert [(r.team, r.submission_id, r.rank) for r in rows] == [("ann", 2, 1), ("ben", 3, 2)]
    assert all(r.pareto for r in rows)  # ben is the most accurate, ann's tflite the smallest and fastest


def test_measurements_take_the_median_of_the_timed_batches():
    m = Measurement.from_times("keras", 10, [1.0, 1.1, 0.9, 50.0, 1.0], batch_size=64, threads=1,
                               cpu_ms=[0.9, 1.0, 0.9, 1.0, 0.9])
    assert m.latency_ms == 0.9 and m.wall_ms == 1.0 and m.p90_ms == 50.0 and m.timed_batches == 5
    assert Measurement.from_times("keras", 10, [1.0, 2.0, 3.0], batch_size=64, threads=1).latency_ms == 2.0
    assert Measurement.from_json(m.to_json()) == m
    # in rounds: the lowest round median, so a burst of other work during one round does not count
    burst = Measurement.from_times("tflite", 10, [1.0, 1.1, 1.0, 3.0, 3.2, 2.9], batch_size=64, threads=1,
                                   cpu_ms=[0.5, 0.5, 0.6, 0.9, 1.0, 0.9], rounds=[3, 3])
    assert burst.latency_ms == 0.5 and burst.wall_ms == 1.0 and burst.timed_batches == 6


def test_keras_configs_that_would_run_code_are_found():
    layer = {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}, "registered_name": None}
    assert code_in_config({"module": "keras", "class_name": "Sequential", "config": {"layers": [layer]}}) == []
    lam = {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l"}}
    custom = {"module": "mine", "class_name": "Cool", "config": {"name": "c"}, "registered_name": "Custom>Cool"}
    act = {"module": "builtins", "class_name": "function", "config": "evil", "registered_name": "function"}
    found = code_in_config({"class_name": "Sequential", "module": "keras", "config": {"layers": [lam, custom, act]}})
    assert len(found) == 3 and "Lambda" in found[0] and "'mine'" in found[1] and "'builtins'" in found[2]
