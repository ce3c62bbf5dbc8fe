"""The cached hot path (anonymous leaderboard page and API served from memory, ETags,
the shared page for visitors) must answer exactly what the full stack answers: fresh after
a new score, personal parts only for their owner, private boards still hidden."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import DEADLINE, SLUG, Site, predictions, wait_scored

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

PAGE = f"/c/{SLUG}/leaderboard"
API = f"/api/v1/competitions/{SLUG}/leaderboard"


def _submit(site: Site, who: str, quality: float) -> None:
    with site.client(who) as c:
        r = c.post(f"/api/v1/competitions/{SLUG}/submissions", params={"wait": 30},
                   files={"file": ("p.csv", predictions(site, quality))})
        assert r.status_code in (201, 202), r.text


def test_etags_304_and_fresh_after_a_new_score(site: Site) -> None:
    _submit(site, "alice", 0.8)
    anon = site.client()
    for path, kind in ((API, "application/json"), (PAGE, "text/html")):
        first = anon.get(path)
        assert first.status_code == 200 and first.headers["content-type"].startswith(kind)
        assert first.headers["cache-control"] == "no-cache" and "set-cookie" not in first.headers
        etag = first.headers["etag"]
        same = anon.get(path, headers={"If-None-Match": etag})
        if path == API or same.status_code == 304:  # the page's shell shows the clock to the second
            assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
        assert anon.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    etag = anon.get(API).headers["etag"]
    assert [r["team"] for r in anon.get(API).json()["rows"]] == ["alice"]

    _submit(site, "bob", 0.9)  # scored by this server: the caches must show it at once
    wait_scored(site, "bob", 1)
    fresh = anon.get(API, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag
    assert {r["team"] for r in fresh.json()["rows"]} == {"alice", "bob"}
    page = anon.get(PAGE).text
    assert 'id="t' in page and "bob" in page and "alice" in page


def test_personal_parts_stay_personal(site: Site) -> None:
    _submit(site, "alice", 0.8)
    _submit(site, "bob", 0.6)
    wait_scored(site, "bob", 1)
    anon = site.client()
    before = anon.get(PAGE).text  # the shared page for visitors, cached
    alice = site.browser_login("alice")
    mine = alice.get(PAGE)
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store" and "etag" not in mine.headers
    assert mine.text.count('aria-current="true" class="you') == 1 and "Your team <strong>alice</strong>" in mine.text
    assert "Alice A." in mine.text and 'action="/logout"' in mine.text
    for html in (before, anon.get(PAGE).text):  # after alice's visit too: nothing of hers is shared
        assert 'class="you' not in html and "Your team" not in html and "Alice A." not in html
        assert 'action="/logout"' not in html and 'name="csrf_token"' not in html
    bob = site.browser_login("bob")
    theirs = bob.get(PAGE).text
    assert "Your team <strong>bob</strong>" in theirs and theirs.count('aria-current="true" class="you ') == 1
    assert 'id="t' in theirs and "Alice A." not in theirs


def test_private_boards_and_errors_unchanged(site: Site) -> None:
    _submit(site, "alice", 0.8)
    anon, alice, prof = site.client(), site.client("alice"), site.client("prof")
    assert anon.get(API).status_code == 200
    assert anon.get(API, params={"private": "true"}).status_code == 403
    assert alice.get(API, params={"private": "true"}).status_code == 403
    assert prof.get(API, params={"private": "true"}).status_code == 200
    assert anon.get(PAGE, params={"board": "private"}).status_code == 403
    assert anon.get(PAGE, params={"board": "nonsense"}).status_code == 400
    missing = anon.get("/api/v1/competitions/nope/leaderboard")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert anon.get("/c/nope/leaderboard").status_code == 404
    assert "Private — after the deadline" in anon.get(PAGE).text

    # after the deadline the shared visitor page changes at once: the private board for all
    moved = prof.post("/api/v1/admin/clock", json={"now": (DEADLINE + dt.timedelta(hours=1)).isoformat()})
    assert moved.status_code == 200
    page = anon.get(PAGE).text
    assert f'href="/c/{SLUG}/leaderboard?board=private"' in page and "ended" in page
    assert anon.get(API, params={"private": "true"}).status_code == 200


def test_cached_answers_are_gzip_for_clients_that_take_it(site: Site, monkeypatch) -> None:
    import gzip

    from leaderboard.web import cache

    monkeypatch.setattr(cache, "GZIP_MIN_BYTES", 200)  # a one-row board's JSON is small
    _submit(site, "alice", 0.8)
    anon = site.client()
    for path in (API, PAGE):
        plain = anon.get(path, headers={"Accept-Encoding": "identity"})
        packed = anon.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert plain.status_code == packed.status_code == 200
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == "gzip"
        assert plain.headers["vary"] == packed.headers["vary"]  # the same for both, naming it once:
        assert [v.strip() for v in packed.headers["vary"].split(",")].count("Accept-Encoding") == 1
        if path == PAGE:  # a page depends on the session cookie too
            assert "Cookie" in packed.headers["vary"]
        assert int(packed.headers["content-length"]) < len(plain.content)  # sent compressed
        tag = packed.headers["etag"]
        assert tag.endswith('-gz"') and tag != plain.headers["etag"]  # one ETag per encoding
        if path == API:  # (the page's shell shows the clock to the second)
            assert packed.content == plain.content  # httpx decodes: the same document
            again = anon.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
            assert again.status_code == 304
            assert anon.get(path, headers={"Accept-Encoding": "identity", "If-None-Match": tag}).status_code == 200
        else:
            assert "alice" in packed.text
    refused = anon.get(API, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
    assert gzip.decompress(gzip.compress(refused.content)) == refused.content


def test_the_front_door_answers_as_the_full_stack(site: Site) -> None:
    """Visitors' leaderboards are answered by leaderboard.web.fastpath in front of FastAPI's
    routing; a query string with the default values (or a token) takes the full stack: the
    same answer, headers and all."""
    from leaderboard.web import fastpath

    _submit(site, "alice", 0.8)
    anon = site.client()
    for path, query in ((API, {"private": "false"}), (PAGE, {"board": "public"})):
        for encoding in ("gzip", "identity"):
            headers = {"Accept-Encoding": encoding}
            for _ in range(3):  # the page shows the clock to the second: retry across a tick
                fast, full = anon.get(path, headers=headers), anon.get(path, params=query, headers=headers)
                if fast.headers["etag"] == full.headers["etag"]:
                    break
            assert fast.status_code == full.status_code == 200
            assert fast.content == full.content, (path, encoding)
            for name in ("etag", "vary", "cache-control", "content-type", "content-encoding"):
                assert fast.headers.get(name) == full.headers.get(name), (path, encoding, name)
    with_token = site.client("bob").get(API)
    assert with_token.status_code == 200 and with_token.content == anon.get(API).content
    assert fastpath._API.fullmatch(API) and fastpath._PAGE.fullmatch(PAGE)  # the paths it takes are these
