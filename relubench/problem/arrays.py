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
