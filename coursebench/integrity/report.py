"""The files written for the instructor: one CSV per section, a self-contained HTML page
(figure embedded, matching code marked) and the figure as a PNG.

The labs (:mod:`coursebench.grading.integrity`) and the competitions
(:mod:`leaderboard.integrity`) each fill an :class:`IntegrityReport` with sections;
:func:`write_report` does not know which is which.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .model import IntegrityReport, Plot, ReportFiles, Section
from .similarity import CodePair, CodeSettings, GroupResult, evidence

CODE_COLUMNS = ["rank", "notebook", "a", "a_name", "b", "b_name", "score", "shared", "distinctive_a",
                "distinctive_b", "jaccard", "flagged"]


def code_section(results: list[GroupResult], settings: CodeSettings, *, names: dict[str, str] | None = None,
                 title: str = "Shared answer code", what: str = "notebook", max_evidence: int = 40,
                 min_rows: int = 10, documents: bool = False) -> Section:
    """A section ranking the code pairs of several groups (a lab's notebooks, say) together;
    ``documents`` adds which document of each side (when an owner has several)."""
    names = names or {}
    pairs: list[CodePair] = sorted((p for r in results for p in r.pairs),
                                   key=lambda p: (-p.score, -p.shared, p.group, p.a.owner, p.b.owner))
    by_group = {r.group: r for r in results}
    rows, evid = [], {}
    for rank, p in enumerate(pairs, 1):
        rows.append({"rank": rank, "notebook": p.group, "a": p.a.owner, "a_name": names.get(p.a.owner, ""),
                     "b": p.b.owner, "b_name": names.get(p.b.owner, ""), "score": round(p.score, 4),
                     "shared": p.shared, "distinctive_a": p.size_a, "distinctive_b": p.size_b,
                     "jaccard": round(p.jaccard, 4), "flagged": p.flagged,
                     "a_doc": p.a.label or p.a.key, "b_doc": p.b.label or p.b.key})
        if (p.flagged or rank <= min_rows) and len(evid) < max_evidence:
            evid[rank - 1] = evidence(p, by_group[p.group], settings.k)
    import numpy as np

    scores = np.concatenate([r.scores for r in results]) if results else np.zeros(0)
    hidden = sum(r.owner_pairs for r in results) - len(scores)
    documents = sum(len(r.documents) for r in results)
    intro = [
        f"Each row is a pair of {what}s: the same {what} of two different students (or teams). "
        "Their answer code is compared as tokens — names, comments, whitespace and the order of "
        "the cells do not matter — with winnowing fingerprints, as MOSS does.",
        "The released code and code that most of the class shares are left out first. The score is the "
        "share of the smaller side's remaining (distinctive) code that the other side has too, each "
        "fingerprint weighted by how rare it is in the class (code only these two have weighs most): "
        "1.0 means all of it.",
        f"Flagged: score ≥ {settings.threshold:g} and at least {settings.min_shared} shared "
        f"fingerprints. {documents} {what}s; {len(scores)} pairs have something in common, "
        f"{max(hidden, 0)} nothing; listed: the {len(rows)} pairs scoring {settings.floor:g} or more "
        "(the figure shows them all).",
    ]
    flagged_scores = [r["score"] for r in rows if r["flagged"]]
    rest = np.concatenate([r.scores[~r.flagged] for r in results]) if results else np.zeros(0)
    plot = Plot("hist", [*flagged_scores, *rest.tolist()],
                [True] * len(flagged_scores) + [False] * len(rest),
                labels=[f"{r['a']}–{r['b']}" for r in rows if r["flagged"]], threshold=settings.threshold,
                xlabel="share of distinctive code in common", ylabel="pairs",
                title=f"{title}: all pairs", hidden=max(hidden, 0))
    columns = CODE_COLUMNS
    if documents:
        columns = [*CODE_COLUMNS[:6], "a_doc", "b_doc", *CODE_COLUMNS[6:]]
    return Section("code", title, intro, columns, rows, plot, evid)


def write_csv(section: Section, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=section.columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(section.rows)
    return path


def write_report(report: IntegrityReport, out_dir: str | Path) -> ReportFiles:
    """Write ``integrity.html``, ``integrity.png`` and ``pairs-<section>.csv`` into ``out_dir``."""
    from .figure import draw
    from .html import render

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csvs = [write_csv(s, out / f"pairs-{s.key}.csv") for s in report.sections]
    png = draw(report, out / "integrity.png")
    html = out / "integrity.html"
    html.write_text(render(report, png.read_bytes()), encoding="utf-8")
    return ReportFiles(html, png, csvs)
