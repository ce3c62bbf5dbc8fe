"""Every student verb of ``coursebench compete`` against a real ``coursebench serve``, run
as another user with a fresh HOME and only the server's address and a token: the course
folder (database, hidden labels) is unreadable to them, the credentials hold no database
URL, and the CLI's student path loads no SQLAlchemy."""

from __future__ import annotations

import hashlib
import json
import re
import stat

import numpy as np
import pandas as pd

from .conftest import SLUG, Server, Student


def predictions(server: Server, seed: int = 0) -> bytes:
    sample = pd.read_csv(server.comps / SLUG / "data" / "public" / "sample_submission.csv")
    sample["y"] = np.random.default_rng(seed).uniform(size=len(sample)).round(5)
    return sample.to_csv(index=False).encode()


IMPORTS = """
import json, sys
from coursebench.cli import main
sys.argv = ["coursebench", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "psycopg", "alembic", "pandas", "numpy")
               or m.startswith(("leaderboard.services", "leaderboard.db", "leaderboard.models", "leaderboard.web")))
print("\\n" + json.dumps({"code": code, "heavy": heavy}))
"""


def test_every_student_verb_works_over_http_only(server: Server, student: Student) -> None:
    url, token = server.url, server.tokens["alice"]
    denied = student.run(python=f"import os; os.listdir({str(server.course)!r})")
    assert denied.returncode != 0 and "PermissionError" in denied.stderr  # the course is out of reach

    # an old credentials file that held a database URL: dropped, with a note
    creds = student.home / ".config" / "coursebench" / "credentials.json"
    student.run(python=f"import os; os.makedirs({str(creds.parent)!r}); open({str(creds)!r}, 'w').write("
                        "'{\"token\": \"old\", \"database\": \"sqlite:////srv/course/leaderboard.db\"}')")
    assert student.run("compete", "login", "wrong-token", "--server", url).returncode == 1
    done = student.run("compete", "login", env={"COURSEBENCH_SERVER": url, "COURSEBENCH_TOKEN": token})
    assert done.returncode == 0, done.stderr
    assert "Logged in to" in done.stdout and "alice" in done.stdout and "dropped database from your credentials" in done.stderr
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    saved = json.loads(creds.read_text())
    assert saved == {"token": token, "server": url}, saved

    done = student.run("compete", "list")
    assert done.returncode == 0 and SLUG in done.stdout and "5/5" in done.stdout, done.stdout + done.stderr
    done = student.run("compete", "files", SLUG, "-p", "dl")
    assert done.returncode == 0, done.stderr
    public = server.comps / SLUG / "data" / "public"
    for name in ("train.csv", "test.csv", "sample_submission.csv"):
        got = student.home / "dl" / name
        assert hashlib.sha256(got.read_bytes()).digest() == hashlib.sha256((public / name).read_bytes()).digest()
    assert not list((student.home / "dl").glob("solution*")) and not list((student.home / "dl").glob("*.part"))

    good = predictions(server)
    bad = student.write("bad.csv", good.replace(b",0.", b",1.7", 1))
    done = student.run("compete", "submit", "-c", SLUG, "-f", str(bad), "-m", "typo")
    assert done.returncode == 1
    assert "not a valid submission" in done.stderr and "did not count" in done.stderr
    assert re.search(r"┃ row\s*┃ column\s*┃ problem", done.stderr), done.stderr  # the problem table
    assert re.search(r"│ 1\s+│ y\s+│ .*1\.7", done.stderr), done.stderr       # data row 1, column y, the value
    done = student.run("compete", "submit", "-c", SLUG, "-f", str(student.write("sub.csv", good)), "-m", "first")
    assert done.returncode == 0, done.stderr
    assert "scored" in done.stdout and "4 of 5 submissions left today" in done.stdout, done.stdout
    sub_id = done.stdout.split("submission ", 1)[1].split()[0]

    done = student.run("compete", "submissions", "-c", SLUG)
    assert "first" in done.stdout and "complete" in done.stdout
    done = student.run("compete", "leaderboard", "-c", SLUG)
    assert done.returncode == 0 and "alice" in done.stdout
    done = student.run("compete", "leaderboard", "-c", SLUG, "--private")
    assert done.returncode == 1 and "deadline" in done.stderr
    done = student.run("compete", "select", "-c", SLUG, sub_id)
    assert done.returncode == 0 and f"Selected: {sub_id}" in done.stdout
    done = student.run("compete", "team", "-c", SLUG, "--create", "Grapes", "--invite", "bob")
    assert done.returncode == 0 and "Grapes" in done.stdout and "invited: bob" in done.stdout, done.stdout

    # a container: nothing saved, only the two variables
    bob = {"COURSEBENCH_SERVER": url, "COURSEBENCH_TOKEN": server.tokens["bob"], "HOME": str(student.home / "bob")}
    done = student.run("compete", "team", "-c", SLUG, "--join", "Grapes", env=bob)
    assert done.returncode == 0 and "alice, bob" in done.stdout, done.stdout + done.stderr
    done = student.run("compete", "team", "-c", SLUG, "--leave", env=bob)
    assert done.returncode == 0 and "You left" in done.stdout, done.stdout + done.stderr
    assert not (student.home / "bob").exists()

    # the student path loads no database driver, no services, no pandas
    for verb in (["compete", "list"], ["compete", "submissions", "-c", SLUG]):
        done = student.run(*verb, python=IMPORTS)
        probe = json.loads(done.stdout.strip().splitlines()[-1])
        assert probe["code"] in (0, None) and probe["heavy"] == [], probe


def test_submit_through_the_library_waits_by_polling(server: Server, monkeypatch, tmp_path) -> None:
    """A server that answers 202 at once (scoring elsewhere): the client polls
    ``GET /api/v1/submissions/{id}`` until the score is there, telling its progress callback."""
    from coursebench.client import submitting as submissions

    monkeypatch.setenv("COURSEBENCH_CONFIG_DIR", str(tmp_path))
    monkeypatch.setattr(submissions, "SERVER_WAIT", 0.0)  # ask the server not to hold the upload
    stages: list[str] = []
    result = submissions.send(SLUG, predictions(server, 3), "polled", wait=60, server=server.url,
                              token=server.tokens["carol"], progress=lambda stage, done, total: stages.append(stage))
    assert result.status == "complete" and result.public_score is not None, result
    assert stages[0] == "uploading"
    with server.api("carol") as api:
        assert api.get(f"/api/v1/submissions/{result.id}").json()["message"] == "polled"


def _zip_bomb(gigabytes: int = 3) -> bytes:
    """A .zip whose one csv unpacks to ``gigabytes`` GiB of zeros (a few MiB on the wire):
    the same self-contained deflate segment of 1 MiB repeated, then the final block."""
    import struct
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = packer.compress(b"0" * 2**20) + packer.flush(zlib.Z_FULL_FLUSH)
    data = segment * (1024 * gigabytes) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    size, name = 1024 * gigabytes * 2**20, b"submission.csv"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(data), size & 0xFFFFFFFF, len(name), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, 0, len(data), size & 0xFFFFFFFF,
                          len(name), 0, 0, 0, 0, 0, 0)
    offset = len(local) + len(name) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), offset, 0)
    return local + name + data + central + name + end


def test_malformed_files_are_refused_with_problems_and_the_quota_untouched(server: Server) -> None:
    good = predictions(server, 5).decode()
    header, *rows = good.strip().split("\n")
    ids = [r.split(",")[0] for r in rows]
    cases = {
        "bad header": ("bad.csv", ("identifier,y\n" + "\n".join(rows)).encode(), None),
        "wrong id set": ("ids.csv", (header + "\n" + "\n".join(f"{int(i) + 10_000},0.5" for i in ids)).encode(), "id"),
        "NaN": ("nan.csv", good.replace(rows[3], f"{ids[3]},nan").encode(), "y"),
        "duplicate ids": ("dup.csv", good.replace(rows[4], f"{ids[3]},0.5").encode(), "id"),
        "binary junk": ("junk.csv", bytes(range(256)) * 64, None),
        "zip bomb": ("bomb.zip", _zip_bomb(), None),
        "broken notebook": ("model.ipynb", b'{"cells": [', None),
        "huge line": ("long.csv", (header + "\n" + ids[0] + "," + "9" * 5_000_000 + "\n" + "\n".join(rows[1:])).encode(),
                      None),
    }
    with server.api("carol") as api:
        before = api.get(f"/api/v1/competitions/{SLUG}/quota").json()
        count = len(api.get(f"/api/v1/competitions/{SLUG}/submissions").json())
        for label, (name, data, column) in cases.items():
            answer = api.post(f"/api/v1/competitions/{SLUG}/submissions", files={"file": (name, data)})
            assert answer.status_code == 422, (label, answer.status_code, answer.text[:300])
            body = answer.json()
            assert body["error"] == "submission_invalid" and body["problems"], (label, body)
            assert all(p["message"] and "fix" in p for p in body["problems"]), (label, body)
            if column:
                assert any(p["column"] == column and p["row"] for p in body["problems"]), (label, body["problems"])
        assert api.get(f"/api/v1/competitions/{SLUG}/quota").json() == before
        assert len(api.get(f"/api/v1/competitions/{SLUG}/submissions").json()) == count
