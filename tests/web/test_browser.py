"""The whole flow in a real browser (Debian's Chromium through Playwright, headless):
log in, upload a valid and an invalid file, see the inline error, see the leaderboard
update, select finals, move the clock past the deadline, see the private leaderboard
and the shake-up.  Screenshots go to build/test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import chromium_browser

from .conftest import ARTIFACTS, DEADLINE, SLUG, Site, predictions

SHOTS = ARTIFACTS / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::ResourceWarning")]


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as b:
        yield b


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page, site: Site, who: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(site.url + "/login")
    page.get_by_label("Token").fill(site.tokens[who])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(site.url + "/")


def test_student_flow_to_private_leaderboard(site: Site, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # two rivals on the board already: bob is good on the public part only, carol on both
    for who, q, pq in (("bob", 0.95, 0.2), ("carol", 0.6, 0.6)):
        r = site.client(who).post(f"/api/v1/competitions/{SLUG}/submissions", params={"wait": 30},
                                  files={"file": ("p.csv", predictions(site, q, seed=3, private_quality=pq))})
        assert r.status_code == 201
    good, better, bad = tmp_path / "good.csv", tmp_path / "better.csv", tmp_path / "broken.csv"
    good.write_bytes(predictions(site, 0.3, seed=1, private_quality=0.9))
    better.write_bytes(predictions(site, 0.92, seed=2, private_quality=0.5))
    lines = predictions(site, 0.5).decode().splitlines()
    lines[5] = lines[5].split(",")[0] + ",not-a-number"
    bad.write_text("\n".join(lines) + "\n")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(site.url + "/")
    shot(page, "01-competitions-anonymous")
    login(page, site, "alice")
    assert page.get_by_text("Alice A.").is_visible()

    page.get_by_role("link", name="Test demo").click()
    assert page.get_by_role("link", name="train.csv").is_visible()
    assert "left" in page.locator("[data-countdown-for]").first.inner_text()
    shot(page, "02-competition")

    # an invalid file: the error is shown inline, naming the row and the column
    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_label("Prediction file").set_input_files(str(bad))
    page.get_by_label("Message").fill("my broken try")
    page.get_by_role("button", name="Submit").click()
    alert = page.get_by_role("alert")
    assert "not a valid submission" in alert.inner_text()
    cells = page.locator("table.problems tbody tr").first.inner_text()
    assert "row 5" in cells and "y" in cells
    assert page.get_by_label("Message").input_value() == "my broken try"  # nothing typed is lost
    shot(page, "03-invalid-inline-error")

    # a valid file: scored, the leaderboard has us
    page.get_by_label("Prediction file").set_input_files(str(good))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/submissions?new=*")
    assert "scored" in page.get_by_role("status").first.inner_text()
    shot(page, "04-scored")
    page.get_by_role("link", name="Leaderboard", exact=True).click()
    you = page.locator("tr.you")
    assert you.count() == 1 and "alice" in you.inner_text()
    first_rank = int(you.locator("td.rank").inner_text().split()[0])
    assert first_rank == 3
    shot(page, "05-leaderboard-you")

    page.goto(f"{site.url}/c/{SLUG}/submit")
    page.get_by_label("Prediction file").set_input_files(str(better))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/submissions?new=*")
    page.get_by_role("link", name="Leaderboard", exact=True).click()
    assert int(page.locator("tr.you td.rank").inner_text().split()[0]) < first_rank  # the board updated
    assert page.locator("svg.whisker").count() == 3
    page.wait_for_function("(() => { const i = document.querySelector('img.chart');"
                           " return i.complete && i.naturalWidth > 0; })()", timeout=30000)  # the SVG chart drew
    shot(page, "06-leaderboard-updated")

    # select finals: the first (weaker public, stronger private) submission only
    page.get_by_role("link", name="My submissions").click()
    boxes = page.get_by_role("checkbox")
    assert boxes.count() == 2
    boxes.nth(1).check()  # oldest is last
    page.get_by_role("button", name="Save final selection").click()
    assert "saved" in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("checkbox").nth(1).is_checked() and not page.get_by_role("checkbox").nth(0).is_checked()
    shot(page, "07-finals-selected")
    page.goto(f"{site.url}/c/{SLUG}/leaderboard?board=private")
    assert page.get_by_role("heading", name="Not allowed").is_visible()  # not before the deadline

    # the instructor moves the test clock past the deadline
    prof = browser.new_context().new_page()
    login(prof, site, "prof")
    prof.goto(site.url + "/admin/clock")
    prof.get_by_label("Set the time to").fill((DEADLINE + dt.timedelta(hours=1)).isoformat())
    prof.get_by_role("button", name="Move the clock").click()
    prof.goto(site.url + "/admin")
    shot(prof, "08-instructor")

    page.goto(f"{site.url}/c/{SLUG}/leaderboard")
    page.get_by_role("link", name="Private").click()
    assert page.locator("tr.you td.rank").inner_text().split()[0] == "1"  # the selected final wins privately
    shake = page.locator("#shakeup")
    assert "Kendall" in shake.inner_text() and "▲" in shake.inner_text() and "▼" in shake.inner_text()
    shot(page, "09-private-leaderboard-shakeup")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    mobile = phone.new_page()
    login(mobile, site, "alice")
    mobile.goto(f"{site.url}/c/{SLUG}/leaderboard?board=private")
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, "the page itself must not scroll sideways on a phone (tables scroll inside)"
    shot(mobile, "10-phone-private-leaderboard")
    for ctx in (context, phone, prof.context):
        ctx.close()


def test_pages_work_without_javascript(site: Site, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    login(page, site, "carol")
    page.goto(f"{site.url}/c/{SLUG}/submit")
    path = ARTIFACTS / "nojs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(predictions(site, 0.7, seed=9))
    page.get_by_label("Prediction file").set_input_files(str(path))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/submissions?new=*")
    assert "scored" in page.get_by_role("status").first.inner_text()
    shot(page, "11-no-javascript-submissions")
    context.close()
    path.unlink(missing_ok=True)
