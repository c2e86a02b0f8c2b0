"""Conic data of the convex formulations, built directly as scipy.sparse matrices (no modelling layer).

Standard form shared by Clarabel and SCS::

    minimize 1/2 x^T Pq x + q^T x   s.t.  A x + s = b,  s in K

with x = [z, t, e]: z the stacked group vectors (relu: v_1..v_P, w_1..w_P; gated: u_1..u_P), t one epigraph
variable per group (||z_g|| <= t_g) and e = F z - y the residual. K = zero cone (n rows, the residual
definition) x nonnegative cone (relu only: 2 n P rows, (2 D_i - I) X v_i >= 0) x one second-order cone of
dimension d + 1 per group. Pq is the identity on e, q is beta on t. The logistic loss adds exponential cones
(see :func:`build`); several outputs add zero-cone rows (one per prediction entry).

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
    n_exp: int = 0  # exponential cones (three rows each), after the second-order cones

    def weights(self, problem: Problem, formulation: str | ProblemClass, x: np.ndarray) -> dict[str, np.ndarray]:
        """Split a primal solution x back into the weight arrays of the formulation."""
        z = np.asarray(x[: self.nz], dtype=float)
        return get_formulation(formulation).split(z.reshape(self.ng, problem.d).T.copy())


CONIC_LOSSES = ("squared", "logistic")


def build(problem: Problem, formulation: str | ProblemClass) -> ConicData:
    """Conic data of a convex formulation (one block per weight array), with A assembled directly in CSC form.

    Column (g, k) of z (group g, feature k; pattern i = g mod P, output g div P within its block) holds, in row
    order: -/+ X[j, k] for the rows j active in pattern i (zero cone, the rows of its output; minus for v/u
    groups, plus for w groups), -(2 D_i - I)_j X[j, k] for all j (relu: the nonnegative rows of group g), and -1
    in its second-order-cone row. No intermediate sparse stacking (which costs seconds at n = 1000, P = 200).

    Losses (N = n c prediction entries, e their vector, output-major):

    * squared: e = F z - y, objective 1/2 ||e||^2 (Pq the identity on e);
    * logistic: no e and no zero cone (a free e with equality rows made Clarabel stall, "InsufficientProgress",
      on relu instances it solves without them); epigraph variables s, a, b (N each), objective sum s with
      ``a_m + b_m <= 1`` (N more nonnegative rows), ``(-s_m, 1, a_m)`` and ``(-y_m (F z)_m - s_m, 1, b_m)`` in
      the exponential cone {(x, y, z): y exp(x / y) <= z} (Clarabel's and SCS's convention), i.e.
      ``exp(-s_m) + exp(-y_m (F z)_m - s_m) <= 1``, i.e. ``s_m >= log(1 + exp(-y_m (F z)_m))``.

    Row order: zero cone, nonnegative cone (relu constraints, then the logistic rows), second-order cones,
    exponential cones (the order SCS requires).
    """
    n, d, Pn = problem.n, problem.d, problem.P
    X, masks = problem.X, problem.masks
    form = get_formulation(formulation)
    if not form.convex or problem.loss not in CONIC_LOSSES or form is ROBUST:
        raise ValueError(f"no conic form for {form.name!r} with the {problem.loss} loss")
    logistic = problem.loss == "logistic"
    c = problem.outputs
    N = n * c
    constrained = form.constrained
    nb = len(form.blocks)
    G = problem.groups
    ng = nb * G
    nz = ng * d
    nx = nz + ng + 3 * N  # squared: e (N); logistic: s, a, b (N each)
    n_zero = 0 if logistic else N
    n_cone_rows = ng * n if constrained else 0
    n_nonneg = n_cone_rows + (N if logistic else 0)
    soc0 = n_zero + n_nonneg
    exp0 = soc0 + ng * (d + 1)
    if not logistic:
        nx = nz + ng + N
    g = np.arange(ng)
    pat = g % Pn
    out = (g % G) // Pn
    yv = np.asarray(problem.y, dtype=float).ravel(order="F")  # output-major: entry k n + j
    sign_f = -np.repeat(form.output_signs, G)  # -F, F = [s_1 D X, s_2 D X, ...] (relu: [D X, -D X])
    XT = X.T  # (d, n)
    parts_v, parts_r, parts_k = [], [], []
    # prediction rows (output k, row j active in pattern i), kept where the mask is set: the zero cone
    # (squared: -F z + e = -y) or the second exponential cone of entry m (logistic: slack -y_m (F z)_m - s_m)
    entry = out[:, None, None] * n + np.arange(n)[None, None, :]
    if logistic:
        parts_v.append(-sign_f[:, None, None] * XT[None, :, :] * yv[entry])
        parts_r.append(np.broadcast_to(exp0 + 6 * entry + 3, (ng, d, n)))
    else:
        parts_v.append(np.broadcast_to(sign_f[:, None, None] * XT[None, :, :], (ng, d, n)))
        parts_r.append(np.broadcast_to(entry, (ng, d, n)))
    parts_k.append(np.broadcast_to(masks.T[pat][:, None, :], (ng, d, n)))
    if constrained:
        S = problem.signs.T[pat]  # (ng, n)
        parts_v.append(-S[:, None, :] * XT[None, :, :])
        parts_r.append(np.broadcast_to((n_zero + g[:, None, None] * n + np.arange(n)[None, None, :]), (ng, d, n)))
        parts_k.append(np.ones((ng, d, n), dtype=bool))
    parts_v.append(np.full((ng, d, 1), -1.0))
    parts_r.append((soc0 + g[:, None] * (d + 1) + 1 + np.arange(d)[None, :])[:, :, None])
    parts_k.append(np.ones((ng, d, 1), dtype=bool))
    keep = np.concatenate(parts_k, axis=2) & (np.concatenate(parts_v, axis=2) != 0)
    z_data = np.concatenate(parts_v, axis=2)[keep]
    z_rows = np.concatenate(parts_r, axis=2)[keep]
    z_counts = keep.sum(axis=2).ravel()
    m = np.arange(N)
    m_rows = exp0 + (6 * N if logistic else 0)
    b = np.zeros(m_rows)
    if logistic:
        lrow = n_cone_rows + m  # a_m + b_m <= 1
        tail_data = np.concatenate([np.ones(2 * N), np.tile([1.0, -1.0], 2 * N)])
        tail_rows = np.concatenate(
            [
                np.column_stack([exp0 + 6 * m, exp0 + 6 * m + 3]).ravel(),  # s_m
                np.column_stack([lrow, exp0 + 6 * m + 2]).ravel(),  # a_m
                np.column_stack([lrow, exp0 + 6 * m + 5]).ravel(),  # b_m
            ]
        )
        tail_counts = np.full(3 * N, 2, dtype=np.int64)
        b[lrow] = 1.0
        b[exp0 + 6 * m + 1] = 1.0
        b[exp0 + 6 * m + 4] = 1.0
    else:  # e_m: +1 in zero-cone row m
        tail_data, tail_rows, tail_counts = np.ones(N), m, np.ones(N, dtype=np.int64)
        b[:N] = -yv
    # t_g: -1 in the first row of cone g
    data = np.concatenate([z_data, np.full(ng, -1.0), tail_data])
    rows = np.concatenate([z_rows, soc0 + g * (d + 1), tail_rows]).astype(np.int64)
    counts = np.concatenate([z_counts, np.ones(ng, dtype=np.int64), tail_counts])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    A = sp.csc_matrix((data, rows, indptr), shape=(m_rows, nx))
    if logistic:
        A.sort_indices()  # the exponential-cone rows of z come after its cone rows
        Pq = sp.csc_matrix((nx, nx))
        q = np.concatenate([np.zeros(nz), np.full(ng, problem.beta), np.ones(N), np.zeros(2 * N)])
    else:
        Pq = sp.diags(np.concatenate([np.zeros(nz + ng), np.ones(N)]), format="csc")
        q = np.concatenate([np.zeros(nz), np.full(ng, problem.beta), np.zeros(N)])
    return ConicData(Pq, q, A, b, n_zero, n_nonneg, [d + 1] * ng, nz, ng, 2 * N if logistic else 0)
