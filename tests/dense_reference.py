"""Dense-structure references for the tests: the explicit block matrices that production code never forms
(relubench works through the masks; see the standards). Used to check the conic data and the ADMM iterates."""

import numpy as np
import scipy.sparse as sp

from relubench.problem.formulations import get_formulation
from relubench.problem.instance import Problem
from relubench.problem.spec import ProblemClass


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


def build_by_stacking(problem: Problem, formulation: str | ProblemClass) -> sp.csc_matrix:
    """The conic A assembled from :func:`masked_blocks` and :func:`signed_blockdiag`: the direct build's reference."""
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
