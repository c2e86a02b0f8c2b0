"""Objectives, constraint violation and the exact convex-to-network mapping.

Weights of each formulation (arrays, d = problem.d including a bias column):

* ``relu``: ``{"V": (d, P), "W": (d, P)}`` -- column i is v_i (resp. w_i) of pattern i.
* ``gated``: ``{"U": (d, P)}``.
* ``nonconvex``: ``{"U": (d, m), "a": (m,)}`` -- hidden weights and output weights of width m.

All predictions use masks, never the n x (P d) matrix of all D_i X:
``sum_i D_i X u_i = (mask * (X @ U)).sum(axis=1)``.
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
