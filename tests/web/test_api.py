"""The REST API against a real uvicorn server, over SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import DEADLINE, SLUG, Site, build_site, predictions

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_submit_score_rank_and_errors(any_site: Site) -> None:
    alice = any_site.client("alice")
    ok = alice.post(f"/api/v1/competitions/{SLUG}/submissions", params={"wait": 30},
                    files={"file": ("good.csv", predictions(any_site, 0.8))}, data={"message": "first"})
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["status"] == "complete" and 0.5 < body["public_score"] <= 1.0
    assert body["rank"] == 1 and body["private_score"] is None  # hidden before the deadline
    assert ok.headers["location"] == f"/api/v1/submissions/{body['id']}"

    bad = predictions(any_site, 0.8).decode().splitlines()
    bad[3] = bad[3].split(",")[0] + ",banana"
    refused = alice.post(f"/api/v1/competitions/{SLUG}/submissions",
                         files={"file": ("bad.csv", "\n".join(bad).encode())})
    assert refused.status_code == 422
    err = refused.json()
    assert err["error"] == "submission_invalid"
    assert any(p["row"] == 3 and p["column"] == "y" for p in err["problems"]), err
    quota = alice.get(f"/api/v1/competitions/{SLUG}/quota").json()
    assert quota["used"] == 1 and quota["remaining"] == 4  # the invalid file did not count

    mine = alice.get(f"/api/v1/competitions/{SLUG}/submissions").json()
    assert [m["id"] for m in mine] == [body["id"]]
    assert any_site.client("bob").get(f"/api/v1/submissions/{body['id']}").status_code == 404
    assert any_site.client().get(f"/api/v1/submissions/{body['id']}").status_code == 401
    board = any_site.client().get(f"/api/v1/competitions/{SLUG}/leaderboard").json()
    assert [r["team"] for r in board["rows"]] == ["alice"]


def test_quota_exact_under_concurrency(any_site: Site) -> None:
    data = predictions(any_site, 0.6)

    def send(i: int) -> int:
        with any_site.client("bob") as c:
            return c.post(f"/api/v1/competitions/{SLUG}/submissions",
                          files={"file": (f"p{i}.csv", data)}).status_code

    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(send, range(24)))
    assert sorted(set(codes)) in ([202, 429], [201, 202, 429], [201, 429])
    assert sum(c in (201, 202) for c in codes) == 5
    quota = any_site.client("bob").get(f"/api/v1/competitions/{SLUG}/quota").json()
    assert quota["used"] == 5
    from .conftest import wait_scored

    wait_scored(any_site, "bob", 5)


def test_private_board_after_deadline_and_finals(any_site: Site) -> None:
    alice, bob, prof = any_site.client("alice"), any_site.client("bob"), any_site.client("prof")
    ids = {}
    for who, q, pq in (("alice", 0.9, 0.2), ("bob", 0.5, 0.9)):
        r = any_site.client(who).post(f"/api/v1/competitions/{SLUG}/submissions", params={"wait": 30},
                                      files={"file": ("p.csv", predictions(any_site, q, private_quality=pq))})
        assert r.status_code == 201
        ids[who] = r.json()["id"]
    assert alice.put(f"/api/v1/competitions/{SLUG}/selection", json={"ids": [ids["bob"]]}).status_code == 422
    assert alice.put(f"/api/v1/competitions/{SLUG}/selection", json={"ids": [ids["alice"]]}).json() == {
        "selected": [ids["alice"]]}
    assert alice.get(f"/api/v1/competitions/{SLUG}/leaderboard", params={"private": True}).status_code == 403
    assert alice.get(f"/api/v1/competitions/{SLUG}/shakeup").status_code == 403
    assert prof.get(f"/api/v1/competitions/{SLUG}/leaderboard", params={"private": True}).status_code == 200
    assert alice.post("/api/v1/admin/clock", json={"now": "2026-03-21T00:00:00Z"}).status_code == 403

    moved = prof.post("/api/v1/admin/clock", json={"now": (DEADLINE + dt.timedelta(minutes=1)).isoformat()})
    assert moved.status_code == 200
    private = alice.get(f"/api/v1/competitions/{SLUG}/leaderboard", params={"private": True}).json()
    assert [r["team"] for r in private["rows"]] == ["bob", "alice"]
    shake = bob.get(f"/api/v1/competitions/{SLUG}/shakeup").json()
    assert {r["team"]: r["change"] for r in shake["rows"]} == {"bob": 1, "alice": -1}
    assert alice.get(f"/api/v1/submissions/{ids['alice']}").json()["private_score"] is not None
    late = alice.post(f"/api/v1/competitions/{SLUG}/submissions", files={"file": ("p.csv", predictions(any_site, 1))})
    assert late.status_code == 409 and late.json()["error"] == "competition_closed"
    export = prof.get(f"/api/v1/competitions/{SLUG}/export").json()
    assert {r["participant"]: r["private_rank"] for r in export if r["private_rank"]} == {"bob": 1, "alice": 2}
    assert alice.get(f"/api/v1/competitions/{SLUG}/export").status_code == 403


def test_upload_limit_and_rate_limit(tmp_path) -> None:
    site = build_site(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, submit_rate=3, max_upload=200_000)
    try:
        c = site.client("carol")
        big = b"id,y\n" + b"1,0.5\n" * 60_000
        r = c.post(f"/api/v1/competitions/{SLUG}/submissions", files={"file": ("big.csv", big)})
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
        codes = [c.post(f"/api/v1/competitions/{SLUG}/submissions", files={"file": ("x.csv", b"id,y\n")}).status_code
                 for _ in range(5)]
        assert codes[:3] == [422, 422, 422] and codes[3:] == [429, 429]
        limited = c.post(f"/api/v1/competitions/{SLUG}/submissions", files={"file": ("x.csv", b"id,y\n")})
        assert limited.json()["error"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
        assert c.get(f"/api/v1/competitions/{SLUG}/quota").json()["used"] == 0  # nothing counted
        assert site.client("alice").post(f"/api/v1/competitions/{SLUG}/submissions",
                                         files={"file": ("x.csv", b"id,y\n")}).status_code == 422  # per user
    finally:
        assert site.server is not None
        site.server.stop()
        site.service.db.dispose()  # type: ignore[attr-defined]
