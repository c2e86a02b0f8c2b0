"""The one measurement pipeline: a solved problem measured into one row of one schema.

Every place that reports a solve -- ``relubench solve`` (table and ``--json``), a sweep case's worker, and so
the report and the results pages built from sweep tables -- calls :func:`measure` and gets the same columns
(:data:`ROW_KEYS`): the backend's outcome (:meth:`Result.summary`), the problem's identity and size, the
reference optimum and the relative gap against it, times to each tolerance of :data:`TOLERANCES` (by the one
"reached" rule: gap and violation, :func:`relubench.running.metrics.reached`), the certified gap relative to the
objective and times to a certified gap, the trace (JSON text), held-out metrics of the trained model and, on
+-1 labels with one output, the attack columns. A column that does not apply is None, never missing.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from relubench.datasets import Dataset
from relubench.problem.formulations import get_formulation
from relubench.problem.instance import Problem, perturbable_columns, with_bias_column, y_scale
from relubench.running.attacks import accuracy, one_step_sizes, robust_accuracy
from relubench.running.metrics import TOLERANCES, network_metrics, time_to_certified, time_to_tolerance
from relubench.running.reference import gap_floor, relative_gap
from relubench.running.result import SUMMARY_KEYS, Result, trace_rows

PROBLEM_KEYS = (
    "problem_hash", "n_actual", "d_actual", "P_actual", "outputs", "loss", "beta", "bias", "patterns", "y_scale"
)  # fmt: skip
TIME_KEYS = tuple(f"time_to_{t:g}" for t in TOLERANCES) + tuple(f"time_to_certified_{t:g}" for t in TOLERANCES)
ATTACK_KEYS = ("attack_one_step_median", "clean_accuracy", "attack_points", "pgd_robust_accuracy")
HELD_OUT_KEYS = tuple(f"{split}_{metric}" for split in ("train", "test") for metric in ("loss", "mse", "accuracy")) + (
    "test_rows",
)
ROW_KEYS = (
    ("solver", "formulation")
    + SUMMARY_KEYS
    + PROBLEM_KEYS
    + ("reference", "reference_active_neurons", "gap_floor", "relative_gap", "relative_certified_gap")
    + TIME_KEYS
    + ("trace",)
    + HELD_OUT_KEYS
    + ATTACK_KEYS
)


def problem_columns(problem: Problem) -> dict[str, Any]:
    """What identifies the solved instance: its content hash, its size as built (after splits and pattern
    de-duplication: ``P_actual`` distinct patterns), loss, beta, bias, the pattern spec it was built from, and the
    violation scale max|y| of the "reached" rule."""
    return {
        "problem_hash": problem.content_hash,
        "n_actual": problem.n,
        "d_actual": problem.d,
        "P_actual": problem.P,
        "outputs": problem.outputs,
        "loss": problem.loss,
        "beta": problem.beta,
        "bias": problem.bias,
        "patterns": str(problem.pattern_spec),
        "y_scale": y_scale(problem.y),  # max|y|: a violation counts against tol times this
    }


def attack_columns(problem: Problem, ds: Dataset, U: np.ndarray, a: np.ndarray) -> dict[str, Any]:
    """Attack metrics of a trained network on +-1 labels (held-out rows when the dataset has them).

    attack_one_step_median: median one-step attack size over ||x|| / sqrt(d) (:mod:`relubench.running.attacks`),
    the step that changes the sign of the network's own output (labels play no part: an untrained network is
    measured the same way); clean_accuracy; and at the problem's epsilon > 0, pgd_robust_accuracy (l_inf PGD on
    the margin). Empty for other targets.
    """
    X, y = (ds.X_test, ds.y_test) if ds.X_test.shape[0] else (ds.X_train, ds.y_train)
    if y.ndim != 1 or not np.isin(y, (-1.0, 1.0)).all() or X.shape[0] == 0:
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


def attack_report(
    X: np.ndarray, y: np.ndarray, U: np.ndarray, a: np.ndarray, bias: bool, epsilon: float, norm: str, steps: int
) -> dict[str, Any]:
    """What ``relubench attack`` reports of a network (U, a) on rows X (the bias column already appended when
    ``bias``): quantiles of the one-step attack size (labels y where they are +-1, else the network's own sign),
    how many points no step flips and how many are already wrong; on +-1 labels the clean accuracy and, at
    ``epsilon`` > 0, the PGD robust accuracy (``norm``, ``steps`` x 3 restarts)."""
    perturbable = perturbable_columns(X.shape[1], bias)
    labels = y if np.isin(y, (-1.0, 1.0)).all() else None
    sizes = one_step_sizes(X, U, a, labels, perturbable)
    q = np.quantile(sizes, [0.1, 0.25, 0.5, 0.75, 0.9], method="inverted_cdf")  # inf stays inf
    out: dict[str, Any] = {
        "one_step_quantiles": dict(zip(("q10", "q25", "median", "q75", "q90"), map(float, q), strict=True)),
        "one_step_no_flip": int(np.isinf(sizes).sum()),
        "already_wrong": int((sizes == 0).sum()),
    }
    if labels is not None:
        out["clean_accuracy"] = accuracy(X, labels, U, a)
        if epsilon > 0:
            pgd = {"norm": norm, "steps": steps, "restarts": 3, "perturbable": perturbable}
            out["pgd_robust_accuracy"] = robust_accuracy(X, labels, U, a, epsilon, **pgd)
            out["pgd"] = {"epsilon": epsilon, "norm": norm, "steps": steps, "restarts": 3}
    return out


def measure(
    problem: Problem,
    ds: Dataset,
    res: Result,
    reference: float | None = None,
    reference_active_neurons: int | None = None,
    attacks: bool = True,
) -> dict[str, Any]:
    """The row of one solve: every key of :data:`ROW_KEYS`, None where it does not apply.

    ``reference``: the optimum f* the gaps and times to tolerance are measured against (None: no reference; the
    certified columns still stand where the backend certifies). ``attacks``: compute the attack columns (one-step
    sizes and, at epsilon > 0, PGD) where they apply. The result's own ``reference`` and ``relative_gap`` are set
    too, so a Result and its row agree.
    """
    row: dict[str, Any] = dict.fromkeys(ROW_KEYS)
    row.update({"solver": res.solver, "formulation": res.formulation, **res.summary(), **problem_columns(problem)})
    floor = gap_floor(problem.y)
    ys = y_scale(problem.y)
    row["gap_floor"] = floor
    if reference is not None and np.isfinite(reference):
        res.reference = float(reference)
        res.relative_gap = relative_gap(res.objective, res.reference, floor) if np.isfinite(res.objective) else None
        row.update(
            reference=res.reference, reference_active_neurons=reference_active_neurons, relative_gap=res.relative_gap
        )
        for tol in TOLERANCES:
            t = time_to_tolerance(res, res.reference, tol, ys, floor)
            row[f"time_to_{tol:g}"] = res.setup_s + t
    cg = res.certified_gap
    row["relative_certified_gap"] = None if cg is None else cg / max(abs(res.objective), floor)
    for tol in TOLERANCES:
        t = time_to_certified(res, tol, ys, floor)
        row[f"time_to_certified_{tol:g}"] = None if t is None else res.setup_s + t
    row["trace"] = json.dumps(trace_rows(res.trace))
    form = get_formulation(res.formulation)
    predict = None if res.weights is None else form.predictor(problem, res.weights)
    row.update(network_metrics(problem, ds, predict))  # test_rows always; the scores where there is a model
    if res.weights is not None:
        if attacks and problem.outputs == 1:
            U, a = form.network(res.weights, problem.outputs)
            row.update(attack_columns(problem, ds, U, a))
    extra = sorted(set(row) - set(ROW_KEYS))
    if extra:  # a metric added in one place and not in the schema would be missing elsewhere
        raise RuntimeError(f"measure() produced keys outside ROW_KEYS: {extra}")
    return row
