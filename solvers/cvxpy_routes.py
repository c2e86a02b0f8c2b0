"""cvxpy modelling routes (cross-checks of the native backends) and MOSEK.

Setup time is cvxpy's compilation (canonicalization to conic form); solve time is the solver's own.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Generator
from typing import Any, ClassVar

import numpy as np

from relubench.problem.formulations import ROBUST, evaluate, get_formulation
from relubench.problem.instance import Problem
from relubench.running.result import Callback, Result, Tracer
from relubench.running.solver import Capabilities, Option, Solver, register


def build_cvxpy(problem: Problem, formulation: str) -> tuple[Any, dict[str, Any]]:
    """cvxpy Problem of a convex formulation, written with masks (sum over columns of mask * (X U)).

    The formulation's blocks give the variables and their output signs; constrained formulations get the cone
    constraints (robust: tightened by eps ||z_i||_1 over the perturbable columns, see
    :class:`relubench.problem.formulations.RobustFormulation`). Losses: squared, hinge and logistic (cvxpy's
    ``logistic`` atom: exponential cones); with ``robust`` their worst case over the l_inf ball (an epigraph
    variable keeps the squared case DCP). Several outputs: the columns k P .. k P + P - 1 of each block predict
    output k (one expression per output).
    """
    import cvxpy as cp

    form = get_formulation(formulation)
    X, M = problem.X, problem.mask_float
    d, Pn, c = problem.d, problem.P, problem.outputs
    eps = problem.epsilon if form is ROBUST else 0.0
    variables = {k: cp.Variable((d, problem.groups)) for k, _ in form.blocks}
    Z = sum(s * variables[k] for k, s in form.blocks)
    Y = np.reshape(problem.y, (problem.n, c))
    preds = [cp.sum(cp.multiply(M, X @ Z[:, k * Pn : (k + 1) * Pn]), axis=1) for k in range(c)]
    pen = sum(cp.sum(cp.norm(v, 2, axis=0)) for v in variables.values())
    cons = []
    if form.constrained:
        for v in variables.values():
            lhs = cp.multiply(problem.group_signs, X @ v)
            if eps:
                l1 = cp.reshape(problem.perturbable @ cp.abs(v), (1, Pn), order="C")
                cons.append(lhs >= eps * (np.ones((problem.n, 1)) @ l1))
            else:
                cons.append(lhs >= 0)
    shift = eps * (cp.abs(M @ Z.T) @ problem.perturbable) if eps else 0.0
    terms = []
    for k, pred in enumerate(preds):
        y = Y[:, k]
        if problem.loss == "hinge":
            terms.append(cp.sum(cp.pos(1 - cp.multiply(y, pred) + shift)))
        elif problem.loss == "logistic":
            terms.append(cp.sum(cp.logistic(-cp.multiply(y, pred) + shift)))
        elif eps:
            t = cp.Variable(problem.n)
            cons.append(t >= cp.abs(pred - y) + shift)
            terms.append(0.5 * cp.sum_squares(t))
        else:
            terms.append(0.5 * cp.sum_squares(pred - y))
    return cp.Problem(cp.Minimize(sum(terms) + problem.beta * pen), cons), variables


class CvxpyRoute(Solver):
    family = "interior-point"
    # cross-checks of the native routes: not offered in the benchmark grid
    capabilities = Capabilities(
        formulations=("relu", "gated", "robust"),
        losses=("squared", "hinge", "logistic"),
        max_outputs=None,
        benchmark=False,
        options={"verbose": Option(bool, False)},
    )
    cvxpy_solver: ClassVar[str] = ""

    @classmethod
    def available(cls) -> tuple[bool, str]:
        import cvxpy as cp

        if cls.cvxpy_solver not in cp.installed_solvers():
            return False, f"cvxpy solver {cls.cvxpy_solver} not installed"
        return True, ""

    @classmethod
    def version(cls) -> str:
        import cvxpy as cp

        return f"cvxpy {cp.__version__}"

    def solver_options(self, tol: float, time_limit: float | None) -> dict[str, Any]:
        raise NotImplementedError

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Generator[None, Callback | None, Result]:
        import cvxpy as cp

        verbose = self.option("verbose")
        opts = self.solver_options(tol, time_limit)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:  # not held across the yield: it is process-wide
            warnings.simplefilter("always")
            prob, variables = build_cvxpy(problem, formulation)
            try:  # cvxpy's compilation to the solver's data: setup
                data, chain, inverse_data = prob.get_problem_data(self.cvxpy_solver, verbose=verbose, solver_opts=opts)
            except cp.error.SolverError as exc:
                return Result(self.name, formulation, "error", message=f"{self.cvxpy_solver}: {exc}")
        compile_s = time.perf_counter() - start
        callback = yield  # setup ends here (timed by Solver.setup)
        tracer = Tracer(callback)
        with warnings.catch_warnings(record=True) as more:
            warnings.simplefilter("always")
            try:
                raw = chain.solve_via_data(prob, data, warm_start=False, verbose=verbose, solver_opts=opts)
                prob.unpack_results(raw, chain, inverse_data)
            except cp.error.SolverError as exc:
                msg = f"{self.cvxpy_solver}: {exc}"
                return Result(self.name, formulation, "error", message=msg, solve_s=tracer.elapsed())
        caught += more
        stats = prob.solver_stats
        # work the solver reports doing before its first iteration inside this call (SCS factorizes here, and its
        # time limit does not count it) is setup: reported in setup_s, and not in solve_s or the trace's times
        inner_setup = float(stats.setup_time) if stats.setup_time is not None else 0.0
        inner_setup = min(max(inner_setup, 0.0), tracer.elapsed()) if np.isfinite(inner_setup) else 0.0
        solve_s = tracer.elapsed() - inner_setup
        status = {
            cp.OPTIMAL: "optimal",
            cp.OPTIMAL_INACCURATE: "optimal",
            cp.INFEASIBLE: "infeasible",
            cp.UNBOUNDED: "infeasible",
            cp.USER_LIMIT: "time_limit",
        }.get(prob.status, "error")
        if status == "optimal" and prob.status == cp.OPTIMAL_INACCURATE and time_limit is not None:
            if solve_s >= 0.99 * time_limit:
                status = "time_limit"  # the solver's clock ran out; cvxpy calls that "optimal_inaccurate"
        weights = None
        if all(v.value is not None for v in variables.values()):
            weights = {k: np.asarray(v.value, dtype=float) for k, v in variables.items()}
        elif status == "optimal":
            status = "error"
        point = None
        if weights is not None:  # the returned point's own objective and violation
            ev = evaluate(problem, formulation, weights)
            point = (ev["objective"], ev["max_violation"])
        elif prob.value is not None and np.isfinite(prob.value):
            point = (float(prob.value), 0.0)
        if point is not None:  # traced at the time it was returned
            tracer.start = time.perf_counter() - solve_s
            tracer.record(*point)
        return Result(
            self.name,
            formulation,
            status,
            iterations=int(stats.num_iters or 0),
            setup_s=inner_setup,
            solve_s=solve_s,
            weights=weights,
            message=f"cvxpy status {prob.status} (compile {compile_s:.3f} s, solver setup {inner_setup:.3f} s)"
            + "".join(f"; {w.message}" for w in caught if issubclass(w.category, UserWarning)),
            trace=tracer.points,
            solver_version=f"cvxpy {cp.__version__}",
        )


@register
class CvxpyClarabel(CvxpyRoute):
    name = "cvxpy-clarabel"
    description = "Clarabel through cvxpy (cross-check of the native route; the hinge loss and robust formulation)"
    cvxpy_solver = "CLARABEL"
    capabilities = Capabilities(
        formulations=("relu", "gated", "robust"),
        losses=("squared", "hinge", "logistic"),
        max_outputs=None,
        benchmark=False,
        reference_rank=2,  # after the native route, which has the squared loss alone
        options={"verbose": Option(bool, False)},
    )

    def solver_options(self, tol: float, time_limit: float | None) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "tol_gap_abs": tol * 1e-2,
            "tol_gap_rel": tol,
            "tol_feas": tol,
            "tol_ktratio": min(1e-6, tol),
            "direct_solve_method": "qdldl",  # the same linear solver as the native route
        }
        if time_limit is not None:
            opts["time_limit"] = float(time_limit)
        return opts


@register
class CvxpySCS(CvxpyRoute):
    name = "cvxpy-scs"
    family = "first-order"
    description = "SCS through cvxpy (cross-check of the native route)"
    cvxpy_solver = "SCS"

    def solver_options(self, tol: float, time_limit: float | None) -> dict[str, Any]:
        opts: dict[str, Any] = {"eps_abs": tol, "eps_rel": tol, "max_iters": 100_000}
        if time_limit is not None:
            opts["time_limit_secs"] = float(time_limit)
        return opts


@register
class CvxpyECOS(CvxpyRoute):
    name = "cvxpy-ecos"
    description = "ECOS interior point through cvxpy (ECOS has no time limit: run in a process killed at the limit)"
    cvxpy_solver = "ECOS"
    capabilities = Capabilities(
        formulations=("relu", "gated", "robust"),
        losses=("squared", "hinge", "logistic"),
        max_outputs=None,
        benchmark=False,
        time_limit=False,
        options={"verbose": Option(bool, False)},
    )

    def solver_options(self, tol: float, time_limit: float | None) -> dict[str, Any]:
        return {"abstol": tol * 1e-2, "reltol": tol, "feastol": tol, "max_iters": 200}


def mosek_licence() -> tuple[bool, str]:
    """(True, "") when MOSEK is importable and a licence can be checked out."""
    try:
        import mosek
    except ImportError:
        return False, "mosek package not installed (pip install 'relubench[mosek]')"
    try:
        with mosek.Env() as env:
            env.checkoutlicense(mosek.feature.pts)
    except mosek.Error:
        return False, "no MOSEK licence"
    return True, ""


@register
class CvxpyMosek(CvxpyRoute):
    name = "mosek"
    description = "MOSEK interior point through cvxpy (needs a licence)"
    capabilities = Capabilities(
        formulations=("relu", "gated", "robust"),
        losses=("squared", "hinge", "logistic"),
        max_outputs=None,
        max_size=200_000,
        reference_rank=0,
        options={"verbose": Option(bool, False)},
    )
    cvxpy_solver = "MOSEK"

    @classmethod
    def available(cls) -> tuple[bool, str]:
        return mosek_licence()

    def solver_options(self, tol: float, time_limit: float | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "MSK_DPAR_INTPNT_CO_TOL_REL_GAP": tol,
            "MSK_DPAR_INTPNT_CO_TOL_PFEAS": tol,
            "MSK_DPAR_INTPNT_CO_TOL_DFEAS": tol,
        }
        if time_limit is not None:
            params["MSK_DPAR_OPTIMIZER_MAX_TIME"] = float(time_limit)
        return {"mosek_params": params}
