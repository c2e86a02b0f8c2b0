"""Data-fitting losses of the network output: value and gradient with respect to the prediction.

Unscaled, as the rest of relubench: the squared loss is ``1/2 ||pred - y||^2`` (not divided by n). The
objective of every formulation is ``loss(pred, y) + beta * penalty``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from relubench.errors import InputError


class Loss(Protocol):
    name: str

    def value(self, pred: np.ndarray, y: np.ndarray) -> float: ...

    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class SquaredLoss:
    """1/2 ||pred - y||^2; gradient pred - y."""

    name: str = "squared"

    def value(self, pred: np.ndarray, y: np.ndarray) -> float:
        r = np.ravel(pred - y)
        return float(0.5 * r @ r)

    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        return pred - y


LOSSES: dict[str, Loss] = {"squared": SquaredLoss()}  # keys: spec.LOSS_NAMES (tested)


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[name]
