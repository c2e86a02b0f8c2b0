"""Regularization paths: one problem solved along a decreasing grid of weight decays beta, warm-started.

The patterns (and so the variables) are the same at every beta; only beta changes. Backends whose capabilities
declare ``warm_start`` start each point from the previous point's solution (the usual continuation: large beta
first, where the solution is sparse and cheap); the others solve each point from their own start. Each point is
timed on its own (setup + solve) and the path as a whole.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from relubench.errors import InputError
from relubench.problem.instance import Problem, validate_beta
from relubench.running.result import Result
from relubench.running.solver import Solver


@dataclass
class PathPoint:
    beta: float
    result: Result
    seconds: float  # setup + solve of this point
    warm: bool  # started from the previous point's solution


def path_betas(betas: Sequence[float]) -> list[float]:
    """The grid in decreasing order, each beta validated (> 0, finite), duplicates refused."""
    out = sorted((validate_beta(b) for b in betas), reverse=True)
    if not out:
        raise InputError("a path needs at least one beta")
    if len(set(out)) != len(out):
        raise InputError(f"a path's betas must be distinct, got {list(betas)}")
    return out


def solve_path(
    problem: Problem,
    solver: Solver,
    formulation: str,
    betas: Sequence[float],
    tol: float,
    time_limit: float | None = None,
    warm: bool = True,
    on_point: Callable[[PathPoint], None] | None = None,
) -> tuple[list[PathPoint], float]:
    """Solve ``problem`` at every beta of :func:`path_betas` (``time_limit`` per point); returns the points and
    the seconds of the whole path. ``warm``: pass each solution to the next solve (ignored by backends that do
    not declare warm starts). A point without weights (a failure) makes the next one start cold."""
    points: list[PathPoint] = []
    init = None
    t0 = time.perf_counter()
    for beta in path_betas(betas):
        pb = dataclasses.replace(problem, beta=beta)
        start = init if warm and solver.capabilities.warm_start else None
        res = solver.solve(pb, formulation, tol=tol, time_limit=time_limit, init=start)
        point = PathPoint(beta, res, res.setup_s + res.solve_s, start is not None)
        points.append(point)
        if on_point is not None:
            on_point(point)
        ok = res.weights is not None and math.isfinite(res.objective)
        init = res.weights if ok else None
    return points, time.perf_counter() - t0
