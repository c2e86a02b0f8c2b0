"""Data-fitting losses of the network output: value and gradient with respect to the prediction.

Unscaled, as the rest of relubench: the squared loss is ``1/2 ||pred - y||^2`` (not divided by n), the hinge
loss ``sum_k max(0, 1 - y_k pred_k)`` for labels in {-1, +1}. The objective of every formulation is
``loss(pred, y) + beta * penalty``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from relubench.errors import InputError


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


@dataclass(frozen=True)
class SquaredLoss:
    """1/2 ||pred - y||^2; gradient pred - y."""

    name: str = "squared"

    def value(self, pred: np.ndarray, y: np.ndarray) -> float:
        r = np.ravel(pred - y)
        return float(0.5 * r @ r)

    def pointwise(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 0.5 * (pred - y) ** 2

    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return pred - y

    def worst_case(self, pred: np.ndarray, y: np.ndarray, shift: np.ndarray) -> np.ndarray:
        return 0.5 * (np.abs(pred - y) + shift) ** 2

    def ascent(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.where(pred >= y, 1.0, -1.0)  # away from the target


@dataclass(frozen=True)
class HingeLoss:
    """sum_k max(0, 1 - y_k pred_k) for labels y in {-1, +1}; a subgradient -y_k where the margin is below 1."""

    name: str = "hinge"

    def value(self, pred: np.ndarray, y: np.ndarray) -> float:
        return float(self.pointwise(pred, y).sum())

    def pointwise(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, 1.0 - y * pred)

    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.where(1.0 - y * pred > 0, -y, 0.0)

    def worst_case(self, pred: np.ndarray, y: np.ndarray, shift: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, 1.0 - y * pred + shift)

    def ascent(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -np.asarray(y, dtype=float)  # down the margin (also where the hinge is flat)


LOSSES: dict[str, Loss] = {"squared": SquaredLoss(), "hinge": HingeLoss()}  # keys: spec.LOSS_NAMES (tested)
LABEL_LOSSES = ("hinge",)  # losses that need labels in {-1, +1}


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[name]
