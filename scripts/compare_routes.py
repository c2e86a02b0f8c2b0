"""Setup and solve seconds of the native and cvxpy routes of Clarabel and SCS, side by side.

    python scripts/compare_routes.py --sizes 500,20,100 1000,20,200 --tol 1e-6

Prints one row per (size, solver) and, per size, the native/cvxpy ratios. Problems are ``gaussian`` data
(seed 0, beta 0.01, P sampled patterns); the relative gap is measured against the native Clarabel objective
at tolerance 1e-8 where that solve finishes.
"""

from __future__ import annotations

import argparse
import sys

from relubench.datasets import load_dataset
from relubench.problem import Problem
from relubench.running.solver import get_solver


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["500,20,100", "1000,20,200"], help="n,d,P triples")
    ap.add_argument("--solvers", default="clarabel,cvxpy-clarabel,scs,cvxpy-scs")
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--time-limit", type=float, default=900.0)
    args = ap.parse_args()
    print(
        f"{'n':>5} {'d':>3} {'P':>4}  {'solver':15s} {'status':10s} {'setup_s':>8} {'solve_s':>8} {'total_s':>8} "
        f"{'iters':>6} {'objective':>14}"
    )
    for size in args.sizes:
        n, d, P = (int(v) for v in size.split(","))
        ds = load_dataset("gaussian", n=n, d=d, seed=0)
        problem = Problem.create(ds.X_train, ds.y_train, 0.01, patterns=P, seed=0)
        totals = {}
        for name in args.solvers.split(","):
            res = get_solver(name).solve(problem, "relu", tol=args.tol, time_limit=args.time_limit)
            totals[name] = (res.setup_s, res.solve_s)
            print(
                f"{n:5d} {d:3d} {P:4d}  {name:15s} {res.status:10s} {res.setup_s:8.2f} {res.solve_s:8.2f} "
                f"{res.setup_s + res.solve_s:8.2f} {res.iterations:6d} {res.objective:14.8g}",
                flush=True,
            )
        for a, b in (("clarabel", "cvxpy-clarabel"), ("scs", "cvxpy-scs")):
            if a in totals and b in totals:
                (sa, va), (sb, vb) = totals[a], totals[b]
                print(
                    f"      ratio cvxpy/native {a}: setup {sb / sa:.2f}x, solve {vb / va:.2f}x, "
                    f"total {(sb + vb) / (sa + va):.2f}x",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
