"""The integrity report as one self-contained HTML page: no scripts, no external files
(the figure is embedded), so it can be mailed, archived or opened from a USB stick.

Every value from a notebook is escaped; matching code is wrapped in ``<mark>``.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

from .model import NOT_A_VERDICT, IntegrityReport, Section
from .similarity import MatchedCells

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
.verdict{background:#fff8e1;border:1px solid #f0c36d;padding:.6rem .9rem;border-radius:4px}
table{border-collapse:collapse;margin:.8rem 0;font-size:13px}th,td{border-bottom:1px solid #e5e5e5;padding:.25rem .5rem;text-align:left}
th{background:#f5f5f5}tr.flag td{background:#fdecea}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pair{border:1px solid #ddd;border-radius:4px;margin:1.2rem 0;padding:.4rem .8rem}
.pair h3{font-size:1rem;margin:.4rem 0}.side{display:grid;grid-template-columns:1fr 1fr;gap:.6rem}
pre{background:#fafafa;border:1px solid #eee;padding:.4rem;overflow-x:auto;font-size:12px;margin:.2rem 0 .6rem;white-space:pre-wrap}
mark{background:#ffd54f;padding:0}.label{font-size:12px;color:#666}.facts td{border:none;padding:.1rem .6rem .1rem 0}
img{max-width:100%}.muted{color:#777}.wide{overflow-x:auto}
"""
SHOWN_ROWS = 60


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def _marked(source: str, spans: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, end in spans:
        out.append(escape(source[at:start]))
        out.append(f"<mark>{escape(source[start:end])}</mark>")
        at = end
    out.append(escape(source[at:]))
    return "".join(out)


def _cell(cell: Any, spans: list[tuple[int, int]], side: str) -> str:
    if cell is None:
        return f'<div><div class="label">{side}: (no matching cell)</div></div>'
    return (f'<div><div class="label">{side}: {escape(cell.label)}</div>'
            f"<pre>{_marked(cell.source, spans)}</pre></div>")


def _evidence(rows: list[MatchedCells], a: str, b: str) -> str:
    parts = ['<div class="side">']
    for row in rows:
        parts.append(_cell(row.a, row.a_spans, a))
        parts.append(_cell(row.b, row.b_spans, b))
    parts.append("</div>")
    return "".join(parts)


def _table(section: Section) -> str:
    cols = section.shown or section.columns
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = []
    for index, row in enumerate(section.rows[:SHOWN_ROWS]):
        cls = ' class="flag"' if row.get("flagged") else ""
        cells = []
        for c in cols:
            value = row.get(c)
            num = ' class="num"' if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
            text = escape(_fmt(value))
            if (c == "rank" and index in section.evidence) or (c == "rank" and index in section.facts):
                text = f'<a href="#{section.key}-{index}">{text}</a>'
            cells.append(f"<td{num}>{text}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    more = len(section.rows) - SHOWN_ROWS
    tail = f'<p class="muted">… and {more} more rows in pairs-{section.key}.csv.</p>' if more > 0 else ""
    return (f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
            f"{tail}")


def _who(row: dict[str, Any], side: str) -> str:
    name = row.get(f"{side}_name")
    return f"{row.get(side)} ({name})" if name else str(row.get(side))


def _section(section: Section) -> str:
    parts = [f'<h2 id="{section.key}">{escape(section.title)}</h2>']
    parts += [f"<p>{escape(p)}</p>" for p in section.intro]
    if not section.rows:
        parts.append('<p class="muted">No pair has anything in common.</p>')
        return "".join(parts)
    parts.append(f"<p><b>{section.flagged}</b> flagged pair(s) of {len(section.rows)} listed.</p>")
    parts.append(_table(section))
    for index in sorted(set(section.evidence) | set(section.facts)):
        row = section.rows[index]
        a, b = _who(row, "a"), _who(row, "b")
        where = f" — {row['notebook']}" if row.get("notebook") else ""
        flag = " · flagged" if row.get("flagged") else ""
        score = f"score {_fmt(row.get('score'))}" if "score" in row else ""
        parts.append(f'<div class="pair" id="{section.key}-{index}"><h3>#{row.get("rank", index + 1)} '
                     f"{escape(a)} and {escape(b)}{escape(where)} <span class=\"muted\">{escape(score)}"
                     f"{flag}</span></h3>")
        facts = section.facts.get(index)
        if facts:
            parts.append('<table class="facts">' + "".join(
                f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in facts) + "</table>")
        rows = section.evidence.get(index)
        if rows:
            parts.append(_evidence(rows, str(row.get("a")), str(row.get("b"))))
        elif index in section.evidence:
            parts.append('<p class="muted">Nothing distinctive to show.</p>')
        parts.append("</div>")
    return "".join(parts)


def _scope(css: str, parent: str) -> str:
    """``css`` with every selector put under ``parent`` (the page's body rule dropped)."""
    out = []
    for rule in css.replace("\n", "").split("}"):
        if "{" not in rule:
            continue
        selectors, body = rule.split("{", 1)
        if selectors.strip() == "body":
            continue
        out.append(",".join(f"{parent} {sel.strip()}" for sel in selectors.split(",")) + "{" + body + "}")
    return "".join(out)


def render_body(report: IntegrityReport, png: bytes) -> str:
    """The report without the page around it (for a page of the web app), its style
    scoped to a ``<div class="integrity-report">``."""
    img = base64.b64encode(png).decode()
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    settings = ", ".join(f"{k} = {v}" for k, v in report.settings.items())
    when = report.generated_at.astimezone().strftime("%Y-%m-%d %H:%M %Z")
    scoped = _scope(CSS, ".integrity-report")
    return "".join([
        f'<style>{scoped}</style><div class="integrity-report">',
        f"<h1>{escape(report.title)}</h1><p class=\"muted\">{escape(report.subject)} · generated {escape(when)}"
        + (f" · {escape(settings)}" if settings else "") + "</p>",
        f'<p class="verdict"><b>Not a verdict.</b> {escape(NOT_A_VERDICT)}</p>',
        f"<ul>{notes}</ul>" if notes else "",
        f'<img alt="distribution of pair scores, flagged pairs marked" src="data:image/png;base64,{img}">',
        *(_section(s) for s in report.sections),
        "</div>",
    ])


def render(report: IntegrityReport, png: bytes) -> str:
    """The whole page: one file, nothing to fetch."""
    return "".join([
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{escape(report.title)}</title><style>{CSS}</style></head><body>",
        render_body(report, png),
        "</body></html>",
    ])
