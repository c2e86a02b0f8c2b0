"""A primal-dual interior point specialized to the structure of the convex programs (squared loss, one output).

The relu program as a conic QP over K = 2P groups z_g (d x K array Z; sign sig_g = +1 for v_i, -1 for w_i) and
epigraph variables t_g::

    min 1/2 ||E Z - y||^2 + beta sum_g t_g   s.t.  S_g o (X z_g) >= 0 (n rows each),  (t_g, z_g) in SOC_{d+1}

with E Z = sum_g sig_g m_g o (X z_g) (m_g the pattern's mask, S_g = 2 m_g - 1). The gated program drops the
n K linear rows. Mehrotra predictor-corrector steps with Nesterov-Todd scaling (Vandenberghe, "The CVXOPT linear
and quadratic cone program solvers", 2010), infeasible start.

Each Newton system (Q + G^T W^-2 G) dx = b has a block-diagonal part H = blockdiag(H_g) with one (d+1) x (d+1)
block per group, H_g = W_g^-2 (second-order cone) + [0 0; 0 X^T diag(lam_g / s_g) X] (the n rows of the group's
cone), plus Q = E^T E of rank n. The Woodbury identity reduces it to the n x n Schur complement

    C = I + E H^-1 E^T = I + sum_g (m_g o X L_g)(m_g o X L_g)^T,   L_g L_g^T = (H_g^-1)_zz,

formed by symmetric rank-(K (d+1)) updates over chunks of groups (n^2 K (d+1) flops, BLAS syrk: the n x K d
matrix of all D_g X L_g never exists whole) and one n x n Cholesky factorization: a generic sparse factorization
of the same program (Clarabel) factors a KKT matrix with n K cone rows instead. H_g + delta I is factored through a
QR decomposition of its square root [W_g^-1; sqrt(delta) I; diag(sqrt(lam_g / s_g)) [0 X]] (the conditioning of
H_g grows like 1/mu^2 near the solution; its square root's like 1/mu), delta = ``proximal`` times the mean
squared column norm of the masked data. Each direction is refined against the residual of the unreduced
stationarity equation (up to ``refine`` steps, while the residual halves), with ds from the primal equation and
dlam from the scaled complementarity equation exactly. The line search keeps the iterates in a wide neighbourhood
of the central path (smallest eigenvalue of the scaled products >= 1e-3 mu). Memory O(n K + n^2 + K d^2) plus
64 MB chunks.

Where the variables are fewer than the rows (tabular data: n = 10^4..10^5, K (d+1) in the thousands; option
``newton``: auto, rows, variables; auto compares the flops of an iteration), the same systems are solved in the
variables instead: E^T E is the Gram matrix of the P pattern blocks D_i X, formed once (O(n (P d)^2),
chunk by chunk), each iteration adds the blocks H_g and factors one matrix (Cholesky): (P d)^2 for relu, whose
v_i and w_i meet in the loss only through v_i - w_i (each pattern's other unknowns eliminated first), (P (d+1))^2
gated: nothing n x n exists (``_NewtonVariables``).

Stopping: "optimal" only when the certificate shows tol: the certified duality gap
(``formulations.dual_gap_relu`` with the cone multipliers, valid also for infeasible iterates, or
``dual_gap_gated``) relative to the objective <= tol and the cone violation <= tol max|y|. The interior point's
own test (as Clarabel's: complementarity gap relative to the objective, primal and dual residuals relative to
max|y| and to max(1, |X^T D_i y|, beta)) does not suffice. Every iteration is a trace point. Near the solution
the directions lose accuracy (the optimal face is degenerate when a neuron fits several patterns); when steps
stall or an iterate scores 1000x worse than the best one, the run ends: ``inaccurate`` if the own test had been
met, else ``numerical_error``. The result is always the best iterate (by the tolerance it is certified to meet),
its certified gap and violation recomputed.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from relubench.errors import InputError, NumericalError
from relubench.problem.arrays import outer_gram
from relubench.problem.formulations import (
    dual_gap_gated,
    dual_gap_relu,
    feasible_objective,
    get_formulation,
    relu_primal_dual,
)
from relubench.problem.instance import Problem, y_scale
from relubench.resources import available_memory, require_memory
from relubench.running.result import Callback, Result, Tracer
from relubench.running.solver import Capabilities, Option, Solver, register

# OpenBLAS's dpotrf (numpy 2.4's and scipy 1.17's wheels) ends the process with a segmentation fault on dense
# matrices from about 16000 unknowns (12000 measured fine): no Newton matrix beyond this is factored
DENSE_MAX = 12_000
ROWS_ACCURACY_FACTOR = 4.0  # Newton in the variables is chosen up to this many times the rows' flops (preferred)
CHOL_IN_PLACE_BYTES = 1 << 30  # larger matrices are factored in place (:func:`_chol`)
CHUNK_BYTES = 64 << 20  # largest block of D_g X L_g columns formed at once for the Schur complement
STEP_FRACTION = 0.99  # fraction of the step to the boundary of the cones taken
GAP_FLOOR = 1e-12  # relative gaps are measured against max(|objective|, this)
CENTRALITY = 1e-3  # neighbourhood of the central path kept by the line search
BACKTRACKS = 60
SMALL_STEP = 1e-3  # steps shorter than this ...
STALL_STEPS = 3  # ... this many times in a row end the run, as does
STALL_FACTOR = 1e3  # an iterate whose accuracy score is this many times the best one's


def _chol(A: np.ndarray) -> np.ndarray:
    """The lower Cholesky factor of A (in its lower triangle; A may be overwritten; LinAlgError if A is not positive
    definite). Through numpy's LAPACK: every large product of the solve runs in numpy's BLAS thread pool, and a
    factorization in scipy's separate pool between them made iterations 2-3x slower on 2 cores (the pools'
    spinning threads starve each other). Matrices over ``CHOL_IN_PLACE_BYTES`` are factored in place through
    scipy instead: numpy's copy and work array would add two of the largest arrays of the solve (5 GB each at
    P d = 25000)."""
    if A.nbytes > CHOL_IN_PLACE_BYTES:  # A.T: the Fortran-ordered view LAPACK takes without a copy (A symmetric)
        return scipy.linalg.cho_factor(A.T, lower=True, overwrite_a=True, check_finite=False)[0]
    return np.linalg.cholesky(A)


def _chol_solve(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A^-1 b from A's lower Cholesky factor L (two triangular solves, level-2 BLAS)."""
    w = scipy.linalg.solve_triangular(L, b, lower=True, check_finite=False)
    return scipy.linalg.solve_triangular(L, w, lower=True, trans="T", check_finite=False)


def _soc_jordan(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Jordan product u o v of second-order-cone vectors (rows of K x (d+1) arrays)."""
    out = np.empty_like(u)
    out[:, 0] = np.einsum("kj,kj->k", u, v)
    out[:, 1:] = u[:, :1] * v[:, 1:] + v[:, :1] * u[:, 1:]
    return out


def _soc_divide(v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The q with v o q = r (v in the interior of the cone; rows)."""
    v0, v1 = v[:, 0], v[:, 1:]
    det = _soc_det(v)
    q = np.empty_like(r)
    q[:, 0] = (v0 * r[:, 0] - np.einsum("kj,kj->k", v1, r[:, 1:])) / det
    q[:, 1:] = (r[:, 1:] - q[:, :1] * v1) / v0[:, None]
    return q


def _soc_det(u: np.ndarray) -> np.ndarray:
    """u0^2 - ||u1||^2, computed as (u0 - ||u1||)(u0 + ||u1||)."""
    nrm = np.linalg.norm(u[:, 1:], axis=1)
    return (u[:, 0] - nrm) * (u[:, 0] + nrm)


def _soc_step(u: np.ndarray, du: np.ndarray) -> float:
    """Largest a with u + a du in the second-order cones (u interior; inf when unbounded)."""
    c = _soc_det(u)
    a = du[:, 0] ** 2 - np.einsum("kj,kj->k", du[:, 1:], du[:, 1:])
    b = u[:, 0] * du[:, 0] - np.einsum("kj,kj->k", u[:, 1:], du[:, 1:])
    disc = np.sqrt(np.maximum(b * b - a * c, 0.0))
    hit = (a < 0) | ((b < 0) & (b * b > a * c))
    if not hit.any():
        return np.inf
    return float(np.min(c[hit] / (disc[hit] - b[hit])))


def _lp_step(u: np.ndarray, du: np.ndarray) -> float:
    neg = du < 0
    if not neg.any():
        return np.inf
    return float(np.min(-u[neg] / du[neg]))


class _NT:
    """Nesterov-Todd scaling of second-order cones (rows of K x (d+1) arrays), as in ECOS: W = eta [[a, q'],
    [q, I + q q' / (1 + a)]] with (a, q) the normalized scaling point, W^-1 the same with -q over eta, and
    W^2 = eta^2 (2 w w' - J); ``v`` = W lam = W^-1 s. W is applied through these formulas, never formed."""

    def __init__(self, s: np.ndarray, lam: np.ndarray) -> None:
        sdet, ldet = _soc_det(s), _soc_det(lam)
        sb = s / np.sqrt(sdet)[:, None]
        lb = lam / np.sqrt(ldet)[:, None]
        gamma = np.sqrt(0.5 * (1.0 + np.einsum("kj,kj->k", sb, lb)))
        w = sb
        w[:, 0] += lb[:, 0]
        w[:, 1:] -= lb[:, 1:]
        w /= (2.0 * gamma)[:, None]
        self.a, self.q = w[:, 0], w[:, 1:]
        self.eta = (sdet / ldet) ** 0.25
        self.v = self.apply(lam)

    def apply(self, x: np.ndarray, inverse: bool = False) -> np.ndarray:
        """W x (or W^-1 x)."""
        a, q = self.a, (-self.q if inverse else self.q)
        x0, x1 = x[:, 0], x[:, 1:]
        qx = np.einsum("kj,kj->k", q, x1)
        out = np.empty_like(x)
        out[:, 0] = a * x0 + qx
        out[:, 1:] = x1 + (x0 + qx / (1.0 + a))[:, None] * q
        f = 1.0 / self.eta if inverse else self.eta
        return out * f[:, None]

    def matrix(self, inverse: bool = False) -> np.ndarray:
        """W (or W^-1) as K x (d+1) x (d+1) matrices."""
        a, q = self.a, (-self.q if inverse else self.q)
        k, m = q.shape[0], q.shape[1] + 1
        W = np.zeros((k, m, m))
        W[:, 1:, 1:] = q[:, :, None] * q[:, None, :] / (1.0 + a)[:, None, None]
        idx = np.arange(1, m)
        W[:, idx, idx] += 1.0
        W[:, 0, 0] = a
        W[:, 0, 1:] = W[:, 1:, 0] = q
        return W / self.eta[:, None, None] if inverse else W * self.eta[:, None, None]

    def inv2(self, x: np.ndarray) -> np.ndarray:
        """W^-2 x."""
        u0, u1 = self.a, -self.q
        ux = u0 * x[:, 0] + np.einsum("kj,kj->k", u1, x[:, 1:])
        out = np.empty_like(x)
        out[:, 0] = 2.0 * ux * u0 - x[:, 0]
        out[:, 1:] = 2.0 * ux[:, None] * u1 + x[:, 1:]
        return out / (self.eta**2)[:, None]


class _Newton:
    """The reduced Newton systems of one solve. The variables are x = (Z, t) (K groups of d weights and their cone
    bounds); E Z = sum_g sig_g m_g o X z_g maps them to the n-vector of predictions. :meth:`factor` factors the
    system for the current scaling, :meth:`solve_reduced` solves it."""

    def __init__(self, X: np.ndarray, M: np.ndarray, signs: np.ndarray, relu: bool, delta: float) -> None:
        self.X, self.M, self.relu, self.delta = X, M, relu, delta
        self.S = np.hstack([signs, signs]) if relu else None  # the cone rows: S o X z_g >= 0
        self.Msig = np.hstack([M, -M]) if relu else M  # sig_g m_g, n x K
        self.n, self.d = X.shape
        self.K = self.Msig.shape[1]
        self.Hinv: np.ndarray | None = None
        self.Cf: np.ndarray | None = None

    def E(self, Z: np.ndarray) -> np.ndarray:
        """n-vector sum_g sig_g m_g o X z_g."""
        return np.einsum("ij,ij->i", self.X, self.Msig @ Z.T)

    def Et(self, p: np.ndarray) -> np.ndarray:
        """The adjoint of :meth:`E`: d x K."""
        return (self.X * p[:, None]).T @ self.Msig

    def factor(self, wlp: np.ndarray | None, Winv: np.ndarray) -> None:
        """Factor the reduced Newton matrix for LP weights wlp = lam / s (n x K) and the SOC scalings' inverses
        Winv (K blocks): H_g + delta I, H_g = W_g^-2 + diag(0, X' diag(wlp_g) X), is F_g' F_g for the square root
        F_g below, whose QR factor R_g gives (H_g + delta I)^-1 = R_g^-1 R_g^-T without squaring the cones'
        conditioning (a Cholesky factorization of H_g broke down near gaps of 1e-5); then the Schur complement
        C = I + sum_g (D_g X R_g^-1[1:])(..)' and its Cholesky factor."""
        X, M, n, d, K, relu = self.X, self.M, self.n, self.d, self.K, self.relu
        self.Cf = self.Hinv = None  # the previous factors go before the next n x n matrix is formed
        Pn = M.shape[1]
        C = np.eye(n)
        Hinv = np.empty((K, d + 1, d + 1))
        rows = (n if relu else 0) + 2 * (d + 1)
        step = max(1, CHUNK_BYTES // (8 * rows * (d + 1)))
        for g0 in range(0, K, step):
            g1 = min(K, g0 + step)
            c = g1 - g0
            # H_g + delta I = F_g' F_g, F_g = [W_g^-1; sqrt(delta) I; diag(sqrt(wlp_g)) [0 X]]; R_g from a QR of F_g
            F = np.zeros((c, rows, d + 1))
            F[:, : d + 1] = Winv[g0:g1]
            idx = np.arange(d + 1)
            F[:, d + 1 + idx, idx] = np.sqrt(self.delta)
            if relu:
                F[:, 2 * (d + 1) :, 1:] = np.sqrt(wlp[:, g0:g1]).T[:, :, None] * X[None, :, :]
            R = np.linalg.qr(F, mode="r")
            try:
                Rinv = np.linalg.inv(R)
            except np.linalg.LinAlgError:
                raise NumericalError("ipm: a block of the Newton matrix is singular") from None
            Hinv[g0:g1] = Rinv @ Rinv.transpose(0, 2, 1)
            # columns of D_g X Rinv_g[1:, :]: (H_g^-1)_zz = Rinv_g[1:, :] Rinv_g[1:, :]'
            XT = X @ Rinv[:, 1:, :].transpose(1, 0, 2).reshape(d, c * (d + 1))
            XT *= np.repeat(M[:, np.arange(g0, g1) % Pn], d + 1, axis=1)
            C += outer_gram(XT)  # in row blocks past 1 GiB (numpy's A @ A.T crashes past 2 GiB)
        try:
            Cf = _chol(C)
        except np.linalg.LinAlgError:
            raise NumericalError("ipm: the Schur complement is not positive definite") from None
        self.Hinv, self.Cf = Hinv, Cf

    def solve_reduced(self, bz: np.ndarray, bt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H + delta I + E'E)^-1 b through the Woodbury identity (the factored, regularized matrix)."""
        Hinv = self.Hinv
        b = np.concatenate([bt[:, None], bz.T], axis=1)
        yv = np.einsum("kij,kj->ki", Hinv, b)
        p = _chol_solve(self.Cf, self.E(yv[:, 1:].T))
        corr = np.zeros_like(b)
        corr[:, 1:] = self.Et(p).T
        yv -= np.einsum("kij,kj->ki", Hinv, corr)
        return yv[:, 1:].T, yv[:, 0]


class _NewtonVariables(_Newton):
    """The same Newton systems solved in the space of the variables instead of the n rows: for tabular data
    (n >> P d: n = 10^4..10^5 rows, d <= 50, P <= 500) a dense Cholesky per iteration replaces the n x n Schur
    complement, and nothing n x n is formed.

    The loss block E'E (E Z = sum_g sig_g m_g o X z_g) is the Gram matrix G of the P pattern blocks D_i X,
    formed once, pattern chunk by pattern chunk (n x (chunk d) at a time, never all of D_i X): O(n (P d)^2).
    Each iteration forms the blocks H_g + delta I = W_g^-2 + delta I + diag(0, X' diag(wlp_g) X) (one GEMM over
    the n x d^2 row products: O(n d^2 K)). Gated: G plus the blocks, (P (d+1))^2, factored whole. Relu: v_i and
    w_i meet in the loss only through v_i - w_i, so each pattern's own unknowns are eliminated first and one
    (P d)^2 matrix is factored (:meth:`_factor_differences`; 8x fewer flops than the (2 P (d+1))^2 system:
    penbased, P = 100, tol 1e-4: 29 s against 51 s, the same 77 iterations). It squares the cones'
    conditioning, which the row version's QR avoids: the directions are refined against the unreduced residual
    as there."""

    def __init__(self, X: np.ndarray, M: np.ndarray, signs: np.ndarray, relu: bool, delta: float) -> None:
        super().__init__(X, M, signs, relu, delta)
        n, d = X.shape
        P = M.shape[1]
        gram = np.empty((P * d, P * d))
        step = max(1, CHUNK_BYTES // (8 * n * d))
        blocks = [(i0, min(P, i0 + step)) for i0 in range(0, P, step)]
        for a0, a1 in blocks:
            Fa = (M[:, a0:a1, None] * X[:, None, :]).reshape(n, (a1 - a0) * d)
            for b0, b1 in blocks:
                if b0 < a0:
                    continue
                Fb = Fa if b0 == a0 else (M[:, b0:b1, None] * X[:, None, :]).reshape(n, (b1 - b0) * d)
                G = Fa.T @ Fb
                gram[a0 * d : a1 * d, b0 * d : b1 * d] = G
                gram[b0 * d : b1 * d, a0 * d : a1 * d] = G.T
        self.gram = gram  # (P d)^2: pattern i's weights in rows i d .. i d + d - 1
        self.XX = (X[:, :, None] * X[:, None, :]).reshape(n, d * d) if relu else None  # row products, n x d^2
        self.Af: np.ndarray | None = None

    @staticmethod
    def unknowns(d: int, P: int, relu: bool) -> int:
        """N, the side of the matrix factored each iteration: P d (relu), P (d+1) (gated)."""
        return P * d if relu else P * (d + 1)

    @staticmethod
    def matrix_bytes(n: int, d: int, P: int, relu: bool) -> float:
        """The Gram matrix and the one factored in place (N^2 doubles each) and the n x d^2 row products."""
        N = _NewtonVariables.unknowns(d, P, relu)
        return 16.0 * N**2 + 8.0 * n * d * d

    @staticmethod
    def preferred(n: int, d: int, P: int, relu: bool) -> bool:
        """True where an iteration in the variables costs fewer flops than one in the rows, N^3 / 3 against
        n^2 K (d+1) + n^3 / 3 (N = P d for relu, whose v and w meet only through their difference, P (d+1) gated;
        the Gram matrix's n (P d)^2 spread over 30 iterations), and its matrices (the Gram matrix and the one
        factored in place, N^2 doubles each; the n x d^2 row products) fit in 60 % of the memory available. The
        variables win up to ``ROWS_ACCURACY_FACTOR`` times the rows' flops: their directions are the more accurate
        near the solution (certified 1e-8 at (300, 6, 20) and 5.5e-7 at (1000, 20, 200), where the rows' Woodbury
        solves stalled at 3e-7 and 3.3e-6)."""
        K, m = (2 * P if relu else P), d + 1
        N = _NewtonVariables.unknowns(d, P, relu)
        variables = N**3 / 3 + n * (P * d) ** 2 / 30
        rows = n * n * K * m + n**3 / 3
        fits = _NewtonVariables.matrix_bytes(n, d, P, relu) <= 0.6 * available_memory() and N <= DENSE_MAX
        return (variables < ROWS_ACCURACY_FACTOR * rows or n > DENSE_MAX) and fits

    def factor(self, wlp: np.ndarray | None, Winv: np.ndarray) -> None:
        self.Af = None  # the previous factor goes before the next matrix is formed (N^2 doubles each)
        d, K, P = self.d, self.K, self.M.shape[1]
        m = d + 1
        H = np.einsum("kji,kjl->kil", Winv, Winv)  # W_g^-2 = Winv_g' Winv_g
        H[:, np.arange(m), np.arange(m)] += self.delta
        if self.relu:
            H[:, 1:, 1:] += (wlp.T @ self.XX).reshape(K, d, d)
            self._factor_differences(H)
            return
        A = np.zeros((K, m, K, m))
        A[np.arange(K), :, np.arange(K), :] = H
        A[:, 1:, :, 1:] += self.gram.reshape(P, d, P, d)
        self._cholesky(A.reshape(K * m, K * m))

    def _cholesky(self, A: np.ndarray) -> None:
        try:
            self.Af = _chol(A)
        except np.linalg.LinAlgError:
            raise NumericalError("ipm: the Newton matrix (variable space) is not positive definite") from None

    def _factor_differences(self, H: np.ndarray) -> None:
        """Relu: the loss couples v_i and w_i only through their difference s_i = z_v,i - z_w,i (E'E = J' G J,
        J x = s), so in the unknowns u_i = (t_v,i, t_w,i, z_w,i; s_i) (z_v,i = s_i + z_w,i) each pattern's block
        B_i of H couples only its own unknowns. Eliminating the first d + 2 of them per pattern (Cholesky of
        B_rr,i) leaves (C + G) s = rhs with C_i = B_ss,i - B_sr,i B_rr,i^-1 B_rs,i: one (P d)^2 Cholesky, 8x
        fewer flops than the (2 P (d+1))^2 one and a quarter of its memory. The elimination is the one a
        Cholesky of the whole matrix would do (no inverse of an ill-conditioned block is formed: H_g's
        conditioning grows like 1/mu^2 near the solution)."""
        d, P = self.d, self.M.shape[1]
        Hv, Hw = H[:P], H[P:]
        Brr = np.zeros((P, d + 2, d + 2))  # (t_v, t_w, z_w)
        Brr[:, 0, 0], Brr[:, 1, 1] = Hv[:, 0, 0], Hw[:, 0, 0]
        Brr[:, 0, 2:] = Brr[:, 2:, 0] = Hv[:, 0, 1:]
        Brr[:, 1, 2:] = Brr[:, 2:, 1] = Hw[:, 0, 1:]
        Brr[:, 2:, 2:] = Hv[:, 1:, 1:] + Hw[:, 1:, 1:]
        Brs = np.zeros((P, d + 2, d))
        Brs[:, 0, :] = Hv[:, 0, 1:]
        Brs[:, 2:, :] = Hv[:, 1:, 1:]
        try:
            L = np.linalg.cholesky(Brr)
        except np.linalg.LinAlgError:
            raise NumericalError("ipm: a block of the Newton matrix is not positive definite") from None
        Wm = np.linalg.solve(L, Brs)  # L^-1 B_rs (batched)
        C = Hv[:, 1:, 1:] - Wm.transpose(0, 2, 1) @ Wm
        A = self.gram.copy()
        A.reshape(P, d, P, d)[np.arange(P), :, np.arange(P), :] += 0.5 * (C + C.transpose(0, 2, 1))
        self.Lrr, self.Wm = L, Wm
        self._cholesky(A)

    def solve_reduced(self, bz: np.ndarray, bt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = np.concatenate([bt[:, None], bz.T], axis=1)
        if not self.relu:
            x = _chol_solve(self.Af, b.reshape(-1)).reshape(self.K, self.d + 1)
            return x[:, 1:].T, x[:, 0]
        P, d = self.M.shape[1], self.d
        bv, bw = b[:P], b[P:]
        cr = np.concatenate([bv[:, :1], bw[:, :1], bv[:, 1:] + bw[:, 1:]], axis=1)  # T' b in the unknowns u
        q = np.linalg.solve(self.Lrr, cr[:, :, None])  # (P, d+2, 1)
        rhs = bv[:, 1:] - (self.Wm.transpose(0, 2, 1) @ q)[:, :, 0]
        s = _chol_solve(self.Af, rhs.reshape(-1)).reshape(P, d)
        ur = np.linalg.solve(self.Lrr.transpose(0, 2, 1), q - self.Wm @ s[:, :, None])[:, :, 0]
        x = np.empty_like(b)
        x[:P, 0], x[P:, 0] = ur[:, 0], ur[:, 1]
        x[P:, 1:] = ur[:, 2:]
        x[:P, 1:] = s + ur[:, 2:]
        return x[:, 1:].T, x[:, 0]


@dataclass
class _Point:
    """An iterate: the weights Z (d x K) and bounds t, the predictions' building block X Z, the SOC slacks and
    multipliers (K x (d+1)) and, for relu, the LP ones of the cone rows (n x K)."""

    Z: np.ndarray
    t: np.ndarray
    XZ: np.ndarray
    s_soc: np.ndarray
    lam_soc: np.ndarray
    s_lp: np.ndarray | None
    lam_lp: np.ndarray | None


@dataclass
class _Residuals:
    """r_d = Q x + c + G' lam (its Z and t parts) and r_p = G x + s - h (SOC and LP rows)."""

    rdz: np.ndarray
    rdt: np.ndarray
    rp_soc: np.ndarray
    rp_lp: np.ndarray | None


@dataclass
class _Scaled:
    """The Nesterov-Todd scaling of an iterate (its SOC part; for relu the LP rows' w, v and W^-2), with the
    iterate's residuals: what a Newton direction is computed from, once :meth:`_Newton.factor` has run for it."""

    nt: _NT
    res: _Residuals
    w_lp: np.ndarray | None
    v_lp: np.ndarray | None
    d_lp: np.ndarray | None


def _shift_soc(u: np.ndarray) -> np.ndarray:
    a = float(np.max(-_soc_min_eig(u)))
    return u if a < 0 else u + np.r_[1.0 + a, np.zeros(u.shape[1] - 1)]


def _shift_lp(u: np.ndarray) -> np.ndarray:
    a = float(-u.min())
    return u if a < 0 else u + (1.0 + a)


def _initial_point(kkt: _Newton, y: np.ndarray, beta: float) -> _Point:
    """CVXOPT's start: x0 minimizes 1/2 x'Qx + c'x + 1/2 ||G x - h||^2, then s0 = h - G x0 and lam0 = G x0 - h,
    each shifted into the interior of its cones."""
    n, d, K, relu, S = kkt.n, kkt.d, kkt.K, kkt.relu, kkt.S
    kkt.factor(np.ones((n, K)) if relu else None, np.broadcast_to(np.eye(d + 1), (K, d + 1, d + 1)).copy())
    Z, t = kkt.solve_reduced(kkt.Et(y), -beta * np.ones(K))
    XZ = kkt.X @ Z
    s_soc = np.concatenate([t[:, None], Z.T], axis=1)
    lam_soc = -s_soc
    s_lp = S * XZ if relu else None
    lam_lp = -s_lp if relu else None
    s_soc, lam_soc = _shift_soc(s_soc), _shift_soc(lam_soc)
    if relu:
        s_lp, lam_lp = _shift_lp(s_lp), _shift_lp(lam_lp)
    return _Point(Z, t, XZ, s_soc, lam_soc, s_lp, lam_lp)


def _residuals(kkt: _Newton, pt: _Point, y: np.ndarray, beta: float) -> _Residuals:
    """The iterate's residuals (:class:`_Residuals`)."""
    S = kkt.S
    rdz = kkt.Et(kkt.E(pt.Z) - y) - pt.lam_soc[:, 1:].T
    if kkt.relu:
        rdz -= kkt.X.T @ (S * pt.lam_lp)
    rdt = beta - pt.lam_soc[:, 0]
    rp_soc = pt.s_soc - np.concatenate([pt.t[:, None], pt.Z.T], axis=1)
    rp_lp = pt.s_lp - S * pt.XZ if kkt.relu else None
    return _Residuals(rdz, rdt, rp_soc, rp_lp)


def _centrality(
    degree: int, s_soc: np.ndarray, lam_soc: np.ndarray, s_lp: np.ndarray | None, lam_lp: np.ndarray | None
) -> tuple[float, float]:
    """(mu, smallest eigenvalue of the scaled products v o v over mu): 1 on the central path."""
    relu = s_lp is not None
    gap = float(np.einsum("kj,kj->", s_soc, lam_soc)) + (float(np.vdot(s_lp, lam_lp)) if relu else 0.0)
    mu = gap / degree
    v = _NT(s_soc.copy(), lam_soc).v
    low = float(np.min(_soc_min_eig(v))) ** 2
    if relu:
        low = min(low, float(np.min(s_lp * lam_lp)))
    return mu, low / mu if mu > 0 else 0.0


def _scale_and_factor(kkt: _Newton, pt: _Point, res: _Residuals) -> _Scaled:
    """The iterate's Nesterov-Todd scaling, and the Newton matrix factored for it."""
    nt = _NT(pt.s_soc.copy(), pt.lam_soc)
    w_lp = v_lp = d_lp = None
    if kkt.relu:
        w_lp = np.sqrt(pt.s_lp / pt.lam_lp)
        v_lp = np.sqrt(pt.s_lp * pt.lam_lp)
        d_lp = pt.lam_lp / pt.s_lp  # W^-2 of the linear rows
    kkt.factor(d_lp, nt.matrix(inverse=True))
    return _Scaled(nt, res, w_lp, v_lp, d_lp)


def _direction(
    kkt: _Newton,
    sc: _Scaled,
    q_soc: np.ndarray,
    q_lp: np.ndarray | None,
    refine: int,
    dual_scale: float,
    verbose: bool,
) -> tuple[np.ndarray, ...]:
    """The Newton step for the scaled complementarity target q (W dlam + W^-1 ds = q): dZ, dt from the reduced
    system, then ds = -r_p - G dx (exact) and dlam = W^-1 q - W^-2 ds (exact), refined against the residual of the
    stationarity equation Q dx + G' dlam = -r_d. Returns (dZ, dt, ds_soc, dlam_soc, ds_lp, dlam_lp)."""
    X, S, relu, res, nt = kkt.X, kkt.S, kkt.relu, sc.res, sc.nt
    wq = nt.apply(q_soc, inverse=True)  # W^-1 q
    bz = -res.rdz - nt.inv2(res.rp_soc)[:, 1:].T + wq[:, 1:].T
    bt = -res.rdt - nt.inv2(res.rp_soc)[:, 0] + wq[:, 0]
    if relu:
        bz += X.T @ (S * (q_lp / sc.w_lp - sc.d_lp * res.rp_lp))
    dZ, dt = kkt.solve_reduced(bz, bt)
    best_res, kept = np.inf, None
    for k in range(refine + 1):
        ds_soc = np.concatenate([dt[:, None], dZ.T], axis=1) - res.rp_soc
        dl_soc = wq - nt.inv2(ds_soc)
        ez = -res.rdz - kkt.Et(kkt.E(dZ)) + dl_soc[:, 1:].T
        et = -res.rdt + dl_soc[:, 0]
        ds_lp = dl_lp = None
        if relu:
            ds_lp = S * (X @ dZ) - res.rp_lp
            dl_lp = q_lp / sc.w_lp - sc.d_lp * ds_lp
            ez += X.T @ (S * dl_lp)
        err = max(float(np.abs(ez).max()), float(np.abs(et).max()))
        prev = best_res
        if err < best_res:
            kept, best_res = (dZ.copy(), dt.copy(), ds_soc, dl_soc, ds_lp, dl_lp), err
        if k == refine or err > 0.5 * prev or err <= 1e-14 * dual_scale:
            break  # refinement stopped helping (or is done)
        cz, ct = kkt.solve_reduced(ez, et)
        dZ += cz
        dt += ct
    if verbose:
        print(f"   stationarity residual {best_res:.1e} after {k} refinements", file=sys.stderr)
    if kept is None:  # every residual was NaN: the Newton system broke down (data near overflow, say)
        raise NumericalError("ipm: the Newton direction is not finite (stationarity residual NaN)")
    return kept


def _max_step(
    pt: _Point, ds_soc: np.ndarray, dl_soc: np.ndarray, ds_lp: np.ndarray | None, dl_lp: np.ndarray | None
) -> float:
    """Largest step keeping the iterate's s and lam in their cones."""
    a = min(_soc_step(pt.s_soc, ds_soc), _soc_step(pt.lam_soc, dl_soc))
    if pt.s_lp is not None:
        a = min(a, _lp_step(pt.s_lp, ds_lp), _lp_step(pt.lam_lp, dl_lp))
    return a


def _step(
    kkt: _Newton,
    sc: _Scaled,
    pt: _Point,
    mu: float,
    cent: float,
    degree: int,
    refine: int,
    dual_scale: float,
    verbose: bool,
) -> tuple[_Point, float, float]:
    """One Mehrotra predictor-corrector step from ``pt`` (scaled and factored in ``sc``), backed off until the new
    point keeps its distance from the cones' boundaries: (the new point, the step length, sigma)."""
    relu, nt = kkt.relu, sc.nt
    # predictor (affine scaling): q = -v
    aff = _direction(kkt, sc, -nt.v, -sc.v_lp if relu else None, refine, dual_scale, verbose)
    a_aff = min(1.0, _max_step(pt, *aff[2:]))
    sigma = (1.0 - a_aff) ** 3
    # corrector: q = v \ (sigma mu e - (W^-1 ds_a) o (W dlam_a)) - v
    target = -_soc_jordan(nt.apply(aff[2], inverse=True), nt.apply(aff[3]))
    target[:, 0] += sigma * mu
    q_soc = _soc_divide(nt.v, target) - nt.v
    q_lp = (sigma * mu - aff[4] * aff[5]) / sc.v_lp - sc.v_lp if relu else None
    dZ, dt, ds_soc, dl_soc, ds_lp, dl_lp = _direction(kkt, sc, q_soc, q_lp, refine, dual_scale, verbose)
    a = min(1.0, STEP_FRACTION * _max_step(pt, ds_soc, dl_soc, ds_lp, dl_lp))
    # back off until the new point keeps its distance from the cones' boundaries (a wide neighbourhood of the
    # central path: smallest eigenvalue of v o v >= CENTRALITY mu, or half the current one)
    need = min(CENTRALITY, 0.5 * cent)
    for _ in range(BACKTRACKS):
        trial = (pt.s_soc + a * ds_soc, pt.lam_soc + a * dl_soc)
        trial += (pt.s_lp + a * ds_lp, pt.lam_lp + a * dl_lp) if relu else (None, None)
        if _centrality(degree, *trial)[1] >= need:
            break
        a *= 0.8
    Z = pt.Z + a * dZ
    return _Point(Z, pt.t + a * dt, kkt.X @ Z, *trial), a, sigma


def _soc_min_eig(u: np.ndarray) -> np.ndarray:
    return u[:, 0] - np.linalg.norm(u[:, 1:], axis=1)


@register
class StructuredIPM(Solver):
    """Primal-dual interior point on the convex program's own structure: n x n Schur complement (Woodbury).

    Options: max_iter (100), refine (8: most iterative-refinement steps per direction), proximal (1e-8: the
    regularization delta of the block-diagonal part, relative to the data's scale; refinement removes its effect),
    verbose (False: one line per iteration and per direction on stderr). The result carries the certified duality
    gap of the returned (best) iterate.
    """

    name = "ipm"
    family = "interior-point"
    capabilities = Capabilities(
        formulations=("relu", "gated"),
        certified_gap=True,
        # n P: 2e5 for Newton in the rows; with Newton in the variables (automatic where it is cheaper) the
        # KEEL sets at P = 200 (n P up to 4e6) certified 1e-4 in 101-201 s: offered to asv's full tier up to 2e6
        max_size=2_000_000,
        options={
            "max_iter": Option(int, 100, low=1),
            "refine": Option(int, 8, low=0, doc="iterative refinement steps per Newton system"),
            "proximal": Option(float, 1e-8, low=0, high=1, high_open=True, doc="proximal regularization"),
            "verbose": Option(bool, False),
            "newton": Option(
                str,
                "auto",
                choices=("auto", "rows", "variables"),
                doc="Newton systems in the n rows (n x n Schur complement) or the variables (relu: (P d)^2; auto: the "
                "one with fewer flops per iteration whose matrices fit)",
            ),
        },
    )
    description = "primal-dual interior point specialized to the structure: n x n Schur complement, Mehrotra steps"

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Generator[None, Callback | None, Result]:
        max_iter, refine = self.option("max_iter"), self.option("refine")
        verbose, proximal = self.option("verbose"), self.option("proximal")
        relu = get_formulation(formulation).constrained
        X, y, beta = problem.X, problem.y, problem.beta
        n, d = X.shape
        Pn = problem.P
        K = 2 * Pn if relu else Pn
        M = problem.mask_float
        yscale = y_scale(y)
        space = self.option("newton")
        if space == "auto":
            space = "variables" if _NewtonVariables.preferred(n, d, Pn, relu) else "rows"
        side = n if space == "rows" else _NewtonVariables.unknowns(d, Pn, relu)
        if side > DENSE_MAX:
            raise InputError(
                f"ipm: Newton in the {space} factors a dense matrix of {side} unknowns (n = {n},"
                f" P d = {Pn * d}); OpenBLAS's Cholesky ends the process with a segmentation fault from about 16000 "
                f"here, so ipm factors at most {DENSE_MAX}"
            )
        if space == "rows":  # C, its factor and one block product: n x n each
            require_memory(24.0 * n * n, f"ipm's n x n Schur complement at n = {n} (Newton in the rows)")
        else:
            require_memory(_NewtonVariables.matrix_bytes(n, d, Pn, relu), f"ipm's Newton matrices of {side} variables")
        newton = _NewtonVariables if space == "variables" else _Newton
        kkt = newton(X, M, problem.signs, relu, proximal * problem.masked_scale)
        callback = yield  # setup ends here (timed by Solver.setup)

        tracer = Tracer(callback)
        pt = _initial_point(kkt, y, beta)
        degree = K + (n * K if relu else 0)
        dual_scale = max(1.0, float(np.abs(kkt.Et(y)).max()), beta)
        status, it, cert, obj, viol = "max_iter", 0, np.inf, np.inf, 0.0
        best: tuple | None = None  # (score, it, Z, obj, cert, viol, multipliers)
        small_steps, last_step_s, own_test_met, broke = 0, 0.0, False, ""
        directions: dict[int, np.ndarray] = {}  # this solve's cone directions (certificates of infeasible points)
        for it in range(1, max_iter + 1):
            # ---- the iterate's objective, violation and certified gap (relubench's stopping rule)
            if relu:
                # the certificate of an infeasible iterate needs a repaired point (a few products with X): only
                # for iterates that could meet tol; the others carry none (inf) and are ranked by P - D
                obj, dual, viol = relu_primal_dual(problem, pt.Z, pt.XZ, pt.lam_lp)
                pd = obj - dual
                if viol == 0.0:
                    cert = abs(pd)
                elif max(pd / max(abs(obj), GAP_FLOOR), viol / yscale) <= tol:
                    cert = max(pd, feasible_objective(problem, pt.Z, pt.XZ, cache=directions) - obj)
                else:
                    cert = np.inf
            else:
                (obj, cert), viol = dual_gap_gated(problem, pt.Z, pt.XZ), 0.0
            estimate = cert if np.isfinite(cert) or not relu else max(pd, 0.0)  # progress, for ranking iterates
            if not (np.isfinite(obj) and np.isfinite(estimate)):
                raise NumericalError(f"ipm: non-finite objective or gap at iteration {it}")
            tracer.record(obj, viol, cert if np.isfinite(cert) else None)
            res = _residuals(kkt, pt, y, beta)
            mu, cent = _centrality(degree, pt.s_soc, pt.lam_soc, pt.s_lp, pt.lam_lp)
            # the interior point's own test (as Clarabel's): complementarity gap and residuals relative to the data
            res_d = max(float(np.abs(res.rdz).max()), float(np.abs(res.rdt).max())) / dual_scale
            res_p = max(float(np.abs(res.rp_soc).max()), float(np.abs(res.rp_lp).max()) if relu else 0.0) / yscale
            ipm_gap = mu * degree / max(abs(obj), GAP_FLOOR)
            rel = estimate / max(abs(obj), GAP_FLOOR)
            # the tolerance this point meets (certified where cert is finite: valid for infeasible points too)
            score = max(rel, viol / yscale)
            own_test = max(ipm_gap, res_d, res_p, viol / yscale) <= tol  # the interior point's own stopping test
            own_test_met = own_test_met or own_test
            if best is None or score < best[0]:
                best = (score, it, pt.Z, obj, cert, viol, pt.lam_lp)
            if score <= tol and np.isfinite(cert):
                status = "optimal"
                break
            if time_limit is not None and tracer.elapsed() + last_step_s >= time_limit:
                status = "time_limit"  # the next step, as long as the longest so far, would end past the limit
                break
            if small_steps >= STALL_STEPS or score > STALL_FACTOR * best[0]:
                # the directions have lost their accuracy (the Newton systems' conditioning grows like 1/mu)
                status = "numerical_error"
                break
            step_start = tracer.elapsed()
            try:
                scaled = _scale_and_factor(kkt, pt, res)
                pt, a, sigma = _step(kkt, scaled, pt, mu, cent, degree, refine, dual_scale, verbose)
            except NumericalError as exc:  # a factorization or direction broke down: the best iterate stands
                status, broke = "numerical_error", str(exc)
                break
            small_steps = small_steps + 1 if a < SMALL_STEP else 0
            # the longest step so far predicts the next (steps differ by their line searches and refinements)
            last_step_s = max(last_step_s, tracer.elapsed() - step_start)
            if verbose:
                print(
                    f"ipm {it:3d} obj {obj:.10g} cert {cert / max(abs(obj), GAP_FLOOR):.2e} viol {viol:.1e} "
                    f"ipm gap {ipm_gap:.1e} res {res_d:.1e} {res_p:.1e} mu {mu:.2e} cent {cent:.1e} "
                    f"sigma {sigma:.2e} step {a:.3f} ({tracer.elapsed():.2f} s)",
                    file=sys.stderr,
                )
        solve_s = tracer.elapsed()
        _, best_it, Z, obj, cert, viol, _ = best
        if not np.isfinite(cert):  # the returned iterate's certificate, repaired point and all
            obj, cert, viol = dual_gap_relu(problem, Z, problem.X @ Z, best[6], cache=directions)
        if status != "optimal" and best_it != it:
            tracer.record(obj, viol, cert)  # the returned point is the best iterate
        message = f"iterate {best_it} of {it}: certified gap {cert:.3g}, violation {viol:.3g} (newton in {space})"
        if status == "numerical_error" and own_test_met:
            status = "inaccurate"  # its own test held, but no certificate shows tol: say so, claim no more
            message += f" (the interior point's own test met tol {tol:g}; the certified gap did not reach it)"
            message += f" ({broke})" if broke else ""
        elif status == "numerical_error":
            message += f" ({broke or 'stalled: the Newton directions lost their accuracy'})"
        weights = {"V": Z[:, :Pn].copy(), "W": Z[:, Pn:].copy()} if relu else {"U": Z.copy()}
        return Result(
            self.name,
            formulation,
            status,
            iterations=it,
            solve_s=solve_s,
            message=message,
            weights=weights,
            trace=tracer.points,
            certified_gap=cert,
        )
