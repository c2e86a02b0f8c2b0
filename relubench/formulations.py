"""Objectives, constraint violation and the exact convex-to-network mapping.

Weights of each formulation (arrays, d = problem.d including a bias column):

* ``relu``: ``{"V": (d, P), "W": (d, P)}`` -- column i is v_i (resp. w_i) of pattern i.
* ``gated``: ``{"U": (d, P)}``.
* ``nonconvex``: ``{"U": (d, m), "a": (m,)}`` -- hidden weights and output weights of width m.

All predictions use masks, never the n x (P d) matrix of all D_i X:
``sum_i D_i X u_i = (mask * (X @ U)).sum(axis=1)``.

Also the pieces the first-order backends share: the group prox (``group_soft_threshold``) and certified duality
gaps (``dual_gap_gated``, ``dual_gap_relu``; the dual points are derived in ``relubench.solvers.proxgrad``).
"""

from __future__ import annotations

import numpy as np

from relubench.errors import InputError
from relubench.problem import Problem

FORMULATIONS = ("relu", "gated", "nonconvex")


def check_formulation(name: str) -> str:
    if name not in FORMULATIONS:
        raise InputError(f"unknown formulation {name!r}; choose one of {', '.join(FORMULATIONS)}")
    return name


def masked_predict(problem: Problem, U: np.ndarray) -> np.ndarray:
    """sum_i D_i X u_i for U of shape (d, P)."""
    return np.einsum("ij,ij->i", problem.mask_float, problem.X @ U)


def group_norms(U: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->j", U, U))


def relu_objective(problem: Problem, V: np.ndarray, W: np.ndarray) -> float:
    r = masked_predict(problem, V - W) - problem.y
    return float(0.5 * r @ r + problem.beta * (group_norms(V).sum() + group_norms(W).sum()))


def gated_objective(problem: Problem, U: np.ndarray) -> float:
    r = masked_predict(problem, U) - problem.y
    return float(0.5 * r @ r + problem.beta * group_norms(U).sum())


def relu_violation(problem: Problem, V: np.ndarray, W: np.ndarray) -> float:
    """max over i, j of the violation of (2 D_i - I) X v_i >= 0 (and for w_i); 0 when feasible."""
    S = problem.signs
    worst = min(float((S * (problem.X @ V)).min(initial=0.0)), float((S * (problem.X @ W)).min(initial=0.0)))
    return max(0.0, -worst)


def network_predict(X: np.ndarray, U: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.maximum(X @ U, 0.0) @ a


def nonconvex_objective(problem: Problem, U: np.ndarray, a: np.ndarray) -> float:
    r = network_predict(problem.X, U, a) - problem.y
    return float(0.5 * r @ r + 0.5 * problem.beta * (np.sum(U * U) + np.sum(a * a)))


def network_from_convex(V: np.ndarray, W: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The two-layer network of a convex solution: u = v/sqrt(||v||), a = +sqrt(||v||); for w, a = -sqrt(||w||).

    Zero groups give no neuron. Returns (U of shape (d, m), a of shape (m,)).
    """
    blocks, signs = [V], [1.0]
    if W is not None:
        blocks.append(W)
        signs.append(-1.0)
    Us, As = [], []
    for B, s in zip(blocks, signs, strict=True):
        norms = group_norms(B)
        keep = norms > 0
        root = np.sqrt(norms[keep])
        Us.append(B[:, keep] / root)
        As.append(s * root)
    return np.concatenate(Us, axis=1), np.concatenate(As)


def active_neurons(a: np.ndarray, rel: float = 1e-6) -> int:
    """Neurons whose output weight squared (= group norm) exceeds ``rel`` times the largest one."""
    w = np.abs(np.asarray(a)) ** 2
    return int(np.count_nonzero(w > rel * w.max(initial=0.0))) if w.size else 0


def evaluate(problem: Problem, formulation: str, weights: dict[str, np.ndarray]) -> dict[str, float]:
    """objective, network_objective, max_violation and active neuron count (:func:`active_neurons`).

    ``network_objective`` is the non-convex objective of the network built by :func:`network_from_convex`
    (for ``gated`` the same mapping of u_i, used as a ReLU network; it differs from the gated objective).
    For a feasible ``relu`` solution it equals the convex objective.
    """
    if formulation == "relu":
        V, W = weights["V"], weights["W"]
        obj = relu_objective(problem, V, W)
        viol = relu_violation(problem, V, W)
        U, a = network_from_convex(V, W)
    elif formulation == "gated":
        obj = gated_objective(problem, weights["U"])
        viol = 0.0
        U, a = network_from_convex(weights["U"])
    elif formulation == "nonconvex":
        U, a = weights["U"], weights["a"]
        obj = nonconvex_objective(problem, U, a)
        viol = 0.0
    else:
        check_formulation(formulation)
        raise AssertionError
    net = nonconvex_objective(problem, U, a)
    active = active_neurons(a)
    return {"objective": obj, "network_objective": net, "max_violation": viol, "active_neurons": active}


def prune_neurons(problem: Problem, V: np.ndarray, W: np.ndarray, rel: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """An equally good relu solution with at most n + 1 nonzero groups (Pilanci & Ergen 2020, Thm. 1 proof).

    Groups whose squared norm is at most ``rel`` times the largest (those :func:`active_neurons` does not count)
    are zeroed first; an interior-point solution has many such tiny groups, and the data decide how many
    of the rest carry the solution.
    Each nonzero group j contributes c_j = +-D_j X v_j to the prediction and l_j = ||v_j|| to the penalty.
    While more than n + 1 groups are nonzero, the vectors (c_j, l_j) in R^{n+1} are linearly dependent: a null
    vector t gives scalings v_j <- (1 + s t_j) v_j that change neither the prediction nor the penalty (and keep
    every cone constraint, the factors being >= 0); s is chosen so that one factor reaches 0. The objective
    is unchanged up to rounding, so the count returned is an upper bound on the fewest neurons at this value.
    """
    n, P = problem.n, problem.P
    G = np.hstack([V, W]).astype(float, copy=True)  # d x 2P
    sign = np.concatenate([np.ones(P), -np.ones(P)])
    pat = np.concatenate([np.arange(P), np.arange(P)])
    norms = group_norms(G)
    G[:, norms**2 <= rel * (norms**2).max(initial=0.0)] = 0.0
    live = np.flatnonzero(group_norms(G) > 0)
    if live.size > n + 1:
        XG = problem.X @ G[:, live]
        C = problem.mask_float[:, pat[live]] * XG * sign[live]  # n x k contributions
        L = group_norms(G[:, live])
        A = np.vstack([C / max(np.abs(C).max(), 1e-300), L / max(L.max(), 1e-300)])  # rows scaled alike
        factor = np.ones(live.size)
        keep = np.ones(live.size, dtype=bool)
        while keep.sum() > n + 1:
            idx = np.flatnonzero(keep)
            sub = A[:, idx] * factor[idx]
            t = np.linalg.svd(sub, full_matrices=True)[2][-1]  # a null vector (k > n + 1 columns)
            if t.min() >= 0:
                t = -t
            s = 1.0 / (-t.min())
            f = 1.0 + s * t
            f[np.argmin(t)] = 0.0
            factor[idx] *= np.maximum(f, 0.0)
            keep[idx[f <= 0]] = False
        G[:, live] *= factor
        G[:, live[~keep]] = 0.0
    return G[:, :P], G[:, P:]


# ---- proximal operator and certified duality gaps (shared by the first-order backends)


def group_soft_threshold(A: np.ndarray, thresh: float) -> np.ndarray:
    """Column-wise prox of thresh * ||.||_2: scales each column a to max(0, 1 - thresh/||a||) a."""
    scale = np.maximum(0.0, 1.0 - thresh / np.maximum(group_norms(A), 1e-300))
    return A * scale


def group_norm_sum(Z: np.ndarray) -> float:
    return float(group_norms(Z).sum())


def _scaled_dual_gap(primal: float, r: np.ndarray, G: np.ndarray, y: np.ndarray, beta: float) -> float:
    """primal - dual at theta = c r, c <= 1 scaling the group norms of G = X^T (..) (linear in r) to at most beta."""
    c = min(1.0, beta / max(group_norms(G).max(), 1e-300))
    theta = c * r
    dual = -theta @ y - 0.5 * theta @ theta
    return float(max(primal - dual, 0.0))


def dual_gap_gated(problem: Problem, Z: np.ndarray, XZ: np.ndarray) -> tuple[float, float]:
    """(primal objective, certified gap) for the gated problem at Z."""
    X, y, M, beta = problem.X, problem.y, problem.mask_float, problem.beta
    r = np.einsum("ij,ij->i", M, XZ) - y
    primal = 0.5 * r @ r + beta * group_norm_sum(Z)
    G = X.T @ (M * r[:, None])
    return float(primal), _scaled_dual_gap(primal, r, G, y, beta)


def dual_gap_relu(problem: Problem, Z: np.ndarray, XZ: np.ndarray, lam: np.ndarray) -> tuple[float, float, float]:
    """(primal objective, certified gap, max violation) for the relu problem at Z = [V W] with multipliers lam."""
    X, y, M, beta = problem.X, problem.y, problem.mask_float, problem.beta
    Pn = problem.P
    S = problem.signs
    r = np.einsum("ij,ij->i", M, XZ[:, :Pn] - XZ[:, Pn:]) - y
    primal = 0.5 * r @ r + beta * group_norm_sum(Z)
    Mr = M * r[:, None]
    A = np.hstack([Mr - S * lam[:, :Pn], -Mr - S * lam[:, Pn:]])
    G = X.T @ A
    viol = max(0.0, -float((np.hstack([S, S]) * XZ).min()))
    return float(primal), _scaled_dual_gap(primal, r, G, y, beta), viol
