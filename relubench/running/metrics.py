"""Accuracy metrics: relative gaps, time to tolerance and prediction quality of mapped networks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from relubench.datasets.base import Dataset
from relubench.problem.instance import Problem, with_bias_column
from relubench.problem.losses import get_loss
from relubench.running.reference import relative_gap
from relubench.running.result import Result

TOLERANCES = (1e-2, 1e-4, 1e-6)


def reached(
    objective: float, violation: float, reference: float, tol: float, y_scale: float, floor: float = 0.0
) -> bool:
    """True when |relative gap| <= tol and the relative constraint violation (violation / y_scale) <= tol.

    The gap's denominator is max(|f*|, floor) (:func:`relubench.running.reference.gap_floor`).
    """
    return abs(relative_gap(objective, reference, floor)) <= tol and violation <= tol * y_scale


def time_to_tolerance(result: Result, reference: float, tol: float, y_scale: float, floor: float = 0.0) -> float:
    """Seconds from the start of the solve to the first trace point that reached ``tol``; inf if none."""
    for p in result.trace:
        if reached(p.objective, p.max_violation, reference, tol, y_scale, floor):
            return p.seconds
    return float("inf")


def time_to_certified(
    result: Result, tol: float, y_scale: float, floor: float = 0.0, violation_tol: float | None = None
) -> float | None:
    """Seconds to the first trace point whose *certified* gap (primal - dual, no reference optimum needed) is
    <= tol max(|objective|, floor) with violation <= violation_tol y_scale (violation_tol: tol unless given); inf if
    none; None when the backend certifies no point (what a sweep reports where no interior point can compute f*)."""
    certified = [p for p in result.trace if p.certified_gap is not None]
    if not certified:
        return None
    bar = (tol if violation_tol is None else violation_tol) * y_scale
    for p in certified:
        if p.certified_gap <= tol * max(abs(p.objective), floor) and p.max_violation <= bar:
            return p.seconds
    return float("inf")


def prediction_scores(pred: np.ndarray, y: np.ndarray, loss: str = "squared") -> dict[str, float]:
    """Prediction quality of predictions ``pred`` of targets y (rows x outputs).

    ``loss``: the problem's loss per row (its value divided by the number of rows); ``mse`` (squared loss):
    mean squared error over every entry; for +/-1 labels ``accuracy``: one output, the sign of the prediction (0
    counts as +1); c outputs with one +1 per row (one class per row), the arg max of the prediction; otherwise
    the sign of every entry. Empty dict for no rows.
    """
    if y.shape[0] == 0:
        return {}
    out = {"loss": get_loss(loss).value(pred, y) / y.shape[0]}
    if loss == "squared":
        out["mse"] = float(np.mean((pred - y) ** 2))
    if np.isin(y, (-1.0, 1.0)).all():
        if y.ndim == 2 and (np.sum(y > 0, axis=1) == 1).all():
            out["accuracy"] = float(np.mean(np.argmax(pred, axis=1) == np.argmax(y, axis=1)))
        else:
            out["accuracy"] = float(np.mean(np.where(pred >= 0, 1.0, -1.0) == y))
    return out


def network_metrics(
    problem: Problem, ds: Dataset, predict: Callable[[np.ndarray], np.ndarray] | None
) -> dict[str, Any]:
    """``train_``/``test_`` loss (per row), mse (squared loss) and accuracy (+-1 labels) of the trained model
    (``predict``: :meth:`relubench.problem.formulations.Formulation.predictor`; the bias column added to the
    held-out rows as to the training rows), and ``test_rows``. No model (a gated solution over enumerated
    patterns has no gates for new rows): only ``test_rows``."""
    out: dict[str, Any] = {"test_rows": int(ds.X_test.shape[0])}
    if predict is None:
        return out
    out.update({f"train_{k}": v for k, v in prediction_scores(predict(problem.X), problem.y, problem.loss).items()})
    Xte = with_bias_column(ds.X_test) if problem.bias else ds.X_test
    if Xte.shape[0]:
        out.update({f"test_{k}": v for k, v in prediction_scores(predict(Xte), ds.y_test, problem.loss).items()})
    return out
