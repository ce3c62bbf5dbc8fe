"""The integrity report as data: sections of ranked pairs, each with a panel of the
figure and, for some rows, the evidence side by side.  :mod:`.report` fills and writes
it; :mod:`.html` and :mod:`.figure` draw it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .similarity import MatchedCells

NOT_A_VERDICT = ("This report points at pairs worth a closer look. It is not a verdict and no penalty "
                 "follows from it: similar answers can have innocent causes (a study group, the same "
                 "tutorial, a short task with one natural answer). Read the evidence, then talk to the "
                 "students.")


@dataclass
class Plot:
    """What the section's panel of the figure shows."""

    kind: str
    """``hist`` (a score per pair) or ``scatter`` (two scores per pair)."""
    x: list[float]
    flagged: list[bool]
    y: list[float] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    """A short name per point (shown for the flagged ones)."""
    threshold: float | None = None
    xlabel: str = "score"
    ylabel: str = ""
    title: str = ""
    hidden: int = 0
    """Pairs not in ``x`` (they share nothing: score 0)."""


@dataclass
class Section:
    key: str
    """File-name part: ``code`` → ``pairs-code.csv``."""
    title: str
    intro: list[str]
    """Paragraphs of plain text explaining how to read the section."""
    columns: list[str]
    rows: list[dict[str, Any]]
    """Ranked, best first; every row has ``flagged``."""
    plot: Plot
    evidence: dict[int, list[MatchedCells]] = field(default_factory=dict)
    """Row index → the cells of both sides with the shared code marked."""
    facts: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    """Row index → (label, value) pairs shown next to the row's evidence."""
    shown: list[str] | None = None
    """The columns of the page's table (default: all; the CSV has all)."""

    @property
    def flagged(self) -> int:
        return sum(1 for r in self.rows if r.get("flagged"))


@dataclass
class IntegrityReport:
    title: str
    subject: str
    """The lab or competition."""
    sections: list[Section]
    notes: list[str] = field(default_factory=list)
    """Things the instructor should know (unreadable notebooks, nothing to compare...)."""
    settings: dict[str, Any] = field(default_factory=dict)
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


@dataclass
class ReportFiles:
    html: Path
    figure: Path
    csv: list[Path]
