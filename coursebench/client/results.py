"""What the server answered, as objects a notebook shows well: :class:`SubmissionResult`
(a small card in Jupyter) and the :class:`Problem` s of an invalid file."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Problem", "SubmissionResult"]


@dataclass
class Problem:
    row: int | None
    column: str | None
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return (", ".join(where) + ": " if where else "") + self.message + (f" — {self.fix}" if self.fix else "")


@dataclass
class SubmissionResult:
    """What became of a submission (``ok`` is False for an invalid file, a failure or a refusal)."""

    competition: str
    status: str                       # complete | pending | running | failed | invalid | refused
    id: int | None = None
    public_score: float | None = None
    public_ci: tuple[float, float] | None = None
    cv_mean: float | None = None
    cv_std: float | None = None
    rank: int | None = None
    message: str = ""
    error: str | None = None
    problems: list[Problem] = field(default_factory=list)
    more: int = 0
    server: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("complete", "pending", "running")

    def __repr__(self) -> str:
        if self.status == "complete":
            rank = f", public rank {self.rank}" if self.rank else ""
            return f"<submission {self.id} to {self.competition}: public score {self.public_score:.5f}{rank}>"
        if self.status == "invalid":
            lines = [f"<{self.competition}: not a valid submission (not counted)"]
            lines += [f"  - {p}" for p in self.problems]
            return "\n".join(lines) + ">"
        return f"<submission {self.id} to {self.competition}: {self.status}{': ' + self.error if self.error else ''}>"

    def _repr_html_(self) -> str:
        e = html.escape
        box = ("font-family:system-ui,sans-serif;border:1px solid #d1d9e0;border-left:4px solid {c};"
               "border-radius:6px;padding:.6em .9em;margin:.3em 0;max-width:48em")
        link = f' <a href="{e(self.server)}/c/{e(self.competition)}/leaderboard" target="_blank">leaderboard</a>' \
            if self.server else ""
        if self.status == "complete":
            ci = (f" <span style='color:#59636e'>(95% CI {self.public_ci[0]:.4f}–{self.public_ci[1]:.4f})</span>"
                  if self.public_ci else "")
            cv = (f"<br>cross-validation {self.cv_mean:.5f} ± {self.cv_std or 0:.5f}" if self.cv_mean is not None
                  else "")
            rank = f" — your team is <b>#{self.rank}</b> on the public leaderboard" if self.rank else ""
            return (f"<div style='{box.format(c='#1a7f37')}'>✓ Submission {self.id} to <b>{e(self.competition)}</b>"
                    f" scored <b>{self.public_score:.5f}</b>{ci}{rank}.{cv}{link}</div>")
        if self.status == "invalid":
            rows = "".join(
                f"<tr><td>{'' if p.row is None else p.row}</td><td><code>{e(p.column or '')}</code></td>"
                f"<td>{e(p.message)}</td><td>{e(p.fix)}</td></tr>" for p in self.problems)
            more = f"<p>… and {self.more} more problem(s) of the same kinds.</p>" if self.more else ""
            return (f"<div style='{box.format(c='#cf222e')}'>✗ <b>Not a valid submission</b> — it was not stored "
                    "and did not count against your daily limit. Fix these and submit again:"
                    "<table style='border-collapse:collapse;margin-top:.4em'><thead><tr><th align=left>row</th>"
                    "<th align=left>column</th><th align=left>problem</th><th align=left>how to fix it</th></tr>"
                    f"</thead><tbody>{rows}</tbody></table>{more}</div>")
        if self.status in ("pending", "running"):
            return (f"<div style='{box.format(c='#9a6700')}'>Submission {self.id} to <b>{e(self.competition)}</b> is "
                    f"{e(self.status)}; see <code>compete.submissions({self.competition!r})</code> "
                    f"for its score.{link}</div>")
        return (f"<div style='{box.format(c='#cf222e')}'>✗ Submission {'' if self.id is None else self.id} to "
                f"<b>{e(self.competition)}</b>: {e(self.status)}<pre style='white-space:pre-wrap'>"
                f"{e(self.error or '')}</pre></div>")
