"""What every step of an image build shares: its error, its progress callback, the source
checkout it builds from and the cache it fills."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..execution.errors import CoursebenchError
from ..settings import get_settings

#: Progress callback of the library functions (they never print); ``None``: quiet.
Log = Callable[[str], None] | None


class ImageError(CoursebenchError):
    """An image could not be built; says which step and how to fix it."""

    def __init__(self, message: str, *, target: str | None = None, step: str | None = None) -> None:
        self.target, self.step = target, step
        where = " ".join(p for p in (f"[{target}]" if target else "", step or "") if p)
        super().__init__(f"{where}: {message}" if where else message)


def say(log: Log, text: str) -> None:
    if log is not None:
        log(text)


def repo_root() -> Path:
    """The source checkout holding ``docker/Dockerfile`` (images build from source)."""
    here = Path(__file__).resolve().parents[2]
    if not (here / "docker" / "Dockerfile").is_file():
        raise ImageError(
            f"no docker/Dockerfile next to the coursebench package ({here}); build images from "
            "a source checkout of coursebench (git clone …; make images)"
        )
    return here


def cache_dir() -> Path:
    """Where base tarballs, wheels and the private engine's data live:
    ``$COURSEBENCH_CACHE`` (default ``/var/cache/coursebench``), else ``~/.cache/coursebench``
    when that is not writable."""
    path = get_settings().cache
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.touch()
        probe.unlink()
    except OSError:
        path = Path.home() / ".cache" / "coursebench"
        path.mkdir(parents=True, exist_ok=True)
    return path
