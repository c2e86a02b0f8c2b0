"""One sweep case in its own process: build the problem, solve, measure, print the row.

The parent (:func:`relubench.bench.sweep.run_isolated`) starts ``python -m relubench.bench.worker``, writes the
Case as JSON to its stdin and reads one marked JSON line back. This module imports only what a case needs (no
results store, no pandas), so a case's process starts fast.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from typing import Any

from relubench.bench.cases import Case
from relubench.datasets import Dataset, load_dataset
from relubench.errors import MemoryRequirementError, ReluBenchError
from relubench.problem.instance import Problem
from relubench.running.measure import measure
from relubench.running.reference import Reference, cached_reference, reference_optimum
from relubench.running.solver import get_solver

ROW_MARK = "RELUBENCH-ROW "
STARTED = time.perf_counter()  # the parent kills this process at time_limit + grace from about here
REFERENCE_MARGIN_S = 5.0  # left after the reference for measuring and printing the row


def build_problem(case: Case) -> tuple[Problem, Dataset]:
    ds = load_dataset(case.dataset, n=case.n, d=case.d, seed=case.seed, **dict(case.dataset_options))
    problem = Problem.create(
        ds.X_train,
        ds.y_train,
        case.beta,
        patterns=case.P,
        seed=case.seed,
        bias=case.bias,
        name=case.dataset,
        loss=case.loss,
        epsilon=case.epsilon,
    )
    return problem, ds


def execute(case: Case, started: float | None = None) -> dict[str, Any]:
    """Run one case in this process and return its row (without isolation; see :func:`run_isolated`): the
    reference optimum (over the case's patterns, or every pattern for ``reference_kind = "all"``; in the time left
    before the parent's kill deadline, else the row has no reference and says why), then the one measurement of
    :func:`relubench.running.measure.measure`. ``started``: the perf_counter time the kill deadline counts from
    (a worker process: its start; default: now)."""
    started = time.perf_counter() if started is None else started
    problem, ds = build_problem(case)
    solver = get_solver(case.solver, **dict(case.options))
    res = solver.solve(problem, case.formulation, tol=case.tol, time_limit=case.time_limit)
    ref, active = None, None
    try:
        if res.status == "unavailable":  # nothing was solved (no licence, no GPU): no reference to spend time on
            raise ReluBenchError("the backend did not run")
        ref_problem = problem
        if case.reference_kind == "all" and problem.pattern_spec != "all":
            ref_problem = Problem.create(
                problem.X,
                problem.y,
                problem.beta,
                patterns="all",
                name=problem.name,
                loss=problem.loss,
                epsilon=problem.epsilon,
            )
        budget = case.time_limit + case.grace_s - (time.perf_counter() - started) - REFERENCE_MARGIN_S
        reference = cached_reference(ref_problem, case.formulation)
        if reference is None and budget <= 1.0:
            raise ReluBenchError("no time left before the case's kill deadline")
        reference = reference or reference_apart(ref_problem, case.formulation, budget)
        ref, active = reference.value, reference.active_neurons
    except Exception as exc:  # a failed reference leaves the gap empty, it does not fail the case
        res.message += f"; no reference: {exc}"
    return measure(problem, ds, res, ref, active)


def reference_apart(problem: Problem, formulation: str, budget: float) -> Reference:
    """The reference optimum computed in a child process (forked: it shares the problem) within ``budget``
    seconds: a reference solve that aborts (a Rust library refused memory under the case's cap) or overruns costs
    the row its reference, never the row. The child caches it (:mod:`relubench.running.reference`); its errors
    come back as their one-line text."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_reference_child, args=(problem, formulation, budget, send), daemon=True)
    child.start()
    send.close()
    try:
        outcome = recv.recv() if recv.poll(budget + 2.0) else None
    except EOFError:  # the child died without a word
        outcome = None
    child.join(2.0 if outcome is not None else 5.0)
    if child.is_alive():
        child.kill()
        child.join()
    if outcome is None:
        why = "ran out of time" if child.exitcode in (None, -9) else f"died (exit code {child.exitcode}; memory?)"
        raise ReluBenchError(f"the reference solve {why}")
    kind, value = outcome
    if kind != "ok":
        raise ReluBenchError(value)
    return value


def _reference_child(problem: Problem, formulation: str, budget: float, send: Any) -> None:
    try:
        send.send(("ok", reference_optimum(problem, formulation, time_limit=budget)))
    except BaseException as exc:  # the text goes back to the case's row
        send.send(("error", str(exc).splitlines()[0] if str(exc) else type(exc).__name__))


def worker_main() -> int:
    """Entry point of a case's process: a Case as JSON on stdin, its row as one marked JSON line on stdout."""
    spec = json.loads(sys.stdin.read())
    spec["options"] = tuple(tuple(kv) for kv in spec["options"])
    spec["dataset_options"] = tuple(tuple(kv) for kv in spec.get("dataset_options", ()))
    case = Case(**spec)
    try:
        import resource

        cap = case.memory_limit_mb * 1024 * 1024
        # the data segment (heap and private anonymous memory), not the address space: libraries mapped from files
        # (torch's CUDA build, which pyscnn imports, maps gigabytes it never uses) do not count against it
        if dict(case.options).get("device", "cpu") == "cpu":  # CUDA's driver allocates far more than it uses
            resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    try:
        kind, row = "ok", execute(case, STARTED)
    except MemoryError:
        kind, row = "memory", {"message": "MemoryError (memory cap reached)"}
    except MemoryRequirementError as exc:  # refused from an estimate before allocating (data, reference)
        kind, row = "memory", {"message": str(exc)[:2000]}
    except BaseException as exc:  # any failure of a case is a result, reported in its row
        kind, row = "error", {"message": f"{type(exc).__name__}: {exc}"[:2000]}
    sys.stdout.write(ROW_MARK + json.dumps([kind, row], default=str) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
