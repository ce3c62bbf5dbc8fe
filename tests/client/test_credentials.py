"""The student client's saved login: where it lives, mode 600, a broken file ignored with a warning."""

from __future__ import annotations

import stat
import sys

import pytest

from coursebench.client import credentials
from coursebench.client.http import CompeteError, config, server_url
from coursebench.errors import CoursebenchError


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSEBENCH_CONFIG_DIR", raising=False)
    monkeypatch.delenv("COURSEBENCH_SERVER", raising=False)
    monkeypatch.delenv("COURSEBENCH_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path


def test_written_for_the_owner_only_and_read_back(home, monkeypatch) -> None:
    assert credentials.credentials_path() == home / "xdg" / "coursebench" / "credentials.json"
    assert credentials.read_credentials() == {}
    path = credentials.write_credentials({"token": "t0k", "server": "http://course.example:8000"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.read_credentials() == {"token": "t0k", "server": "http://course.example:8000"}
    assert config(None, None) == ("http://course.example:8000", "t0k")
    monkeypatch.setenv("COURSEBENCH_SERVER", "http://other:9/")
    assert server_url() == "http://other:9" and config(None, "mine") == ("http://other:9", "mine")
    monkeypatch.setenv("COURSEBENCH_CONFIG_DIR", str(home / "elsewhere"))
    assert credentials.config_dir() == home / "elsewhere" and credentials.read_credentials() == {}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_an_existing_file_is_made_private_again(home) -> None:
    path = credentials.credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    path.chmod(0o644)
    credentials.write_credentials({"token": "x"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_broken_file_is_ignored_with_a_warning(home) -> None:
    path = credentials.credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.warns(credentials.CredentialsWarning, match="not valid JSON; ignoring it"):
        assert credentials.read_credentials() == {}
    told: list[str] = []
    assert credentials.read_credentials(warn=told.append) == {}
    assert told == [f"{path} is not valid JSON; ignoring it"]
    path.write_text("[1, 2]")  # JSON, but not an object
    assert credentials.read_credentials() == {}


def test_no_token_is_a_helpful_compete_error(home) -> None:
    with pytest.raises(CompeteError, match=r"no token: run compete.login\('YOUR_TOKEN'\)") as caught:
        config(None, None)
    assert isinstance(caught.value, CoursebenchError)
    assert caught.value.to_dict() == {"error": "compete_error", "message": str(caught.value), "status": None}
    refused = CompeteError("over the limit", status=429, code="quota_exceeded")
    assert refused.to_dict()["error"] == "quota_exceeded" and refused.status == 429
