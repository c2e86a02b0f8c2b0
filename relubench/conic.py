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

from relubench.problem import Problem


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

    def weights(self, problem: Problem, formulation: str, x: np.ndarray) -> dict[str, np.ndarray]:
        """Split a primal solution x back into the weight arrays of the formulation."""
        d, Pn = problem.d, problem.P
        z = np.asarray(x[: self.nz], dtype=float)
        if formulation == "relu":
            return {
                "V": z[: d * Pn].reshape(Pn, d).T.copy(),
                "W": z[d * Pn :].reshape(Pn, d).T.copy(),
            }
        return {"U": z.reshape(Pn, d).T.copy()}


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


def build(problem: Problem, formulation: str) -> ConicData:
    n, d, Pn = problem.n, problem.d, problem.P
    FX = masked_blocks(problem)
    if formulation == "relu":
        F = sp.hstack([FX, -FX], format="csr")
        ng = 2 * Pn
    elif formulation == "gated":
        F = FX
        ng = Pn
    else:
        raise ValueError(f"no conic form for {formulation!r}")
    nz = ng * d
    nx = nz + ng + n
    # zero cone: -F z + e = -y
    A_zero = sp.hstack([-F, sp.csr_matrix((n, ng)), sp.identity(n, format="csr")], format="csr")
    blocks = [A_zero]
    b_parts = [-problem.y]
    n_nonneg = 0
    if formulation == "relu":
        G = signed_blockdiag(problem)
        GG = sp.block_diag([G, G], format="csr")
        n_nonneg = GG.shape[0]
        blocks.append(sp.hstack([-GG, sp.csr_matrix((n_nonneg, ng + n))], format="csr"))
        b_parts.append(np.zeros(n_nonneg))
    # second-order cones (t_g, z_g): rows [-e_t; -I on z_g]
    g = np.arange(ng)
    t_rows = g * (d + 1)
    z_rows = (g[:, None] * (d + 1) + 1 + np.arange(d)[None, :]).ravel()
    rows = np.concatenate([t_rows, z_rows])
    cols = np.concatenate([nz + g, np.arange(nz)])
    A_soc = sp.csr_matrix((-np.ones(nz + ng), (rows, cols)), shape=(ng * (d + 1), nx))
    blocks.append(A_soc)
    b_parts.append(np.zeros(ng * (d + 1)))
    A = sp.vstack(blocks, format="csc")
    b = np.concatenate(b_parts)
    Pq = sp.diags(np.concatenate([np.zeros(nz + ng), np.ones(n)]), format="csc")
    q = np.concatenate([np.zeros(nz), np.full(ng, problem.beta), np.zeros(n)])
    return ConicData(Pq, q, A, b, n, n_nonneg, [d + 1] * ng, nz, ng)
