"""The course hub end to end, in a real browser (Debian's Chromium through Playwright):

student A logs into the hub → their own JupyterLab → the Assignment List fetches lab01 →
A solves it (the solution written through the Jupyter contents API) and submits → the
instructor collects and autogrades (``coursebench grade collect/autograde``, sandboxed) and
releases feedback → A fetches and reads the feedback → A submits predictions from a notebook
run in their server and sees their rank; the leaderboard logs A in through the hub (OAuth)
→ student B can open none of A's server, home, submission or feedback, nor anything of
source/, the gradebook or data/private: through the hub's URLs, the contents API, and from
inside B's own container.

Screenshots go to build/test-artifacts/hub/."""

from __future__ import annotations

import json
import re
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from tests.assignments.conftest import load_spec, submission
from tests.helpers import chromium_browser

from .conftest import INSTRUCTOR, SLUG, Hub

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::ResourceWarning")]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "hub"
A, B = "s01", "s02"
COURSE_ID = "dlc"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with chromium_browser() as b:
        yield b


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def hub_login(page, hub: Hub, user: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub.url + "/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.tokens[user])
    page.click("#login_submit")


def jupyter(page, method: str, path: str, body: dict | None = None, *, form: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    """A call to the user's Jupyter server from inside the page (its cookie and XSRF token)."""
    return page.evaluate(
        """async ([method, path, body, form]) => {
            const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '';
            const headers = {'X-XSRFToken': decodeURIComponent(xsrf)};
            let data = undefined;
            if (body) { headers['Content-Type'] = 'application/json'; data = JSON.stringify(body); }
            if (form) { data = new URLSearchParams(form); }
            const r = await fetch(path, {method, headers, body: data, credentials: 'same-origin'});
            const text = await r.text();
            let json = null; try { json = JSON.parse(text); } catch (e) {}
            return {status: r.status, json, text: text.slice(0, 400000), url: r.url};
        }""", [method, path, body, form])


def test_course_hub_end_to_end(hub: Hub, browser) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    exchange = str(hub.root / "build" / "hub" / "exchange")
    # the instructor releases lab01 into the exchange
    done = hub.cli("grade", "release", "lab01", "--exchange", exchange)
    assert done.returncode == 0, done.stdout + done.stderr

    # -- student A: the hub's login page → their own JupyterLab
    ctx_a = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx_a.new_page()
    t0 = time.monotonic()
    hub_login(page, hub, A)
    page.wait_for_url(f"**/user/{A}/lab**", timeout=240_000)
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    hub.timings["spawn_browser"] = time.monotonic() - t0
    shot(page, "01-student-lab")
    base = f"/user/{A}"
    env = hub.container(A).attrs["Config"]["Env"]
    assert any(e.startswith("COURSEBENCH_SERVER=http://127.0.0.1:") for e in env)
    assert f"COURSEBENCH_TOKEN={hub.tokens[A]}" in env

    # -- the Assignment List (nbgrader's lab extension) shows lab01 released; fetch it there
    page.get_by_text("Nbgrader", exact=True).click()
    page.get_by_text("Assignment List", exact=True).click()
    page.get_by_text("lab01").first.wait_for(timeout=60_000)
    shot(page, "02-assignment-list")
    page.get_by_role("button", name="Fetch", exact=True).click()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = jupyter(page, "GET", f"{base}/api/contents/lab01")
        if listed["status"] == 200:
            break
        time.sleep(0.5)
    assert listed["status"] == 200, listed
    assert "lab01.ipynb" in {f["name"] for f in listed["json"]["content"]}

    # -- A solves it (the contents API, as the notebook editor saves) and submits
    nb = jupyter(page, "GET", f"{base}/api/contents/lab01/lab01.ipynb?content=1")["json"]["content"]
    solved = submission(load_spec("lab01"), nbformat.from_dict(nb), "solved")
    r = jupyter(page, "PUT", f"{base}/api/contents/lab01/lab01.ipynb",
                {"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(solved))})
    assert r["status"] == 200, r
    page.get_by_role("button", name="Submit", exact=True).click()  # the Assignment List's own button
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = jupyter(page, "GET", f"{base}/assignments?course_id={COURSE_ID}")["json"]
        if any(a.get("status") == "submitted" for a in listed["value"]):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"lab01 was not submitted: {listed}")
    shot(page, "03-submitted")

    # -- the instructor collects, autogrades (in the sandbox) and releases feedback
    for args in (("grade", "collect", "lab01", "--exchange", exchange),
                 ("grade", "autograde", "lab01"),
                 ("grade", "feedback", "lab01", "--release", "--exchange", exchange)):
        done = hub.cli(*args, timeout=600)
        assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"

    # -- A fetches the feedback in the Assignment List and reads it
    r = jupyter(page, "POST", f"{base}/assignments/fetch_feedback", form={"course_id": COURSE_ID, "assignment_id": "lab01"})
    assert r["status"] == 200, r
    feedback = jupyter(page, "GET", f"{base}/api/contents/lab01/feedback")
    assert feedback["status"] == 200, feedback
    stamp = feedback["json"]["content"][0]["name"]
    html = jupyter(page, "GET", f"{base}/api/contents/lab01/feedback/{stamp}/lab01.html?content=1")
    assert html["status"] == 200, html
    score = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", html["json"]["content"])
    assert score and float(score.group(1)) == load_spec("lab01").auto_points, html["json"]["content"][:3000]
    hub.timings["feedback_score"] = float(score.group(1))
    page.goto(hub.url + f"{base}/files/lab01/feedback/{stamp}/lab01.html")
    shot(page, "04-feedback")
    assert page.get_by_text("Score").first.is_visible()
    page.goto(hub.url + f"{base}/lab")  # the files handler serves HTML sandboxed: back to JupyterLab
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)

    # -- A submits predictions from a notebook run in their own server, and sees the rank
    compete_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(f"""\
        import pandas as pd
        from coursebench import compete
        files = compete.files("{SLUG}", "data")
        sample = pd.read_csv("data/sample_submission.csv")
        sample[sample.columns[1]] = 0.5
        sample.to_csv("predictions.csv", index=False)
        result = compete.submit("{SLUG}", "predictions.csv", wait=120)
        print("RANK", result.rank, "SCORE", result.public_score)
        """))])
    r = jupyter(page, "PUT", f"{base}/api/contents/compete.ipynb",
                {"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(compete_nb))})
    assert r["status"] in (200, 201), r
    run = hub.container(A).exec_run(
        ["jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace", "compete.ipynb"],
        workdir="/home/student", environment=None)
    assert run.exit_code == 0, run.output.decode()[-3000:]
    out = jupyter(page, "GET", f"{base}/api/contents/compete.ipynb?content=1")["json"]["content"]
    printed = "".join(o.get("text", "") for o in out["cells"][0]["outputs"])
    assert "RANK 1" in printed, printed

    # -- the leaderboard logs A in through the hub (OAuth), no token typed
    page.goto(hub.leaderboard + f"/hub/login?next=/c/{SLUG}/leaderboard")
    page.wait_for_url(f"{hub.leaderboard}/c/{SLUG}/leaderboard", timeout=60_000)
    shot(page, "05-leaderboard-via-hub")
    assert page.get_by_text(f"Student {A}").first.is_visible()

    # -- student B: their own server, and nothing of A's or the instructor's
    ctx_b = browser.new_context()
    page_b = ctx_b.new_page()
    hub_login(page_b, hub, B)
    page_b.wait_for_url(f"**/user/{B}/lab**", timeout=240_000)
    for path in (f"/user/{A}/lab", f"/user/{A}/api/contents", f"/user/{A}/api/contents/lab01/lab01.ipynb",
                 f"/user/{A}/files/lab01/feedback/{stamp}/lab01.html", f"/user/{A}/assignments?course_id={COURSE_ID}"):
        resp = page_b.goto(hub.url + path)
        body = page_b.content()
        assert not (resp.status == 200 and page_b.url.startswith(hub.url + f"/user/{A}/")), (path, resp.status,
                                                                                          page_b.url)
        assert "lab01.ipynb" not in body and hub.tokens[A] not in body and "Score" not in body, path
    shot(page_b, "06-b-refused-a-server")
    page_b.goto(hub.url + f"/user/{B}/lab")  # back in B's own JupyterLab: its cookie and XSRF token
    page_b.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    mine = jupyter(page_b, "GET", f"/user/{B}/api/contents")
    assert mine["status"] == 200
    assert {f["name"] for f in mine["json"]["content"]} <= {"lab01", ".ipynb_checkpoints"}
    for path in ("..%2F..%2Fetc%2Fpasswd", "%2Fcourse", "..%2F..%2Fcourse%2Fassignments%2Fsource", f"..%2F{A}",
                 "source", "gradebook.db"):
        r = jupyter(page_b, "GET", f"/user/{B}/api/contents/{path}")
        assert r["status"] in (400, 403, 404), (path, r)
    # from inside B's container: no course, no other home, no gradebook, no private data
    box = hub.container(B)

    def sh(script: str) -> tuple[int, str]:
        done = box.exec_run(["sh", "-c", script])
        return done.exit_code, done.output.decode()

    assert sh("ls /course")[0] != 0
    assert sh("ls /home")[1].split() == ["student"]
    code, found = sh("find / \\( -path /proc -o -path /sys -o -path /dev -o -path /opt/venv \\) -prune -o "
                     "\\( -name gradebook.db -o -name solution.csv -o -path '*assignments/source*' "
                     "-o -path '*data/private*' -o -name '*s01*' \\) -print 2>/dev/null")
    assert found.strip() == "", found
    code, inbound = sh(f"ls -a /srv/nbgrader/exchange/{COURSE_ID}/inbound")
    assert code != 0 or A not in inbound, inbound  # B's own inbox: write-only
    code, theirs = sh(f"ls -aR /srv/nbgrader/exchange/{COURSE_ID}/feedback /srv/nbgrader/exchange")
    assert A not in theirs, theirs
    ctx_a.close()
    ctx_b.close()
    hub.timings["e2e"] = time.monotonic() - started
    print(f"\nhub e2e: {hub.timings}")


def test_instructor_server_has_formgrader_on_the_gradebook(hub: Hub) -> None:
    """The instructor's server mounts the course: formgrader lists lab01 from its gradebook
    (graded by the test above when run with it) and the student's submission."""
    # the instructor's server runs as uid 1000 too: the course is theirs (docs/hub.md)
    import os

    os.chmod(hub.root, 0o755)
    for folder, _dirs, files in os.walk(hub.root / "assignments"):
        for name in [folder, *(os.path.join(folder, f) for f in files)]:
            os.chown(name, 1000, 1000)
    hub.timings["spawn_instructor"] = hub.spawn(INSTRUCTOR)
    token = (hub.root / "build" / "hub" / "admin_token").read_text().strip()
    import httpx

    with httpx.Client(base_url=hub.url, headers={"Authorization": f"token {token}"}, timeout=60,
                      trust_env=False) as c:
        page = c.get(f"/user/{INSTRUCTOR}/formgrader", follow_redirects=True)  # → manage_assignments
        assert page.status_code == 200 and "formgrader" in page.text.lower(), page.text[:500]
        assignments = c.get(f"/user/{INSTRUCTOR}/formgrader/api/assignments")
        logs = hub.container(INSTRUCTOR).logs(tail=60).decode(errors="replace")
        assert assignments.status_code == 200, assignments.text[:500] + logs
        try:  # formgrader's API writes JSON as text/html
            names = {a["name"] for a in assignments.json()}
        except ValueError:
            pytest.fail(f"formgrader's assignments are not JSON: {assignments.text[:500]}\n{logs}")
        assert "lab01" in names, names
    env = hub.container(INSTRUCTOR).attrs["Config"]["Env"]
    assert any(b.endswith(":/course:rw") for b in hub.container(INSTRUCTOR).attrs["HostConfig"]["Binds"])
    assert "NVIDIA_VISIBLE_DEVICES=void" in env
    hub.stop_server(INSTRUCTOR)
