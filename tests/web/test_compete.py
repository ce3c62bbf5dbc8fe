"""``coursebench.compete`` — the JupyterLab client — against a live server."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from .conftest import SLUG, Site, predictions

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_submit_dataframe_shows_score_rank_or_problems(site: Site, tmp_path, monkeypatch) -> None:
    from coursebench import compete

    monkeypatch.setenv("COURSEBENCH_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.delenv("COURSEBENCH_TOKEN", raising=False)
    monkeypatch.delenv("COURSEBENCH_SERVER", raising=False)
    with pytest.raises(compete.CompeteError, match="no token"):
        compete.submit(SLUG, pd.DataFrame({"id": [1]}))
    with pytest.raises(compete.CompeteError, match="not known"):
        compete.login("wrong-token", server=site.url)
    assert compete.login(site.tokens["alice"], server=site.url) == "alice"
    assert (tmp_path / "cfg" / "credentials.json").stat().st_mode & 0o777 == 0o600

    frame = pd.read_csv(io.BytesIO(predictions(site, 0.8)))
    result = compete.submit(SLUG, frame, message="from jupyter")
    assert result.ok and result.status == "complete" and result.rank == 1
    html = result._repr_html_()
    assert f"{result.public_score:.5f}" in html and "#1" in html and "leaderboard" in html

    broken = frame.copy()
    broken.loc[2, "y"] = 1.5
    bad = compete.submit(SLUG, broken)
    assert not bad.ok and bad.status == "invalid"
    assert any(p.row == 3 and p.column == "y" for p in bad.problems), bad.problems
    assert "row" in bad._repr_html_() and "did not count" in bad._repr_html_()

    subs = compete.submissions(SLUG)
    assert list(subs["message"]) == ["from jupyter"]
    board = compete.leaderboard(SLUG)
    assert list(board["team"]) == ["alice"]
    with pytest.raises(compete.CompeteError, match=r"after the deadline|open until"):
        compete.leaderboard(SLUG, private=True)


def test_unreachable_server_says_so(tmp_path, monkeypatch) -> None:
    from coursebench import compete

    monkeypatch.setenv("COURSEBENCH_CONFIG_DIR", str(tmp_path))
    from .conftest import free_port

    with pytest.raises(compete.CompeteError, match="cannot reach"):
        compete.submit(SLUG, pd.DataFrame({"id": [1]}), server=f"http://127.0.0.1:{free_port()}", token="t")
