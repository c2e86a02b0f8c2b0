"""Time to reach relative gap 1e-2, 1e-4, 1e-6, first-order methods against the conic solvers, side by side.

    python scripts/bench_first_order.py --sizes 500,20,100 1000,20,200 5000,50,500 --rows results/first_order.jsonl

Problems: ``gaussian`` data (seed 0), P sampled patterns (seed 0), beta = 1e-3 * n (scnn's lambda = 1e-3).
Reference f*: the cached high-accuracy Clarabel solve where n * P <= --ip-max; beyond it there is no f* (no
best-known value stands in for one): gap columns are "-" and the times are to a certified relative gap (with
violation <= tol max|y|) for the backends that certify one. Time-to-tolerance counts setup plus the
first trace point with |gap| <= tol and violation <= tol max|y| (first-order methods: one run at tol 1e-8;
conic solvers: one run per tolerance, counted when the run's final point reaches it). "cert. gap" is the
backend's certified duality gap at its final point relative to its objective (a dual bound, valid whatever f*
is; "-" where the backend has none). Also prints ADMM's per-iteration time next to one product X @ U (U of
size d x 2P) on the same data: averaged over the run above, and from fixed-length runs with the slack state in
single and in double precision (checks and rho changes aside: one check at the end, no adaptation).
Every solve is one row of relubench's measurement schema (scripts/benchrows.py); the table is rendered from the
rows (``render``), and ``--rows`` keeps them (scripts/record.py stores them for docs/results.md).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

import numpy as np
from benchrows import fmt, num, solve_row, write_rows, write_table

from relubench.datasets import load_dataset
from relubench.problem import Problem
from relubench.running.metrics import TOLERANCES
from relubench.running.reference import reference_optimum
from relubench.running.solver import get_solver

FIRST_ORDER = {"admm": "relu", "al": "relu", "fista": "gated", "admm-gated": "gated"}
HEAD = [
    "| n | d | P | formulation | solver | t(1e-2) s | t(1e-4) s | t(1e-6) s | final gap | cert. gap | viol/max\\|y\\| "
    "| iters | note |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def times(group: list[dict[str, Any]]) -> list[float]:
    """Seconds (setup included) to each tolerance of a (size, solver, formulation) group of rows: a first-order
    run's trace (to the reference's gap, else to its certified gap); for conic solvers, run once per tolerance, the
    fastest run whose final point reached it (a tighter run that reached eps counts for eps too)."""
    if len(group) == 1:
        r = group[0]
        key = "time_to_{:g}" if r["reference"] is not None else "time_to_certified_{:g}"
        return [num(r[key.format(t)]) if r[key.format(t)] is not None else math.inf for t in TOLERANCES]
    return [min((num(r[f"time_to_{t:g}"]) for r in group), default=math.inf) for t in TOLERANCES]


def render_solves(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        if r["kind"] == "solve":
            groups.setdefault((tuple(r["size"]), r["name"], r["formulation"]), []).append(r)
    for (size, name, form), group in groups.items():
        n, d, P = size
        final = group[-1]  # conic: the tightest tolerance's run
        tt = times(group)
        if len(group) == 1:
            ms = final["solve_s"] / max(final["iterations"], 1) * 1e3
            note = f"{final['status']}; setup {final['setup_s']:.2f} s; {ms:.2f} ms/iter"
        else:
            note = "; ".join(f"tol {r['run_tol']:g}: {r['status']} {r['setup_s'] + r['solve_s']:.1f} s" for r in group)
        ref = final["reference"]
        gap = "-" if ref is None else f"{final['relative_gap']:.1e}"
        cert = "-" if final["relative_certified_gap"] is None else f"{final['relative_certified_gap']:.1e}"
        how = "clarabel 1e-10" if ref is not None else "none (times to a certified gap)"
        lines.append(
            f"| {n} | {d} | {P} | {form} | {name} | {fmt(tt[0])} | {fmt(tt[1])} | {fmt(tt[2])} | {gap} | {cert} | "
            f"{final['max_violation'] / final['y_scale']:.1e} | {final['iterations']} | {note}; ref {how} |"
        )
    return lines


def render(rows: list[dict[str, Any]]) -> str:
    """The table (and each size's ADMM per-iteration line) from the rows alone."""
    lines = HEAD + render_solves(rows)
    for r in rows:
        if r["kind"] == "admm_iteration":
            n, d, P = r["size"]
            fixed = ", in ".join(
                f"{label} {r[key]:.3f} ms = {r[key] / r['xu_ms']:.1f}x"
                for label, key in (("single", "single_ms"), ("double", "double_ms"))
            )
            lines += [
                "",
                f"n={n} d={d} P={P}: one X @ U (d x 2P) {r['xu_ms']:.3f} ms; ADMM relu iteration "
                f"{r['run_ms']:.3f} ms = {r['run_ms'] / r['xu_ms']:.1f}x averaged over the run; {r['iterations']} "
                f"iterations with the state in {fixed}",
                "",
            ]
    return "\n".join(lines) + "\n"


def admm_iteration_row(problem: Problem, size: list[int], admm_run: dict[str, Any]) -> dict[str, Any]:
    """ADMM's per-iteration cost against one X @ U (U of d x 2P): over the run, and in fixed-length runs."""
    n, d, P = size
    U = np.random.default_rng(0).standard_normal((d, 2 * P))
    reps = max(3, int(2e8 / (n * d * 2 * P)))
    t0 = time.perf_counter()
    for _ in range(reps):
        problem.X @ U
    row = {"kind": "admm_iteration", "size": size, "xu_ms": (time.perf_counter() - t0) / reps * 1e3}
    row["run_ms"] = admm_run["solve_s"] / max(admm_run["iterations"], 1) * 1e3
    row["iterations"] = its = 500 if n * P <= 200_000 else 100
    for prec, key in (("mixed", "single_ms"), ("double", "double_ms")):
        opts = dict(max_iter=its, check_every=10**9, adapt=False, precision=prec)
        r = get_solver("admm", **opts).solve(problem, "relu", tol=1e-12)
        row[key] = r.solve_s / r.iterations * 1e3
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["500,20,100", "1000,20,200"])
    ap.add_argument("--solvers", default="admm,al,fista,admm-gated,clarabel,scs")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per run")
    ap.add_argument("--ip-max", type=int, default=200_000, help="largest n*P for interior-point/SCS runs")
    ap.add_argument("--rows", help="also write the rows (JSON lines) here")
    ap.add_argument("--out", help="also write the table (markdown, rendered from the rows) here")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        n, d, P = (int(v) for v in size.split(","))
        ds = load_dataset("gaussian", n=n, d=d, seed=0)
        problem = Problem.create(ds.X_train, ds.y_train, 1e-3 * n, patterns=P, seed=0)
        conic_ok = n * P <= args.ip_max
        # f* where an interior point reaches this size; never a best-known value in its place
        refs = {f: reference_optimum(problem, f).value if conic_ok else None for f in ("relu", "gated")}
        start = len(rows)
        for name in args.solvers.split(","):
            common = {"size": [n, d, P], "name": name}
            if name in FIRST_ORDER:
                solver, form = name.split("-")[0], FIRST_ORDER[name]
                res = get_solver(solver).solve(problem, form, tol=1e-8, time_limit=args.time_limit)
                rows.append(solve_row(problem, ds, res, refs[form], **common, run_tol=None))
            elif conic_ok:
                for form in ("relu", "gated"):
                    for tol in TOLERANCES:
                        res = get_solver(name).solve(problem, form, tol=tol, time_limit=args.time_limit)
                        rows.append(solve_row(problem, ds, res, refs[form], **common, run_tol=tol))
            print(f"  ran {name} at n={n} ({time.strftime('%H:%M:%S')})", file=sys.stderr, flush=True)
        print("\n".join(render_solves(rows[start:])), file=sys.stderr, flush=True)  # progress
        admm = next((r for r in rows[start:] if r["name"] == "admm"), None)
        if admm is not None:
            rows.append(admm_iteration_row(problem, [n, d, P], admm))
        if args.rows:
            write_rows(args.rows, rows)
    print(render(rows), end="")
    if args.out:
        write_table(args.out, render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
