"""Competitions as the server lists them: what is open, your quota, the public data files
(downloaded over the API, streamed to disk, each checked against the server's SHA-256).

Answers are plain dicts and lists (the JSON of the REST API, ``/api/v1/openapi.json``);
the CLI draws them, :mod:`~coursebench.client.compete` turns some into DataFrames.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .http import CompeteError, json_of, request, stream

__all__ = ["FileProgress", "competition", "competitions", "download", "files", "me", "quota"]

FileProgress = Callable[[str, int, int | None], None]
"""``progress(file name, bytes so far, total bytes or None)`` while a file downloads."""


def me(*, server: str | None = None, token: str | None = None) -> dict[str, Any]:
    """Who the token belongs to: ``{"name", "display_name", "role"}``."""
    return json_of(request("GET", "/api/v1/me", server=server, token=token))


def competitions(*, server: str | None = None, token: str | None = None) -> list[dict[str, Any]]:
    """Every competition of the course (anonymous callers may list them too)."""
    return json_of(request("GET", "/api/v1/competitions", server=server, token=token, required=False))


def competition(slug: str, *, server: str | None = None, token: str | None = None) -> dict[str, Any]:
    return json_of(request("GET", f"/api/v1/competitions/{slug}", server=server, token=token, required=False))


def quota(slug: str, *, server: str | None = None, token: str | None = None) -> dict[str, Any]:
    """Your team's submissions today: ``{"used", "limit", "remaining", "resets_at"}``."""
    return json_of(request("GET", f"/api/v1/competitions/{slug}/quota", server=server, token=token))


def files(slug: str, *, server: str | None = None, token: str | None = None) -> list[dict[str, Any]]:
    """The public data files: ``[{"name", "size", "sha256", "url"}]``."""
    return json_of(request("GET", f"/api/v1/competitions/{slug}/files", server=server, token=token,
                           required=False))


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    if not base or base in (".", ".."):
        raise CompeteError(f"the server named a data file {name!r}; refusing to write it")
    return base


def _fetch(entry: dict[str, Any], folder: Path, server: str | None, token: str | None,
           progress: FileProgress | None) -> Path:
    name = _safe_name(str(entry["name"]))
    target, part = folder / name, folder / f"{name}.part"
    digest, size = hashlib.sha256(), entry.get("size")
    seen = 0
    with open(part, "wb") as handle:
        def sink(chunk: bytes) -> None:
            nonlocal seen
            handle.write(chunk)
            digest.update(chunk)
            seen += len(chunk)
            if progress is not None:
                progress(name, seen, size)

        try:
            stream(str(entry["url"]), sink, server=server, token=token)
        except BaseException:
            handle.close()
            part.unlink(missing_ok=True)
            raise
    expected = entry.get("sha256")
    if expected and digest.hexdigest() != expected:
        part.unlink(missing_ok=True)
        raise CompeteError(f"{name} arrived damaged (its SHA-256 does not match the server's); download it again")
    part.replace(target)
    return target


def download(slug: str, folder: str | Path, *, server: str | None = None, token: str | None = None,
             progress: FileProgress | None = None) -> list[Path]:
    """Download the public files into ``folder`` (created); returns their paths.

    Each file is streamed to ``NAME.part`` and renamed only once its SHA-256 matches the
    server's listing, so an interrupted or corrupted download never looks complete.
    Files listed but missing on the server (not prepared yet) are skipped.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [_fetch(entry, folder, server, token, progress) for entry in files(slug, server=server, token=token)
            if entry.get("size") is not None]
