"""Accelerated proximal gradient (``fista``, gated) and an augmented Lagrangian method (``al``, relu).

Both work on group variables Z (d x k) whose smooth part depends on Z only through H = X @ Z (n x k), so every
iteration costs one product X @ Z and one X^T @ G (G n x k); predictions use masks, never the n x dP matrix.

FISTA (Beck & Teboulle 2009) with backtracking on the Lipschitz estimate L (and a gentle decrease after
successful steps), and function-value adaptive restart (O'Donoghue & Candes 2015). Extrapolated products
X @ Y are formed from the two last X @ Z (linearity), so line-search trials are the only extra products; for the
gated problem the extrapolation is of predictions (n-vectors), not of X Z (n x P), which saves three passes over
n x P arrays per iteration: the iterations are memory-bound at scale.

Stopping uses a certified duality gap. For the gated problem with residual r = F u - y, theta = c r with
c = min(1, beta / max_i ||X^T D_i r||) is dual feasible and the dual value is -theta^T y - ||theta||^2 / 2.
For the relu problem the multipliers lam_i >= 0 of (2 D_i - I) X v_i >= 0 enter the dual constraint
||X^T (D_i theta - (2 D_i - I) lam_i)|| <= beta (and ||X^T (D_i theta + (2 D_i - I) lam'_i)|| <= beta for w_i),
scaled jointly; the dual value is the same expression. P(z) - D(theta) bounds the suboptimality of a
feasible z; for a relu z that violates its cones (its objective may be below f*) the certified gap is
max(P(z) - D(theta), P(z') - P(z)) with z' the feasible point derived from z along the cones' generators
(formulations.feasible_objective), which bounds |P(z) - f*|. "optimal" only when that gap is <= tol |P(z)| and
the constraint violation <= tol max|y|. al's KKT-type test (feasible to tol, objective settled over two outer
steps) does not: after ``SETTLED_STEPS`` (6) such steps without a certificate at tol the run ends "inaccurate".

Devices: written once against the array API standard (:mod:`relubench.problem.arrays`); the options
``device``, ``array_library`` and ``precision`` (:mod:`relubench.running.device`) put the arrays on numpy (CPU,
default), torch (CPU or CUDA) or array-api-strict. Weights come back as float64 numpy arrays; a CUDA run also
reports its peak GPU memory. Numbers read on the host (line-search tests, gaps) synchronize the device. In
single precision the iterations run in float32 (they stall near a relative gap of 1e-3 to 1e-4) while the
certified gaps are computed in float64.

Losses: any smooth one (squared, logistic: the dual point is c times the loss gradient and the dual value minus
the loss's conjugate there, see :mod:`relubench.problem.losses`); several outputs through the group layout of
:mod:`relubench.problem.formulations` (c P groups per block). The line search needs no Lipschitz constant of
the loss; the initial estimate is ||F||^2 times the loss's curvature bound (1 squared, 1/4 logistic).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np

from relubench.errors import NumericalError
from relubench.problem.arrays import Array, namespace
from relubench.problem.formulations import (
    adjoint_groups,
    dual_gap_gated,
    dual_gap_relu,
    group_norm_sum,
    group_soft_threshold,
    predict_groups,
)
from relubench.problem.instance import ArrayView, Problem, y_scale
from relubench.problem.losses import SMOOTH_LOSSES, get_loss
from relubench.running.device import Placement
from relubench.running.result import Callback, Result, Tracer
from relubench.running.solver import Capabilities, Option, Solver, register
from relubench.solvers import fused_kernels

# (H = X Z, whether the gradient is needed) -> (value, dvalue/dH or None), arrays of any library
Smooth = Callable[[Array, bool], tuple[float, Array | None]]


@dataclass(frozen=True)
class LinearSmooth:
    """A smooth part that depends on H = X Z only through a prediction linear in H: h(H) = loss(predict(H)).

    ``fista`` extrapolates predictions: for the gated problem (n or n x c predictions) an iteration makes one pass
    over H for the prediction at each trial point and one for the adjoint, instead of forming X Y (three more
    n x k passes) and keeping the previous X Z alive. A plain :data:`Smooth` is the case predict = identity.
    """

    predict: Callable[[Array], Array]  # H -> prediction
    loss: Callable[[Array, bool], tuple[float, Array | None]]  # (prediction, grad?) -> (value, d value / d pred)
    adjoint: Callable[[Array], Array]  # d value / d pred -> d value / d H (n x k)


def _identity(a: Array) -> Array:
    return a


MAX_BACKTRACKS = 64  # step halvings per iteration before the line search is declared failed
SETTLED_STEPS = 6  # al: outer steps with a settled objective and no certificate at tol before "inaccurate"


def fista(
    X: Array,
    smooth: Smooth | LinearSmooth,
    beta: float,
    Z: Array,
    L: float,
    max_iter: int,
    grad_tol: float,
    deadline: float | None = None,
    every: int = 0,
    on_check: Callable[[Array, Array], bool] | None = None,
) -> tuple[Array, Array, float, int, float]:
    """Minimize smooth(X Z) + beta sum_j ||Z_j|| from Z. Returns (Z, X Z, final L, iterations, gradient mapping).

    Stops when the gradient mapping L ||Z+ - Y|| <= grad_tol, after max_iter iterations, past ``deadline``
    (a perf_counter time), or when ``on_check(Z, XZ)`` (called every ``every`` iterations) returns True.
    Arrays of any array-API library (all of one). Extrapolation is of the predictions of a :class:`LinearSmooth`
    (of X Z itself for a plain ``Smooth``).
    """
    xp = namespace(X, Z)
    # the sufficient-decrease test allows rounding of the loss: 1e-12 |h| in double, 64 eps |h| in single precision
    slack = max(1e-12, 64 * float(xp.finfo(X.dtype).eps))
    if not isinstance(smooth, LinearSmooth):
        smooth = LinearSmooth(_identity, smooth, _identity)
    XZ = X @ Z
    Z_prev = Z
    pZ = pZ_prev = smooth.predict(XZ)
    t = 1.0
    f_old = np.inf
    it = 0
    gmap = np.inf
    for it in range(1, max_iter + 1):
        t_new = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
        m = (t - 1) / t_new
        Y = Z + m * (Z - Z_prev)
        hY, gp = smooth.loss(pZ + m * (pZ - pZ_prev), True)  # predict(X Y) from the two last ones (linearity)
        if not math.isfinite(hY):
            raise NumericalError(f"non-finite objective ({hY}) at iteration {it} of the proximal gradient steps")
        grad = X.T @ smooth.adjoint(gp)
        for _ in range(MAX_BACKTRACKS):
            Z_new = group_soft_threshold(Y - grad / L, beta / L)
            XZ_new = X @ Z_new
            p_new = smooth.predict(XZ_new)
            h_new, _ = smooth.loss(p_new, False)  # the line-search test needs the value only
            D = Z_new - Y
            if h_new <= hY + float(xp.sum(grad * D)) + 0.5 * L * float(xp.sum(D * D)) + slack * abs(hY):
                break
            L *= 2.0
            if deadline is not None and time.perf_counter() >= deadline:
                return Z, XZ, L, it, gmap  # out of time inside the line search: the last accepted point
        else:
            raise NumericalError(f"line search failed: the step length fell by 2^{MAX_BACKTRACKS} (iteration {it})")
        f_new = h_new + beta * group_norm_sum(Z_new)
        pZ_prev, pZ, Z_prev, Z, XZ = pZ, p_new, Z, Z_new, XZ_new
        if f_new > f_old:  # adaptive restart
            t = 1.0
        else:
            t = t_new
        f_old = f_new
        gmap = L * math.sqrt(float(xp.sum(D * D)))
        L *= 0.95
        if gmap <= grad_tol:
            break
        if every and on_check is not None and it % every == 0 and on_check(Z, XZ):
            break
        if deadline is not None and time.perf_counter() >= deadline:
            break
    return Z, XZ, L, it, gmap


CURVATURE = {"squared": 1.0, "logistic": 0.25}  # bound on the second derivative of the loss in the prediction


def _in_double(
    where: Placement, exact: Problem | ArrayView, double: Callable[[Array], Array], Z: Array, XZ: Array
) -> tuple[Array, Array]:
    """(Z, X Z) in double precision for a certificate: in a single-precision run X Z is recomputed from Z in double
    (the float32 product cast up would certify a point the iterations never had)."""
    Zd = double(Z)
    return Zd, (double(XZ) if where.precision == "double" else exact.X @ Zd)


def linear_loss(problem: Problem | ArrayView) -> LinearSmooth:
    """The loss of the prediction sum_i D_i X z_i as a :class:`LinearSmooth` (the gated problem)."""
    loss, y = get_loss(problem.loss), problem.y

    def value_grad(pred: Array, grad: bool = True) -> tuple[float, Array | None]:
        return loss.value(pred, y), loss.gradient(pred, y) if grad else None

    return LinearSmooth(lambda H: predict_groups(problem, H), value_grad, lambda g: adjoint_groups(problem, g))


def smooth_loss(problem: Problem | ArrayView, k_blocks: int = 1) -> Smooth:
    """H = X [Z_1 .. Z_k] -> (loss of the prediction sum_b s_b pred(H_b), gradient in H); s = +1, -1, ..."""
    loss, y, k = get_loss(problem.loss), problem.y, problem.groups
    xp = namespace(problem.X)

    def smooth(H: Array, grad: bool = True) -> tuple[float, Array | None]:
        pred = predict_groups(problem, H if k_blocks == 1 else H[:, :k] - H[:, k:])
        if not grad:
            return loss.value(pred, y), None
        g = adjoint_groups(problem, loss.gradient(pred, y))
        return loss.value(pred, y), g if k_blocks == 1 else xp.concat([g, -g], axis=1)

    return smooth


def power_lipschitz(
    problem: Problem | ArrayView, k_blocks: int, iters: int = 20, seed: int = 0, where: Placement | None = None
) -> float:
    """Estimate ||F||^2 for the masked operator F (k_blocks copies of [D_1 X .. D_P X]) by power iteration.

    Several outputs do not change it (output k has its own copy of the operator). ``where``: the placement of
    ``problem``'s arrays (None: numpy)."""
    X, M = problem.X, problem.mask_float
    xp = namespace(X)
    rng = np.random.default_rng(seed)
    U0 = rng.standard_normal((problem.d, problem.P))
    U = U0 if where is None else where.asarray(U0)
    lam = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(iters):
            norm = float(xp.linalg.vector_norm(U))
            if not (math.isfinite(norm) and norm > 0):
                lam = norm if not math.isfinite(norm) else 0.0
                break
            U = U / norm
            r = xp.vecdot(M, X @ U, axis=-1)
            U = X.T @ (M * r[:, None])
            lam = float(xp.linalg.vector_norm(U))
    if not (math.isfinite(lam) and lam > 0):  # all masks empty (F = 0: any step is exact) or overflow (caught later)
        return float(k_blocks) if lam == 0 else float("inf")
    return float(k_blocks * lam)


@register
class FISTA(Solver):
    """FISTA for the gated group lasso; stops on a certified relative duality gap <= tol.

    Options: max_iter (100000), check_every (10).
    """

    name = "fista"
    family = "first-order"
    capabilities = Capabilities(
        formulations=("gated",),
        losses=SMOOTH_LOSSES,
        max_outputs=None,
        devices=("cpu", "cuda"),
        warm_start=True,
        certified_gap=True,
        options={
            "max_iter": Option(int, 100_000, low=1),
            "check_every": Option(int, 10, low=1, doc="iterations between gap checks"),
        },
    )
    description = "accelerated proximal gradient with line search and restart (gated formulation)"

    def _solve(
        self,
        problem: Problem,
        formulation: str,
        tol: float,
        time_limit: float | None,
        callback: Callback | None,
        init: dict[str, np.ndarray] | None = None,
    ) -> Generator[None, Callback | None, Result]:
        where = self.placement()
        where.reset_peak_memory()
        data = where.view(problem)
        exact, double = where.checker(problem)
        L = CURVATURE[problem.loss] * power_lipschitz(data, 1, where=where)
        where.synchronize()
        callback = yield  # setup ends here (timed by Solver.setup)
        smooth = linear_loss(data)

        tracer = Tracer(callback)
        state = {"status": "max_iter", "gap": np.inf}

        def on_check(Z: Array, XZ: Array) -> bool:
            obj, gap = dual_gap_gated(exact, *_in_double(where, exact, double, Z, XZ))
            state["gap"] = gap
            tracer.record(obj, 0.0, gap)
            if gap <= tol * abs(obj):
                state["status"] = "optimal"
                return True
            if time_limit is not None and tracer.elapsed() >= time_limit:
                state["status"] = "time_limit"
                return True
            return False

        deadline = None if time_limit is None else tracer.start + time_limit
        Z0 = where.asarray(init["U"]) if init is not None else where.zeros((problem.d, problem.groups))
        Z, XZ, L, it, _ = fista(
            data.X,
            smooth,
            problem.beta,
            Z0,
            L,
            self.option("max_iter"),
            0.0,
            deadline,
            self.option("check_every"),
            on_check,
        )
        if state["status"] == "max_iter":  # stopped by max_iter or the deadline: certify the final iterate
            on_check(Z, XZ)
            if time_limit is not None and tracer.elapsed() >= time_limit:
                state["status"] = "time_limit"
        return Result(
            self.name,
            formulation,
            state["status"],
            iterations=it,
            solve_s=tracer.elapsed(),
            weights={"U": where.to_numpy(Z)},
            trace=tracer.points,
            message=f"certified gap {state['gap']:.3g}",
            certified_gap=state["gap"],
            device_peak_bytes=where.peak_memory_bytes(),
        )


def fused_smooth(problem: Problem, kernels: object, lor: np.ndarray, rho: float) -> Smooth:
    """The AL smooth term (loss + rho/2 ||max(lor - S H, 0)||^2) on numpy through the fused kernels: two passes."""
    loss, y, M, S = get_loss(problem.loss), problem.y, problem.mask_float, problem.signs
    out = np.empty_like(lor)

    def smooth(H: np.ndarray, grad: bool = True) -> tuple[float, np.ndarray | None]:
        pred, pen = kernels.predict_penalty(H, M, S, lor)
        value = loss.value(pred, y) + 0.5 * rho * float(pen)
        if not grad:
            return value, None
        kernels.gradient_into(H, M, S, lor, loss.gradient(pred, y), rho, out)
        return value, out

    return smooth


@register
class AugmentedLagrangian(Solver):
    """Augmented Lagrangian for the relu formulation, FISTA inner solves warm-started from the last outer step.

    Outer step: lam <- max(lam - rho (2D - I) X z, 0); rho grows by ``rho_growth`` (2) when the violation did
    not halve. Stops when the certified gap is <= tol |P| and the violation <= violation_tol max|y|, or when, at
    two outer steps in a row, the violation is <= violation_tol max|y| and the objective changed by <= tol |P|
    (the certified gap, often loose because the multipliers are approximate, is reported in the message either
    way). Options: rho (default ||F||^2 / ||X||^2), max_outer (500), inner_iter (2000), check_every (10: trace
    points inside inner solves), rho_growth (2.0), violation_tol (default tol; smaller asks for a point more
    feasible than its gap), fused (default: on numpy in double precision with one output, numba installed and
    n 2P >= 1e6: the inner smooth term in two fused passes, :mod:`relubench.solvers.fused_kernels`; True
    insists, False never).
    """

    name = "al"
    family = "first-order"
    capabilities = Capabilities(
        formulations=("relu",),
        losses=SMOOTH_LOSSES,
        max_outputs=None,
        devices=("cpu", "cuda"),
        warm_start=True,
        certified_gap=True,
        options={
            "rho": Option(float, None, low=0, low_open=True, doc="penalty; default: the loss's curvature / ||X||^2"),
            "max_outer": Option(int, 500, low=1, doc="multiplier updates"),
            "inner_iter": Option(int, 2000, low=1, doc="FISTA iterations per inner solve"),
            "check_every": Option(int, 10, low=1),
            "rho_growth": Option(float, 2.0, low=1, doc="rho's factor when the violation stalls"),
            "inner_floor": Option(float, 1e-2, low=0, low_open=True),
            "fused": Option(bool, None, doc="fused numba passes; default: on from n 2P >= 1e6 (numpy, one output)"),
            "violation_tol": Option(
                float, None, low=0, low_open=True, doc="violation a stopping point may have, x max|y| (default tol)"
            ),
        },
    )
    description = "augmented Lagrangian with FISTA inner solves (relu formulation)"

    def _fused_kernels(self, problem: Problem, where: Placement) -> object | None:
        """The fused kernels when they apply (see the class docstring), compiled now (setup); else None."""
        why_not = None
        if not (where.library == "numpy" and where.precision == "double"):
            why_not = "they run on numpy in double precision"
        elif problem.outputs != 1:
            why_not = "they handle one output"
        entries = problem.n * 2 * problem.P
        if not fused_kernels.wanted("al", self.option("fused"), why_not, entries, fused_kernels.MIN_ENTRIES):
            return None
        return fused_kernels.kernels()

    def _solve(
        self,
        problem: Problem,
        formulation: str,
        tol: float,
        time_limit: float | None,
        callback: Callback | None,
        init: dict[str, np.ndarray] | None = None,
    ) -> Generator[None, Callback | None, Result]:
        beta = problem.beta
        Pn = problem.groups
        o = self.option
        where = self.placement()
        where.reset_peak_memory()
        xp, data = where.xp, where.view(problem)
        exact, double = where.checker(problem)
        X = data.X
        S2 = xp.concat([data.group_signs, data.group_signs], axis=1)
        loss_of = smooth_loss(data, 2)
        LF = CURVATURE[problem.loss] * power_lipschitz(data, 2, where=where)
        xnorm2 = float(np.linalg.norm(problem.X, 2) ** 2)  # on the host: d x d work after one X^T X
        rho = (LF / xnorm2 if xnorm2 > 0 else 1.0) if o("rho") is None else o("rho")
        lam = where.zeros((problem.n, 2 * Pn))
        fused = self._fused_kernels(problem, where)
        where.synchronize()
        callback = yield  # setup ends here (timed by Solver.setup)
        tracer = Tracer(callback)
        deadline = None if time_limit is None else tracer.start + time_limit
        yscale = y_scale(problem.y)
        vtol = (tol if o("violation_tol") is None else o("violation_tol")) * yscale  # violation a stop may have
        if init is not None:
            Z = where.asarray(np.hstack([init["V"], init["W"]]))
        else:
            Z = where.zeros((problem.d, 2 * Pn))
        L = LF + rho * xnorm2
        status, gap, total_it, outer, stop_s = "max_iter", np.inf, 0, 0, None
        directions: dict[int, np.ndarray] = {}  # this solve's cone directions (certificates of infeasible points)
        prev_viol, prev_obj, settled_steps = np.inf, np.inf, 0
        viol = np.inf
        grad_tol = 1e-2 * yscale
        inner_iter, growth = o("inner_iter"), o("rho_growth")

        def on_check(Zc: Array, XZc: Array) -> bool:
            obj = loss_of(XZc, False)[0] + beta * group_norm_sum(Zc)
            tracer.record(obj, max(0.0, -float(xp.min(S2 * XZc))))
            return False

        for outer in range(1, o("max_outer") + 1):
            lor, rS2 = lam / rho, rho * S2
            if fused is not None:
                smooth = fused_smooth(problem, fused, lor, rho)
            else:

                def smooth(
                    H: Array, grad: bool = True, lor: Array = lor, rS2: Array = rS2, rho: float = rho
                ) -> tuple[float, Array | None]:
                    value, g = loss_of(H, grad)
                    Pen = xp.clip(lor - S2 * H, min=0.0)
                    flat = xp.reshape(Pen, (-1,))
                    value += 0.5 * rho * float(xp.vecdot(flat, flat))
                    return value, None if g is None else g - rS2 * Pen

            Z, XZ, L, it, gmap = fista(
                X, smooth, beta, Z, L, inner_iter, grad_tol, deadline, o("check_every"), on_check
            )
            total_it += it
            lam = xp.clip(lam - rho * (S2 * XZ), min=0.0)
            past = deadline is not None and time.perf_counter() >= deadline
            stop_s = tracer.elapsed() if past else None  # past the limit: the certificate below is a report
            Zd, XZd = _in_double(where, exact, double, Z, XZ)
            obj, gap, viol = dual_gap_relu(exact, Zd, XZd, double(lam), cache=directions)
            if stop_s is not None:
                tracer.start = time.perf_counter() - stop_s
            # the certified gap of an outer step (its multipliers are a dual point; valid for infeasible points)
            tracer.record(obj, viol, gap)
            if gap <= tol * abs(obj) and viol <= vtol:
                status = "optimal"
                break
            if past:
                status = "time_limit"
                break
            # KKT-type test: feasible to tol and the objective settled (changed <= tol |P|) over consecutive outer
            # steps. Only the certificate makes a point optimal: the steps go on while it does not show tol, and
            # after SETTLED_STEPS settled steps without it the run ends as "inaccurate"
            settled = viol <= vtol and abs(obj - prev_obj) <= tol * abs(obj)
            settled_steps = settled_steps + 1 if settled else 0
            if settled_steps >= SETTLED_STEPS:
                status = "inaccurate"
                break
            if viol > 0.5 * prev_viol and viol > vtol:
                rho *= growth
            prev_viol, prev_obj = viol, obj
            grad_tol = max(grad_tol * 0.5, o("inner_floor") * min(tol * yscale, vtol))
        return Result(
            self.name,
            formulation,
            status,
            iterations=total_it,
            solve_s=tracer.elapsed(),
            weights={"V": where.to_numpy(Z[:, :Pn]), "W": where.to_numpy(Z[:, Pn:])},
            trace=tracer.points,
            message=f"outer={outer} rho={rho:.3g} certified gap {gap:.3g}, violation {viol:.3g}"
            + ("; objective settled (KKT-type test) without a certificate at tol" if status == "inaccurate" else ""),
            certified_gap=gap,
            device_peak_bytes=where.peak_memory_bytes(),
        )
