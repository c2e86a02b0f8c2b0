"""A problem's arrays on any array library that follows the Python array API standard (numpy, torch, CuPy, ...).

The first-order backends are written once, against the namespace ``xp`` of the arrays they are given
(:func:`namespace`, through ``array-api-compat``), so one implementation runs on numpy (CPU) and on torch or
CuPy (CUDA). :class:`ArrayView` carries the attributes of :class:`relubench.problem.instance.Problem` that the
kernels read (``X``, ``y``, ``mask_float``, ``group_masks``, ``group_signs``, sizes, ``beta``, ``loss``) as
arrays of one library, device and precision; a numpy ``Problem`` itself serves the numpy path, so the
generic kernels of :mod:`relubench.problem.formulations` and :mod:`relubench.problem.losses` take either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import array_api_compat
import numpy as np

if TYPE_CHECKING:  # instance imports the losses, which import this module
    from relubench.problem.instance import Problem

Array = Any  # an array of the namespace in use (numpy.ndarray, torch.Tensor, ...)


def namespace(*arrays: Array) -> ModuleType:
    """The array-API namespace of ``arrays``: numpy itself for numpy arrays (numpy >= 2.1 follows the standard in
    every function used here, without the per-call cost of a wrapper), else ``array_api_compat``'s."""
    xp = array_api_compat.array_namespace(*arrays)
    return np if array_api_compat.is_numpy_namespace(xp) else xp


def is_numpy(xp: ModuleType) -> bool:
    return array_api_compat.is_numpy_namespace(xp)


@dataclass(frozen=True, eq=False)
class ArrayView:
    """The arrays of a :class:`Problem` on one library, device and dtype, under the Problem's attribute names."""

    X: Array
    y: Array
    mask_float: Array
    group_masks: Array
    group_signs: Array
    beta: float
    loss: str
    n: int
    d: int
    P: int
    outputs: int
    groups: int


def view(problem: Problem, asarray: Callable[[Any], Array]) -> ArrayView:
    """``problem``'s arrays converted by ``asarray`` (which fixes library, device and dtype)."""
    masks = asarray(problem.mask_float)
    signs = asarray(problem.signs)
    one = problem.outputs == 1
    return ArrayView(
        X=asarray(problem.X),
        y=asarray(problem.y),
        mask_float=masks,
        group_masks=masks if one else asarray(problem.group_masks),
        group_signs=signs if one else asarray(problem.group_signs),
        beta=problem.beta,
        loss=problem.loss,
        n=problem.n,
        d=problem.d,
        P=problem.P,
        outputs=problem.outputs,
        groups=problem.groups,
    )
