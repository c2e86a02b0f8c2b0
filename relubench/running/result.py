"""The record every backend returns, and the trace recorder for convergence curves."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


class Status(StrEnum):
    """The one status vocabulary: every Result, sweep row, store and report uses these values (as plain strings
    in tables). What counts as solved or failed is decided here, nowhere else."""

    OPTIMAL = "optimal"  # the backend's stopping test held and (relu, robust) its point is feasible to tol max|y|
    INACCURATE = "inaccurate"  # the stopping test held but the point violates its constraints by more than that
    MAX_ITER = "max_iter"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    NUMERICAL_ERROR = "numerical_error"  # non-finite values, a breakdown of the method
    ERROR = "error"  # the backend raised
    UNAVAILABLE = "unavailable"  # not installed, no licence, no GPU: skipped, never failed
    UNTRAINED = "untrained"  # a baseline that is not trained (random-net)
    CRASHED = "crashed"  # a sweep case's process died
    MEMORY = "memory"  # a sweep case reached its memory cap

    @property
    def solved(self) -> bool:
        """A solution to the case's tolerance, as far as the backend's test and the violation check go."""
        return self is Status.OPTIMAL

    @property
    def failed(self) -> bool:
        """Not a solution: what ``relubench sweep --rerun-failed`` runs again."""
        return self.value in FAILED_STATUSES

    @property
    def run_failed(self) -> bool:
        """The run itself broke (no outcome of the method to compare): listed apart in the report."""
        return self.value in RUN_FAILED_STATUSES


STATUSES = tuple(s.value for s in Status)
# the scalar outcome of a solve, as Result.summary() gives it (the first columns of every measured row)
SUMMARY_KEYS = (
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
RUN_FAILED_STATUSES = frozenset({"crashed", "time_limit", "memory", "error", "numerical_error"})
FAILED_STATUSES = RUN_FAILED_STATUSES | {"max_iter", "infeasible", "inaccurate"}


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

    def __post_init__(self) -> None:
        try:
            self.status = Status(self.status).value  # one vocabulary: an unknown status is a bug, caught here
        except ValueError:
            raise ValueError(f"unknown status {self.status!r} (the vocabulary: {', '.join(STATUSES)})") from None

    def summary(self) -> dict[str, Any]:
        """The scalar outcome fields (no weights, trace or reference), as stored in tables and printed."""
        return {k: getattr(self, k) for k in SUMMARY_KEYS}

    def to_dict(self, with_trace: bool = False) -> dict[str, Any]:
        out = asdict(self)
        out.pop("weights")
        if with_trace:
            out["trace"] = trace_rows(self.trace)
        else:
            out.pop("trace")
        return out


TRACE_COLUMNS = ("seconds", "objective", "max_violation", "certified_gap")


def read_trace(text: object) -> dict[str, np.ndarray] | None:
    """A stored trace (the JSON text of :func:`trace_rows`) as arrays named by :data:`TRACE_COLUMNS`, the certified
    gap NaN where none was recorded; None for no trace or one that is not such text."""
    if not isinstance(text, str):
        return None
    try:
        rows = json.loads(text)
        arr = np.asarray([[np.nan if v is None else v for v in r] for r in rows], dtype=float)
    except (ValueError, TypeError):
        return None
    if arr.size == 0 or arr.ndim != 2 or arr.shape[1] not in (3, 4):
        return None
    if arr.shape[1] == 3:
        arr = np.column_stack([arr, np.full(arr.shape[0], np.nan)])
    return dict(zip(TRACE_COLUMNS, arr.T, strict=True))


def trace_rows(trace: list[TracePoint]) -> list[list[float | None]]:
    """The trace as rows [seconds, objective, violation] plus the certified gap where any point has one."""
    if any(p.certified_gap is not None for p in trace):
        return [[p.seconds, p.objective, p.max_violation, p.certified_gap] for p in trace]
    return [[p.seconds, p.objective, p.max_violation] for p in trace]


class Tracer:
    """Collects TracePoints relative to a start time and forwards them to an optional user callback.

    The callback only watches (progress printing): what it returns is ignored, and a solve never ends on it.
    """

    def __init__(self, callback: Callback | None = None) -> None:
        self.callback = callback
        self.points: list[TracePoint] = []
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def record(self, objective: float, max_violation: float = 0.0, certified_gap: float | None = None) -> None:
        cg = None if certified_gap is None else float(certified_gap)
        p = TracePoint(self.elapsed(), float(objective), float(max_violation), cg)
        self.points.append(p)
        if self.callback is not None:
            self.callback(p)
