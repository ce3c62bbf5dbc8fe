"""Shared fixtures.  Real components only: a test that needs bubblewrap, Docker,
PostgreSQL or Chromium gets the real thing; where it cannot be had, the test fails on
root/CI (where `make test` provides everything) and is skipped with the reason elsewhere."""

from __future__ import annotations

import sys

import pytest

from tests.helpers import must_have_or_skip

# jsonschema's format checkers import rfc3987_syntax (1.2 s) on every process start;
# the suite never checks string formats.
sys.modules.setdefault("rfc3987_syntax", None)


def _backend_or_skip(name: str) -> str:
    from coursebench.execution import availability

    ok, why = availability(name)
    if not ok:
        must_have_or_skip(f"the {name} backend", why)
    return name


@pytest.fixture(autouse=True)
def private_job_root(tmp_path_factory, monkeypatch):
    """Each test's sandboxes live under their own directory, so leftover-process checks
    see only this test's sandboxes (other sessions may be running theirs)."""
    root = tmp_path_factory.mktemp("jobs")
    monkeypatch.setenv("COURSEBENCH_JOB_ROOT", str(root))
    return root


@pytest.fixture(params=["bwrap", "subprocess"])
def process_backend(request) -> str:
    """The process backends; bwrap must be available where `make test` ran as root."""
    return _backend_or_skip(request.param)


@pytest.fixture
def bwrap_backend() -> str:
    return _backend_or_skip("bwrap")
