"""Run the benchmarks and print their ratios: `make bench` (or `python benchmarks/run.py [NAME...]`).

Every ``benchmarks/bench_*.py`` module defines ``run(quick: bool) -> list[Row]``; each row
compares our way against the obvious alternative measured in the same run.  Nothing here
asserts timings: the figures are for people (and the closing notes), as ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from common import Row  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmark modules to run (default: all), e.g. execution")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    modules = sorted(HERE.glob("bench_*.py"))
    if args.names:
        modules = [m for m in modules if m.stem.removeprefix("bench_") in args.names]
    rows: list[Row] = []
    for path in modules:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        started = time.monotonic()
        print(f"== {path.stem} ...", flush=True)
        try:
            found = module.run(quick=args.quick)
        except Exception as exc:  # one broken benchmark must not hide the others
            print(f"   FAILED: {type(exc).__name__}: {exc}", flush=True)
            continue
        for row in found:
            print("   " + row.line(), flush=True)
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
        rows += found
    print("\nSummary")
    for row in rows:
        print("  " + row.line())
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
