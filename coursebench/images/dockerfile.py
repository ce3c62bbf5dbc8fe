"""Dockerfile rewriting: ``docker/Dockerfile`` cut down to one target and the stages it needs."""

from __future__ import annotations

import re

from .common import ImageError, repo_root


def dockerfile_for(target: str, text: str | None = None) -> str:
    """The Dockerfile cut down to ``target`` and the stages it needs.

    The classic builder (what the Docker SDK uses) builds *every* stage before the target;
    with only the needed stages, ``gpu`` does not build ``lab`` first, and vice versa.
    """
    text = text if text is not None else (repo_root() / "docker" / "Dockerfile").read_text()
    prelude: list[str] = []
    stages: dict[str, list[str]] = {}
    order: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        match = re.match(r"^\s*FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            name = (match.group(2) or f"stage{len(order)}").lower()
            current = stages[name] = [line]
            order.append(name)
        elif current is None:
            prelude.append(line)
        else:
            current.append(line)
    if target not in stages:
        raise ImageError(f"the Dockerfile has no target {target!r}; targets: {', '.join(order)}")
    needed: set[str] = set()

    def need(name: str) -> None:
        if name in needed or name not in stages:
            return
        needed.add(name)
        body = "\n".join(stages[name])
        first = re.match(r"^\s*FROM\s+(\S+)", stages[name][0], re.IGNORECASE)
        if first:
            need(first.group(1).lower())
        for dep in re.findall(r"--from=(\S+)", body):
            need(dep.lower())

    need(target)
    kept = [line for name in order if name in needed for line in stages[name]]
    return "\n".join(prelude + kept) + "\n"
