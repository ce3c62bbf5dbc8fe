"""What every benchmark reports: our figure, the alternative's, their ratio, the target."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    name: str
    ours: float
    baseline: float
    unit: str = "s"
    target: float | None = None
    """The ratio ours/baseline should be at most this."""
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    def line(self) -> str:
        verdict = ""
        if self.target is not None:
            verdict = f"  target ≤ {self.target:g}× " + ("MET" if self.ratio <= self.target else "MISSED")
        text = (f"{self.name}: ours {self.ours:.3f} {self.unit} vs baseline {self.baseline:.3f} {self.unit}"
                f" → {self.ratio:.2f}×{verdict}")
        return text + (f"  ({self.note})" if self.note else "")


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``repeat`` calls, and all of them."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times
