"""The score-history chart: a team's released public score over time against the
leader's (the best released public score so far, any team), drawn with matplotlib as
SVG.  Only released public scores are used — never private ones."""

from __future__ import annotations

import datetime as dt
import io
import threading

from .queries import HistoryPoint

_lock = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


def _running_best(points: list[tuple[dt.datetime, float]], maximize: bool) -> list[tuple[dt.datetime, float]]:
    out: list[tuple[dt.datetime, float]] = []
    best: float | None = None
    for when, value in points:
        if best is None or (value > best if maximize else value < best):
            best = value
        out.append((when, best))
    return out


def history_svg(history: list[HistoryPoint], team_id: int | None, *, maximize: bool, metric: str,
                now: dt.datetime, title: str = "") -> bytes:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    everyone = [(p.created_at, p.public) for p in history]
    mine = [(p.created_at, p.public) for p in history if p.team_id == team_id]
    leader = _running_best(everyone, maximize)
    with _lock:
        fig = Figure(figsize=(7.5, 3.4), dpi=100)
        ax = fig.add_subplot()
        if leader:
            xs = [w for w, _ in leader] + [now]
            ys = [v for _, v in leader] + [leader[-1][1]]
            ax.step(xs, ys, where="post", color="#9a6700", linewidth=2, label="leader (best public so far)")
        if mine:
            ax.plot([w for w, _ in mine], [v for _, v in mine], "o", color="#0969da", alpha=0.55,
                    markersize=5, label="your submissions")
            best = _running_best(mine, maximize)
            xs = [w for w, _ in best] + [now]
            ys = [v for _, v in best] + [best[-1][1]]
            ax.step(xs, ys, where="post", color="#0969da", linewidth=2, label="your best")
        if not everyone:
            ax.text(0.5, 0.5, "no scored submissions yet", ha="center", va="center", transform=ax.transAxes,
                    color="#57606a")
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            ax.legend(loc="lower right" if maximize else "upper right", fontsize=8, frameon=False)
        ax.set_ylabel(f"public {metric} ({'higher' if maximize else 'lower'} is better)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(True, alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if title:
            ax.set_title(title, fontsize=10, loc="left")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
