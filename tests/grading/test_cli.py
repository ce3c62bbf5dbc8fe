"""`coursebench grade ...` end to end through the real CLI app."""

from __future__ import annotations

from pathlib import Path

import factory
import pytest
from typer.testing import CliRunner

from coursebench import cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app():
    cli._register_subcommands()
    return cli.app


def test_autograde_cli_summary_and_rerun(app, course101: Path, sandbox: str) -> None:
    factory.submit(course101, "bob", "ps1", factory.ps1_kinds(course101)["partial"])
    runner = CliRunner()
    args = ["grade", "autograde", "ps1", "--course-dir", str(course101), "--workers", "2",
            "--backend", sandbox, "--timeout", "300"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "Autograded ps1" in first.output and "bob" in first.output
    assert "1.5 / 13" in first.output and "graded" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "skipped" in again.output and "1 skipped" in again.output


def test_clear_errors(app, course101: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["grade", "autograde", "ps9", "--course-dir", str(course101)])
    assert missing.exit_code == 2
    assert "ps9" in missing.output and "known assignments: ps1" in " ".join(missing.output.split())
    nothing = runner.invoke(app, ["grade", "autograde", "ps1", "--course-dir", str(course101)])
    assert nothing.exit_code == 2
    text = " ".join(nothing.output.split())  # rich wraps long lines
    assert "no submissions to grade" in text and "coursebench grade collect ps1" in text
    not_a_course = runner.invoke(app, ["grade", "autograde", "ps1", "--course-dir", str(tmp_path)])
    assert not_a_course.exit_code == 2
    assert "not an nbgrader course directory" in " ".join(not_a_course.output.split())
