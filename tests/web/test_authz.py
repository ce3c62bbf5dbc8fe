"""Authorisation: every route, crawled as student A and as an anonymous visitor, shows
nothing of student B's private data nor anything of data/private; forms need CSRF."""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import SLUG, Site, extract_csrf, predictions

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

B_MESSAGE = "bobs-secret-message-7f3a"
B_FILE = "bob_secret_file_91c2.csv"
B_FAIL_MESSAGE = "bobs-failed-attempt-55e1"


def _paths(site: Site, app_routes: list, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(method, concrete path) for every route of the app, parameters filled in with
    B's ids, A's ids, and nasty values."""
    out = []
    fills = {"slug": [SLUG, "nope", "..", "demo%2F..%2Fdata%2Fprivate"],
             "name": ["train.csv", "solution.csv", "folds.csv", "..%2Fprivate%2Fsolution.csv", "../private/solution.csv"],
             "submission_id": [str(ids["bob"]), str(ids["bob_failed"]), str(ids["alice"]), "999999"],
             "action": ["close", "rescore", "prepare"]}
    for route in app_routes:
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None) or {"GET"}
        if not path or path.startswith("/static") or path in ("/api/v1/docs", "/api/v1/docs/oauth2-redirect"):
            continue
        params = re.findall(r"{(\w+)(?::\w+)?}", path)
        variants = [path]
        for p in params:
            variants = [v.replace("{" + p + "}", val, 1).replace("{" + p + ":path}", val, 1)
                        for v in variants for val in fills.get(p, ["x"])]
        for method in methods:
            if method in ("HEAD",):
                continue
            out += [(method, v) for v in variants]
    return out


def test_crawl_as_student_a_and_anonymous(site: Site) -> None:
    bob = site.client("bob")
    r = bob.post(f"/api/v1/competitions/{SLUG}/submissions", params={"wait": 30},
                 files={"file": (B_FILE, predictions(site, 0.7, seed=5))}, data={"message": B_MESSAGE})
    assert r.status_code == 201
    bob_sub = r.json()
    failed = bob.post(f"/api/v1/competitions/{SLUG}/submissions", params={"wait": 30},
                      files={"file": ("nb_secret.ipynb", b'{"cells": "not a notebook"}')}, data={"message": B_FAIL_MESSAGE})
    assert failed.status_code == 422
    # a stored notebook that fails in the runner is not needed here: B's complete submission is the secret
    alice = site.client("alice")
    a = alice.post(f"/api/v1/competitions/{SLUG}/submissions", params={"wait": 30},
                   files={"file": ("alice.csv", predictions(site, 0.6, seed=6))}, data={"message": "alice's note"})
    assert a.status_code == 201
    ids = {"bob": bob_sub["id"], "bob_failed": bob_sub["id"], "alice": a.json()["id"]}
    bob_private = site.client("prof").get(f"/api/v1/submissions/{ids['bob']}").json()["private_score"]
    assert bob_private is not None

    solution = (site.data / "private" / "solution.csv").read_text().splitlines()
    folds = (site.data / "private" / "folds.csv").read_text().splitlines()
    secrets = [B_MESSAGE, B_FILE, B_FAIL_MESSAGE, site.tokens["bob"], site.tokens["prof"],
               f"{bob_private:.5f}", repr(bob_private), solution[0], solution[1], "Usage", folds[0] if folds[0] != "id" else folds[1]]
    from leaderboard.services import hash_token

    secrets.append(hash_token(site.tokens["bob"]))

    from leaderboard.web.routes import admin, api, pages

    app = site.server.server.config.app  # type: ignore[union-attr]
    routes = [*app.routes, *api.router.routes, *pages.router.routes, *admin.router.routes]
    paths = _paths(site, routes, ids)
    assert len(paths) > 60
    a_cookie = site.browser_login("alice")
    clients = {"anonymous": httpx.Client(base_url=site.url, timeout=60),
               "student A (cookie)": a_cookie, "student A (token)": alice}
    seen_ok = 0
    csrf = extract_csrf(a_cookie.get(f"/c/{SLUG}").text)
    paths = [p for p in paths if p != ("POST", "/logout")] + [("POST", "/logout")]  # logging out last
    for who, client in clients.items():
        for method, path in paths:
            if method == "GET":
                response = client.get(path)
            else:  # forms and API writes, with A's CSRF token where A has a session
                data = {"csrf_token": csrf} if who.endswith("(cookie)") else {}
                response = client.request(method, path, data=data or None)
            body = response.text
            assert response.status_code < 500, (who, method, path, body[:500])
            for secret in secrets:
                assert secret not in body, f"{who} saw {secret!r} at {method} {path}"
            for header in response.headers.values():
                assert "private" not in header.lower() or header.startswith("private, max-age"), (path, header)
            seen_ok += response.status_code == 200
    assert seen_ok > 30
    # nothing the crawl sent changed the competition: still open, nobody else's selection
    assert site.client("prof").get(f"/api/v1/competitions/{SLUG}").json()["closed"] is False
    assert site.service.submission(ids["bob"]).message == B_MESSAGE  # type: ignore[attr-defined]


def test_private_data_never_downloadable(site: Site) -> None:
    for client in (httpx.Client(base_url=site.url), site.client("alice"), site.client("prof")):
        for path in ("/c/demo/data/solution.csv", "/c/demo/data/..%2Fprivate%2Fsolution.csv",
                     "/c/demo/data/%2e%2e/private/solution.csv", "/c/demo/data/../private/solution.csv",
                     "/api/v1/competitions/demo/files/folds.csv", "/api/v1/competitions/demo/files/..%2F..%2Fcompetition.toml",
                     "/static/../competitions/demo/data/private/solution.csv", "/static/%2e%2e/%2e%2e/db.py"):
            r = client.get(path)
            assert r.status_code in (404, 400), (path, r.status_code)
            assert "Usage" not in r.text
        assert client.get("/c/demo/data/train.csv").status_code == 200


def test_forms_need_csrf_and_roles(site: Site) -> None:
    a = site.browser_login("alice")
    for path, data in ((f"/c/{SLUG}/select", {"selected": "1"}), ("/logout", {}), ("/admin/c/demo/close", {})):
        r = a.post(path, data=data)
        assert r.status_code == 403, path
        r = a.post(path, data={**data, "csrf_token": "forged"})
        assert r.status_code == 403, path
    csrf = extract_csrf(a.get("/").text)
    assert a.post("/admin/c/demo/close", data={"csrf_token": csrf}).status_code == 403  # a student
    for path in ("/admin", "/admin/roster", "/admin/new", "/admin/c/demo/activity", "/admin/c/demo/export.csv",
                 "/c/demo/leaderboard?board=private"):
        assert a.get(path).status_code == 403, path
        assert httpx.get(site.url + path).status_code in (401, 403), path
    # a login form without its CSRF cookie is refused too
    fresh = httpx.Client(base_url=site.url)
    assert fresh.post("/login", data={"token": site.tokens["alice"], "csrf_token": "x"}).status_code == 403
    # a wrong token: 401 and the page says why; no session
    page = fresh.get("/login")
    r = fresh.post("/login", data={"token": "wrong", "csrf_token": extract_csrf(page.text)})
    assert r.status_code == 401 and "not known" in r.text
    # a replaced token logs its sessions out
    site.service.add_participant("alice", display_name="Alice A.")  # type: ignore[attr-defined]
    site.server.server.config.app.state.cache.forget_identity(  # type: ignore[union-attr]
        site.service.participant("alice").id)  # type: ignore[attr-defined]
    assert a.get(f"/c/{SLUG}/submissions").status_code == 303
