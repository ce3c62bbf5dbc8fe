"""The bad-notebook suite of tests/notebooks on the docker backend, with the same
expectations as on the process backends (tests/execution/test_bad_notebooks.py), plus:
no container is left behind after any of them."""

from __future__ import annotations

import pytest

from ..execution.test_bad_notebooks import CASES
from ..execution.test_bad_notebooks import test_bad_notebook as bad_notebook_expectations
from ..execution.test_bad_notebooks import (
    test_partial_outputs_kept_after_timeout as partial_outputs_expectations,
)
from .conftest import sandbox_containers

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.mark.parametrize("name,expect", CASES, ids=[c[0] for c in CASES])
def test_bad_notebook_on_docker(name, expect, docker_backend, docker_engine, tmp_path):
    bad_notebook_expectations(name, expect, docker_backend, tmp_path)
    assert sandbox_containers(docker_engine) == [], "a container was left behind"


def test_partial_outputs_kept_after_timeout_on_docker(docker_backend, docker_engine, tmp_path):
    partial_outputs_expectations(docker_backend, tmp_path)
    assert sandbox_containers(docker_engine) == []
