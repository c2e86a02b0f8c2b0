"""ADMM of Bai, Gautam & Sojoudi (2023) for the relu (constrained) and gated convex programs.

relu splitting (u = (v_1..v_P, w_1..w_P) as a d x 2P array; G u = (2 D_i - I) X u_i, stacked n x 2P)::

    min 1/2 ||F u - y||^2 + beta ||z||_{2,1} + I_{>=0}(s)   s.t.  u = z,  G u = s

Scaled ADMM with penalty rho:

    u <- (F^T F + rho (I + G^T G))^{-1} (F^T y + rho (z - lam) + rho G^T (s - nu))
    z <- group soft-threshold(u + lam, beta / rho);  s <- max(G u + nu, 0)
    lam <- lam + u - z;  nu <- nu + G u - s

Because (2 D_i - I)^2 = I, G^T G is block diagonal with blocks X^T X, so rho (I + G^T G) = rho I_2P (x) A0,
A0 = I + X^T X (one d x d Cholesky). F^T F has rank <= n; the Woodbury identity reduces the u-update to
the n x n system C = I + (2 / rho) (X A0^{-1} X^T) o (M M^T), factorized once per rho (Cholesky, then its
inverse) and reused every iteration: the per-iteration cost is quadratic, O(n d P + n^2), never a dense
2dP x 2dP factorization.
With w = G u + nu, the updates are s = max(w, 0), nu = min(w, 0), so s - nu = |w|. The loop keeps the slack
in signed coordinates (T = Sig o w, N = Sig o nu with Sig = 2D - I; N stored as H = alpha N) together with X^T T
and X^T N in preallocated n x 2P buffers, so one iteration is two n x d x 2P products (X u written in place,
X^T N), the two masked Woodbury products and four passes over n x 2P arrays (add, clip as a minimum and a
maximum, scale), two more when over-relaxed (an in-place scaling and an add); X^T X u replaces X^T T.

The gated variant drops G and s: u <- (F^T F + rho I)^{-1}(F^T y + rho (z - lam)), Woodbury with
C = I + (1/rho) (X X^T) o (M M^T).

Precision ("precision" option): by default ("mixed") the n x 2P slack state, X in the two products that touch it
and the Woodbury products (M, X and C^{-1}) are single precision (half the memory traffic; 1.34 instead of 2.51 ms
per over-relaxed iteration at n=1000, d=20, P=200, checks aside) until either relative residual falls below 1e-5,
100x above float32 rounding (or when it has not halved for 4000 iterations: a guard against a single-precision
floor on small problems), when everything is promoted to double for the rest of the run; "double" keeps
everything in double precision. Objective, violation and the returned point are always double precision; while
the state is single precision, the residual norms are dot products in single precision (relative error far below
the 1e-5 at which the state is promoted).

Stopping: relative primal and dual residuals below tol (Boyd et al. 2011, eps_abs = eps_rel = tol), checked
every ``check_every`` iterations; rho is rebalanced on checks at multiples of ``adapt_every`` iterations, when the
normalized residuals differ by more than 25x, by the damped factor sqrt(r_pri / r_dual)^adapt_power
(adapt_power = 0.5: half the step of plain residual balancing), refactorizing C. By default the iteration is
over-relaxed (relaxation = 1.6). Both defaults were chosen on iterations to relative gap 1e-4 over eight
gaussian instances, three of them held out (README): fewer iterations than plain balancing without relaxation
on seven, 1.5x more on one. The returned point is z (exact zeros in unused groups); its objective and
constraint violation are recomputed and traced at every check.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from relubench.errors import InputError, NumericalError
from relubench.problem.formulations import (
    dual_gap_gated,
    dual_gap_relu,
    get_formulation,
    group_norm_sum,
    group_soft_threshold,
)
from relubench.problem.instance import Problem, y_scale
from relubench.running.result import Callback, Result, Tracer
from relubench.running.solver import Capabilities, Solver, register

F32_MAX_COND = 1e3  # largest cond(C) at which the Woodbury inverse is applied in single precision


class _Woodbury:
    """Solves (F^T F + rho blockdiag(A1, .., A1)) u = R for the masked operator F (Woodbury, n x n system).

    With A0 = rho A1, C = I + (n_blocks / rho) B where B = (X A1^{-1} X^T) o (M M^T) does not depend on rho: B is
    formed once, and a change of rho (``set_rho``) costs one n x n inversion (numpy, LU; C = I + PSD is well
    conditioned).
    The inverses of A0 (d x d) and C (n x n) are formed explicitly and with numpy's LAPACK, so that the whole
    solve uses numpy's BLAS thread pool only: alternating numpy's and scipy's separate OpenBLAS pools made each
    iteration 20-40x slower here (spinning threads of one pool starve the other), in the loop and, with scipy
    factorizations, for the first few hundred iterations after every change of rho.
    ``dtype`` is the precision C^{-1} is applied in (``c_solve``; float32 halves the n x n matrix read every
    iteration); it is always formed in double precision, and applied in double precision whatever ``dtype`` says
    while cond(C) = 1 + lambda_max(B) / rho exceeds F32_MAX_COND (float32 would then lose more than ~1e-4 of q;
    lambda_max(B) is estimated by power iteration on the first single-precision use). A0^{-1} (d x d) is applied
    in double precision.
    """

    def __init__(self, problem: Problem, A1: np.ndarray, n_blocks: int, rho: float, dtype: type = np.float64) -> None:
        X, M = problem.X, problem.mask_float
        self._A1_inv = np.linalg.inv(A1)
        self._A1_inv += self._A1_inv.T
        self._A1_inv *= 0.5
        B = (X @ self._A1_inv) @ X.T  # X A1^{-1} X^T
        B *= M @ M.T
        B *= n_blocks
        self._B = B
        self._lam_max: float | None = None
        self.dtype = dtype
        self.set_rho(rho)

    @property
    def lam_max(self) -> float:
        """Upper estimate of lambda_max(B), computed on first use (only single precision needs it)."""
        if self._lam_max is None:
            v = np.random.default_rng(0).standard_normal(self._B.shape[0])
            lam = 0.0
            for _ in range(30):  # power iteration (converges from below: 1.5x margin on the estimate)
                v = self._B @ v
                lam = float(np.linalg.norm(v))
                v /= max(lam, 1e-300)
            self._lam_max = 1.5 * lam
        return self._lam_max

    def set_rho(self, rho: float) -> None:
        self.A0_inv = self._A1_inv / rho
        K = self._B / rho
        K[np.diag_indices_from(K)] += 1.0
        C_inv = np.linalg.inv(K)  # C = I + PSD: well conditioned, no pivoting trouble
        C_inv += C_inv.T
        C_inv *= 0.5
        self._C_inv64 = C_inv
        self._rho = rho
        self.set_dtype(self.dtype)

    @property
    def cond(self) -> float:
        """cond(C) = 1 + lambda_max(B) / rho (from the estimate of lambda_max)."""
        return 1.0 + self.lam_max / self._rho

    def set_dtype(self, dtype: type) -> None:
        self.dtype = dtype
        use = dtype if dtype == np.float64 or self.cond <= F32_MAX_COND else np.float64
        self.C_inv = self._C_inv64.astype(use, copy=False)

    def a0_solve(self, R: np.ndarray) -> np.ndarray:
        return self.A0_inv @ R

    def c_solve(self, f: np.ndarray) -> np.ndarray:
        return self.C_inv @ f


PROMOTE_AT = 1e-5  # relative residual at which a single-precision slack state is promoted to double
STALL_ITERS = 4000  # ... or iterations without halving the smallest relative residual (a float32 floor guard)


@register
class ADMM(Solver):
    """ADMM (Bai, Gautam & Sojoudi 2023) with one cached factorization.

    Options: rho (penalty; default chosen from the data scale), gamma (1.0: penalty of G u = s relative to rho),
    max_iter (20000), check_every (25: residuals, trace point, stopping test), adapt (True: residual balancing),
    adapt_every (50; rho is rebalanced on checks whose iteration is a multiple of it), adapt_power (0.5;
    1 is plain residual balancing), relaxation (1.6; 1.0 is plain ADMM), precision
    ("mixed": single-precision slack state and Woodbury products until the relative residuals reach 1e-5, then
    double; or "double"; relu only).
    The result carries a certified duality gap at the returned point (``certified_gap``).
    """

    name = "admm"
    family = "first-order"
    capabilities = Capabilities(
        formulations=("relu", "gated"),
        certified_gap=True,
        options={
            "rho": float,
            "gamma": float,
            "max_iter": int,
            "check_every": int,
            "adapt": bool,
            "adapt_every": int,
            "adapt_power": float,
            "relaxation": float,
            "precision": str,
        },
    )
    description = "ADMM of Bai et al. 2023, cached n x n Woodbury factorization, quadratic per-iteration cost"

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Generator[None, Callback | None, Result]:
        o = self.options
        max_iter = int(o.get("max_iter", 20_000))
        check_every = max(1, int(o.get("check_every", 25)))
        adapt = bool(o.get("adapt", True))
        adapt_every = int(o.get("adapt_every", 50))
        adapt_power = float(o.get("adapt_power", 0.5))  # rho *= ratio**adapt_power (1: plain residual balancing)
        relu = get_formulation(formulation).constrained  # cone constraints: the slack state and its clips
        X, y, M, beta = problem.X, problem.y, problem.mask_float, problem.beta
        n, d = X.shape
        Pn = problem.P
        nb = 2 if relu else 1
        rho = float(o["rho"]) if "rho" in o else self.default_rho(problem)
        self._rho0 = rho
        gamma = float(o.get("gamma", 1.0))  # penalty of G u = s relative to rho
        alpha = float(o.get("relaxation", 1.6))
        precision = str(o.get("precision", "mixed"))
        if precision not in ("mixed", "double"):
            raise InputError(f"ADMM precision must be 'mixed' or 'double', got {precision!r}")
        sdt = np.float32 if precision == "mixed" else np.float64  # dtype of the n x 2P slack state
        if not 0 < alpha < 2:
            raise InputError(f"ADMM relaxation must be in (0, 2), got {alpha}")
        XtX = X.T @ X
        Xs = X.astype(sdt)  # X in the slack state's precision
        Xa = Xs if alpha == 1.0 else alpha * Xs

        A1 = np.eye(d) + gamma * XtX if relu else np.eye(d)
        wdt = sdt if relu else np.float64  # precision of the Woodbury products: follows the slack state
        wood = _Woodbury(problem, A1, nb, rho, dtype=wdt)
        Xw, Mw = X.astype(wdt, copy=False), M.astype(wdt, copy=False)
        XtMy = X.T @ (M * y[:, None])  # d x P
        Fty = np.hstack([XtMy, -XtMy]) if relu else XtMy
        if relu:
            Sig = np.hstack([problem.signs, problem.signs])
            # clip bounds giving N = Sig o min(Sig o T, 0): min(T, 0) where Sig = +1, max(T, 0) where Sig = -1
            # (np.minimum then np.maximum: faster here than np.clip with array bounds or copysign)
            LO = np.where(Sig > 0, -np.inf, 0.0).astype(sdt)
            HI = np.where(Sig > 0, 0.0, np.inf).astype(sdt)
        yscale = y_scale(problem.y)
        callback = yield  # setup ends here (timed by Solver.setup)

        tracer = Tracer(callback)
        Z = np.zeros((d, nb * Pn))
        Lam = np.zeros_like(Z)
        if relu:
            # slack state in signed coordinates (Sig^2 = 1): T = Sig o w, N = Sig o nu = Sig o min(w, 0), so that
            # Sig o s = T - N and Sig o |w| = T - 2N; X^T T and X^T N are kept (d x 2P), so the u-update needs no
            # pass over n x 2P arrays: X^T T = X^T X u + X^T N_old (alpha = 1). N is stored scaled, H = alpha N
            # (the term the over-relaxed update adds); W is scratch space of the same shape.
            T = np.zeros((n, nb * Pn), dtype=sdt)
            H = np.zeros_like(T)
            W = np.empty_like(T)
            XtT = np.zeros_like(Z)
            XtN = np.zeros_like(Z)
        status, it = "max_iter", 0
        best_rel, best_it = np.inf, 0  # smallest relative residual so far (halvings only), and when
        factorizations = 1
        for it in range(1, max_iter + 1):
            check = it % check_every == 0 or it == max_iter
            # ---- u-update (Woodbury): Y = A0^{-1} R, q = C^{-1} F Y, u = Y - A0^{-1} F^T q
            R = Z - Lam
            R *= rho
            R += Fty
            if relu:
                R += (rho * gamma) * (XtT - 2.0 * XtN)  # rho gamma G^T (s - nu)
            U = wood.a0_solve(R)
            Udiff = U[:, :Pn] - U[:, Pn:] if relu else U
            # F u = rowsum(M o X U) = rowsum(X o M U^T); X^T (M o q) = (X o q)^T M: no n x P temporary
            q = wood.c_solve(np.einsum("ij,ij->i", Xw, Mw @ Udiff.T.astype(wdt, copy=False)))
            corr = wood.a0_solve(((Xw * q[:, None]).T @ Mw).astype(np.float64, copy=False))
            if relu:
                U[:, :Pn] -= corr
                U[:, Pn:] += corr
            else:
                U -= corr
            # ---- z-update and scaled duals (over-relaxed with alpha: u_hat = alpha u + (1 - alpha) z)
            Z_old = Z
            Uh = U if alpha == 1.0 else alpha * U + (1.0 - alpha) * Z
            Z = group_soft_threshold(Uh + Lam, beta / rho)
            Lam += Uh - Z
            if relu:
                np.matmul(Xa, U.astype(sdt, copy=False), out=W)  # W = alpha Sig o G u (Xa = alpha X)
                if check:
                    XtSs_old = XtT - XtN  # X^T (Sig o s) before this step
                    Gu_keep = W / alpha  # Sig o G u, for the primal residual
                if alpha == 1.0:
                    XtT = XtX @ U + XtN
                else:
                    # w = alpha G u + (1 - alpha) s + nu = alpha G u + (1 - alpha) T_old + alpha N_old
                    XtT = alpha * (XtX @ U) + (1.0 - alpha) * (XtT - XtN) + XtN
                    T *= 1.0 - alpha
                    W += T
                W += H
                T, W = W, T  # T: the new state; W: scratch
                np.minimum(T, HI, out=W)
                np.maximum(W, LO, out=W)  # N
                W *= alpha
                H, W = W, H  # H = alpha N; W (the old H) is scratch again
                XtN = (Xs.T @ H).astype(np.float64, copy=False) / alpha
            if not check:
                continue
            # ---- residuals, trace, stopping (norms of n x 2P arrays through BLAS dot products and d x 2P Grams)
            XZ = X @ Z
            if relu:
                # Sig o (G u - s) = Gu_keep - (T - N), in place (N = H / alpha)
                D_slack = Gu_keep
                D_slack -= T
                D_slack += H / alpha
                # squared norms of n x 2P arrays: BLAS dot products in the state's precision (single precision
                # only while relative residuals are above 1e-5, where a relative error of 1e-4 does not matter)
                d_flat, t_flat, h_flat = D_slack.ravel(), T.ravel(), H.ravel()
                gu_sq = float(np.vdot(U, XtX @ U))  # ||G u||^2 = ||X U||^2
                n_sq = float(np.dot(h_flat, h_flat)) / alpha**2
                s_sq = max(float(np.dot(t_flat, t_flat)) - n_sq, 0.0)  # ||s||^2 = ||w||^2 - ||nu||^2 (s o nu = 0)
                r_pri = np.sqrt(np.sum((U - Z) ** 2) + float(np.dot(d_flat, d_flat)))
                r_dual = rho * np.sqrt(np.sum((Z - Z_old) ** 2) + gamma**2 * np.sum((XtT - XtN - XtSs_old) ** 2))
                pri_scale = max(np.sqrt(np.sum(U**2) + gu_sq), np.sqrt(np.sum(Z**2) + s_sq))
                dual_scale = rho * np.sqrt(np.sum(Lam**2) + gamma**2 * np.sum(XtN**2))
                pred = np.einsum("ij,ij->i", X, M @ (Z[:, :Pn] - Z[:, Pn:]).T)
                np.multiply(Sig, XZ, out=XZ)
                viol = max(0.0, -float(XZ.min()))
                dim_p, dim_d = Z.size + T.size, Z.size
            else:
                r_pri = np.sqrt(np.sum((U - Z) ** 2))
                r_dual = rho * np.sqrt(np.sum((Z - Z_old) ** 2))
                pri_scale = max(np.sqrt(np.sum(U**2)), np.sqrt(np.sum(Z**2)))
                dual_scale = rho * np.sqrt(np.sum(Lam**2))
                pred = np.einsum("ij,ij->i", M, XZ)
                viol = 0.0
                dim_p, dim_d = Z.size, Z.size
            r = pred - y
            obj = 0.5 * r @ r + beta * group_norm_sum(Z)
            if not (np.isfinite(obj) and np.isfinite(r_pri) and np.isfinite(r_dual)):
                raise NumericalError(f"ADMM: non-finite objective or residuals at iteration {it} (rho {rho:.3g})")
            stop = tracer.record(obj, viol)
            eps_pri = np.sqrt(dim_p) * tol * 1e-3 + tol * pri_scale
            eps_dual = np.sqrt(dim_d) * tol * 1e-3 + tol * dual_scale
            # residuals small, and (relu) the point feasible to the same tolerance: "reached tol" by relubench's rule
            if (r_pri <= eps_pri and r_dual <= eps_dual and viol <= tol * yscale) or stop:
                status = "optimal"
                break
            if time_limit is not None and tracer.elapsed() >= time_limit:
                status = "time_limit"
                break
            rel_res = min(r_pri / max(pri_scale, 1e-300), r_dual / max(dual_scale, 1e-300))
            if rel_res < 0.5 * best_rel:
                best_rel, best_it = rel_res, it
            if relu and sdt is np.float32 and (rel_res < PROMOTE_AT or it - best_it >= STALL_ITERS):
                # single-precision slack state is near its rounding floor (~1e-7 relative), or the residuals have
                # stopped falling in single precision: continue in double
                sdt = wdt = np.float64
                Xs, T, H = X, T.astype(sdt), H.astype(sdt)
                W = np.empty_like(T)
                LO, HI = LO.astype(sdt), HI.astype(sdt)
                Xa = Xs if alpha == 1.0 else alpha * Xs
                Xw, Mw = X, M
                wood.set_dtype(wdt)
            if adapt and it % adapt_every == 0 and r_dual > 0 and pri_scale > 0 and dual_scale > 0:
                # residual balancing on the normalized residuals (OSQP-style), rho kept within 1e+-4 of its start
                ratio = np.sqrt((r_pri / pri_scale) / (r_dual / dual_scale))
                if ratio > 5.0 or ratio < 0.2:
                    rho_new = min(max(rho * ratio**adapt_power, self._rho0 * 1e-4), self._rho0 * 1e4)
                    f = rho_new / rho
                    if f != 1.0:
                        Lam /= f  # scaled duals are y / rho
                        if relu:  # nu -> nu / f, s unchanged: T += (1 / f - 1) N, with N = H / alpha
                            T += H * ((1.0 / f - 1.0) / alpha)
                            H /= f
                            XtT += (1.0 / f - 1.0) * XtN
                            XtN /= f
                        rho = rho_new
                        wood.set_rho(rho)
                        factorizations += 1
        # certified duality gap at the returned point, on the clock (one X @ Z and one X^T product), recorded as the
        # last trace point so that times to a certified gap exist where no reference optimum does: the multipliers
        # of G u >= 0 are -rho gamma nu = -rho gamma Sig o N >= 0 (formulations.dual_gap_relu); the dual value is a
        # lower bound on f*
        XZ = X @ Z
        if relu:
            obj, cert, viol = dual_gap_relu(problem, Z, XZ, (-rho * gamma / alpha) * (Sig * H))
        else:
            (obj, cert), viol = dual_gap_gated(problem, Z, XZ), 0.0
        tracer.record(obj, viol, cert)
        solve_s = tracer.elapsed()
        weights = {"V": Z[:, :Pn].copy(), "W": Z[:, Pn:].copy()} if relu else {"U": Z.copy()}
        return Result(
            self.name,
            formulation,
            status,
            iterations=it,
            solve_s=solve_s,
            message=f"rho={rho:.3g} gamma={gamma:g} factorizations={factorizations} certified gap {cert:.3g}",
            weights=weights,
            trace=tracer.points,
            certified_gap=cert,
        )

    @staticmethod
    def default_rho(problem: Problem) -> float:
        """A penalty of the scale of the data term: the mean squared column norm of the masked data."""
        X, M = problem.X, problem.mask_float
        colsq = (M.T @ (X * X)).sum(axis=1)  # ||D_i X||_F^2 per pattern
        return float(max(colsq.mean() / problem.d, 1e-8))
