"""The generic first-order path on each device, side by side: per-iteration time against one X @ U, time to a
certified gap, peak GPU memory.

    python scripts/bench_devices.py --sizes 5000,50,500 100000,100,1000 --out results/devices.md

For each size (``gaussian`` data, seed 0, P sampled patterns, beta = 1e-3 n) and each placement (numpy on the CPU
in double precision; torch on CUDA in double and single precision when a GPU is visible; ``--placements`` picks):

* ``X@U ms``: one product X @ U (U of d x P, the placement's precision), median of 20, synchronized;
* ``fista it ms`` / ``al it ms`` / ``admm it ms``: seconds per iteration of fixed-length runs (``--iterations``,
  no gap checks but the last; admm relu without rho changes) after a 3-iteration warm-up (CUDA loads each kernel
  on first use), and their ratio to one X @ U (al and admm work on [V W], 2P columns). admm's own precision
  option is "double" on the fp64 placements and "mixed" (float32 slack state) on cuda32; it runs only where its
  n x n matrices are offered (n <= its max_rows, 20000);
* ``gated s``: setup + solve seconds of fista to a certified relative gap of ``--gated-tol`` (1e-4) (to the first
  trace point whose certified gap and violation are in bounds, whatever the solver's status);
  ``relu s``: of al to ``--relu-tol`` (1e-3) with violation <= tol max|y| (``--relu-violation`` sets another
  bar) ("-" when not reached in the limit); ``admm relu s``: of admm to the same relu target (``--solves admm``);
* ``peak MiB``: the larger peak GPU memory of those two solves (CUDA only).

No reference optimum is needed: gaps are the backends' certified duality gaps. Times include the host-device
synchronizations the solvers make (one per line-search test). Every solve is also one row of relubench's
measurement schema (scripts/benchrows.py); the table is rendered from the rows (``render``), which ``--rows``
keeps.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from functools import partial
from typing import Any

import numpy as np
from benchrows import fmt, num, solve_row, write_rows, write_table

from relubench.datasets import Dataset, load_dataset
from relubench.problem.instance import Problem, y_scale
from relubench.running.device import cuda_status, placement
from relubench.running.metrics import time_to_certified
from relubench.running.solver import get_solver, solver_class

PLACEMENTS = {
    "cpu": ("cpu", "numpy", "double"),
    "cuda": ("cuda", "torch", "double"),
    "cuda32": ("cuda", "torch", "single"),
}


HEAD = [
    "| n, d, P | placement | X@U ms | fista it ms | ratio | al it ms | ratio | gated s | relu s | peak MiB "
    "| admm it ms | ratio | admm relu s | admm peak MiB |",
    "|" + "---|" * 14,
]


def mib(b: float | None) -> str:
    return "-" if b is None else f"{b / 2**20:.0f}"


def render_row(r: dict[str, Any]) -> str:
    n, d, P = r["size"]
    xu, fi, al, ad = (num(r[k]) for k in ("xu_ms", "fista_ms", "al_ms", "admm_ms"))
    return (
        f"| {n}, {d}, {P} | {r['placement']} | {fmt(xu, 3)} | {fmt(fi, 3)} | {fmt(fi / xu, 1)} | {fmt(al, 3)} | "
        f"{fmt(al / xu, 1)} | {fmt(num(r['gated_s']))} | {fmt(num(r['relu_s']))} | {mib(r['peak_bytes'])} | "
        f"{fmt(ad, 3)} | {fmt(ad / xu, 1)} | {fmt(num(r['admm_relu_s']))} | {mib(r['admm_peak_bytes'])} |"
    )


def render(rows: list[dict[str, Any]]) -> str:
    """The table from the rows alone (the "devices" rows; the solve rows beside them are the measured solves)."""
    table = [r for r in rows if r["kind"] == "devices"]
    gpu = table[0]["gpu"] if table else ""
    return "\n".join([f"GPU: {gpu}", "", *HEAD, *map(render_row, table)]) + "\n"


def product_ms(problem: Problem, key: str) -> float:
    where = placement(*PLACEMENTS[key])
    X = where.asarray(problem.X)
    U = where.asarray(np.random.default_rng(0).standard_normal((problem.d, problem.P)))
    times = []
    for _ in range(22):
        where.synchronize()
        t = time.perf_counter()
        X @ U
        where.synchronize()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times[2:])


def placement_options(name: str, key: str) -> dict[str, str]:
    """The solver options of a placement (admm's precision option is its own: double, or mixed for fp32)."""
    device, library, precision = PLACEMENTS[key]
    if name == "admm":
        precision = "double" if precision == "double" else "mixed"
    return {"device": device, "array_library": library, "precision": precision}


def offered(problem: Problem, name: str) -> bool:
    return solver_class(name).capabilities.offered_at(problem.n, problem.P)


def per_iteration_ms(problem: Problem, name: str, form: str, key: str, iterations: int) -> float:
    if not offered(problem, name):
        return math.nan
    opts = placement_options(name, key)
    if name == "al":
        opts |= {"max_outer": 1, "inner_iter": iterations, "check_every": 10**9}
        short = {"inner_iter": 3}
    else:
        opts |= {"max_iter": iterations, "check_every": 10**9} | ({"adapt": False} if name == "admm" else {})
        short = {"max_iter": 3}
    get_solver(name, **(opts | short)).solve(problem, form, tol=1e-12)  # warm-up
    res = get_solver(name, **opts).solve(problem, form, tol=1e-12)
    return 1e3 * res.solve_s / max(res.iterations, 1)


def to_certified(
    problem: Problem,
    ds: Dataset,
    rows: list[dict[str, Any]],
    name: str,
    form: str,
    key: str,
    tol: float,
    limit: float,
    **options: float,
) -> tuple[float, int | None]:
    if not offered(problem, name):
        return math.nan, None
    res = get_solver(name, **placement_options(name, key), **options).solve(problem, form, tol=tol, time_limit=limit)
    # the first trace point certified to tol with its violation in bounds (a status "optimal" alone is not enough:
    # admm stops on its residuals, and its certified gap at that point can be looser than tol)
    t = time_to_certified(res, tol, y_scale(problem.y), violation_tol=options.get("violation_tol"))
    seconds = res.setup_s + t if t is not None and math.isfinite(t) else math.inf
    rows.append(solve_row(problem, ds, res, None, placement=key, target_tol=tol, seconds_to_target=seconds))
    viol = res.max_violation / y_scale(problem.y)
    print(
        f"  {name} {form} {key}: {res.status} after {res.setup_s + res.solve_s:.2f} s, {res.message}, violation "
        f"{viol:.2g} max|y|",
        file=sys.stderr,
        flush=True,
    )
    return seconds, res.device_peak_bytes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["5000,50,500"], help="n,d,P triples")
    ap.add_argument("--placements", default="", help="comma-separated of cpu, cuda, cuda32 (default: all visible)")
    ap.add_argument("--iterations", type=int, default=50, help="length of the per-iteration runs")
    ap.add_argument("--gated-tol", type=float, default=1e-4)
    ap.add_argument("--relu-tol", type=float, default=1e-3)
    ap.add_argument("--relu-violation", type=float, help="violation bar of the relu solve, times max|y| (default: tol)")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve to a certified gap")
    ap.add_argument("--no-solve", action="store_true", help="per-iteration columns only")
    ap.add_argument("--iters", default="fista,al,admm", help="which per-iteration runs to time (fista, al, admm)")
    ap.add_argument(
        "--solves", default="gated,relu", help="which solves to a certified gap to run (gated, relu; admm: admm relu)"
    )
    ap.add_argument("--out", help="also write the table (markdown, rendered from the rows) here")
    ap.add_argument("--rows", help="also write the rows (JSON lines) here")
    args = ap.parse_args()
    visible, gpu = cuda_status()
    keys = [k for k in args.placements.split(",") if k] or (["cpu", "cuda", "cuda32"] if visible else ["cpu"])
    bad = [k for k in keys if k not in PLACEMENTS or (k != "cpu" and not visible)]
    if bad:
        print(f"bench_devices: error: cannot run {', '.join(bad)} here ({gpu})", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    iters = set(args.iters.split(","))
    solves = set() if args.no_solve else set(args.solves.split(","))
    relu_options = {} if args.relu_violation is None else {"violation_tol": args.relu_violation}
    print("\n".join(HEAD), flush=True)
    for size in args.sizes:
        n, d, P = (int(v) for v in size.split(","))
        ds = load_dataset("gaussian", n=n, d=d, seed=0)
        problem = Problem.create(ds.X_train, ds.y_train, 1e-3 * n, patterns=P, seed=0)
        for key in keys:
            row: dict[str, Any] = {"kind": "devices", "gpu": gpu, "size": [n, d, P], "placement": key}
            row["xu_ms"] = product_ms(problem, key)
            for name, form in (("fista", "gated"), ("al", "relu"), ("admm", "relu")):
                ok = name in iters
                row[f"{name}_ms"] = per_iteration_ms(problem, name, form, key, args.iterations) if ok else math.nan
            solve = partial(to_certified, problem, ds, rows)
            row["admm_relu_s"], row["admm_peak_bytes"] = math.nan, None
            if "admm" in solves:
                row["admm_relu_s"], row["admm_peak_bytes"] = solve(
                    "admm", "relu", key, args.relu_tol, args.time_limit, **relu_options
                )
            p1 = p2 = None
            row["gated_s"] = row["relu_s"] = math.nan
            if "gated" in solves:
                row["gated_s"], p1 = solve("fista", "gated", key, args.gated_tol, args.time_limit)
            if "relu" in solves:
                row["relu_s"], p2 = solve("al", "relu", key, args.relu_tol, args.time_limit, **relu_options)
            row["peak_bytes"] = max((p for p in (p1, p2) if p is not None), default=None)
            rows.append(row)
            print(render_row(row), flush=True)
            # after every row: a run stopped at its limit keeps what it measured
            if args.rows:
                write_rows(args.rows, rows)
            if args.out:
                write_table(args.out, render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
