"""Relu to high accuracy: the structured interior point (``ipm``) against native Clarabel, side by side.

    python scripts/bench_ipm.py --instances 500,20,100 1000,20,200 breast_cancer:200 digits:100 --out ipm.md

Instances: ``n,d,P`` (gaussian data, seed 0) or ``dataset:P`` (the training split of a bundled data set, squared
loss on its labels); P sampled patterns (seed 0), beta = 1e-3 n. The reference f* is the cached Clarabel solve
at 1e-10 (computed first, outside the clock). Times include setup and count only where the relative gap is
<= eps AND the cone violation <= eps max|y| (``relubench.running.metrics.reached``): ipm from its trace (one run
at tol 1e-8), Clarabel one run per tolerance (its final point). Rows are printed as they finish.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from relubench.datasets import load_dataset
from relubench.problem import Problem
from relubench.problem.instance import y_scale
from relubench.running.metrics import reached, time_to_tolerance
from relubench.running.reference import reference_optimum, relative_gap
from relubench.running.solver import get_solver

EPS = (1e-4, 1e-6)


def instance(spec: str) -> tuple[str, Problem]:
    if ":" in spec:
        name, P = spec.split(":")
        ds = load_dataset(name, seed=0)
    else:
        n, d, P = (int(v) for v in spec.split(","))
        ds = load_dataset("gaussian", n=n, d=d, seed=0)
        name = f"gaussian {n}x{d}"
    n = ds.X_train.shape[0]
    problem = Problem.create(ds.X_train, ds.y_train, 1e-3 * n, patterns=int(P), seed=0)
    return f"{name} (n={n}, d={problem.d}, P={problem.P})", problem


def fmt(t: float) -> str:
    return "-" if not math.isfinite(t) else f"{t:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", nargs="+", default=["500,20,100", "1000,20,200", "breast_cancer:200", "digits:100"])
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per run")
    ap.add_argument("--out", help="also write the table as markdown here")
    args = ap.parse_args()
    lines = [
        "| instance | solver | t(1e-4) s | t(1e-6) s | final gap | viol/max\\|y\\| | iterations | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for spec in args.instances:
        label, problem = instance(spec)
        ys = y_scale(problem.y)
        ref = reference_optimum(problem, "relu").value
        print(f"  reference ready for {label} ({time.strftime('%H:%M:%S')})", file=sys.stderr, flush=True)
        ipm = get_solver("ipm").solve(problem, "relu", tol=1e-8, time_limit=args.time_limit)
        t_ipm = [ipm.setup_s + time_to_tolerance(ipm, ref, eps, ys) for eps in EPS]
        clar = {eps: get_solver("clarabel").solve(problem, "relu", tol=eps, time_limit=args.time_limit) for eps in EPS}
        t_clar = [
            min(
                (r.setup_s + r.solve_s for r in clar.values() if reached(r.objective, r.max_violation, ref, eps, ys)),
                default=math.inf,
            )
            for eps in EPS
        ]
        ratio = "; ".join(
            f"Clarabel/ipm at {eps:g}: {tc / ti:.1f}x" if math.isfinite(tc) and math.isfinite(ti) else f"{eps:g}: -"
            for eps, tc, ti in zip(EPS, t_clar, t_ipm, strict=True)
        )
        per_it = ipm.solve_s / max(ipm.iterations, 1)
        for name, tt, res, note in (
            ("ipm", t_ipm, ipm, f"{ipm.status}; {per_it:.2f} s per iteration; {ratio}"),
            (
                "clarabel",
                t_clar,
                clar[EPS[-1]],
                "; ".join(f"tol {e:g}: {r.status} {r.setup_s + r.solve_s:.1f} s" for e, r in clar.items()),
            ),
        ):
            line = (
                f"| {label} | {name} | {fmt(tt[0])} | {fmt(tt[1])} | {relative_gap(res.objective, ref):.1e} | "
                f"{res.max_violation / ys:.1e} | {res.iterations} | {note} |"
            )
            lines.append(line)
            print(line, flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
