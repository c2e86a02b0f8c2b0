"""Conic data of the convex formulations, built directly as scipy.sparse matrices (no modelling layer).

Standard form shared by Clarabel and SCS::

    minimize 1/2 x^T Pq x + q^T x   s.t.  A x + s = b,  s in K

with x = [z, t, e]: z the stacked group vectors (relu: v_1..v_P, w_1..w_P; gated: u_1..u_P), t one epigraph
variable per group (||z_g|| <= t_g) and e = F z - y the residual. K = zero cone (n rows, the residual
definition) x nonnegative cone (relu only: 2 n P rows, (2 D_i - I) X v_i >= 0) x one second-order cone of
dimension d + 1 per group. Pq is the identity on e, q is beta on t.

F (n x |z|) has the blocks D_i X; it is data handed to the solver, built from the nonzeros of the masks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from relubench.problem.formulations import ROBUST, get_formulation
from relubench.problem.instance import Problem
from relubench.problem.spec import ProblemClass


@dataclass
class ConicData:
    P: sp.csc_matrix
    q: np.ndarray
    A: sp.csc_matrix
    b: np.ndarray
    n_zero: int
    n_nonneg: int
    soc_dims: list[int]
    nz: int
    ng: int

    def weights(self, problem: Problem, formulation: str | ProblemClass, x: np.ndarray) -> dict[str, np.ndarray]:
        """Split a primal solution x back into the weight arrays of the formulation."""
        z = np.asarray(x[: self.nz], dtype=float)
        return get_formulation(formulation).split(z.reshape(self.ng, problem.d).T.copy())


def masked_blocks(problem: Problem) -> sp.csr_matrix:
    """[D_1 X, ..., D_P X] (n x dP) as a sparse matrix, built from the mask nonzeros."""
    X, M = problem.X, problem.masks
    n, d = X.shape
    jj, ii = np.nonzero(M)
    rows = np.repeat(jj, d)
    cols = (ii[:, None] * d + np.arange(d)[None, :]).ravel()
    data = X[jj].ravel()
    out = sp.csr_matrix((data, (rows, cols)), shape=(n, d * problem.P))
    out.eliminate_zeros()
    return out


def signed_blockdiag(problem: Problem) -> sp.csr_matrix:
    """blockdiag((2 D_i - I) X) (nP x dP): row block i holds the cone constraints of pattern i."""
    X, S = problem.X, problem.signs
    n, d = X.shape
    Pn = problem.P
    data = (S.T[:, :, None] * X[None, :, :]).ravel()
    indptr = np.arange(0, n * Pn * d + 1, d)
    indices = (np.arange(Pn)[:, None, None] * d + np.arange(d)[None, None, :]).repeat(n, axis=1).ravel()
    out = sp.csr_matrix((data, indices, indptr), shape=(n * Pn, d * Pn))
    out.eliminate_zeros()
    return out


def build(problem: Problem, formulation: str | ProblemClass) -> ConicData:
    """Conic data of a convex formulation (one block per weight array), with A assembled directly in CSC form.

    Column (g, k) of z (group g, feature k; pattern i = g mod P) holds, in row order: -/+ X[j, k] for the rows
    j active in pattern i (zero cone; minus for v/u groups, plus for w groups), -(2 D_i - I)_j X[j, k] for all j
    (relu: the nonnegative rows of group g), and -1 in its second-order-cone row. No intermediate sparse
    stacking (which costs seconds at n = 1000, P = 200).
    """
    n, d, Pn = problem.n, problem.d, problem.P
    X, masks = problem.X, problem.masks
    form = get_formulation(formulation)
    if not form.convex or problem.loss != "squared" or form is ROBUST:
        raise ValueError(f"no conic form for {form.name!r} with the {problem.loss} loss")
    constrained = form.constrained
    nb = len(form.blocks)
    ng = nb * Pn
    nz = ng * d
    nx = nz + ng + n
    n_nonneg = ng * n if constrained else 0
    soc0 = n + n_nonneg
    g = np.arange(ng)
    pat = g % Pn
    sign_f = -np.repeat(form.output_signs, Pn)  # A_zero = -F, F = [s_1 D X, s_2 D X, ...] (relu: [D X, -D X])
    XT = X.T  # (d, n)
    parts_v, parts_r, parts_k = [], [], []
    # zero-cone rows j (active in pattern i), kept where the mask is set
    parts_v.append(sign_f[:, None, None] * XT[None, :, :])
    parts_r.append(np.broadcast_to(np.arange(n)[None, None, :], (ng, d, n)))
    parts_k.append(np.broadcast_to(masks.T[pat][:, None, :], (ng, d, n)))
    if constrained:
        S = problem.signs.T[pat]  # (ng, n)
        parts_v.append(-S[:, None, :] * XT[None, :, :])
        parts_r.append(np.broadcast_to((n + g[:, None, None] * n + np.arange(n)[None, None, :]), (ng, d, n)))
        parts_k.append(np.ones((ng, d, n), dtype=bool))
    parts_v.append(np.full((ng, d, 1), -1.0))
    parts_r.append((soc0 + g[:, None] * (d + 1) + 1 + np.arange(d)[None, :])[:, :, None])
    parts_k.append(np.ones((ng, d, 1), dtype=bool))
    keep = np.concatenate(parts_k, axis=2) & (np.concatenate(parts_v, axis=2) != 0)
    z_data = np.concatenate(parts_v, axis=2)[keep]
    z_rows = np.concatenate(parts_r, axis=2)[keep]
    z_counts = keep.sum(axis=2).ravel()
    # t_g: -1 in the first row of cone g; e_j: +1 in zero-cone row j
    data = np.concatenate([z_data, np.full(ng, -1.0), np.ones(n)])
    rows = np.concatenate([z_rows, soc0 + g * (d + 1), np.arange(n)]).astype(np.int64)
    counts = np.concatenate([z_counts, np.ones(ng + n, dtype=np.int64)])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    m_rows = soc0 + ng * (d + 1)
    A = sp.csc_matrix((data, rows, indptr), shape=(m_rows, nx))
    b = np.concatenate([-problem.y, np.zeros(m_rows - n)])
    Pq = sp.diags(np.concatenate([np.zeros(nz + ng), np.ones(n)]), format="csc")
    q = np.concatenate([np.zeros(nz), np.full(ng, problem.beta), np.zeros(n)])
    return ConicData(Pq, q, A, b, n, n_nonneg, [d + 1] * ng, nz, ng)


def build_by_stacking(problem: Problem, formulation: str | ProblemClass) -> sp.csc_matrix:
    """The same A assembled from :func:`masked_blocks` and :func:`signed_blockdiag` (a test reference)."""
    n, Pn = problem.n, problem.P
    d = problem.d
    form = get_formulation(formulation)
    FX = masked_blocks(problem)
    F = sp.hstack([s * FX for s in form.output_signs])
    ng = len(form.blocks) * Pn
    nz = ng * d
    blocks = [sp.hstack([-F, sp.csr_matrix((n, ng)), sp.identity(n)])]
    if form.constrained:
        G = signed_blockdiag(problem)
        GG = sp.block_diag([G] * len(form.blocks))
        blocks.append(sp.hstack([-GG, sp.csr_matrix((GG.shape[0], ng + n))]))
    gg = np.arange(ng)
    rows = np.concatenate([gg * (d + 1), (gg[:, None] * (d + 1) + 1 + np.arange(d)[None, :]).ravel()])
    cols = np.concatenate([nz + gg, np.arange(nz)])
    blocks.append(sp.csr_matrix((-np.ones(nz + ng), (rows, cols)), shape=(ng * (d + 1), nz + ng + n)))
    return sp.vstack(blocks, format="csc")
