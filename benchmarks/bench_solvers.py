"""asv suites: solver x problem size (n, d, P) x formulation.

Tiers (environment variable RELUBENCH_ASV_TIER, read when asv imports the suite):

* ``quick`` (default): small sizes; ``asv run --quick`` finishes in minutes on 2 cores.
* ``full``: adds sizes up to n = 10000 (a backend is skipped above the largest size it declares, e.g. the
  interior-point and SCS backends above n * P = 200000, where they take many minutes).
* ``ci``: one tiny size, relu only (the regression test also sets RELUBENCH_ASV_SOLVERS=admm).

The solver grid is every registered backend whose capabilities say ``benchmark`` (plugins from
RELUBENCH_PLUGINS included), narrowed by RELUBENCH_ASV_SOLVERS (comma-separated names) when set.
Problems, patterns and reference optima are built in ``setup_cache`` (not timed). ``time_solve`` times a whole
``Solver.solve`` call, setup included (comparable over commits); ``SetupSuite.time_setup`` times ``Solver.setup``
alone (conic data construction, compilation, factorization, step sizes: the work before the first iteration), the
same call whose duration a result reports as ``setup_s``. SolveSuite and
AccuracySuite solve at tolerance 1e-6 (each backend by its own stopping rule); TimeToAccuracySuite times every
backend to the same accuracy (gap and violation, from the trace of a tolerance-1e-8 solve). Unavailable
backends (MOSEK without a licence), problem classes a backend does not solve and
sizes too large for it raise NotImplementedError, which asv reports as skipped.
"""

from __future__ import annotations

import math
import os

from relubench.datasets import Dataset, load_dataset
from relubench.problem.instance import Problem
from relubench.problem.spec import ProblemClass
from relubench.running.reference import reference_optimum
from relubench.running.solver import get_solver, reference_solvers, solver_class, solver_names

try:  # asv runs this file against each commit's code; commits before the one measurement pipeline lack it
    from relubench.running.measure import measure
except ImportError:
    measure = None

TIER = os.environ.get("RELUBENCH_ASV_TIER", "quick")
TOL = 1e-6
TIGHT = 1e-8  # tolerance of the TimeToAccuracySuite solves, whose traces are read at 1e-4 and 1e-6
TIGHT_LIMIT_S = 30.0
TIERS = {
    "ci": (["100x5x20"], ["relu"]),
    "quick": (["100x10x20", "200x10x40"], ["relu", "gated"]),
    "full": (["200x10x50", "500x20x100", "1000x20x200", "5000x50x500", "10000x20x100"], ["relu", "gated"]),
}
SIZES, FORMULATIONS = TIERS.get(TIER, TIERS["quick"])


def benchmarked_solvers(formulations: list[str] = FORMULATIONS) -> list[str]:
    """Backends declaring ``benchmark`` that solve one of ``formulations`` (RELUBENCH_ASV_SOLVERS narrows)."""
    only = {s.strip() for s in os.environ.get("RELUBENCH_ASV_SOLVERS", "").split(",") if s.strip()}
    out = []
    for name in solver_names():
        caps = solver_class(name).capabilities
        if caps.benchmark and set(caps.formulations) & set(formulations) and (not only or name in only):
            out.append(name)
    return out


SOLVERS = benchmarked_solvers()
HISTORY_SIZE, HISTORY_FORMULATIONS = "100x10x20", ["relu", "gated"]


def _dims(size: str) -> tuple[int, int, int]:
    n, d, P = (int(v) for v in size.split("x"))
    return n, d, P


def make_data(size: str) -> tuple[Problem, Dataset]:
    n, d, P = _dims(size)
    ds = load_dataset("gaussian", n=n, d=d, seed=0)
    return Problem.create(ds.X_train, ds.y_train, 1e-3 * n, patterns=P, seed=0, name=f"gaussian-{size}"), ds


def make_problem(size: str) -> Problem:
    return make_data(size)[0]


def _measured_cache(tol: float, time_limit: float | None, need_reference: bool = False) -> dict:
    """One solve per (solver, size, formulation) at ``tol``, measured into a row by the one pipeline
    (:func:`relubench.running.measure.measure`) against the cached reference where one exists (``need_reference``:
    only there, nothing is solved elsewhere)."""
    if measure is None:
        return {}
    out = {}
    for size in SIZES:
        problem, ds = make_data(size)
        for formulation in FORMULATIONS:
            ref = reference_optimum(problem, formulation).value if _reference_feasible(size, formulation) else None
            if ref is None and need_reference:
                continue
            for solver in SOLVERS:
                try:
                    _check(solver, size, formulation)
                except NotImplementedError:
                    continue
                res = get_solver(solver).solve(problem, formulation, tol=tol, time_limit=time_limit)
                out[(solver, size, formulation)] = measure(problem, ds, res, ref, attacks=False)
    return out


def _row(cache: dict, key: tuple[str, str, str]) -> dict:
    if measure is None:
        raise NotImplementedError("this commit has no relubench.running.measure")
    if key not in cache:
        raise NotImplementedError("no reference optimum at this size")
    return cache[key]


def _check(solver: str, size: str, formulation: str) -> None:
    cls = solver_class(solver)
    why = cls.capabilities.why_not(ProblemClass(formulation))
    if why is not None:
        raise NotImplementedError(why)
    ok, reason = cls.available()
    if not ok:
        raise NotImplementedError(reason)
    n, _, P = _dims(size)
    if not cls.capabilities.offered_at(n, P):
        raise NotImplementedError("too large for this backend")


def _reference_feasible(size: str, formulation: str) -> bool:
    """Whether an available reference backend is offered this size."""
    n, _, P = _dims(size)
    return any(
        c.available()[0] and c.capabilities.offered_at(n, P) for c in reference_solvers(ProblemClass(formulation))
    )


class _Base:
    params = (SOLVERS, SIZES, FORMULATIONS)
    param_names = ["solver", "size", "formulation"]
    timeout = 1800

    def setup_cache(self) -> dict:
        problems = {}
        for size in SIZES:
            problem = make_problem(size)
            refs = {}
            for form in FORMULATIONS:
                if _reference_feasible(size, form):
                    refs[form] = reference_optimum(problem, form).value
            problems[size] = (problem, refs)
        return problems


class SolveSuite(_Base):
    """Wall-clock and memory of one solve at tolerance 1e-6, setup included."""

    def setup(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        _check(solver, size, formulation)
        self.problem = cache[size][0]

    def time_solve(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        get_solver(solver).solve(self.problem, formulation, tol=TOL)

    def peakmem_solve(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        get_solver(solver).solve(self.problem, formulation, tol=TOL)


class HistorySuite:
    """The fast tier of the history in ``scripts/main.sh``: one solve (setup included) per backend at tolerance
    1e-6 on one small size, both formulations, whatever RELUBENCH_ASV_TIER says, so that every commit measured
    lands on the same lines. It calls only ``Solver.solve``, which every commit has (asv runs this file's
    benchmarks against the code of each commit)."""

    params = (benchmarked_solvers(HISTORY_FORMULATIONS), [HISTORY_SIZE], HISTORY_FORMULATIONS)
    param_names = ["solver", "size", "formulation"]
    timeout = 600

    def setup_cache(self) -> Problem:
        return make_problem(HISTORY_SIZE)

    def setup(self, problem: Problem, solver: str, size: str, formulation: str) -> None:
        _check(solver, size, formulation)

    def time_solve(self, problem: Problem, solver: str, size: str, formulation: str) -> None:
        get_solver(solver).solve(problem, formulation, tol=TOL)


class SetupSuite(_Base):
    """Setup (building conic data, compiling, factorizing, step sizes): ``Solver.setup``, timed by asv
    (``time_setup``) and as the backend's results report it (``track_setup``, their ``setup_s``)."""

    def setup(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        _check(solver, size, formulation)
        self.problem = cache[size][0]
        if not hasattr(get_solver(solver), "setup"):
            raise NotImplementedError("this commit's Solver has no setup()")

    def time_setup(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        get_solver(solver).setup(self.problem, formulation, tol=TOL)

    def track_setup(self, cache: dict, solver: str, size: str, formulation: str) -> float:
        return get_solver(solver).setup(self.problem, formulation, tol=TOL).seconds

    track_setup.unit = "seconds"


class AccuracySuite(_Base):
    """Accuracy reached at tolerance 1e-6: relative gap to the reference optimum, objective, iterations.

    All solves run once in setup_cache (measured rows); the track_ benchmarks read them.
    """

    def setup_cache(self) -> dict:
        return _measured_cache(TOL, None)

    def setup(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        _check(solver, size, formulation)
        if measure is None:
            raise NotImplementedError("this commit has no relubench.running.measure")

    def track_relative_gap(self, cache: dict, solver: str, size: str, formulation: str) -> float:
        gap = _row(cache, (solver, size, formulation))["relative_gap"]
        if gap is None:
            raise NotImplementedError("no reference optimum at this size")
        return abs(gap)

    track_relative_gap.unit = "|f - f*| / |f*|"

    def track_objective(self, cache: dict, solver: str, size: str, formulation: str) -> float:
        return _row(cache, (solver, size, formulation))["objective"]

    track_objective.unit = "1/2 ||r||^2 + beta * penalty"

    def track_iterations(self, cache: dict, solver: str, size: str, formulation: str) -> int:
        return _row(cache, (solver, size, formulation))["iterations"]

    track_iterations.unit = "iterations"


class TimeToAccuracySuite(_Base):
    """Seconds (setup + solve) to reach a fixed accuracy, the same for every backend: relative gap to the
    reference <= eps AND (relu) cone violation <= eps max|y| (:func:`relubench.running.metrics.reached`).

    One solve per case at tolerance ``TIGHT`` (1e-8) within ``TIGHT_LIMIT_S``, run in setup_cache; the time is read
    from its trace (first-order backends trace their iterates; interior-point and SCS solves trace only the point
    they return, so for them it is the time of the whole tight solve). NaN when the accuracy was not reached
    (asv shows no value), and skipped where no reference optimum exists. Compare solvers here at equal accuracy,
    not in SolveSuite, where each stops by its own rule.
    """

    def setup_cache(self) -> dict:
        return _measured_cache(TIGHT, TIGHT_LIMIT_S, need_reference=True)

    def setup(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        _check(solver, size, formulation)
        _row(cache, (solver, size, formulation))

    def _seconds(self, cache: dict, key: tuple[str, str, str], eps: float) -> float:
        t = _row(cache, key)[f"time_to_{eps:g}"]  # setup + solve to the first point that reached eps
        return t if math.isfinite(t) else math.nan

    def track_seconds_to_1e4(self, cache: dict, solver: str, size: str, formulation: str) -> float:
        return self._seconds(cache, (solver, size, formulation), 1e-4)

    track_seconds_to_1e4.unit = "seconds"

    def track_seconds_to_1e6(self, cache: dict, solver: str, size: str, formulation: str) -> float:
        return self._seconds(cache, (solver, size, formulation), 1e-6)

    track_seconds_to_1e6.unit = "seconds"
