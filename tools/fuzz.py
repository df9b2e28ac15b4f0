#!/usr/bin/env python3
"""Long fuzz runs: differential (pywinch vs Wasmtime on wasm-tools smith modules) and
hostile input (mutated modules, pywinch alone).

    python tools/fuzz.py --count 20000 --seed 1 --jobs 2          # differential
    python tools/fuzz.py --hostile --count 20000 --seed 1          # hostile input
    python tools/fuzz.py --count 1000 --json figures.json          # figures as JSON too

Failing cases (mismatch, foreign exception, crash, hang; for hostile input also
accept/reject disagreements with Wasmtime) are saved with a description under
--out (default fuzz-out/).  Exit status 1 if any case failed.  Case i of seed S is
reproducible alone: --seed S --start i --count 1; --rerun DIR re-runs every case saved
in DIR (after a fix).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
# This script is itself named fuzz.py: the tests' fuzz package must win the import.
sys.path[0] = str(ROOT / "tests")

from fuzz import difffuzz, hostile  # noqa: E402


def _merge(a: dict, b: dict) -> dict:
    for k, v in b.items():
        if isinstance(v, (int, float)):
            a[k] = a.get(k, 0) + v
        elif isinstance(v, list):
            a[k] = a.get(k, []) + v
        elif isinstance(v, dict):
            for r, n in v.items():
                a[k][r] = a[k].get(r, 0) + n
    return a


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="first case index (differential runs)")
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=difffuzz.TIMEOUT, help="seconds per case")
    ap.add_argument("--hostile", action="store_true", help="mutated modules instead of differential cases")
    ap.add_argument("--out", default="fuzz-out", help="where failing cases are saved")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--quiet", "-q", action="store_true")
    ap.add_argument("--rerun", metavar="DIR", help="re-run the differential cases saved in DIR "
                    "(case-SEED-INDEX.wasm), e.g. after a fix")
    args = ap.parse_args(argv)

    last = [0.0]

    def progress(fig, elapsed):
        if args.quiet or time.monotonic() - last[0] < 10:
            return
        last[0] = time.monotonic()
        keys = ("agree", "unsupported", "skipped", "ok", "mismatch", "disagree", "error", "crash", "hang")
        parts = " ".join(f"{k}={fig[k]}" for k in keys if k in fig)
        print(f"[{elapsed:7.0f}s] {fig['cases']}/{args.count} {parts}", file=sys.stderr, flush=True)

    if args.hostile:
        fig = hostile.hostile_fuzz(args.count, seed=args.seed, jobs=args.jobs, out_dir=args.out,
                                   timeout=args.timeout, progress=progress)
        bad = fig["error"] + fig["crash"] + fig["hang"] + fig["disagree"]
    elif args.rerun:
        import re
        found = sorted({(int(m.group(1)), int(m.group(2))) for p in pathlib.Path(args.rerun).glob("case-*.wasm")
                        if (m := re.fullmatch(r"case-(\d+)-(\d+)\.wasm", p.name))})
        fig = None
        for seed in sorted({s for s, _ in found}):
            part = difffuzz.fuzz(0, seed=seed, jobs=args.jobs, out_dir=args.out, timeout=args.timeout,
                                 indices=[i for s, i in found if s == seed])
            fig = part if fig is None else _merge(fig, part)
        if fig is None:
            print(f"no saved cases in {args.rerun}")
            return 0
        bad = sum(fig[k] for k in difffuzz.FAILURES)
        args.count = fig["cases"]
    else:
        fig = difffuzz.fuzz(args.count, seed=args.seed, jobs=args.jobs, start=args.start, out_dir=args.out,
                            timeout=args.timeout, progress=progress)
        bad = sum(fig[k] for k in difffuzz.FAILURES)
    failures = fig.pop("failures")
    reasons = fig.pop("unsupported_reasons", {})
    what = "hostile" if args.hostile else "re-run" if args.rerun else "differential"
    print(f"{what} fuzz: seed {args.seed}, {fig['cases']} cases "
          f"in {fig['seconds']} s")
    for k, v in fig.items():
        if k not in ("cases", "seconds"):
            print(f"  {k:12} {v}")
    for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"  unsupported x{n}: {r}")
    for f in failures[:50]:
        print(f"\n#{f['index']} {f['verdict']} (stage {f['stage']}) saved {f['saved']}\n  "
              + f["detail"].replace("\n", "\n  ")[:1500])
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({**fig, "unsupported_reasons": reasons,
                                                       "failures": failures}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
