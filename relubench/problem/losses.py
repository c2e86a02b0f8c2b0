"""Data-fitting losses of the network output: value and gradient with respect to the prediction.

Unscaled, as the rest of relubench: the squared loss is ``1/2 ||pred - y||^2`` (not divided by n; the
Frobenius norm for several outputs), the hinge loss ``sum_k max(0, 1 - y_k pred_k)`` and the logistic loss
``sum_k log(1 + exp(-y_k pred_k))``, both for labels in {-1, +1} (summed over every entry of an n x c label
array: one-vs-all). The objective of every formulation is ``loss(pred, y) + beta * penalty``.

Smooth losses also give the value of the dual point ``theta = c * gradient`` (c in (0, 1]) used by certified
duality gaps: ``dual_value(pred, y, c) = -loss*(theta)`` with ``loss*`` the convex conjugate in the prediction.
Values, pointwise losses, gradients and dual values are written against the array API namespace of
their arguments, so the same code serves numpy and the GPU arrays of :mod:`relubench.problem.arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from relubench.errors import InputError
from relubench.problem.arrays import namespace


class Loss(Protocol):
    name: str

    def value(self, pred: np.ndarray, y: np.ndarray) -> float: ...

    def pointwise(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray: ...

    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray: ...

    def worst_case(self, pred: np.ndarray, y: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """Per point, the largest loss over predictions pred + t with |t| <= shift."""
        ...

    def ascent(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per point, the sign c such that increasing c * pred increases the loss (an attack's direction)."""
        ...

    def dual_value(self, pred: np.ndarray, y: np.ndarray, c: float) -> float:
        """-loss*(c * gradient(pred, y)): the dual objective at that point (smooth losses only)."""
        ...


@dataclass(frozen=True)
class SquaredLoss:
    """1/2 ||pred - y||^2; gradient pred - y."""

    name: str = "squared"

    def value(self, pred: np.ndarray, y: np.ndarray) -> float:
        xp = namespace(pred, y)
        r = pred - y
        return float(0.5 * xp.sum(r * r))

    def pointwise(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 0.5 * (pred - y) ** 2

    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return pred - y

    def worst_case(self, pred: np.ndarray, y: np.ndarray, shift: np.ndarray) -> np.ndarray:
        return 0.5 * (np.abs(pred - y) + shift) ** 2

    def ascent(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.where(pred >= y, 1.0, -1.0)  # away from the target

    def dual_value(self, pred: np.ndarray, y: np.ndarray, c: float) -> float:
        xp = namespace(pred, y)
        theta = c * (pred - y)  # loss*(theta) = theta^T y + 1/2 ||theta||^2
        return float(-xp.sum(theta * y) - 0.5 * xp.sum(theta * theta))


@dataclass(frozen=True)
class HingeLoss:
    """sum_k max(0, 1 - y_k pred_k) for labels y in {-1, +1}; a subgradient -y_k where the margin is below 1."""

    name: str = "hinge"

    def value(self, pred: np.ndarray, y: np.ndarray) -> float:
        return float(namespace(pred, y).sum(self.pointwise(pred, y)))

    def pointwise(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return namespace(pred, y).clip(1.0 - y * pred, min=0.0)

    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        xp = namespace(pred, y)
        return xp.where(1.0 - y * pred > 0, -y, xp.zeros_like(y))

    def worst_case(self, pred: np.ndarray, y: np.ndarray, shift: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, 1.0 - y * pred + shift)

    def ascent(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -np.asarray(y, dtype=float)  # down the margin (also where the hinge is flat)

    def dual_value(self, pred: np.ndarray, y: np.ndarray, c: float) -> float:
        raise NotImplementedError("the hinge loss is not smooth: no gradient-based dual point")


def _xlogx(s: np.ndarray) -> np.ndarray:
    xp = namespace(s)
    pos = s > 0
    return xp.where(pos, s * xp.log(xp.where(pos, s, xp.ones_like(s))), xp.zeros_like(s))


@dataclass(frozen=True)
class LogisticLoss:
    """sum_k log(1 + exp(-y_k pred_k)) for labels y in {-1, +1}; gradient -y_k sigmoid(-y_k pred_k).

    Evaluated stably (``logaddexp``). Its conjugate at theta_k = -y_k s_k, s_k in [0, 1], is
    sum_k s_k log s_k + (1 - s_k) log(1 - s_k) (the negative binary entropy).
    """

    name: str = "logistic"

    def value(self, pred: np.ndarray, y: np.ndarray) -> float:
        return float(namespace(pred, y).sum(self.pointwise(pred, y)))

    def pointwise(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _softplus(-y * pred)

    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -y * _sigmoid(-y * pred)

    def worst_case(self, pred: np.ndarray, y: np.ndarray, shift: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, -y * pred + shift)  # increasing in -y * pred

    def ascent(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -np.asarray(y, dtype=float)

    def dual_value(self, pred: np.ndarray, y: np.ndarray, c: float) -> float:
        xp = namespace(pred, y)
        s = c * _sigmoid(-y * pred)
        return float(-xp.sum(_xlogx(s) + _xlogx(1.0 - s)))


def _softplus(t: np.ndarray) -> np.ndarray:
    """log(1 + exp(t)) without overflow."""
    xp = namespace(t)
    return xp.logaddexp(xp.zeros_like(t), t)


def _sigmoid(t: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-t)) without overflow."""
    xp = namespace(t)
    return xp.exp(-_softplus(-t))


# keys: spec.LOSS_NAMES (tested)
LOSSES: dict[str, Loss] = {"squared": SquaredLoss(), "hinge": HingeLoss(), "logistic": LogisticLoss()}
LABEL_LOSSES = ("hinge", "logistic")  # losses that need labels in {-1, +1}
SMOOTH_LOSSES = ("squared", "logistic")  # losses with a gradient (and a dual point for certified gaps)


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[name]
