"""One sweep case in its own process: build the problem, solve, measure, print the row.

The parent (:func:`relubench.bench.sweep.run_isolated`) starts ``python -m relubench.bench.worker``, writes the
Case as JSON to its stdin and reads one marked JSON line back. This module imports only what a case needs (no
results store, no pandas), so a case's process starts fast.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np

from relubench.bench.cases import Case
from relubench.datasets import Dataset, load_dataset
from relubench.errors import ReluBenchError
from relubench.problem.formulations import get_formulation
from relubench.problem.instance import Problem, with_bias_column, y_scale
from relubench.running.attacks import accuracy, one_step_sizes, robust_accuracy
from relubench.running.metrics import TOLERANCES, network_metrics, time_to_certified, time_to_tolerance
from relubench.running.reference import gap_floor, reference_optimum, relative_gap
from relubench.running.result import trace_rows
from relubench.running.solver import get_solver

ROW_MARK = "RELUBENCH-ROW "


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


def robustness_columns(problem: Problem, ds: Dataset, U: np.ndarray, a: np.ndarray) -> dict[str, Any]:
    """Attack metrics of a trained network on +-1 labels (held-out rows when the dataset has them).

    attack_one_step_median: median one-step attack size over ||x|| / sqrt(d) (:mod:`relubench.running.attacks`),
    the step that changes the sign of the network's own output (labels play no part: an untrained network is
    measured the same way); clean_accuracy; and at the case's epsilon > 0, pgd_robust_accuracy (l_inf PGD on
    the margin).
    """
    X, y = (ds.X_test, ds.y_test) if ds.X_test.shape[0] else (ds.X_train, ds.y_train)
    if not np.isin(y, (-1.0, 1.0)).all() or X.shape[0] == 0:
        return {}
    if problem.bias:
        X = with_bias_column(X)
    out: dict[str, Any] = {
        "attack_one_step_median": float(
            np.quantile(one_step_sizes(X, U, a, None, problem.perturbable), 0.5, method="inverted_cdf")
        ),
        "clean_accuracy": accuracy(X, y, U, a),
        "attack_points": int(X.shape[0]),
    }
    if problem.epsilon > 0:
        out["pgd_robust_accuracy"] = robust_accuracy(X, y, U, a, problem.epsilon, perturbable=problem.perturbable)
    return out


def execute(case: Case) -> dict[str, Any]:
    """Run one case in this process and return its row (without isolation; see :func:`run_isolated`)."""
    problem, ds = build_problem(case)
    solver = get_solver(case.solver, **dict(case.options))
    res = solver.solve(problem, case.formulation, tol=case.tol, time_limit=case.time_limit)
    row: dict[str, Any] = {
        **res.summary(),
        "problem_hash": problem.content_hash,
        "n_actual": problem.n,
        "d_actual": problem.d,
        "P_actual": problem.P,
    }
    ref = None
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
        reference = reference_optimum(ref_problem, case.formulation)
        ref = reference.value
        row["reference_active_neurons"] = reference.active_neurons
    except Exception as exc:  # a failed reference leaves the gap empty, it does not fail the case
        row["message"] += f"; no reference: {exc}"
    row["reference"] = ref
    floor = gap_floor(problem.y)
    row["gap_floor"] = floor
    row["relative_gap"] = relative_gap(res.objective, ref, floor) if ref is not None else None
    ys = y_scale(problem.y)
    for tol in TOLERANCES:
        t = time_to_tolerance(res, ref, tol, ys, floor) if ref is not None else None
        row[f"time_to_{tol:g}"] = None if t is None else res.setup_s + t
    row["trace"] = json.dumps(trace_rows(res.trace))
    cg = res.certified_gap
    row["relative_certified_gap"] = None if cg is None else cg / max(abs(res.objective), floor)
    for tol in TOLERANCES:
        t = time_to_certified(res, tol, ys, floor)
        row[f"time_to_certified_{tol:g}"] = None if t is None else res.setup_s + t
    if res.weights is not None:
        form = get_formulation(case.formulation)
        U, a = form.network(res.weights, problem.outputs)
        row.update(network_metrics(problem, ds, form.predictor(problem, res.weights)))
        if problem.outputs == 1:
            row.update(robustness_columns(problem, ds, U, a))
    row["outputs"] = problem.outputs
    return row


def worker_main() -> int:
    """Entry point of a case's process: a Case as JSON on stdin, its row as one marked JSON line on stdout."""
    spec = json.loads(sys.stdin.read())
    spec["options"] = tuple(tuple(kv) for kv in spec["options"])
    spec["dataset_options"] = tuple(tuple(kv) for kv in spec.get("dataset_options", ()))
    case = Case(**spec)
    try:
        import resource

        cap = case.memory_limit_mb * 1024 * 1024
        if dict(case.options).get("device", "cpu") == "cpu":  # CUDA maps far more address space than it uses
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    try:
        kind, row = "ok", execute(case)
    except MemoryError:
        kind, row = "memory", {"message": "MemoryError (memory cap reached)"}
    except BaseException as exc:  # any failure of a case is a result, reported in its row
        kind, row = "error", {"message": f"{type(exc).__name__}: {exc}"[:2000]}
    sys.stdout.write(ROW_MARK + json.dumps([kind, row], default=str) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
