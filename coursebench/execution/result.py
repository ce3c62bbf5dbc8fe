"""What a run gives back, and the schema the sandbox's answer must meet."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["ok", "error", "timeout", "oom", "killed", "invalid"]
STATUSES: tuple[str, ...] = ("ok", "error", "timeout", "oom", "killed", "invalid")

#: The JSON schema of the ``result`` object the worker sends back.  The host validates
#: every answer against it before trusting a single field.
RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "status", "failed_cell", "cell_durations", "versions"],
    "properties": {
        "version": {"const": 1},
        "status": {"enum": list(STATUSES)},
        "failed_cell": {"type": ["integer", "null"], "minimum": 0},
        "ename": {"type": ["string", "null"], "maxLength": 1000},
        "evalue": {"type": ["string", "null"], "maxLength": 100_000},
        "traceback": {"type": "array", "items": {"type": "string"}, "maxItems": 500},
        "cell_durations": {
            "type": "array",
            "items": {"type": ["number", "null"], "minimum": 0},
        },
        "output_truncated": {"type": "boolean"},
        "versions": {
            "type": "object",
            "additionalProperties": {"type": "string", "maxLength": 100},
            "maxProperties": 50,
        },
        "message": {"type": "string", "maxLength": 10_000},
        "worker_seconds": {"type": "number", "minimum": 0},
        "kernel_exit": {"type": ["integer", "null"]},
        # the warm template's report (docs/warm.md): for people, never a verdict
        "warm": {"type": "object", "properties": {"forked": {"type": "boolean"}}, "maxProperties": 20},
    },
    "additionalProperties": False,
}


@dataclass
class ExecutionResult:
    """The outcome of running one notebook in a sandbox.

    ``notebook`` is the executed notebook (an ``nbformat.NotebookNode``), with the
    outputs of every cell that finished, also after a timeout, an out-of-memory kill or
    a crash.  ``failed_cell`` is the index (in ``notebook.cells``) of the cell that
    failed or was running when the run stopped.
    """

    name: str
    status: Status
    notebook: Any = None
    output_path: Path | None = None
    failed_cell: int | None = None
    ename: str | None = None
    evalue: str | None = None
    traceback: list[str] = field(default_factory=list)
    message: str = ""
    cell_durations: list[float | None] = field(default_factory=list)
    wall_time: float = 0.0
    peak_memory: int | None = None
    backend: str = ""
    image: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    output_truncated: bool = False
    log_tail: str = ""
    attempts: int = 1
    gpu_devices: list[str] = field(default_factory=list)
    artifacts: dict[str, Path] = field(default_factory=dict)
    infrastructure_failure: bool = False
    """True when the sandbox itself failed (not the notebook's fault); pools retry these."""
    notebook_trusted: bool = True
    """False when the notebook came from the sandbox's autosave after a hard kill
    (the worker could not deliver it): outputs are shown but are student-writable."""
    warm: bool = False
    """True when the notebook's kernel was forked from the sandbox's pre-imported template."""
    sandboxed: bool = True
    """False when the notebook ran without isolation (the ``subprocess`` backend, for
    trusted notebooks only).  Set from ``backend``: a result cannot claim otherwise."""

    def __post_init__(self) -> None:
        if self.backend:
            from .backends import is_isolated

            self.sandboxed = self.sandboxed and is_isolated(self.backend)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def summary(self) -> str:
        """One line for people: what happened and where."""
        if self.status == "ok":
            text = f"{self.name}: ok in {self.wall_time:.1f}s"
            text += " (not sandboxed)" if not self.sandboxed else ""
            return text + (" (output truncated)" if self.output_truncated else "")
        where = f" in {cell_label(self.notebook, self.failed_cell)}" if self.failed_cell is not None else ""
        if self.status == "error" and self.ename:
            return f"{self.name}: error{where}: {self.ename}: {self.evalue}"
        return f"{self.name}: {self.status}{where}: {self.message}"

    def to_dict(self, *, notebook: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data.pop("notebook")
        data["output_path"] = str(self.output_path) if self.output_path else None
        data["artifacts"] = {k: str(v) for k, v in self.artifacts.items()}
        if notebook and self.notebook is not None:
            data["notebook"] = json.loads(json.dumps(self.notebook))
        return data

    def traceback_tail(self, lines: int = 8) -> str:
        return "\n".join("\n".join(self.traceback).splitlines()[-lines:])


def validate_result(data: Any) -> dict[str, Any]:
    """Check a worker's ``result`` object against :data:`RESULT_SCHEMA`.

    Raises ``ValueError`` naming the first problem.  Uses jsonschema without its
    format checkers (they cost a second of import time and check nothing used here).
    """
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(RESULT_SCHEMA)
    error = next(iter(validator.iter_errors(data)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ValueError(f"result.json is not valid at {where}: {error.message}")
    return data


def cell_label(nb: Any, index: int | None) -> str:
    """'cell 3': 1-based, in the numbering the student sees (papermill's injected
    parameters cell is not counted)."""
    if index is None or nb is None:
        return "the notebook"
    injected = sum(
        1
        for c in nb.cells[:index]
        if "injected-parameters" in c.get("metadata", {}).get("tags", [])
    )
    return f"cell {index + 1 - injected}"
