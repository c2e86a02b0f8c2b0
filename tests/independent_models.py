"""Optimal values from cvxpy models written term by term from the papers' statements.

Nothing here uses relubench's conic or cvxpy builders, its formulations or its losses: only the problem's raw
arrays (X with its bias column, y, beta, the pattern masks, epsilon). The tests compare every backend with these.

* relu (Pilanci & Ergen 2020): min L(sum_i D_i X (v_i - w_i), y) + beta sum_i (||v_i|| + ||w_i||)
  s.t. (2 D_i - I) X v_i >= 0 and (2 D_i - I) X w_i >= 0.
* gated (Mishkin et al. 2022), c outputs: min sum_k L(sum_i D_i X u_ki, y_k) + beta sum_ki ||u_ki||.
* robust (Bai, Gautam & Sojoudi 2023), l_inf radius eps, patterns held on the ball: the worst case of the loss
  over the ball, sum_k L_worst(f_k, y_k, eps ||g_k||_1) with g_k = sum_i d_ik (v_i - w_i) (bias entry left
  out), s.t. (2 D_i - I) X v_i >= eps ||v_i||_1 (bias entry left out), likewise w_i.

L: squared 1/2 (f - y)^2, hinge (1 - y f)_+; worst cases 1/2 (|f - y| + s)^2 and (1 - y f + s)_+.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np


def _solve(objective: cp.Expression, constraints: list) -> float:
    prob = cp.Problem(cp.Minimize(objective), constraints)
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert prob.status == cp.OPTIMAL, prob.status
    return float(prob.value)


def _loss(loss: str, f: cp.Expression, y: np.ndarray, shift: cp.Expression | float = 0.0) -> cp.Expression:
    if loss == "squared":
        return 0.5 * cp.sum(cp.square(cp.abs(f - y) + shift))
    if loss == "hinge":
        return cp.sum(cp.pos(1 - cp.multiply(y, f) + shift))
    raise ValueError(loss)


def relu_optimum(X: np.ndarray, y: np.ndarray, beta: float, masks: np.ndarray, loss: str = "squared") -> float:
    P = masks.shape[1]
    v = [cp.Variable(X.shape[1]) for _ in range(P)]
    w = [cp.Variable(X.shape[1]) for _ in range(P)]
    f = sum(cp.multiply(masks[:, i].astype(float), X @ (v[i] - w[i])) for i in range(P))
    cons = []
    for i in range(P):
        s = 2.0 * masks[:, i] - 1.0
        cons += [cp.multiply(s, X @ v[i]) >= 0, cp.multiply(s, X @ w[i]) >= 0]
    penalty = sum(cp.norm(v[i], 2) + cp.norm(w[i], 2) for i in range(P))
    return _solve(_loss(loss, f, y) + beta * penalty, cons)


def gated_optimum(X: np.ndarray, Y: np.ndarray, beta: float, masks: np.ndarray, loss: str = "squared") -> float:
    Y = Y.reshape(len(Y), -1)
    P, c = masks.shape[1], Y.shape[1]
    u = [[cp.Variable(X.shape[1]) for _ in range(P)] for _ in range(c)]
    total = 0.0
    for k in range(c):
        f = sum(cp.multiply(masks[:, i].astype(float), X @ u[k][i]) for i in range(P))
        total = total + _loss(loss, f, Y[:, k])
    penalty = sum(cp.norm(u[k][i], 2) for k in range(c) for i in range(P))
    return _solve(total + beta * penalty, [])


def robust_optimum(
    X: np.ndarray, y: np.ndarray, beta: float, masks: np.ndarray, eps: float, bias: bool, loss: str = "squared"
) -> float:
    n, d = X.shape
    P = masks.shape[1]
    feats = list(range(d - 1)) if bias else list(range(d))  # relubench puts the bias column last
    v = [cp.Variable(d) for _ in range(P)]
    w = [cp.Variable(d) for _ in range(P)]
    f = sum(cp.multiply(masks[:, i].astype(float), X @ (v[i] - w[i])) for i in range(P))
    g = [sum((v[i] - w[i] for i in range(P) if masks[k, i]), 0 * v[0]) for k in range(n)]  # gradient at x_k
    shift = eps * cp.hstack([cp.norm(g[k][feats], 1) for k in range(n)])
    cons = []
    for i in range(P):
        s = 2.0 * masks[:, i] - 1.0
        for z in (v[i], w[i]):
            cons.append(cp.multiply(s, X @ z) >= eps * cp.norm(z[feats], 1))
    penalty = sum(cp.norm(v[i], 2) + cp.norm(w[i], 2) for i in range(P))
    return _solve(_loss(loss, f, y, shift) + beta * penalty, cons)
