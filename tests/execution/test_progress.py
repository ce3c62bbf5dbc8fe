"""Progress: library code reports through a callback; the CLI draws the bar (coursebench.cli_progress)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from coursebench.cli_progress import ProgressBar, progress_bar
from coursebench.execution import ExecutionResult, run_many
from coursebench.execution.progress import check_progress


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, color_system=None), out


def test_library_progress_is_a_callback_or_nothing() -> None:
    assert check_progress(None) is None and check_progress(False) is None
    report = lambda done, total, result: None  # noqa: E731
    assert check_progress(report) is report
    with pytest.raises(TypeError, match="callable taking \\(done, total, result\\)"):
        check_progress(True)
    with pytest.raises(TypeError, match="cli_progress"):
        run_many([], progress=True)  # refused before anything runs, even with nothing to run


def test_bar_shows_label_counts_and_statuses() -> None:
    console, out = _console()
    with ProgressBar("Running notebooks", total=3, console=console) as bar:
        bar(1, 3, ExecutionResult(name="a", status="ok"))
        bar(2, 3, ExecutionResult(name="b", status="error"))
        bar(3, 3, ExecutionResult(name="c", status="ok"))
    text = out.getvalue()
    assert "Running notebooks" in text and "3/3" in text
    assert "error:1 ok:2" in text
    [task] = bar.progress.tasks
    assert task.completed == 3 and task.total == 3 and task.fields["status"] == "error:1 ok:2"


def test_a_count_that_starts_over_gets_its_own_row() -> None:
    """compete rescore: every notebook submission's k-fold runs report 1..k+1 in turn."""
    console, _ = _console()
    with ProgressBar("Scoring notebook", console=console) as bar:
        assert bar.progress.tasks == []  # no total given: no row until there is something to show
        for done in (1, 2, 3):
            bar(done, 3, ExecutionResult(name=f"fold{done}", status="ok"))
        for done in (1, 2):
            bar(done, 3, ExecutionResult(name=f"fold{done}", status="timeout"))
        bar(1, 1, ExecutionResult(name="full", status="ok"))
        bar(1, 1, ExecutionResult(name="full", status="ok"))
    rows = [(t.completed, t.total, t.fields["status"]) for t in bar.progress.tasks]
    assert rows == [(3, 3, "ok:3"), (2, 3, "timeout:2"), (1, 1, "ok:1"), (1, 1, "ok:1")]


def test_progress_bar_off_yields_no_callback() -> None:
    with progress_bar("Running notebooks", total=2, enabled=False) as bar:
        assert bar is None
    bar = ProgressBar("x")
    with pytest.raises(RuntimeError, match="inside its `with` block"):
        bar(1, 1, None)
