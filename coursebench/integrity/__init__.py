"""Integrity report: which students' answers share code (winnowing fingerprints over a
normalised token stream, released code and code everybody writes left out), and the
CSV/HTML/figure an instructor reads.  Evidence to look at, never a verdict.

A leaf library (standard library, numpy, matplotlib): ``coursebench.grading.integrity``
(labs) and ``leaderboard.integrity`` (competitions) build on it.
"""

from .fingerprint import Document, K, W, fingerprint_cells
from .similarity import CodePair, CodeSettings, GroupResult, compare, evidence

__all__ = ["CodePair", "CodeSettings", "Document", "GroupResult", "K", "W", "compare", "evidence",
           "fingerprint_cells"]
