"""`coursebench compete ...`'s instructor verbs end to end on a temporary course (SQLite),
as the instructor would type them; the student verbs are HTTP only (tests/client)."""

from __future__ import annotations

import csv
import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coursebench import cli as root_cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def course(tmp_path, monkeypatch):
    shutil.copytree(REPO / "competitions" / "wine-demo", tmp_path / "competitions" / "wine-demo",
                    ignore=shutil.ignore_patterns("data"))
    (tmp_path / "course.toml").write_text(
        '[course]\nname = "t"\n\n[[students]]\nid = "s001"\nname = "Kim"\n\n[[students]]\nid = "s002"\nname = "Lee"\n')
    monkeypatch.setenv("COURSEBENCH_COURSE", str(tmp_path / "course.toml"))
    monkeypatch.setenv("COURSEBENCH_CONFIG_DIR", str(tmp_path / "config"))
    for var in ("COURSEBENCH_DB", "COURSEBENCH_TOKEN", "COURSEBENCH_COMPETITIONS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    root_cli._register_subcommands()
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(root_cli.app, list(args), catch_exceptions=False,
                              env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_instructor_workflow(course):
    """The instructor's verbs work on the course's database directly (the student verbs
    go over HTTP: tests/client/test_remote_cli.py)."""
    from leaderboard.cli import service

    done = invoke("compete", "prepare", "wine-demo")
    assert done.exit_code == 0, done.output
    assert (course / "build" / "leaderboard.db").exists()
    done = invoke("compete", "tokens", "-o", "tokens.csv")
    assert done.exit_code == 0 and "Wrote 2 tokens" in done.output
    assert stat.S_IMODE(os.stat(course / "tokens.csv").st_mode) == 0o600
    tokens = {r["id"]: r["token"] for r in csv.DictReader(open(course / "tokens.csv"))}

    svc = service()
    who = svc.authenticate(tokens["s001"])
    sample = (course / "competitions" / "wine-demo" / "data" / "public" / "sample_submission.csv").read_bytes()
    svc.submit_file("wine-demo", who, sample, filename="majority.csv")
    left = svc.submit_file("wine-demo", who, sample, filename="left.csv", score_now=False)  # a crash left it pending

    done = invoke("compete", "close", "-c", "wine-demo")
    assert done.exit_code == 1 and "is open until" in done.output
    done = invoke("compete", "rescore", "-c", "wine-demo")
    assert done.exit_code == 0 and "Scored 1 pending" in done.output, done.output
    assert svc.submission(left.id).status == "complete"
    done = invoke("compete", "close", "-c", "wine-demo", "--force")
    assert done.exit_code == 0 and "private leaderboard" in done.output and "Kendall" in done.output
    done = invoke("compete", "export", "-c", "wine-demo", "-o", "grades.csv")
    assert done.exit_code == 0
    rows = list(csv.DictReader(open(course / "grades.csv")))
    assert rows[0]["participant"] == "s001" and rows[0]["private_rank"] == "1"
    svc.db.dispose()


def test_the_student_verbs_never_touch_the_database(course):
    """`compete login` saves the server and the token only, and a student verb with no
    server to talk to says so instead of opening the course's database."""
    assert invoke("compete", "prepare", "wine-demo").exit_code == 0
    done = invoke("compete", "login", "--server", "http://127.0.0.1:9", "some-token")
    assert done.exit_code == 1 and "cannot reach the leaderboard at http://127.0.0.1:9" in done.output
    assert not (course / "config" / "credentials.json").exists()
    done = invoke("compete", "submissions", "-c", "wine-demo")
    assert done.exit_code == 1 and "no token" in done.output
