"""asv suites: solver x problem size (n, d, P) x formulation.

Tiers (environment variable RELUBENCH_ASV_TIER, read when asv imports the suite):

* ``quick`` (default): small sizes, every backend; ``asv run --quick`` finishes in minutes on 2 cores.
* ``full``: adds sizes up to n = 10000 for the first-order backends (the interior-point and SCS backends are
  skipped above n * P = 200000, where they take many minutes).
* ``ci``: one tiny size, ADMM only (used by the regression test).

Problems, patterns and reference optima are built in ``setup_cache`` (not timed). ``time_solve`` excludes
setup (conic data construction, compilation, factorization), which ``time_setup`` reports. Every solve uses
tolerance 1e-6. Unavailable backends (MOSEK without a licence) and sizes too large for a backend raise
NotImplementedError, which asv reports as skipped.
"""

from __future__ import annotations

import os

from relubench.datasets import load_dataset
from relubench.problem import Problem
from relubench.reference import reference_optimum, relative_gap
from relubench.registry import get_solver, solver_class

TIER = os.environ.get("RELUBENCH_ASV_TIER", "quick")
TOL = 1e-6
CONIC_MAX_NP = 200_000

if TIER == "ci":
    SOLVERS = ["admm"]
    SIZES = ["100x5x20"]
    FORMULATIONS = ["relu"]
elif TIER == "full":
    SOLVERS = ["clarabel", "scs", "mosek", "admm", "al", "fista"]
    SIZES = ["200x10x50", "500x20x100", "1000x20x200", "5000x50x500", "10000x20x100"]
    FORMULATIONS = ["relu", "gated"]
else:
    SOLVERS = ["clarabel", "scs", "mosek", "admm", "al", "fista"]
    SIZES = ["100x10x20", "300x10x50"]
    FORMULATIONS = ["relu", "gated"]


def make_problem(size: str) -> Problem:
    n, d, P = (int(v) for v in size.split("x"))
    ds = load_dataset("gaussian", n=n, d=d, seed=0)
    return Problem.create(ds.X_train, ds.y_train, 1e-3 * n, patterns=P, seed=0, name=f"gaussian-{size}")


def _check(solver: str, size: str, formulation: str) -> None:
    cls = solver_class(solver)
    if formulation not in cls.formulations:
        raise NotImplementedError(f"{solver} does not solve {formulation}")
    ok, why = cls.available()
    if not ok:
        raise NotImplementedError(why)
    n, _, P = (int(v) for v in size.split("x"))
    if cls.name in ("clarabel", "scs", "mosek") and n * P > CONIC_MAX_NP:
        raise NotImplementedError("too slow at this size")


class _Base:
    params = (SOLVERS, SIZES, FORMULATIONS)
    param_names = ["solver", "size", "formulation"]
    timeout = 1800

    def setup_cache(self) -> dict:
        problems = {}
        for size in SIZES:
            problem = make_problem(size)
            refs = {}
            n, _, P = (int(v) for v in size.split("x"))
            if n * P <= CONIC_MAX_NP:
                for form in FORMULATIONS:
                    refs[form] = reference_optimum(problem, form).value
            problems[size] = (problem, refs)
        return problems


class SolveSuite(_Base):
    """Wall-clock and memory of one solve at tolerance 1e-6 (setup excluded)."""

    def setup(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        _check(solver, size, formulation)
        self.problem = cache[size][0]

    def time_solve(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        get_solver(solver).solve(self.problem, formulation, tol=TOL)

    def peakmem_solve(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        get_solver(solver).solve(self.problem, formulation, tol=TOL)


class SetupSuite(_Base):
    """Setup seconds (building conic data, compiling, factorizing), as each backend reports them."""

    def setup(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        _check(solver, size, formulation)
        self.problem = cache[size][0]

    def track_setup(self, cache: dict, solver: str, size: str, formulation: str) -> float:
        # setup happens before the solve starts: a tiny time limit ends the solve right after it
        return get_solver(solver).solve(self.problem, formulation, tol=TOL, time_limit=1e-3).setup_s

    track_setup.unit = "seconds"


class AccuracySuite(_Base):
    """Accuracy reached at tolerance 1e-6: relative gap to the reference optimum, objective, iterations.

    All solves run once in setup_cache; the track_ benchmarks read their results.
    """

    def setup_cache(self) -> dict:
        problems = super().setup_cache()
        out = {}
        for solver in SOLVERS:
            for size in SIZES:
                for formulation in FORMULATIONS:
                    try:
                        _check(solver, size, formulation)
                    except NotImplementedError:
                        continue
                    problem, refs = problems[size]
                    res = get_solver(solver).solve(problem, formulation, tol=TOL)
                    ref = refs.get(formulation)
                    gap = abs(relative_gap(res.objective, ref)) if ref is not None else None
                    out[(solver, size, formulation)] = (gap, res.objective, res.iterations)
        return out

    def setup(self, cache: dict, solver: str, size: str, formulation: str) -> None:
        _check(solver, size, formulation)

    def track_relative_gap(self, cache: dict, solver: str, size: str, formulation: str) -> float:
        gap = cache[(solver, size, formulation)][0]
        if gap is None:
            raise NotImplementedError("no reference optimum at this size")
        return gap

    track_relative_gap.unit = "|f - f*| / |f*|"

    def track_objective(self, cache: dict, solver: str, size: str, formulation: str) -> float:
        return cache[(solver, size, formulation)][1]

    track_objective.unit = "1/2 ||r||^2 + beta * penalty"

    def track_iterations(self, cache: dict, solver: str, size: str, formulation: str) -> int:
        return cache[(solver, size, formulation)][2]

    track_iterations.unit = "iterations"
