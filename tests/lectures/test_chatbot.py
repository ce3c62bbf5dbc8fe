"""Lecture 13 (building a chatbot): its structure and promises, and runs in the sandbox —
`coursebench lectures run 13 --smoke` (seconds) and the full run (slow), which asserts
what the prose promises and reports the figures the chatbot benchmark prints.
The corpus it trains on is tested in test_intents.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from .conftest import FULL_RUN_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
NAME = "13_chatbot"
NOTEBOOK = ROOT / "lectures" / f"{NAME}.ipynb"
KOREAN_TERMS = ["챗봇", "말뭉치", "토큰화", "교착어", "조사", "형태소", "임베딩", "의도 분류기", "혼동 행렬",
                "신뢰도", "되묻기", "폴백", "대화 상태", "대규모 언어 모델", "소형 언어 모델", "검색 증강 생성"]
METRICS = re.compile(r"^CHATBOT_METRICS (\{.*\})$", re.M)


def _nb():
    return nbformat.read(str(NOTEBOOK), as_version=4)


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_built_from_its_source_and_listed():
    from coursebench.lectures import discover
    from coursebench.notebooks.build import read_source, render

    assert NOTEBOOK.read_text(encoding="utf-8") == render(read_source(ROOT / "lectures" / "_src" / f"{NAME}.py"))
    lecture = {lec.name: lec for lec in discover(ROOT / "lectures")}[NAME]
    assert lecture.number == 13 and lecture.title == "Lecture 13 — Building a chatbot (챗봇 구축)"
    assert f"[`{NAME}`](../lectures/{NAME}.ipynb)" in (ROOT / "docs" / "lectures.md").read_text(encoding="utf-8")
    index = nbformat.read(str(ROOT / "lectures" / "index.ipynb"), as_version=4).cells[0].source
    assert f"({NAME}.ipynb)" in index


def test_house_structure():
    nb = _nb()
    assert nb.cells[0].source.startswith("# Lecture 13") and "## What you will learn" in nb.cells[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "setup(" in code[0].source and "keras=True" in code[0].source
    assert "parameters" in code[1].metadata.get("tags", []) and re.search(r"^smoke = False\b", code[1].source, re.M)
    assert code[2].source.startswith("if smoke:"), "the cell after the parameters shrinks sizes in smoke mode"
    assert sum("metrics" in c.metadata.get("tags", []) for c in code) == 1
    headings = [line for line in _markdown(nb).splitlines() if line.startswith("#")]
    assert headings.index("## Exercises") < headings.index("## Solutions")
    exercises = _markdown(nb).split("## Exercises", 1)[1].split("## Solutions", 1)[0]
    assert len(re.findall(r"^\d\. \*\*", exercises, re.M)) == 5
    assert len(re.findall(r"\*\*Solution \d", _markdown(nb))) == 5


def test_korean_terms_beside_key_concepts():
    text = _markdown(_nb())
    assert not [term for term in KOREAN_TERMS if term not in text]


def test_the_promises_are_stated_and_asserted_in_the_full_run():
    nb = _nb()
    text, code = _markdown(nb), "\n".join(_code(nb))
    for promise in ("at least 85% held-out accuracy", "macro F1 ≥ 0.85", "at least 5 points", "at least 50%",
                    "at least 75%", "No model weights are downloaded"):
        assert promise in text, promise
    guarded = "\n".join(src for src in _code(nb) if src.lstrip().startswith("if not smoke:"))
    for check in ("test_accuracy >= 0.85", "macro_f1 >= 0.85", '+ 0.05', "oos_fallback >= 0.5", "hit_at_3 >= 0.75"):
        assert check in guarded, check
    assert "input(" in code and "NotImplementedError" in code, "the chat loop falls back to its script"


def test_offline_and_keras_only_code():
    code = "\n".join(_code(_nb()))
    for forbidden in (r"load_data\(", r"urlopen", r"urlretrieve", r"(?<![\w.])requests\.get", r"get_file\(",
                      r"(?m)^\s*[!%]pip ", r"\btf\.", r"import tensorflow", r"from_pretrained", r"hf_hub"):
        assert not re.search(forbidden, code), forbidden
    assert not re.findall(r"https?://([\w.]+)", code)
    for line in code.splitlines():  # figures carry no Hangul (the default fonts have no glyphs for it)
        if re.search(r"set_(title|xlabel|ylabel)|suptitle|label=", line):
            assert not re.search(r"[\uac00-\ud7a3]", line), line


def _run(tmp_path: Path, backend: str, *flags: str) -> tuple[dict, nbformat.NotebookNode]:
    from coursebench.cli import _register_subcommands, app

    _register_subcommands()
    result = CliRunner().invoke(app, ["lectures", "run", "13", *flags, "--backend", backend, "-o", str(tmp_path)],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    return _metrics(nbformat.read(str(tmp_path / f"{NAME}.ipynb"), as_version=4))


def _metrics(executed: nbformat.NotebookNode) -> tuple[dict, nbformat.NotebookNode]:
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    found = METRICS.search(printed)
    assert found, printed[-3000:]
    return json.loads(found.group(1)), executed


def _chat_transcript(executed: nbformat.NotebookNode) -> str:
    cell = next(c for c in executed.cells if c.cell_type == "code" and "transcript = chat(bot)" in c.source)
    return "".join(o.get("text", "") for o in cell.outputs)


# First in this lane: it starts the whole course's full run (the longest job of the suite).
@pytest.mark.slow
@pytest.mark.timeout(FULL_RUN_TIMEOUT)
def test_full_run_keeps_its_promises(full_runs):
    """The full run in the sandbox (the whole course's, see conftest.py): the notebook's own
    asserts pass, and the figures it reports are the ones the prose promises."""
    result = full_runs.results[NAME]
    assert result.ok, f"{result.status} at cell {result.failed_cell}: {result.ename}: {result.evalue}"
    metrics, executed = _metrics(full_runs.executed(NAME))
    assert metrics["smoke"] is False and metrics["epochs"] == 20
    assert metrics["accuracy"] >= 0.85 and metrics["macro_f1"] >= 0.85, metrics
    assert metrics["accuracy_ko"] >= metrics["word_tokens_accuracy_ko"] + 0.05, metrics
    assert metrics["answered_accuracy"] >= metrics["accuracy"] and metrics["oos_fallback"] >= 0.5, metrics
    assert metrics["retrieval_hit_at_3"] >= 0.75, metrics
    transcript = _chat_transcript(executed)
    assert "[ask back" in transcript, "the out-of-scope turn gets a clarifying question"
    print("CHATBOT_METRICS " + json.dumps(metrics))


def test_smoke_run_in_the_sandbox(tmp_path, bwrap_backend):
    # --timeout: the 2 cores are shared with the rest of the suite; alone it takes about a minute
    metrics, executed = _run(tmp_path, bwrap_backend, "--smoke", "--timeout", "900")
    assert metrics["smoke"] is True and metrics["epochs"] == 2
    assert metrics["test_utterances"] == 180 and 0 < metrics["accuracy"] <= 1
    transcript = _chat_transcript(executed)
    assert transcript.count("you: ") == 8 and "bot: " in transcript, "the scripted conversation ran"
    assert "retrieval_hit_at_3" in metrics
