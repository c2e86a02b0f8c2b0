"""Clarabel and SCS through their native Python APIs, on conic data built by :mod:`relubench.conic`."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from relubench.problem.conic import CONIC_LOSSES, build
from relubench.problem.formulations import evaluate
from relubench.problem.instance import Problem, y_scale
from relubench.resources import require_memory
from relubench.running.result import Callback, Result, Tracer
from relubench.running.solver import Capabilities, Option, Solver, register

# Clarabel's peak memory on the relu program per entry of its n x 2P d cone rows (conic data, KKT matrix and its
# LDL factor), measured at P = 200: magic 15216 x 10 10.6 GiB, letter 16000 x 16 17.1 GiB, penbased 8794 x 16
# 9.6 GiB (180-187 bytes each; docs/results.md, relu_targets). Refused up front where this exceeds the memory
# available: the process would otherwise be killed, or the machine swap, hours into the build.
RELU_BYTES_PER_ENTRY = 180


@register
class ClarabelNative(Solver):
    """Clarabel interior point (native API).

    Options: max_iter (200), verbose (False), direct_solve_method ("qdldl": measured 15.8 s against 30.0 s
    for "faer", the "auto" choice, at n=500, d=20, P=100), max_step_fraction (Clarabel's 0.99; 0.9 for the
    logistic loss: on breast_cancer, P = 30, relu, beta in {0.01, 1}, the default stopped with
    "InsufficientProgress" at objectives 3% and 2% above the optimum, 0.9 solved both).
    """

    name = "clarabel"
    family = "interior-point"
    capabilities = Capabilities(
        formulations=("relu", "gated"),
        losses=CONIC_LOSSES,
        max_outputs=None,
        max_size=200_000,
        reference_rank=1,
        options={
            "verbose": Option(bool, False),
            "max_iter": Option(int, 200, low=1),
            "direct_solve_method": Option(str, "qdldl", doc="Clarabel's KKT solver (qdldl, faer, ...)"),
            "max_step_fraction": Option(
                float, None, low=0, high=1, low_open=True, high_open=True, doc="default 0.9 (logistic), else Clarabel's"
            ),
        },
    )
    description = "Clarabel interior point, native API, sparse conic data built directly"

    @classmethod
    def version(cls) -> str:
        import clarabel

        return f"clarabel {clarabel.__version__}"

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Generator[None, Callback | None, Result]:
        import clarabel

        if formulation == "relu":
            entries = problem.n * 2 * problem.groups * problem.d
            require_memory(
                RELU_BYTES_PER_ENTRY * entries,
                f"clarabel on the relu program ({entries:.3g} entries in its n x 2P d cone rows; "
                f"{RELU_BYTES_PER_ENTRY} bytes each, measured)",
            )
        data = build(problem, formulation)
        cones = [clarabel.ZeroConeT(data.n_zero)] if data.n_zero else []
        if data.n_nonneg:
            cones.append(clarabel.NonnegativeConeT(data.n_nonneg))
        cones += [clarabel.SecondOrderConeT(k) for k in data.soc_dims]
        cones += [clarabel.ExponentialConeT()] * data.n_exp
        s = clarabel.DefaultSettings()
        s.verbose = self.option("verbose")
        s.max_iter = self.option("max_iter")
        s.direct_solve_method = self.option("direct_solve_method")
        step = self.option("max_step_fraction")
        if step is None and problem.loss == "logistic":
            step = 0.9
        if step is not None:
            s.max_step_fraction = step
        s.tol_gap_abs = tol * 1e-2
        s.tol_gap_rel = tol
        s.tol_feas = tol
        s.tol_ktratio = min(1e-6, tol)
        if time_limit is not None:
            s.time_limit = float(time_limit)
        solver = clarabel.DefaultSolver(data.P, data.q, data.A, data.b, cones, s)
        callback = yield  # setup ends here (timed by Solver.setup)
        tracer = Tracer(callback)
        sol = solver.solve()
        solve_s = tracer.elapsed()
        st = str(sol.status)
        status = {
            "Solved": "optimal",
            "AlmostSolved": "optimal",
            "MaxIterations": "max_iter",
            "MaxTime": "time_limit",
            "PrimalInfeasible": "infeasible",
            "DualInfeasible": "infeasible",
            "AlmostPrimalInfeasible": "infeasible",
            "AlmostDualInfeasible": "infeasible",
            "NumericalError": "numerical_error",
            "InsufficientProgress": "numerical_error",  # stalled, as relubench's own ipm says it
        }.get(st, "error")
        weights = data.weights(problem, formulation, np.asarray(sol.x))
        res = Result(
            self.name,
            formulation,
            status,
            iterations=int(sol.iterations),
            solve_s=solve_s,
            message=f"clarabel status {st}",
            weights=weights,
        )
        ev = evaluate(problem, formulation, weights)  # the returned point's own objective and violation
        tracer.record(ev["objective"], ev["max_violation"])
        res.trace = tracer.points
        return res


@register
class SCSNative(Solver):
    """SCS operator splitting (native API). Options: max_iters (100000), verbose (False), acceleration_lookback."""

    name = "scs"
    family = "first-order"
    capabilities = Capabilities(
        formulations=("relu", "gated"),
        losses=CONIC_LOSSES,
        max_outputs=None,
        max_size=200_000,
        options={
            "verbose": Option(bool, False),
            "max_iters": Option(int, 100_000, low=1),
            "acceleration_lookback": Option(int, None, doc="SCS's Anderson memory (default: SCS's own)"),
        },
    )
    description = "SCS (ADMM on the homogeneous embedding), native API, sparse conic data built directly"

    @classmethod
    def version(cls) -> str:
        import scs

        return f"scs {scs.__version__}"

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Generator[None, Callback | None, Result]:
        import scs

        data = build(problem, formulation)
        cone: dict[str, object] = {"z": data.n_zero, "q": data.soc_dims}
        if data.n_nonneg:
            cone["l"] = data.n_nonneg
        if data.n_exp:
            cone["ep"] = data.n_exp
        settings = {
            # SCS bounds its residuals by eps_abs + eps_rel * (data norms, about max|y| here): a tenth of tol in
            # both, so that a "solved" point also meets relubench's rule (violation <= tol * max|y|)
            "eps_abs": 0.1 * tol * min(1.0, y_scale(problem.y)),
            "eps_rel": 0.1 * tol,
            "max_iters": self.option("max_iters"),
            "verbose": self.option("verbose"),
        }
        if self.option("acceleration_lookback") is not None:
            settings["acceleration_lookback"] = self.option("acceleration_lookback")
        if time_limit is not None:
            settings["time_limit_secs"] = float(time_limit)
        solver = scs.SCS({"P": data.P, "A": data.A, "b": data.b, "c": data.q}, cone, **settings)
        callback = yield  # setup ends here (timed by Solver.setup)
        tracer = Tracer(callback)
        sol = solver.solve()
        solve_s = tracer.elapsed()
        info = sol["info"]
        st = str(info["status"])
        if st == "solved":
            status = "optimal"
        elif "infeasible" in st or "unbounded" in st:
            status = "infeasible"
        elif int(info["iter"]) >= settings["max_iters"]:
            status = "max_iter"
        elif time_limit is not None and solve_s >= 0.99 * time_limit:
            status = "time_limit"  # SCS reports 'solved_inaccurate' or 'unfinished' when its clock runs out
        else:
            status = "error"
        weights = data.weights(problem, formulation, np.asarray(sol["x"]))
        res = Result(
            self.name,
            formulation,
            status,
            iterations=int(info["iter"]),
            solve_s=solve_s,
            message=f"scs status {st}",
            weights=weights,
        )
        ev = evaluate(problem, formulation, weights)  # the returned point's own objective and violation
        tracer.record(ev["objective"], ev["max_violation"])
        res.trace = tracer.points
        return res
