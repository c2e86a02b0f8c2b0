"""Relu to high accuracy: the structured interior point (``ipm``) against native Clarabel, side by side.

    python scripts/bench_ipm.py --instances 500,20,100 1000,20,200 breast_cancer:200 digits:100 --rows ipm.jsonl

Instances: ``n,d,P`` (gaussian data, seed 0) or ``dataset:P`` (the training split of a bundled data set, squared
loss on its labels); P sampled patterns (seed 0), beta = 1e-3 n. The reference f* is the cached Clarabel solve
at 1e-10 (computed first, outside the clock). Times include setup and count only where the relative gap is
<= eps AND the cone violation <= eps max|y| (``relubench.running.metrics.reached``): ipm from its trace (one run
at tol 1e-8), Clarabel one run per tolerance (its final point). Every solve is one row of relubench's
measurement schema (scripts/benchrows.py); the table is rendered from the rows, which ``--rows`` keeps.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from benchrows import fmt, instance, num, solve_row, write_rows, write_table

from relubench.running.reference import reference_optimum
from relubench.running.solver import get_solver

EPS = (1e-4, 1e-6)
HEAD = [
    "| instance | solver | t(1e-4) s | t(1e-6) s | final gap | viol/max\\|y\\| | iterations | note |",
    "|---|---|---|---|---|---|---|---|",
]




def render(rows: list[dict[str, Any]]) -> str:
    """The table from the rows alone: ipm's times from its trace (one run at tol 1e-8), Clarabel's the fastest run
    (one per tolerance) whose final point reached eps."""
    lines = list(HEAD)
    for label in dict.fromkeys(r["instance"] for r in rows):
        ipm = next(r for r in rows if r["instance"] == label and r["solver"] == "ipm")
        clar = [r for r in rows if r["instance"] == label and r["solver"] == "clarabel"]
        t_ipm = [num(ipm[f"time_to_{e:g}"]) for e in EPS]
        t_clar = [min((num(r[f"time_to_{e:g}"]) for r in clar), default=math.inf) for e in EPS]
        ratio = "; ".join(
            f"Clarabel/ipm at {e:g}: {tc / ti:.1f}x" if math.isfinite(tc) and math.isfinite(ti) else f"{e:g}: -"
            for e, tc, ti in zip(EPS, t_clar, t_ipm, strict=True)
        )
        per_it = ipm["solve_s"] / max(ipm["iterations"], 1)
        notes = {
            "ipm": f"{ipm['status']}; {per_it:.2f} s per iteration; {ratio}",
            "clarabel": "; ".join(
                f"tol {r['run_tol']:g}: {r['status']} {r['setup_s'] + r['solve_s']:.1f} s" for r in clar
            ),
        }
        for name, tt, r in (("ipm", t_ipm, ipm), ("clarabel", t_clar, clar[-1])):
            lines.append(
                f"| {label} | {name} | {fmt(tt[0])} | {fmt(tt[1])} | {r['relative_gap']:.1e} | "
                f"{r['max_violation'] / r['y_scale']:.1e} | {r['iterations']} | {notes[name]} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", nargs="+", default=["500,20,100", "1000,20,200", "breast_cancer:200", "digits:100"])
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per run")
    ap.add_argument("--rows", help="also write the rows (JSON lines) here")
    ap.add_argument("--out", help="also write the table (markdown, rendered from the rows) here")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    for spec in args.instances:
        label, problem, ds = instance(spec)
        ref = reference_optimum(problem, "relu").value
        print(f"  reference ready for {label} ({time.strftime('%H:%M:%S')})", file=sys.stderr, flush=True)
        res = get_solver("ipm").solve(problem, "relu", tol=1e-8, time_limit=args.time_limit)
        rows.append(solve_row(problem, ds, res, ref, instance=label, run_tol=1e-8))
        for eps in EPS:
            res = get_solver("clarabel").solve(problem, "relu", tol=eps, time_limit=args.time_limit)
            rows.append(solve_row(problem, ds, res, ref, instance=label, run_tol=eps))
        print("\n".join(render(rows).rstrip("\n").rsplit("\n", 2)[-2:]), file=sys.stderr, flush=True)  # progress
        if args.rows:
            write_rows(args.rows, rows)
    print(render(rows), end="")
    if args.out:
        write_table(args.out, render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
