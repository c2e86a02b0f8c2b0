"""asv suites for classification losses and several outputs: solver x problem x formulation.

Problems (held-out rows: the loader's seeded 20 %): ``breast_cancer-logistic`` (one output, P = 20, beta 1),
``iris3-logistic`` and ``iris3-squared`` (three one-hot outputs, P = 10, beta 0.5). Solvers: every backend
declaring ``benchmark`` that handles the logistic loss with several outputs (RELUBENCH_ASV_SOLVERS narrows).
Tolerance 1e-6. Tracked: solve time (setup excluded), relative gap to the reference optimum and held-out accuracy
of the trained model. Not defined in the ``ci`` tier (RELUBENCH_ASV_TIER) or when no backend qualifies.
"""

from __future__ import annotations

import os

from relubench.datasets import Dataset, load_dataset
from relubench.problem.instance import Problem
from relubench.problem.spec import ProblemClass
from relubench.running.reference import reference_optimum
from relubench.running.solver import get_solver, solver_class, solver_names

try:  # asv runs this file against each commit's code; commits before the one measurement pipeline lack it
    from relubench.running.measure import measure
except ImportError:
    measure = None

TIER = os.environ.get("RELUBENCH_ASV_TIER", "quick")
TOL = 1e-6
PROBLEMS = {
    "breast_cancer-logistic": ("breast_cancer", {}, "logistic", 20, 1.0),
    "iris3-logistic": ("iris", {"multiclass": True}, "logistic", 10, 0.5),
    "iris3-squared": ("iris", {"multiclass": True}, "squared", 10, 0.5),
}
FORMULATIONS = ["relu", "gated"]


def _solvers() -> list[str]:
    only = {s.strip() for s in os.environ.get("RELUBENCH_ASV_SOLVERS", "").split(",") if s.strip()}
    wanted = [ProblemClass(f, "logistic", 3) for f in FORMULATIONS]
    return [
        name
        for name in solver_names()
        if solver_class(name).capabilities.benchmark
        and solver_class(name).available()[0]
        and any(solver_class(name).capabilities.why_not(pc) is None for pc in wanted)
        and (not only or name in only)
    ]


SOLVERS = _solvers()


def make(key: str) -> tuple[Problem, Dataset]:
    name, options, loss, P, beta = PROBLEMS[key]
    ds = load_dataset(name, seed=0, **options)
    return Problem.create(ds.X_train, ds.y_train, beta, patterns=P, seed=0, loss=loss, name=key), ds


class _LossSuite:
    params = (SOLVERS, list(PROBLEMS), FORMULATIONS)
    param_names = ["solver", "problem", "formulation"]
    timeout = 600

    def setup_cache(self) -> dict:
        """Every solve once, measured into a row by the one pipeline (relative gap, held-out accuracy)."""
        out = {}
        if measure is None:
            return out
        for key in PROBLEMS:
            problem, ds = make(key)
            refs = {f: reference_optimum(problem, f).value for f in FORMULATIONS}
            runs = {}
            for solver in SOLVERS:
                for form in FORMULATIONS:
                    if solver_class(solver).capabilities.why_not(problem.problem_class(form)) is None:
                        res = get_solver(solver).solve(problem, form, tol=TOL, time_limit=120)
                        row = measure(problem, ds, res, refs[form], attacks=False)
                        acc = row["test_accuracy"]
                        gap = row["relative_gap"]
                        runs[(solver, form)] = (
                            float("nan") if gap is None else gap,
                            float("nan") if acc is None else acc,
                        )
            out[key] = (problem, runs)
        return out

    def setup(self, cache: dict, solver: str, problem: str, formulation: str) -> None:
        if problem not in cache:
            raise NotImplementedError("this commit has no relubench.running.measure")
        pb = cache[problem][0]
        why = solver_class(solver).capabilities.why_not(pb.problem_class(formulation))
        if why is not None:
            raise NotImplementedError(why)
        self.problem = pb

    def time_solve(self, cache: dict, solver: str, problem: str, formulation: str) -> None:
        get_solver(solver).solve(self.problem, formulation, tol=TOL, time_limit=120)

    def track_relative_gap(self, cache: dict, solver: str, problem: str, formulation: str) -> float:
        return cache[problem][1][(solver, formulation)][0]

    def track_test_accuracy(self, cache: dict, solver: str, problem: str, formulation: str) -> float:
        return cache[problem][1][(solver, formulation)][1]

    track_relative_gap.unit = "relative gap"
    track_test_accuracy.unit = "fraction"


if TIER != "ci" and SOLVERS:  # asv collects the classes of this module whose names do not start with "_"

    class LossSuite(_LossSuite):
        """Classification losses and several outputs (see the module docstring)."""
