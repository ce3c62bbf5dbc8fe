"""Lectures 07–12 (neural networks → Keras → serving), built from lectures/_src/ by
`coursebench notebooks build`.  Structure and content checks that need no kernel; the smoke
run of every lecture in the sandbox is in test_lectures.py, the build itself is tested in
tests/notebook_build/."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
LECTURES = ROOT / "lectures"

# Korean terms each lecture must introduce next to the English one (first appearance).
KOREAN_TERMS = {
    "07_neural_networks": ["인공 신경망", "퍼셉트론", "다층 퍼셉트론", "활성화 함수", "순전파", "은닉층"],
    "08_how_networks_learn": ["손실 함수", "경사 하강법", "학습률", "역전파", "연쇄 법칙", "기울기 검증", "교차 엔트로피"],
    "09_keras_mlp": ["순차 API", "함수형 API", "검증 세트", "학습 곡선", "과적합", "회귀"],
    "10_keras_deep_networks": ["가중치 초기화", "배치 정규화", "드롭아웃", "옵티마이저", "조기 종료", "기울기 소실"],
    "11_keras_cnn": ["합성곱", "풀링", "특징 맵", "패딩", "스트라이드", "데이터 증강"],
    "12_model_to_service": ["양자화", "지연 시간", "처리량", "동적 배치", "예측 API"],
}
KERAS_LECTURES = {"09_keras_mlp", "10_keras_deep_networks", "11_keras_cnn", "12_model_to_service"}
NAMES = sorted(KOREAN_TERMS)


def _read(name: str):
    return nbformat.read(str(LECTURES / f"{name}.ipynb"), as_version=4)


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_these_lectures_have_sources_and_stable_ids():
    sources = sorted(p.stem for p in (LECTURES / "_src").glob("[01][0-9]_*.py") if "07" <= p.stem[:2] <= "12")
    assert sources == NAMES
    for name in NAMES:
        ids = [c.id for c in _read(name).cells]
        assert ids == [f"{name}-{i:03d}" for i in range(len(ids))]


@pytest.mark.parametrize("name", NAMES)
def test_house_structure(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# Lecture ")
    assert "## What you will learn" in nb.cells[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    # one setup cell, first, with keras=True exactly for the Keras lectures
    setup = [c.source for c in code if "coursebench.notebook import" in c.source and "setup(" in c.source]
    assert len(setup) == 1 and code[0].source == setup[0]
    assert ("keras=True" in setup[0]) == (name in KERAS_LECTURES)
    # the papermill parameters cell right after it: smoke=False and a smoke branch that shrinks sizes
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and code[1] is params[0]
    assert re.search(r"^smoke = False\b", params[0].source, re.M)
    assert re.match(r"if smoke:", code[2].source), "the cell after the parameters shrinks sizes in smoke mode"
    assert nb.metadata["coursebench"]["summary"]


@pytest.mark.parametrize("name", NAMES)
def test_full_run_promises_are_stated_and_asserted(name):
    nb = _read(name)
    guarded = [src for src in _code(nb) if re.search(r"^\s*if not smoke:.*\n(\s+.*\n)*?\s+assert ", src + "\n", re.M)]
    assert guarded, "the results the text promises are asserted in the full run"
    assert re.search(r"(≥|at least) \d+(\.\d+)?%|≥ \d|at least (twice|\d)", _markdown(nb)), "the promise is stated in prose"


@pytest.mark.parametrize("name", NAMES)
def test_exercises_then_solutions(name):
    headings = [line for line in _markdown(_read(name)).splitlines() if line.startswith("#")]
    assert headings.index("## Exercises") < headings.index("## Solutions")
    exercises = _markdown(_read(name)).split("## Exercises", 1)[1].split("## Solutions", 1)[0]
    numbered = re.findall(r"^\d\. \*\*", exercises, re.M)
    solutions = re.findall(r"\*\*Solution \d", _markdown(_read(name)))
    assert len(numbered) >= 4 and len(solutions) == len(numbered)


@pytest.mark.parametrize("name", NAMES)
def test_korean_terms_beside_key_concepts(name):
    text = _markdown(_read(name))
    missing = [term for term in KOREAN_TERMS[name] if term not in text]
    assert not missing, f"{name} lacks the Korean terms {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_offline_and_backend_agnostic_code(name):
    code = "\n".join(_code(_read(name)))
    # nothing downloads at run time: data only through coursebench.datasets
    for forbidden in (r"load_data\(", r"urlopen", r"urlretrieve", r"(?<![\w.])requests\.get", r"get_file\(", r"(?m)^\s*[!%]pip "):
        assert not re.search(forbidden, code), forbidden
    assert all(host in ("127.0.0.1",) for host in re.findall(r"https?://([\w.]+)", code))
    # Keras 3 code without tf.* outside lecture 12's TFLite part (runs on jax/torch too)
    if name != "12_model_to_service":
        assert not re.search(r"\btf\.|import tensorflow", code)
    if name in ("07_neural_networks", "08_how_networks_learn"):
        assert "import keras" not in code, "07–08 are NumPy only"
    # figures do not carry Hangul (the default fonts have no glyphs for it)
    for line in code.splitlines():
        if re.search(r"set_(title|xlabel|ylabel)|suptitle|label=", line):
            assert not re.search(r"[\uac00-\ud7a3]", line), line
