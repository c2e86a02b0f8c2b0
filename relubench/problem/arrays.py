"""A problem's arrays on any array library that follows the Python array API standard (numpy, torch, CuPy, ...).

The first-order backends are written once, against the namespace ``xp`` of the arrays they are given
(:func:`namespace`, through ``array-api-compat``), so one implementation runs on numpy (CPU) and on torch or
CuPy (CUDA). ``ArrayView`` (:mod:`relubench.problem.instance`) carries the attributes of a ``Problem`` that
the kernels read (``X``, ``y``, ``mask_float``, ``group_masks``, ``group_signs``, sizes, ``beta``, ``loss``) as
arrays of one library, device and precision; a numpy ``Problem`` itself serves the numpy path, so the
generic kernels of :mod:`relubench.problem.formulations` and :mod:`relubench.problem.losses` take either.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

Array = Any  # an array of the namespace in use (numpy.ndarray, torch.Tensor, ...)


def namespace(*arrays: Array) -> ModuleType:
    """The array-API namespace of ``arrays``: numpy itself for numpy arrays (numpy >= 2.1 follows the standard in
    every function used here, without the per-call cost of a wrapper), else ``array_api_compat``'s."""
    xp = array_api_compat.array_namespace(*arrays)
    return np if array_api_compat.is_numpy_namespace(xp) else xp


SYRK_SAFE_BYTES = 1 << 30  # row blocks of A A' are formed this many bytes at a time (below numpy's 2 GiB crash)


def outer_gram(A: Array) -> Array:
    """A @ A.T (n x n), formed in row blocks of at most ``SYRK_SAFE_BYTES`` on numpy.

    numpy computes ``A @ A.T`` through BLAS syrk, which with the OpenBLAS numpy 2.x ships crashes the process
    (segmentation fault) once the n x n result passes 2 GiB (n > 16384 in double precision; numpy issue #19685):
    relubench's admm and ipm meet it at n = 2 * 10^4. A block times A.T is a general product (gemm), which does
    not. Other libraries (torch, CuPy) get the plain product."""
    if namespace(A) is not np:
        return A @ A.T
    n = A.shape[0]
    rows = max(1, SYRK_SAFE_BYTES // max(1, A.itemsize * n))
    if rows >= n:
        return A @ A.T
    out = np.empty((n, n), dtype=A.dtype)
    At = A.T
    for i0 in range(0, n, rows):
        np.matmul(A[i0 : i0 + rows], At, out=out[i0 : i0 + rows])
    return out
