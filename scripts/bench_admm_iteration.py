"""ADMM's relu iteration against one product X @ U, with the slack update in numpy passes and fused (numba).

    python scripts/bench_admm_iteration.py --sizes 500,20,100 1000,20,200 5000,50,500 --rows results/admm_it.jsonl

Problems: ``gaussian`` data (seed 0), P sampled patterns (seed 0), beta = 1e-3 n, as in bench_first_order.py.
Per size: one fp64 product X @ U with U of d x 2P (median of 50); ADMM's per-iteration time from fixed-length
runs (--iterations; by default 1000 where n 2P <= 1e6, else 200; no adaptation, one check at the end) with the
slack state in single ("mixed") and double precision, numpy passes (fused=False) and the numba kernel
(fused=True); and one whole run to the ADMM's own tolerance --tol (checks, rho changes and the promotion to
double included) per setting, each in a fresh process so that the kernel's compilation is counted in that run's
setup, as a user running one solve would pay it.
Needs numba (``pip install 'relubench[fast]'``). The whole runs are rows of relubench's measurement schema
(scripts/benchrows.py), the per-iteration times rows of their own; the table is rendered from the rows.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from typing import Any

import numpy as np
from benchrows import solve_row, write_rows, write_table

from relubench.datasets import Dataset, load_dataset
from relubench.problem import Problem
from relubench.running.solver import get_solver

SETTINGS = [(p, f) for p in ("mixed", "double") for f in (False, True)]


def make_problem(size: str) -> tuple[Problem, Dataset]:
    n, d, P = (int(v) for v in size.split(","))
    ds = load_dataset("gaussian", n=n, d=d, seed=0)
    return Problem.create(ds.X_train, ds.y_train, 1e-3 * n, patterns=P, seed=0), ds


def whole_run(size: str, fused: bool, tol: float, limit: float, queue: mp.Queue) -> None:
    problem, ds = make_problem(size)
    res = get_solver("admm", fused=fused).solve(problem, "relu", tol=tol, time_limit=limit)
    queue.put(solve_row(problem, ds, res, None, size=size, fused=fused, run_tol=tol))


def fresh_process_run(size: str, fused: bool, tol: float, limit: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=whole_run, args=(size, fused, tol, limit, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def render(rows: list[dict[str, Any]]) -> str:
    """The table from the rows alone: per size, the per-iteration times against one X @ U and the whole runs."""
    tol = next((r["run_tol"] for r in rows if r["kind"] == "solve"), 1e-4)
    lines = [
        "| n, d, P | X@U ms | single, numpy ms | single, fused ms | double, numpy ms | double, fused ms "
        f"| to {tol:g}, numpy: setup + solve s (its, ms/it) | fused |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for it in (r for r in rows if r["kind"] == "admm_iteration"):
        xu = it["xu_ms"]
        keys = [f"{p}_{'fused' if f else 'numpy'}_ms" for p, f in SETTINGS]
        cells = [f"{it[k]:.3f} ({it[k] / xu:.1f}x)" for k in keys]
        for fused in (False, True):
            r = next(r for r in rows if r["kind"] == "solve" and r["size"] == it["size"] and r["fused"] == fused)
            s, t, n_it = r["setup_s"], r["solve_s"], r["iterations"]
            cells.append(f"{s:.2f} + {t:.2f} = {s + t:.2f} ({n_it}, {t / max(n_it, 1) * 1e3:.2f}; {r['status']})")
        lines.append(f"| {it['size'].replace(',', ', ')} | {xu:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["500,20,100", "1000,20,200"], help="n,d,P per size")
    ap.add_argument("--iterations", type=int, help="fixed-length runs (default 1000 where n 2P <= 1e6, else 200)")
    ap.add_argument("--tol", type=float, default=1e-4, help="tolerance of the whole runs (default 1e-4)")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per whole run (default 300)")
    ap.add_argument("--out", help="also write the table (markdown, rendered from the rows) here")
    ap.add_argument("--rows", help="also write the rows (JSON lines) here")
    args = ap.parse_args()
    if (args.iterations is not None and args.iterations < 1) or not 0 < args.tol < 1 or args.time_limit <= 0:
        print("bench_admm_iteration: error: --iterations >= 1, 0 < --tol < 1, --time-limit > 0", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        problem, _ = make_problem(size)
        X = problem.X
        U = np.random.default_rng(0).standard_normal((problem.d, 2 * problem.P))
        times = []
        for _ in range(52):
            t = time.perf_counter()
            X @ U
            times.append(time.perf_counter() - t)
        row: dict[str, Any] = {"kind": "admm_iteration", "size": size, "xu_ms": statistics.median(times[2:]) * 1e3}
        its = args.iterations or (1000 if problem.n * 2 * problem.P <= 1e6 else 200)
        for precision, fused in SETTINGS:
            opts = dict(max_iter=its, check_every=10**9, adapt=False, precision=precision, fused=fused)
            res = get_solver("admm", **opts).solve(problem, "relu", tol=1e-12)
            row[f"{precision}_{'fused' if fused else 'numpy'}_ms"] = res.solve_s / res.iterations * 1e3
        rows.append(row)
        rows += [fresh_process_run(size, fused, args.tol, args.time_limit) for fused in (False, True)]
        print(render(rows).rstrip("\n").rsplit("\n", 1)[-1], file=sys.stderr, flush=True)  # progress
        if args.rows:
            write_rows(args.rows, rows)
    print(render(rows), end="")
    if args.out:
        write_table(args.out, render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
