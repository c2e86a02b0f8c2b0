"""Fused CPU kernels (numba) for the passes over n x 2P arrays of the augmented Lagrangian and of ADMM.

Not a backend (the registry finds no ``register`` here). On the numpy placement the AL smooth term reads H = X [V W]
(n x 2P) about a dozen times per evaluation (prediction, loss gradient, penalty, its gradient): on a CPU those
passes, not the products with X, dominate the iteration. The two kernels below make it two passes, parallel over
rows: ``predict_penalty`` (prediction and penalty value in one read of H and the multipliers) and
``gradient_into`` (the gradient in H). Used for one output on numpy when numba is installed (the extra
``relubench[fast]``) and n P is large enough to pay the compilation (about a second, counted as setup).

``admm_kernels`` holds ADMM's relu slack update (``admm_slack``): numpy makes it six passes over n x 2P arrays
(scale, two adds, a minimum, a maximum, a scale), the kernel one, row by row (the products with X stay with BLAS:
numba's loops were 3x slower than OpenBLAS on X U here).
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from types import SimpleNamespace

import numpy as np

from relubench.errors import InputError

MIN_ENTRIES = 1_000_000  # n * 2P from which the fused kernels are used (below, compilation outweighs the gain)
# n * 2P from which ADMM's slack kernel is used by default: compiling costs about 1.3 s of setup, and the kernel
# saves about 2 ns per entry and iteration (end to end to 1e-4, numba 0.68, 2 cores: 1.72 -> 2.73 s at n 2P = 1e5,
# 12.9 -> 9.0 s at 4e5, 27.2 -> 24.4 s at 1.2e6)
ADMM_MIN_ENTRIES = 300_000


def available() -> bool:
    """Whether numba is installed (imported only when the kernels are first asked for)."""
    return importlib.util.find_spec("numba") is not None


def wanted(backend: str, option: bool | None, why_not: str | None, entries: int, min_entries: int) -> bool:
    """Whether a backend uses its fused kernels: its option ``fused`` (None: automatic, from ``min_entries`` array
    entries on), ``why_not`` the reason they cannot run for this solve (None: they can). fused=True where they
    cannot run is an InputError naming the reason (numba missing among them)."""
    if option is False:
        return False
    if why_not is None and not available():
        why_not = "numba is not installed (pip install 'relubench[fast]')"
    if why_not is not None:
        if option:
            raise InputError(f"{backend}: option fused=True cannot be honoured: {why_not}")
        return False
    return bool(option) or entries >= min_entries


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


@cache
def admm_kernels() -> SimpleNamespace:
    """ADMM's compiled slack kernel, for single and double precision (numba imported on first use)."""
    numba = importlib.import_module("numba")

    @numba.njit  # serial: numba's thread pool beside OpenBLAS's spinning one made ADMM iterations 5x slower
    def admm_slack(W: np.ndarray, T: np.ndarray, H: np.ndarray, pos: np.ndarray, alpha: float) -> None:
        """In place, per entry: t = W + (1 - alpha) T + H; T = t; H = alpha min(t, 0) where pos, else alpha max(t, 0).

        W = alpha X U (n x 2P), T the signed slack state, H = alpha N its scaled negative part, pos (n x P, uint8)
        the pattern's signs (1 where Sig = +1), shared by the v and w halves.
        """
        n = T.shape[0]
        P = pos.shape[1]
        a = T.dtype.type(alpha)
        b = T.dtype.type(1.0 - alpha)
        z = T.dtype.type(0.0)
        for i in range(n):
            w, t_, h, p_ = W[i], T[i], H[i], pos[i]
            for half in range(2):
                o = half * P
                for j in range(P):
                    t = w[o + j] + b * t_[o + j] + h[o + j]
                    t_[o + j] = t
                    h[o + j] = a * (min(t, z) if p_[j] else max(t, z))

    pos = np.ones((2, 1), dtype=np.uint8)
    for dtype in (np.float32, np.float64):
        a = np.ones((2, 2), dtype=dtype)
        admm_slack(a, a.copy(), a.copy(), pos, 1.5)
    return SimpleNamespace(admm_slack=admm_slack)
