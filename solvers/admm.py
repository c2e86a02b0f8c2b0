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

Devices: the loop is written once for numpy and for any array-API library (``_Ops``: on numpy the n x 2P passes
run in place, into preallocated buffers or in the numba kernel; elsewhere as plain expressions), so that the options
device (cpu, cuda) and array_library (numpy, torch, array-api-strict) place it like fista and al
(relubench.running.device); the option precision stays ADMM's own (mixed or double: there is no all-single ADMM).
Its n x n matrices bound it to n <= 20000 in benchmarks and sweeps (``max_rows``); setup refuses an n whose
matrices (about 36 n^2 bytes) do not fit in the memory free where the arrays live.

Stopping: "optimal" when the relative primal and dual residuals are below tol (Boyd et al. 2011, eps_abs = eps_rel
= tol) and the certified gap at z (valid for infeasible points, formulations.dual_gap_relu) is below tol relative
to the objective with the violation below tol max|y|; while the residuals pass and the certificate does not, the
iterations go on, to 2 k + 10 checks if the residual test first held at iteration k; then the run ends
"inaccurate" (both numbers in the row). Checked every ``check_every`` iterations; rho is rebalanced on
checks at multiples of ``adapt_every`` iterations, when the normalized residuals differ by more than 25x, by the
damped factor sqrt(r_pri / r_dual)^adapt_power (adapt_power = 0.5: half the step of plain residual balancing),
refactorizing C. By default the iteration is over-relaxed (relaxation = 1.6). Both defaults were chosen on
iterations to relative gap 1e-4 over eight gaussian instances, three of them held out (README): fewer iterations
than plain balancing without relaxation on seven, 1.5x more on one. The returned point is z (exact zeros in unused
groups); its objective and constraint violation are recomputed and traced at every check.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import array_api_compat
import numpy as np

from relubench.errors import NumericalError
from relubench.problem.arrays import Array, outer_gram
from relubench.problem.formulations import (
    dual_gap_gated,
    dual_gap_relu,
    get_formulation,
    group_norm_sum,
    group_soft_threshold,
)
from relubench.problem.instance import ArrayView, Problem, y_scale
from relubench.running.device import Placement, check_placement, placement
from relubench.running.result import Callback, Result, Tracer
from relubench.running.solver import Capabilities, Option, Solver, register
from relubench.solvers import fused_kernels

ADMM_PRECISIONS = ("mixed", "double")  # values of ADMM's option precision (its own: see the class docstring)
F32_MAX_COND = 1e3  # largest cond(C) at which the Woodbury inverse is applied in single precision


class _Ops:
    """The loop's array operations on one placement: on numpy in place where it saves passes (products written into
    buffers, clips with ``out=``, the numba slack kernel), on any other array-API library (torch on CUDA,
    array-api-strict in CI) as plain expressions that make new arrays. Both do the same arithmetic in the same
    order, so the paths agree to rounding (tests/test_devices.py)."""

    def __init__(self, where: Placement | None, slack_kernel: Any = None, pos: np.ndarray | None = None) -> None:
        self.numpy = where is None or where.library == "numpy"
        self.xp: Any = np if self.numpy else where.xp
        self.kernel, self.pos = slack_kernel, pos

    def like(self, a: np.ndarray, ref: Array) -> Array:
        """numpy array ``a`` as an array of ``ref``'s library, device and dtype."""
        if self.numpy:
            return np.asarray(a, dtype=ref.dtype)
        return self.xp.asarray(a, dtype=ref.dtype, device=array_api_compat.device(ref))

    def astype(self, a: Array, dtype: Any) -> Array:
        if self.numpy:
            return a.astype(dtype, copy=False)
        return a if a.dtype == dtype else self.xp.astype(a, dtype)

    def add_identity(self, K: Array) -> Array:
        if self.numpy:
            K[np.diag_indices_from(K)] += 1.0
            return K
        return K + self.xp.eye(K.shape[0], dtype=K.dtype, device=array_api_compat.device(K))

    def symmetrize(self, A: Array) -> Array:
        """(A + A^T) / 2 (numpy: in place; torch refuses an in-place update that reads its own transpose)."""
        if self.numpy:
            A += A.T
            A *= 0.5
            return A
        return (A + A.T) * 0.5

    def rowdot(self, A: Array, B: Array) -> Array:
        """sum_j A_ij B_ij (an n-vector)."""
        return np.einsum("ij,ij->i", A, B) if self.numpy else self.xp.sum(A * B, axis=1)

    def sumsq(self, a: Array) -> float:
        if self.numpy:
            f = a.ravel()
            return float(np.dot(f, f))
        return float(self.xp.sum(a * a))

    def matmul_into(self, A: Array, B: Array, out: Array | None) -> Array:
        if self.numpy:
            return np.matmul(A, B, out=out)
        return A @ B

    def slack(self, W: Array, T: Array, H: Array, LO: Array, HI: Array, alpha: float) -> tuple[Array, Array, Array]:
        """(T, H, W) after the slack update: T = W + (1 - alpha) T + H, H = alpha clip(T, LO, HI); W is scratch
        afterwards (numpy: the buffers are updated in place and swapped; the kernel does it in one pass)."""
        if not self.numpy:
            T = W + (1.0 - alpha) * T + H if alpha != 1.0 else W + H
            return T, alpha * self.xp.maximum(self.xp.minimum(T, HI), LO), W
        if self.kernel is not None:
            self.kernel(W, T, H, self.pos, alpha)  # the passes below in one (fused_kernels.admm_slack)
            return T, H, W
        if alpha != 1.0:
            T *= 1.0 - alpha
            W += T
        W += H
        T, W = W, T  # T: the new state; W: scratch
        np.minimum(T, HI, out=W)
        np.maximum(W, LO, out=W)  # N
        W *= alpha
        return T, W, H  # H = alpha N; the old H is scratch


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

    def __init__(
        self,
        problem: Problem | ArrayView,
        A1: Array,
        n_blocks: int,
        rho: float,
        dtype: Any = np.float64,
        ops: _Ops | None = None,
    ) -> None:
        self._ops = ops = ops or _Ops(None)
        xp = ops.xp
        X, M = problem.X, problem.mask_float
        self._A1_inv = ops.symmetrize(xp.linalg.inv(A1))
        B = (X @ self._A1_inv) @ X.T  # X A1^{-1} X^T
        B *= outer_gram(M)  # M M' (in row blocks: numpy's A @ A.T crashes past 2 GiB)
        B *= n_blocks
        self._B = B
        self._lam_max: float | None = None
        self.dtype = dtype
        self.set_rho(rho)

    @property
    def lam_max(self) -> float:
        """Upper estimate of lambda_max(B), computed on first use (only single precision needs it)."""
        if self._lam_max is None:
            xp = self._ops.xp
            v = self._ops.like(np.random.default_rng(0).standard_normal(self._B.shape[0]), self._B)
            lam = 0.0
            for _ in range(30):  # power iteration (converges from below: 1.5x margin on the estimate)
                v = self._B @ v
                lam = float(xp.sqrt(xp.sum(v * v)))
                v /= max(lam, 1e-300)
            self._lam_max = 1.5 * lam
        return self._lam_max

    def set_rho(self, rho: float) -> None:
        self.A0_inv = self._A1_inv / rho
        K = self._ops.add_identity(self._B / rho)
        # C = I + PSD: well conditioned, no pivoting trouble
        self._C_inv64 = self._ops.symmetrize(self._ops.xp.linalg.inv(K))
        self._rho = rho
        self.set_dtype(self.dtype)

    @property
    def cond(self) -> float:
        """cond(C) = 1 + lambda_max(B) / rho (from the estimate of lambda_max)."""
        return 1.0 + self.lam_max / self._rho

    def set_dtype(self, dtype: Any) -> None:
        self.dtype = dtype
        f64 = self._ops.xp.float64
        use = dtype if dtype == f64 or self.cond <= F32_MAX_COND else f64
        self.C_inv = self._ops.astype(self._C_inv64, use)

    def a0_solve(self, R: Array) -> Array:
        return self.A0_inv @ R

    def c_solve(self, f: Array) -> Array:
        return self.C_inv @ f


@dataclass(eq=False)
class _State:
    """The iteration state of one ADMM solve and its steps: the iterate (Z, scaled duals Lam, the relu slack state
    in signed coordinates T and H = alpha N with X^T T and X^T N kept), the penalty rho and the precision of the
    slack state (float32 until :meth:`promote`, then float64). One :meth:`iterate` is the u-, z- and slack update;
    :meth:`residuals` measures a checked iterate; :meth:`set_rho` rescales the duals for a new penalty."""

    ops: _Ops
    data: Problem | ArrayView
    relu: bool
    rho: float
    gamma: float
    alpha: float
    sdt: Any  # dtype of the n x 2P slack state
    wdt: Any  # dtype of the Woodbury products (follows the slack state)
    f64: Any
    XtX: Array
    Fty: Array
    wood: _Woodbury
    Xs: Array  # X in the slack state's precision
    Xa: Array  # alpha Xs
    Xw: Array  # X and the masks in the Woodbury products' precision
    Mw: Array
    Sig: Array | None
    LO: Array | None  # clip bounds of the slack update
    HI: Array | None
    Z: Array
    Lam: Array
    T: Array | None = None
    H: Array | None = None
    W: Array | None = None  # scratch space (numpy)
    XtT: Array | None = None
    XtN: Array | None = None
    # kept from the last checked iteration for its residuals
    U: Array | None = None
    Z_old: Array | None = None
    XtSs_old: Array | None = None
    Gu_keep: Array | None = None
    # this solve's cone directions (the certificate of an infeasible point repairs it along them)
    directions: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def start(
        cls, ops: _Ops, data: Problem | ArrayView, relu: bool, rho: float, gamma: float, alpha: float, sdt: Any
    ) -> _State:
        """The setup: X^T X, F^T y, the Woodbury factorization, clip bounds, and the zero iterate."""
        xp, X, y, M = ops.xp, data.X, data.y, data.mask_float
        f64 = xp.float64
        n, d = X.shape
        nb = 2 if relu else 1
        XtX = X.T @ X
        Xs = ops.astype(X, sdt)  # X in the slack state's precision
        Xa = Xs if alpha == 1.0 else alpha * Xs
        eye_d = ops.like(np.eye(d), X)
        A1 = eye_d + gamma * XtX if relu else eye_d
        wdt = sdt if relu else f64  # precision of the Woodbury products: follows the slack state
        wood = _Woodbury(data, A1, nb, rho, dtype=wdt, ops=ops)
        Xw, Mw = ops.astype(X, wdt), ops.astype(M, wdt)
        XtMy = X.T @ (M * y[:, None])  # d x P
        Fty = xp.concat([XtMy, -XtMy], axis=1) if relu else XtMy
        Sig = LO = HI = None
        if relu:
            Sig = xp.concat([data.group_signs, data.group_signs], axis=1)
            # clip bounds giving N = Sig o min(Sig o T, 0): min(T, 0) where Sig = +1, max(T, 0) where Sig = -1
            # (np.minimum then np.maximum: faster here than np.clip with array bounds or copysign)
            zero, inf = xp.zeros_like(Sig), xp.full_like(Sig, math.inf)
            LO = ops.astype(xp.where(Sig > 0, -inf, zero), sdt)
            HI = ops.astype(xp.where(Sig > 0, zero, inf), sdt)
        Z = xp.zeros_like(Fty)
        st = cls(ops, data, relu, rho, gamma, alpha, sdt, wdt, f64, XtX, Fty, wood, Xs, Xa, Xw, Mw, Sig, LO, HI, Z,
                 xp.zeros_like(Z))  # fmt: skip
        if relu:
            # slack state in signed coordinates (Sig^2 = 1): T = Sig o w, N = Sig o nu = Sig o min(w, 0), so that
            # Sig o s = T - N and Sig o |w| = T - 2N; X^T T and X^T N are kept (d x 2P), so the u-update needs no
            # pass over n x 2P arrays: X^T T = X^T X u + X^T N_old (alpha = 1). N is stored scaled, H = alpha N
            # (the term the over-relaxed update adds); W is scratch space of the same shape (numpy).
            st.T = xp.zeros_like(LO)
            st.H = xp.zeros_like(st.T)
            st.W = np.empty_like(st.T) if ops.numpy else None
            st.XtT = xp.zeros_like(Z)
            st.XtN = xp.zeros_like(Z)
        return st

    def iterate(self, beta: float, check: bool) -> None:
        """One ADMM iteration: the u-update (Woodbury), the over-relaxed z-update and scaled duals, the slack
        update (relu). ``check``: keep what :meth:`residuals` needs of this iteration."""
        ops, relu, alpha, rho, gamma, wood = self.ops, self.relu, self.alpha, self.rho, self.gamma, self.wood
        Pn = self.Z.shape[1] // (2 if relu else 1)
        # ---- u-update (Woodbury): Y = A0^{-1} R, q = C^{-1} F Y, u = Y - A0^{-1} F^T q
        R = self.Z - self.Lam
        R *= rho
        R += self.Fty
        if relu:
            R += (rho * gamma) * (self.XtT - 2.0 * self.XtN)  # rho gamma G^T (s - nu)
        U = wood.a0_solve(R)
        Udiff = U[:, :Pn] - U[:, Pn:] if relu else U
        # F u = rowsum(M o X U) = rowsum(X o M U^T); X^T (M o q) = (X o q)^T M: no n x P temporary
        q = wood.c_solve(ops.rowdot(self.Xw, self.Mw @ ops.astype(Udiff.T, self.wdt)))
        # X^T (M o q) as (M^T (X o q))^T: OpenBLAS reduces over the long axis faster in this orientation
        corr = wood.a0_solve(ops.astype((self.Mw.T @ (self.Xw * q[:, None])).T, self.f64))
        if relu:
            U[:, :Pn] -= corr
            U[:, Pn:] += corr
        else:
            U -= corr
        # ---- z-update and scaled duals (over-relaxed with alpha: u_hat = alpha u + (1 - alpha) z)
        self.Z_old = self.Z
        Uh = U if alpha == 1.0 else alpha * U + (1.0 - alpha) * self.Z
        self.Z = group_soft_threshold(Uh + self.Lam, beta / rho)
        self.Lam += Uh - self.Z
        self.U = U
        if relu:
            W = ops.matmul_into(self.Xa, ops.astype(U, self.sdt), self.W)  # W = alpha Sig o G u (Xa = alpha X)
            if check:
                self.XtSs_old = self.XtT - self.XtN  # X^T (Sig o s) before this step
                self.Gu_keep = W / alpha  # Sig o G u, for the primal residual
            if alpha == 1.0:
                self.XtT = self.XtX @ U + self.XtN
            else:
                # w = alpha G u + (1 - alpha) s + nu = alpha G u + (1 - alpha) T_old + alpha N_old
                self.XtT = alpha * (self.XtX @ U) + (1.0 - alpha) * (self.XtT - self.XtN) + self.XtN
            self.T, self.H, self.W = ops.slack(W, self.T, self.H, self.LO, self.HI, alpha)
            # X^T H as (H^T X)^T (faster here than X.T @ H: 0.29 against 0.40 ms at n = 1000, 2P = 400)
            self.XtN = ops.astype((self.H.T @ self.Xs).T, self.f64) / alpha

    def residuals(self, y: Array, beta: float) -> _Residuals:
        """Primal and dual residuals of the last (checked) iteration, their scales, the objective and violation
        (norms of n x 2P arrays through BLAS dot products and d x 2P Grams)."""
        ops, xp, alpha, rho, gamma = self.ops, self.ops.xp, self.alpha, self.rho, self.gamma
        X, M, U, Z, Lam = self.data.X, self.data.mask_float, self.U, self.Z, self.Lam
        XZ = X @ Z
        if self.relu:
            Pn = Z.shape[1] // 2
            # Sig o (G u - s) = Gu_keep - (T - N), in place (N = H / alpha)
            D_slack = self.Gu_keep
            D_slack -= self.T
            D_slack += self.H / alpha
            # squared norms of n x 2P arrays: BLAS dot products in the state's precision (single precision
            # only while relative residuals are above 1e-5, where a relative error of 1e-4 does not matter)
            gu_sq = float(xp.sum(U * (self.XtX @ U)))  # ||G u||^2 = ||X U||^2
            n_sq = ops.sumsq(self.H) / alpha**2
            s_sq = max(ops.sumsq(self.T) - n_sq, 0.0)  # ||s||^2 = ||w||^2 - ||nu||^2 (s o nu = 0)
            r_pri = math.sqrt(ops.sumsq(U - Z) + ops.sumsq(D_slack))
            r_dual = rho * math.sqrt(
                ops.sumsq(Z - self.Z_old) + gamma**2 * ops.sumsq(self.XtT - self.XtN - self.XtSs_old)
            )
            pri_scale = max(math.sqrt(ops.sumsq(U) + gu_sq), math.sqrt(ops.sumsq(Z) + s_sq))
            dual_scale = rho * math.sqrt(ops.sumsq(Lam) + gamma**2 * ops.sumsq(self.XtN))
            pred = ops.rowdot(X, M @ (Z[:, :Pn] - Z[:, Pn:]).T)
            viol = max(0.0, -float(xp.min(self.Sig * XZ)))
            dim_p, dim_d = math.prod(Z.shape) + math.prod(self.T.shape), math.prod(Z.shape)
        else:
            r_pri = math.sqrt(ops.sumsq(U - Z))
            r_dual = rho * math.sqrt(ops.sumsq(Z - self.Z_old))
            pri_scale = max(math.sqrt(ops.sumsq(U)), math.sqrt(ops.sumsq(Z)))
            dual_scale = rho * math.sqrt(ops.sumsq(Lam))
            pred = ops.rowdot(M, XZ)
            viol = 0.0
            dim_p = dim_d = math.prod(Z.shape)
        r = pred - y
        obj = 0.5 * ops.sumsq(r) + beta * group_norm_sum(Z)
        return _Residuals(r_pri, r_dual, pri_scale, dual_scale, obj, viol, dim_p, dim_d)

    def promote(self) -> None:
        """Move the slack state and the Woodbury products to double precision."""
        ops, X = self.ops, self.data.X
        self.sdt = self.wdt = self.f64
        self.Xs, self.T, self.H = X, ops.astype(self.T, self.sdt), ops.astype(self.H, self.sdt)
        self.W = np.empty_like(self.T) if ops.numpy else None
        self.LO, self.HI = ops.astype(self.LO, self.sdt), ops.astype(self.HI, self.sdt)
        self.Xa = self.Xs if self.alpha == 1.0 else self.alpha * self.Xs
        self.Xw, self.Mw = X, self.data.mask_float
        self.wood.set_dtype(self.wdt)

    def set_rho(self, rho_new: float) -> bool:
        """A new penalty: scaled duals (and the relu slack's nu) rescaled, the Woodbury matrix refactored. False
        when rho does not change."""
        f = rho_new / self.rho
        if f == 1.0:
            return False
        self.Lam /= f  # scaled duals are y / rho
        if self.relu:  # nu -> nu / f, s unchanged: T += (1 / f - 1) N, with N = H / alpha
            self.T += self.H * ((1.0 / f - 1.0) / self.alpha)
            self.H /= f
            self.XtT += (1.0 / f - 1.0) * self.XtN
            self.XtN /= f
        self.rho = rho_new
        self.wood.set_rho(rho_new)
        return True

    def certificate(self) -> tuple[float, float, float]:
        """(objective, certified duality gap, violation) at Z: the multipliers of G u >= 0 are -rho gamma nu =
        -rho gamma Sig o N >= 0 (formulations.dual_gap_relu); the dual value is a lower bound on f*."""
        XZ = self.data.X @ self.Z
        if self.relu:
            lam = (-self.rho * self.gamma / self.alpha) * (self.Sig * self.ops.astype(self.H, self.f64))
            return dual_gap_relu(self.data, self.Z, XZ, lam, cache=self.directions)
        (obj, cert), viol = dual_gap_gated(self.data, self.Z, XZ), 0.0
        return obj, cert, viol


@dataclass(frozen=True)
class _Residuals:
    """What a checked ADMM iteration measures: residuals, their scales, objective, violation, dimensions."""

    r_pri: float
    r_dual: float
    pri_scale: float
    dual_scale: float
    obj: float
    viol: float
    dim_p: int
    dim_d: int


PROMOTE_AT = 1e-5  # relative residual at which a single-precision slack state is promoted to double
STALL_ITERS = 4000  # ... or iterations without halving the smallest relative residual (a float32 floor guard)
GAP_FLOOR = 1e-12  # relative certified gaps are measured against max(|objective|, this)
CERTIFY_CHECKS = 10  # after the residual test first holds at iteration k: until 2 k + this many checks to certify


@register
class ADMM(Solver):
    """ADMM (Bai, Gautam & Sojoudi 2023) with one cached factorization.

    Options: rho (penalty; default chosen from the data scale), gamma (1.0: penalty of G u = s relative to rho),
    max_iter (20000), check_every (25: residuals, trace point, stopping test), adapt (True: residual balancing),
    adapt_every (50; rho is rebalanced on checks whose iteration is a multiple of it), adapt_power (0.5;
    1 is plain residual balancing), relaxation (1.6; 1.0 is plain ADMM), precision
    ("mixed": single-precision slack state and Woodbury products until the relative residuals reach 1e-5, then
    double; or "double"; relu only), fused (relu: the slack update as one numba pass,
    :func:`relubench.solvers.fused_kernels.admm_kernels`; default on when numba is installed and n 2P >= 3e5,
    compiled in setup; True insists, False keeps the numpy passes; same arithmetic either way).
    device and array_library: where it computes (see the module docstring).
    The result carries a certified duality gap at the returned point (``certified_gap``).
    """

    name = "admm"
    family = "first-order"
    capabilities = Capabilities(
        formulations=("relu", "gated"),
        certified_gap=True,
        devices=("cpu", "cuda"),
        precisions=ADMM_PRECISIONS,
        max_rows=20_000,  # n x n matrices: 13 GB at n = 20000 (not offered beyond in benchmarks and sweeps)
        options={
            "rho": Option(float, None, low=0, low_open=True, doc="penalty; default: the data term's scale"),
            "gamma": Option(float, 1.0, low=0, low_open=True, doc="penalty of G u = s relative to rho"),
            "max_iter": Option(int, 20_000, low=1),
            "check_every": Option(int, 25, low=1, doc="iterations between residual checks"),
            "adapt": Option(bool, True, doc="rebalance rho from the residuals"),
            "adapt_every": Option(int, 50, low=1, doc="iterations between rho changes"),
            "adapt_power": Option(float, 0.5, low=0, low_open=True, doc="rho *= ratio**adapt_power (1: plain)"),
            "relaxation": Option(float, 1.6, low=0, high=2, low_open=True, high_open=True, doc="over-relaxation"),
            "fused": Option(bool, None, doc="fused numba slack kernel; default: on from n 2P >= 3e5"),
        },
    )
    description = "ADMM of Bai et al. 2023, cached n x n Woodbury factorization, quadratic per-iteration cost"

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Generator[None, Callback | None, Result]:
        o = self.option
        max_iter, check_every, adapt = o("max_iter"), o("check_every"), o("adapt")
        adapt_every, adapt_power = o("adapt_every"), o("adapt_power")  # rho *= ratio**adapt_power
        relu = get_formulation(formulation).constrained  # cone constraints: the slack state and its clips
        n = problem.n
        Pn = problem.P
        rho = self.default_rho(problem) if o("rho") is None else o("rho")
        rho0 = rho
        gamma = o("gamma")  # penalty of G u = s relative to rho
        alpha = o("relaxation")
        precision = o("precision")
        where = self.placement()
        # B, C = I + B / rho and C^{-1} in double precision, C^{-1} in single, the inversion's workspace
        where.require_memory(36.0 * n * n, f"admm's n x n Woodbury matrices at n = {n}")
        where.reset_peak_memory()
        slack_kernel = self._slack_kernel(problem, where) if relu else None
        pos = (problem.signs > 0).astype(np.uint8) if slack_kernel is not None else None
        ops = _Ops(where, slack_kernel, pos)
        xp = ops.xp
        data = where.view(problem)  # the Problem itself on numpy
        y, beta = data.y, problem.beta
        sdt = xp.float32 if precision == "mixed" else xp.float64  # dtype of the n x 2P slack state
        st = _State.start(ops, data, relu, rho, gamma, alpha, sdt)
        yscale = y_scale(problem.y)
        where.synchronize()
        callback = yield  # setup ends here (timed by Solver.setup)

        tracer = Tracer(callback)
        status, it, residual_test_met = "max_iter", 0, 0
        best_rel, best_it = math.inf, 0  # smallest relative residual so far (halvings only), and when
        factorizations = 1
        for it in range(1, max_iter + 1):
            check = it % check_every == 0 or it == max_iter
            st.iterate(beta, check)
            if not check:
                continue
            r = st.residuals(y, beta)
            if not (math.isfinite(r.obj) and math.isfinite(r.r_pri) and math.isfinite(r.r_dual)):
                raise NumericalError(f"ADMM: non-finite objective or residuals at iteration {it} (rho {st.rho:.3g})")
            tracer.record(r.obj, r.viol)
            eps_pri = math.sqrt(r.dim_p) * tol * 1e-3 + tol * r.pri_scale
            eps_dual = math.sqrt(r.dim_d) * tol * 1e-3 + tol * r.dual_scale
            # residuals small and (relu) the point feasible to the same tolerance: then the certificate decides;
            # while it does not show tol, the iterations go on
            if r.r_pri <= eps_pri and r.r_dual <= eps_dual and r.viol <= tol * yscale:
                residual_test_met = residual_test_met or it
                obj, cert, viol = st.certificate()
                tracer.record(obj, viol, cert)
                if cert <= tol * max(abs(obj), GAP_FLOOR) and viol <= tol * yscale:
                    status = "optimal"
                    break
                if it >= 2 * residual_test_met + CERTIFY_CHECKS * check_every:
                    status = "inaccurate"  # the residual test holds, the certificate has not followed in as long again
                    break
            if time_limit is not None and tracer.elapsed() >= time_limit:
                status = "time_limit"
                break
            rel_res = min(r.r_pri / max(r.pri_scale, 1e-300), r.r_dual / max(r.dual_scale, 1e-300))
            if rel_res < 0.5 * best_rel:
                best_rel, best_it = rel_res, it
            if relu and st.sdt != st.f64 and (rel_res < PROMOTE_AT or it - best_it >= STALL_ITERS):
                # single-precision slack state is near its rounding floor (~1e-7 relative), or the residuals have
                # stopped falling in single precision: continue in double
                st.promote()
            if adapt and it % adapt_every == 0 and r.r_dual > 0 and r.pri_scale > 0 and r.dual_scale > 0:
                # residual balancing on the normalized residuals (OSQP-style), rho kept within 1e+-4 of its start
                ratio = math.sqrt((r.r_pri / r.pri_scale) / (r.r_dual / r.dual_scale))
                if ratio > 5.0 or ratio < 0.2:
                    if st.set_rho(min(max(st.rho * ratio**adapt_power, rho0 * 1e-4), rho0 * 1e4)):
                        factorizations += 1
        where.synchronize()
        solve_s = tracer.elapsed()
        if status != "optimal":  # the returned point's certificate, after the clock (a report, not an iteration)
            obj, cert, viol = st.certificate()
            tracer.start = time.perf_counter() - solve_s
            tracer.record(obj, viol, cert)
        Z, rho = st.Z, st.rho
        weights = {"V": where.to_numpy(Z[:, :Pn]), "W": where.to_numpy(Z[:, Pn:])} if relu else {"U": where.to_numpy(Z)}
        return Result(
            self.name,
            formulation,
            status,
            iterations=it,
            solve_s=solve_s,
            message=f"rho={rho:.3g} gamma={gamma:g} factorizations={factorizations} certified gap {cert:.3g}"
            + (f"; residual test met at iteration {residual_test_met}" if residual_test_met else ""),
            weights=weights,
            trace=tracer.points,
            certified_gap=cert,
            device_peak_bytes=where.peak_memory_bytes(),
        )

    def placement(self) -> Placement:
        """Where this solve computes (options device and array_library). The option precision is ADMM's own
        (mixed or double): the iterates are double precision, the slack state single precision while "mixed"."""
        device, library, _ = check_placement(self.options, self.capabilities.devices, ADMM_PRECISIONS)
        return placement(device, library, "double")

    def _slack_kernel(self, problem: Problem, where: Placement) -> object | None:
        """The fused slack kernel when it applies (option ``fused``; see the class docstring), compiled now."""
        why_not = None if where.library == "numpy" else "the kernel runs on numpy"
        entries = problem.n * 2 * problem.P
        if not fused_kernels.wanted("admm", self.option("fused"), why_not, entries, fused_kernels.ADMM_MIN_ENTRIES):
            return None
        return fused_kernels.admm_kernels().admm_slack

    @staticmethod
    def default_rho(problem: Problem) -> float:
        """A penalty of the scale of the data term: the mean squared column norm of the masked data."""
        return max(problem.masked_scale, 1e-8)
