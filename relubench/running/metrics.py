"""Accuracy metrics: relative gaps, time to tolerance and prediction quality of mapped networks."""

from __future__ import annotations

import numpy as np

from relubench.problem.formulations import network_predict
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


def prediction_scores(X: np.ndarray, y: np.ndarray, U: np.ndarray, a: np.ndarray, loss: str = "squared") -> dict[str, float]:
    """Prediction quality of the network (U, a) on rows X (bias column included) with targets y.

    ``loss``: the problem's loss per row (its value divided by the number of rows); ``mse`` (squared loss):
    mean squared error over every entry; for +/-1 labels ``accuracy``: one output, the sign of the prediction (0 counts as +1);
    c outputs with one +1 per row (one class per row), the arg max of the prediction; otherwise the sign of
    every entry. Empty dict for no rows.
    """
    if X.shape[0] == 0:
        return {}
    pred = network_predict(X, U, a)
    out = {"loss": get_loss(loss).value(pred, y) / X.shape[0]}
    if loss == "squared":
        out["mse"] = float(np.mean((pred - y) ** 2))
    if np.isin(y, (-1.0, 1.0)).all():
        if y.ndim == 2 and (np.sum(y > 0, axis=1) == 1).all():
            out["accuracy"] = float(np.mean(np.argmax(pred, axis=1) == np.argmax(y, axis=1)))
        else:
            out["accuracy"] = float(np.mean(np.where(pred >= 0, 1.0, -1.0) == y))
    return out
