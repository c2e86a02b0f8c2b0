"""ADMM's relu iteration against one product X @ U, with the slack update in numpy passes and fused (numba).

    python scripts/bench_admm_iteration.py --sizes 500,20,100 1000,20,200 5000,50,500 --out results/admm_it.md

Problems: ``gaussian`` data (seed 0), P sampled patterns (seed 0), beta = 1e-3 n, as in bench_first_order.py.
Per size: one fp64 product X @ U with U of d x 2P (median of 50); ADMM's per-iteration time from fixed-length
runs (--iterations; by default 1000 where n 2P <= 1e6, else 200; no adaptation, one check at the end) with the
slack state in single ("mixed") and double precision, numpy passes (fused=False) and the numba kernel
(fused=True); and one whole run to the ADMM's own tolerance --tol (checks, rho changes and the promotion to
double included) per setting, each in a fresh process so that the kernel's compilation is counted in that run's
setup, as a user running one solve would pay it.
Needs numba (``pip install 'relubench[fast]'``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from relubench.datasets import load_dataset
from relubench.problem import Problem
from relubench.running.solver import get_solver


def make_problem(size: str) -> Problem:
    n, d, P = (int(v) for v in size.split(","))
    ds = load_dataset("gaussian", n=n, d=d, seed=0)
    return Problem.create(ds.X_train, ds.y_train, 1e-3 * n, patterns=P, seed=0)


def whole_run(size: str, fused: bool, tol: float, limit: float, queue: mp.Queue) -> None:
    problem = make_problem(size)
    res = get_solver("admm", fused=fused).solve(problem, "relu", tol=tol, time_limit=limit)
    queue.put((res.status, res.setup_s, res.solve_s, res.iterations))


def fresh_process_run(size: str, fused: bool, tol: float, limit: float) -> tuple[str, float, float, int]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=whole_run, args=(size, fused, tol, limit, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["500,20,100", "1000,20,200"], help="n,d,P per size")
    ap.add_argument("--iterations", type=int, help="fixed-length runs (default 1000 where n 2P <= 1e6, else 200)")
    ap.add_argument("--tol", type=float, default=1e-4, help="tolerance of the whole runs (default 1e-4)")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per whole run (default 300)")
    ap.add_argument("--out", help="also write the table as markdown here")
    args = ap.parse_args()
    if (args.iterations is not None and args.iterations < 1) or not 0 < args.tol < 1 or args.time_limit <= 0:
        print("bench_admm_iteration: error: --iterations >= 1, 0 < --tol < 1, --time-limit > 0", file=sys.stderr)
        return 2
    lines = [
        "| n, d, P | X@U ms | single, numpy ms | single, fused ms | double, numpy ms | double, fused ms "
        f"| to {args.tol:g}, numpy: setup + solve s (its, ms/it) | fused |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print(lines[0], flush=True)
    for size in args.sizes:
        problem = make_problem(size)
        X = problem.X
        U = np.random.default_rng(0).standard_normal((problem.d, 2 * problem.P))
        times = []
        for _ in range(52):
            t = time.perf_counter()
            X @ U
            times.append(time.perf_counter() - t)
        t_mm = statistics.median(times[2:])
        cells = []
        for precision in ("mixed", "double"):
            for fused in (False, True):
                its = args.iterations or (1000 if problem.n * 2 * problem.P <= 1e6 else 200)
                opts = dict(max_iter=its, check_every=10**9, adapt=False, precision=precision, fused=fused)
                res = get_solver("admm", **opts).solve(problem, "relu", tol=1e-12)
                t_it = res.solve_s / res.iterations
                cells.append(f"{t_it * 1e3:.3f} ({t_it / t_mm:.1f}x)")
        for fused in (False, True):
            status, setup_s, solve_s, its = fresh_process_run(size, fused, args.tol, args.time_limit)
            cells.append(
                f"{setup_s:.2f} + {solve_s:.2f} = {setup_s + solve_s:.2f} ({its}, {solve_s / its * 1e3:.2f}; {status})"
            )
        line = f"| {size.replace(',', ', ')} | {t_mm * 1e3:.3f} | " + " | ".join(cells) + " |"
        lines.append(line)
        print(line, flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
