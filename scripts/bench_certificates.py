"""Certified against true gaps: how far each relubench relu backend's certificate is from the truth, and what
status it then claims, at tolerances 1e-2 .. 1e-6.

    python scripts/bench_certificates.py --instances 300,8,40 800,15,80 breast_cancer:60 --rows cert.jsonl

Instances: ``n,d,P`` (gaussian data, seed 0) or ``dataset:P`` (the training split of a bundled data set, squared
loss on its labels); P sampled patterns (seed 0), beta = 1e-3 n. f* is the cached Clarabel solve at 1e-10. Each
backend (al, admm, ipm) runs once per tolerance (time limit 120 s); the row keeps its status, its certified gap
(relative to its objective: valid also at infeasible points, ``formulations.dual_gap_relu``), its true relative
gap to f* and its violation. "optimal" must mean certified gap <= tol and violation <= tol max|y|; the ratio
certified / |true| says how much accuracy the certificate wastes (1: it tracks the truth).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from benchrows import finish, fmt, instance, num, solve_row, write_rows

from relubench.running.reference import reference_optimum
from relubench.running.solver import get_solver

TOLS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
BACKENDS = ("al", "admm", "ipm")
HEAD = [
    "| instance | backend | tol | status | true gap | certified gap | certified / true | viol/max\\|y\\| | s |",
    "|---|---|---|---|---|---|---|---|---|",
]


def render(rows: list[dict[str, Any]]) -> str:
    """One line per solve; gaps relative to |objective| (certified) and |f*| (true)."""
    lines = list(HEAD)
    for r in rows:
        cert = num(r["certified_gap"]) / max(abs(num(r["objective"])), 1e-300)
        true = abs(num(r["relative_gap"]))
        ratio = f"{cert / true:.3g}" if true > 0 and math.isfinite(cert) else "-"
        lines.append(
            f"| {r['instance']} | {r['solver']} | {r['run_tol']:g} | {r['status']} | {true:.1e} | {cert:.1e} | "
            f"{ratio} | {num(r['max_violation']) / num(r['y_scale']):.1e} | {fmt(r['setup_s'] + r['solve_s'])} |"
        )
    claims = [r for r in rows if r["status"] == "optimal"]
    over = [
        r
        for r in claims
        if num(r["certified_gap"]) > r["run_tol"] * abs(num(r["objective"]))
        or num(r["max_violation"]) > r["run_tol"] * num(r["y_scale"])
    ]
    lines.append("")
    lines.append(f"{len(claims)} of {len(rows)} solves say optimal; {len(over)} of those without a certificate at tol.")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", nargs="+", default=["300,8,40", "800,15,80", "breast_cancer:60"])
    ap.add_argument("--backends", nargs="+", default=list(BACKENDS))
    ap.add_argument("--rows", help="write the measured rows here (JSON lines)")
    ap.add_argument("--table", help="write the rendered table here")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    for spec in args.instances:
        label, problem, ds = instance(spec)
        f_star = reference_optimum(problem, "relu").value
        for backend in args.backends:
            for tol in TOLS:
                res = get_solver(backend).solve(problem, "relu", tol=tol, time_limit=120)
                rows.append(solve_row(problem, ds, res, f_star, instance=label, run_tol=tol))
                print(render(rows[-1:]).splitlines()[2], file=sys.stderr, flush=True)
                if args.rows:
                    write_rows(args.rows, rows)
    return finish(rows, render, args.rows, args.table)


if __name__ == "__main__":
    sys.exit(main())
