"""`coursebench compete ...` end to end on a temporary course (SQLite), as a student
and as the instructor would type it."""

from __future__ import annotations

import csv
import json
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


def test_student_and_instructor_workflow(course):
    done = invoke("compete", "prepare", "wine-demo")
    assert done.exit_code == 0, done.output
    assert (course / "build" / "leaderboard.db").exists()
    done = invoke("compete", "tokens", "-o", "tokens.csv")
    assert done.exit_code == 0 and "Wrote 2 tokens" in done.output
    assert stat.S_IMODE(os.stat(course / "tokens.csv").st_mode) == 0o600
    tokens = {r["id"]: r["token"] for r in csv.DictReader(open(course / "tokens.csv"))}

    assert invoke("compete", "login", "wrong").exit_code == 1
    done = invoke("compete", "login", tokens["s001"])
    assert done.exit_code == 0 and "Logged in as s001" in done.output
    creds = json.loads((course / "config" / "credentials.json").read_text())
    assert creds["token"] == tokens["s001"] and creds["database"].startswith("sqlite:///")

    done = invoke("compete", "list")
    assert "wine-demo" in done.output and "5/5" in done.output
    done = invoke("compete", "files", "wine-demo", "-p", "dl")
    assert done.exit_code == 0 and (course / "dl" / "sample_submission.csv").exists()
    assert not list((course / "dl").glob("solution*"))

    bad = course / "bad.csv"
    bad.write_text("id,cultivar\n" + (course / "dl/sample_submission.csv").read_text().split("\n", 1)[1]
                   .replace("grignolino", "merlot", 1))
    done = invoke("compete", "submit", "-c", "wine-demo", "-f", str(bad), "-m", "typo")
    assert done.exit_code == 1
    assert "not counted" in done.output and "column 'cultivar': 'merlot' is not a label" in done.output
    assert "row " in done.output

    done = invoke("compete", "submit", "-c", "wine-demo", "-f", "dl/sample_submission.csv", "-m", "majority")
    assert done.exit_code == 0, done.output
    assert "scored" in done.output and "4 of 5 submissions left today" in done.output
    done = invoke("compete", "submissions", "-c", "wine-demo")
    assert "majority" in done.output and "complete" in done.output
    done = invoke("compete", "leaderboard", "-c", "wine-demo")
    assert done.exit_code == 0 and "s001" in done.output
    done = invoke("compete", "leaderboard", "-c", "wine-demo", "--private")
    assert done.exit_code == 1 and "private results come after the deadline" in done.output
    assert invoke("compete", "select", "-c", "wine-demo", "1").exit_code == 0
    done = invoke("compete", "team", "-c", "wine-demo", "--create", "Grapes", "--invite", "s002")
    assert done.exit_code == 0 and "Grapes" in done.output and "invited: s002" in done.output

    # the instructor
    done = invoke("compete", "close", "-c", "wine-demo")
    assert done.exit_code == 1 and "is open until" in done.output
    done = invoke("compete", "close", "-c", "wine-demo", "--force")
    assert done.exit_code == 0 and "private leaderboard" in done.output and "Kendall" in done.output
    assert invoke("compete", "rescore", "-c", "wine-demo").exit_code == 0
    done = invoke("compete", "export", "-c", "wine-demo", "-o", "grades.csv")
    assert done.exit_code == 0
    rows = list(csv.DictReader(open(course / "grades.csv")))
    assert rows[0]["participant"] == "s001" and rows[0]["private_rank"] == "1"


def test_a_submission_left_pending_is_scored_on_the_students_next_start(course):
    """A crash between storing a submission and scoring it leaves it pending; the
    student's next `compete` command scores it (and a live lease is respected)."""
    from leaderboard.cli import service

    assert invoke("compete", "prepare", "wine-demo").exit_code == 0
    svc = service()
    token = svc.add_participant("s009")
    assert invoke("compete", "login", token).exit_code == 0
    assert invoke("compete", "files", "wine-demo", "-p", "dl").exit_code == 0
    who = svc.authenticate(token)
    data = (course / "dl" / "sample_submission.csv").read_bytes()
    left = svc.submit_file("wine-demo", who, data, filename="left.csv", score_now=False)
    held = svc.submit_file("wine-demo", who, data, filename="held.csv", score_now=False)
    assert svc.claim(held.id)  # another scorer is at work on this one, under a live lease

    done = invoke("compete", "submissions", "-c", "wine-demo")
    assert done.exit_code == 0, done.output
    assert f"submission {left.id} (left.csv) was left unscored" in done.output
    assert svc.submission(left.id).status == "complete"
    assert svc.submission(held.id).status == "running"
    assert f"submission {held.id}" not in done.output.split("your submissions")[0]
