"""Warm kernels in a docker container (docs/warm.md): a group's kernels are forked from the
container's pre-imported template and nothing one notebook leaves behind reaches the next.
The same notebooks as tests/execution/test_warm.py and test_separate.py (a group with
separate files: the folds of a submission), on the shared Docker engine."""

from __future__ import annotations

import pytest

from ..execution.test_separate import check_separate
from ..execution.test_warm import check_nothing_crosses

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_nothing_crosses_between_forked_kernels_in_docker(docker_backend, docker_engine):
    check_nothing_crosses(docker_backend, lead=2)


def test_separate_notebooks_share_the_template_and_nothing_else_in_docker(docker_backend, docker_engine, tmp_path):
    check_separate(tmp_path, docker_backend)
