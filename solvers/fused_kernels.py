"""Fused CPU kernels (numba) for the augmented Lagrangian's inner passes over n x 2P arrays.

Not a backend (the registry finds no ``register`` here). On the numpy placement the AL smooth term reads H = X [V W]
(n x 2P) about a dozen times per evaluation (prediction, loss gradient, penalty, its gradient): on a CPU those
passes, not the products with X, dominate the iteration. The two kernels below make it two passes, parallel over
rows: ``predict_penalty`` (prediction and penalty value in one read of H and the multipliers) and
``gradient_into`` (the gradient in H). Used for one output on numpy when numba is installed (the extra
``relubench[fast]``) and n P is large enough to pay the compilation (about a second, counted as setup).
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from types import SimpleNamespace

import numpy as np

MIN_ENTRIES = 1_000_000  # n * 2P from which the fused kernels are used (below, compilation outweighs the gain)


def available() -> bool:
    """Whether numba is installed (imported only when the kernels are first asked for)."""
    return importlib.util.find_spec("numba") is not None


@cache
def kernels() -> SimpleNamespace:
    """The compiled kernels (numba imported and the kernels compiled on first use, on tiny arrays)."""
    numba = importlib.import_module("numba")

    @numba.njit(parallel=True)
    def predict_penalty(H: np.ndarray, M: np.ndarray, S: np.ndarray, lor: np.ndarray) -> tuple[np.ndarray, float]:
        """pred_i = sum_j M_ij (H_ij - H_i,k+j) and sum over i, j of max(lor - [S S] * H, 0)^2."""
        n, k = M.shape
        pred = np.empty(n)
        pen = np.zeros(n)
        for i in numba.prange(n):
            acc = 0.0
            p = 0.0
            for j in range(k):
                a, b, s = H[i, j], H[i, k + j], S[i, j]
                acc += M[i, j] * (a - b)
                t = lor[i, j] - s * a
                if t > 0.0:
                    p += t * t
                t = lor[i, k + j] - s * b
                if t > 0.0:
                    p += t * t
            pred[i] = acc
            pen[i] = p
        return pred, pen.sum()

    @numba.njit(parallel=True)
    def gradient_into(
        H: np.ndarray, M: np.ndarray, S: np.ndarray, lor: np.ndarray, r: np.ndarray, rho: float, out: np.ndarray
    ) -> None:
        """out = [M r, -M r] - rho [S S] * max(lor - [S S] * H, 0) (the AL smooth term's gradient in H)."""
        n, k = M.shape
        for i in numba.prange(n):
            ri = r[i]
            for j in range(k):
                s, mr = S[i, j], M[i, j] * ri
                t = lor[i, j] - s * H[i, j]
                out[i, j] = mr - (rho * s * t if t > 0.0 else 0.0)
                t = lor[i, k + j] - s * H[i, k + j]
                out[i, k + j] = -mr - (rho * s * t if t > 0.0 else 0.0)

    one = np.ones((2, 1))
    two = np.ones((2, 2))
    predict_penalty(two, one, one, two)
    gradient_into(two, one, one, two, np.ones(2), 1.0, np.empty((2, 2)))
    return SimpleNamespace(predict_penalty=predict_penalty, gradient_into=gradient_into)
