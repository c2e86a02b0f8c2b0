"""The record every backend returns, and the trace recorder for convergence curves."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

STATUSES = (
    "optimal",
    "inaccurate",  # the backend's stopping test held but its point violates the constraints by more than tol max|y|
    "max_iter",
    "time_limit",
    "infeasible",
    "numerical_error",
    "error",
    "unavailable",
    "untrained",
)


@dataclass
class TracePoint:
    """One sample of a solver's progress: seconds since solve start, convex objective, constraint violation."""

    seconds: float
    objective: float
    max_violation: float = 0.0
    certified_gap: float | None = None  # primal - dual at this point, where the backend certifies one


Callback = Callable[[TracePoint], Any]


@dataclass
class Result:
    """Outcome of one solve. Times in seconds; setup (build, compile, factorize) is reported apart from solve.

    ``objective`` is recomputed by relubench from the returned weights (never taken from the solver), as is
    ``network_objective`` (objective of the mapped two-layer network) and ``max_violation``.
    ``relative_gap`` = (objective - f*) / |f*| is filled in when a reference optimum f* is known.
    """

    solver: str
    formulation: str
    status: str
    objective: float = float("nan")
    network_objective: float = float("nan")
    max_violation: float = float("nan")
    active_neurons: int = 0
    iterations: int = 0
    setup_s: float = 0.0
    solve_s: float = 0.0
    message: str = ""
    solver_version: str = ""
    trace: list[TracePoint] = field(default_factory=list)
    reference: float | None = None
    relative_gap: float | None = None
    certified_gap: float | None = None  # primal - dual bound, where the backend has a dual at hand
    device: str = "cpu"  # where the backend computed (relubench.running.device)
    device_peak_bytes: int | None = None  # peak GPU memory of the solve (None on the CPU)
    weights: dict[str, np.ndarray] | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        """The scalar outcome fields (no weights, trace or reference), as stored in tables and printed."""
        keys = (
            "status",
            "objective",
            "network_objective",
            "max_violation",
            "iterations",
            "setup_s",
            "solve_s",
            "active_neurons",
            "message",
            "solver_version",
            "certified_gap",
            "device",
            "device_peak_bytes",
        )
        return {k: getattr(self, k) for k in keys}

    def to_dict(self, with_trace: bool = False) -> dict[str, Any]:
        out = asdict(self)
        out.pop("weights")
        if with_trace:
            out["trace"] = trace_rows(self.trace)
        else:
            out.pop("trace")
        return out


def trace_rows(trace: list[TracePoint]) -> list[list[float | None]]:
    """The trace as rows [seconds, objective, violation] plus the certified gap where any point has one."""
    if any(p.certified_gap is not None for p in trace):
        return [[p.seconds, p.objective, p.max_violation, p.certified_gap] for p in trace]
    return [[p.seconds, p.objective, p.max_violation] for p in trace]


class Tracer:
    """Collects TracePoints relative to a start time and forwards them to an optional user callback.

    The callback may return True to ask the solver to stop early.
    """

    def __init__(self, callback: Callback | None = None) -> None:
        self.callback = callback
        self.points: list[TracePoint] = []
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def record(self, objective: float, max_violation: float = 0.0, certified_gap: float | None = None) -> bool:
        cg = None if certified_gap is None else float(certified_gap)
        p = TracePoint(self.elapsed(), float(objective), float(max_violation), cg)
        self.points.append(p)
        if self.callback is not None:
            return bool(self.callback(p))
        return False
