"""The saved login of the student client: ``~/.config/coursebench/credentials.json``.

``coursebench compete login`` and ``compete.login(...)`` write it (mode 600, like
``~/.kaggle/kaggle.json``); the other commands and notebook helpers read the token and
the server from it.  ``COURSEBENCH_CONFIG_DIR`` moves the folder (else
``$XDG_CONFIG_HOME/coursebench``).  The web server keeps its cookie-signing key in the
same folder.

Standard library only: this runs in a student's notebook or terminal.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["CredentialsWarning", "config_dir", "credentials_path", "read_credentials", "write_credentials"]


class CredentialsWarning(UserWarning):
    """The credentials file exists but cannot be used (it is then ignored)."""


def config_dir() -> Path:
    """coursebench's folder of per-user configuration."""
    env = os.environ.get("COURSEBENCH_CONFIG_DIR")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "coursebench"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


def read_credentials(*, warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The saved credentials, or ``{}`` when there are none.

    A file that is not a JSON object is ignored; ``warn`` is told why (by default a
    :class:`CredentialsWarning`).
    """
    path = credentials_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError:
        message = f"{path} is not valid JSON; ignoring it"
        if warn is None:
            warnings.warn(message, CredentialsWarning, stacklevel=2)
        else:
            warn(message)
        return {}
    return data if isinstance(data, dict) else {}


def write_credentials(data: dict[str, Any]) -> Path:
    """Replace the saved credentials with ``data``; the file is readable by its owner only."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1)
    os.chmod(path, 0o600)
    return path
