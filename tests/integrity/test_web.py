"""The competition's integrity page in the web admin: instructors only, the evidence
side by side, each section's CSV."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from leaderboard.services import Service
from leaderboard.web.app import create_app
from leaderboard.web.config import WebSettings
from tests.integrity.test_competition import run_competition


def _login(client: TestClient, token: str) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, "no CSRF token on the login page"
    done = client.post("/login", data={"token": token, "csrf_token": csrf.group(1), "next": "/"},
                       follow_redirects=False)
    assert done.status_code == 303, done.text


def test_integrity_page_for_instructors_only(tmp_path: Path) -> None:
    svc, _ = run_competition(tmp_path, "multiclass")
    teacher = svc.add_participant("teacher", role="instructor")
    student = svc.add_participant("alice")
    app = create_app(svc, WebSettings(workers=0))
    with TestClient(app) as visitor:
        assert visitor.get("/admin/c/demo/integrity", follow_redirects=False).status_code in (401, 303)
    with TestClient(app) as client:
        _login(client, student)
        assert client.get("/admin/c/demo/integrity").status_code == 403
    with TestClient(app) as client:
        _login(client, teacher)
        page = client.get("/admin/c/demo/integrity")
        assert page.status_code == 200, page.text[:500]
        text = page.text
        assert "Not a verdict" in text and "copier" in text and "forest" in text
        assert "data:image/png;base64," in text and 'class="integrity-report"' in text
        assert "<script" not in text.split('class="integrity-report"', 1)[1]  # nothing of the report runs
        table = client.get("/admin/c/demo/integrity/predictions.csv")
        assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
        header, first = table.text.splitlines()[:2]
        assert header.startswith("rank,a,b,") and "copier" in first and first.endswith("True")
        assert client.get("/admin/c/demo/integrity/nothing.csv").status_code == 404
    # a web process without the private data (docs/deploy.md) says where the report is made
    hidden = svc.competitions_dir / "demo" / "data" / "private"
    hidden.rename(hidden.with_name("elsewhere"))
    try:
        bare = Service(svc.db, svc.competitions_dir, migrate=False)
        with TestClient(create_app(bare, WebSettings(workers=0))) as client:
            _login(client, teacher)
            page = client.get("/admin/c/demo/integrity")
            assert page.status_code == 422 and "coursebench compete integrity demo" in page.text, page.text[:500]
            assert client.get("/c/demo").status_code == 200  # the rest of the site is served
    finally:
        hidden.with_name("elsewhere").rename(hidden)
