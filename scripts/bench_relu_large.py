"""Relu at real sizes: time to a certified accuracy, side by side with Clarabel, each solve in its own process
(its peak memory measured apart).

    python scripts/bench_relu_large.py --instances magic letter penbased --tol 1e-4 --rows large.jsonl
    python scripts/bench_relu_large.py --instances 1000,20,200 --tol 1e-6 --solvers ipm clarabel
    python scripts/bench_relu_large.py --instances magic letter penbased 20000,50,500@1e-3 1000,20,200@1e-6

Instances: a bundled data set by name (its seeded 0.8 training split, one-vs-rest +-1 labels, squared loss) or
``n,d,P`` (gaussian data, seed 0); P = 200 sampled patterns unless ``--patterns``, beta = 1e-3 n; ``spec@tol``
gives that instance its own tolerance (else ``--tol``). Each solve runs
in a fresh process with the time limit given (setup included in the times shown: setup_s + solve_s); "certified"
means the backend's own certificate (certified gap <= tol |objective| and violation <= tol max|y|), so no
reference optimum is needed at these sizes; status, certified gap and violation come from the row (the one
measurement schema), peak memory from the process's maximum resident set. A backend that refuses the instance
(relubench's error: too little memory for it, say) or whose process dies gets a row saying so.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import resource
import sys
from typing import Any

from benchrows import finish, fmt, instance, num, solve_row, write_rows

HEAD = [
    "| instance | solver | tol | status | setup + solve s | certified gap | viol/max\\|y\\| | peak GiB | note |",
    "|---|---|---|---|---|---|---|---|---|",
]


def _failed(label: str, solver: str, tol: float, limit: float, status: str, message: str) -> dict[str, Any]:
    """The row of a solve that did not run to a result."""
    return {"instance": label, "solver": solver, "run_tol": tol, "status": status, "setup_s": None,
            "solve_s": None, "certified_gap": None, "objective": None, "max_violation": None, "y_scale": 1.0,
            "peak_rss_bytes": None, "time_limit": limit, "message": message}  # fmt: skip


def _one(spec: str, P: int, solver: str, tol: float, limit: float) -> dict[str, Any]:
    """One solve in this (fresh) process: its row and its peak memory."""
    from relubench.errors import ReluBenchError
    from relubench.running.solver import get_solver

    label, problem, ds = instance(spec, P)
    try:
        res = get_solver(solver).solve(problem, "relu", tol=tol, time_limit=limit)
    except ReluBenchError as exc:  # refused: a row that says why
        return _failed(label, solver, tol, limit, "error", str(exc))
    if res.status == "memory":  # refused from its memory estimate, before allocating
        return _failed(label, solver, tol, limit, "memory", res.message)
    row = solve_row(problem, ds, res, None, instance=label, run_tol=tol, time_limit=limit)
    row["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return row


def render(rows: list[dict[str, Any]]) -> str:
    lines = list(HEAD)
    for r in rows:
        cert = num(r["certified_gap"]) / max(abs(num(r["objective"])), 1e-300)
        viol = num(r["max_violation"]) / num(r["y_scale"])
        certified = cert <= r["run_tol"] and viol <= r["run_tol"]
        if certified:
            note = "certified"
        elif r["status"] == "crashed":
            note = f"process died: {r['message']}"
        elif r["status"] == "optimal" and r["certified_gap"] is None:
            note = "solved by its own stopping test (no certificate)"
        elif r["status"] == "time_limit":
            note = f"not solved within {r['time_limit']:g} s"
        elif r["setup_s"] is None:
            note = f"not run: {r['message']}"
        else:
            note = f"stopped uncertified ({r['status']})"
        lines.append(
            f"| {r['instance']} | {r['solver']} | {r['run_tol']:g} | {r['status']} | "
            f"{fmt(num(r['setup_s']) + num(r['solve_s']), 1)} | {cert:.1e} | {viol:.1e} | "
            f"{num(r['peak_rss_bytes']) / 2**30:.2f} | {note} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", nargs="+", default=["magic", "letter", "penbased"])
    ap.add_argument("--solvers", nargs="+", default=["ipm", "clarabel"])
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--patterns", type=int, default=200)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--rows", help="write the measured rows here (JSON lines)")
    ap.add_argument("--table", help="write the rendered table here")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    ctx = multiprocessing.get_context("spawn")
    plan = []
    for item in args.instances:  # every spec checked before the first solve (a typo must not end a run hours in)
        spec, _, given = item.partition("@")
        try:
            tol = float(given) if given else args.tol
        except ValueError:
            ap.error(f"instance {item!r}: the tolerance after @ is not a number")
        if not (tol > 0):
            ap.error(f"instance {item!r}: the tolerance must be > 0")
        if "," in spec and (len(spec.split(",")) != 3 or not all(v.strip().isdigit() for v in spec.split(","))):
            ap.error(f"instance {item!r}: n,d,P must be three positive integers")
        plan.append((spec, tol))
    for spec, tol in plan:
        for solver in args.solvers:
            with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
                job = pool.submit(_one, spec, args.patterns, solver, tol, args.time_limit)
                try:
                    rows.append(job.result())
                except concurrent.futures.process.BrokenProcessPool as exc:  # killed (out of memory, say)
                    rows.append(_failed(spec, solver, tol, args.time_limit, "crashed", str(exc)))
            print(render(rows[-1:]).splitlines()[2], file=sys.stderr, flush=True)
            if args.rows:
                write_rows(args.rows, rows)
    return finish(rows, render, args.rows, args.table)


if __name__ == "__main__":
    sys.exit(main())
