"""The report's figure: one panel per section — the distribution of pair scores with the
flagged pairs marked (and named), or two scores per pair as a scatter."""

from __future__ import annotations

from pathlib import Path

from .model import IntegrityReport, Plot

FLAG = "#c0392b"
REST = "#7f8c8d"
NAMED = 8  # flagged pairs named in a panel


def _named(ax, plot: Plot, values, left: float = 0.02) -> None:  # type: ignore[no-untyped-def]
    """List the top flagged pairs in a box at the top of the panel."""
    import numpy as np

    flagged = np.flatnonzero(np.asarray(plot.flagged, dtype=bool))
    if not len(flagged):
        return
    lines = [f"{plot.labels[i] if i < len(plot.labels) else i}  {values[i]:.2f}" for i in flagged[:NAMED]]
    if len(flagged) > NAMED:
        lines.append(f"… {len(flagged) - NAMED} more")
    ax.text(left, 0.97, "flagged:\n" + "\n".join(lines), transform=ax.transAxes, va="top", ha="left",
            fontsize=7, color=FLAG, family="monospace",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": FLAG, "alpha": 0.9})


def _hist(ax, plot: Plot) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    values = np.asarray(plot.x, dtype=float)
    flagged = np.asarray(plot.flagged, dtype=bool)
    bins = np.linspace(0.0, 1.0, 41)
    if len(values):
        counts, _, _ = ax.hist([np.clip(values[~flagged], 0, 1), np.clip(values[flagged], 0, 1)], bins=bins,
                               color=[REST, FLAG], label=["pairs", "flagged pairs"], stacked=True)
        if np.max(counts) > 50:
            ax.set_yscale("log")
    if plot.threshold is not None:
        ax.axvline(plot.threshold, color=FLAG, linestyle="--", lw=1, label=f"flag at {plot.threshold:g}")
    _named(ax, plot, values, left=min(0.6, ((plot.threshold or 0.5) + 0.03) / 1.02))
    ax.set_xlim(0, 1.02)
    note = f" (+{plot.hidden} pairs sharing nothing)" if plot.hidden else ""
    ax.set_xlabel(plot.xlabel + note)
    ax.set_ylabel(plot.ylabel or "pairs")
    ax.legend(loc="center right", fontsize=8)


def _scatter(ax, plot: Plot) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    x = np.asarray(plot.x, dtype=float)
    y = np.asarray(plot.y, dtype=float)
    flagged = np.asarray(plot.flagged, dtype=bool)
    if len(x):
        ax.scatter(x[~flagged], y[~flagged], s=12, color=REST, label="pairs", alpha=0.7)
        ax.scatter(x[flagged], y[flagged], s=28, color=FLAG, label="flagged pairs")
    _named(ax, plot, np.minimum(x, y) if len(x) else x)
    if plot.threshold is not None:
        ax.axvline(plot.threshold, color=FLAG, linestyle="--", lw=1)
        ax.axhline(plot.threshold, color=FLAG, linestyle="--", lw=1, label=f"flag at {plot.threshold:g} on both")
    low = min([-0.2, *x.tolist(), *y.tolist()]) if len(x) else -0.2
    ax.set_xlim(low - 0.02, 1.02)
    ax.set_ylim(low - 0.02, 1.02)
    ax.set_xlabel(plot.xlabel)
    ax.set_ylabel(plot.ylabel)
    ax.legend(loc="lower right", fontsize=8)


def png(report: IntegrityReport) -> bytes:
    """The figure as PNG bytes."""
    import io

    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    panels = [s.plot for s in report.sections] or [Plot("hist", [], [])]
    fig = Figure(figsize=(6.4 * len(panels), 4.2), dpi=100, layout="constrained")
    for ax, plot in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
        (_scatter if plot.kind == "scatter" else _hist)(ax, plot)
        ax.set_title(plot.title, fontsize=10)
    fig.suptitle(report.title, fontsize=11)
    sink = io.BytesIO()
    fig.savefig(sink, format="png")
    return sink.getvalue()


def draw(report: IntegrityReport, path: Path) -> Path:
    path.write_bytes(png(report))
    return path
