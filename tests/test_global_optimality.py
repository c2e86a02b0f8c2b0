"""With ALL patterns, the convex program's optimum is the global optimum of the non-convex network."""

import numpy as np
import pytest
from independent_models import relu_optimum
from scipy.optimize import minimize

from relubench.problem import Problem
from relubench.problem.formulations import RELU, network_from_blocks, nonconvex_objective
from relubench.running.solver import get_solver


def local_restarts(problem, m, restarts, seed):
    """Best objectives of L-BFGS on the non-convex objective from random initializations of width m."""
    X, y, beta = problem.X, problem.y, problem.beta
    d = X.shape[1]

    def fg(theta):
        U = theta[: d * m].reshape(d, m)
        a = theta[d * m :]
        Z = X @ U
        H = np.maximum(Z, 0)
        r = H @ a - y
        f = 0.5 * r @ r + 0.5 * beta * (theta @ theta)
        ga = H.T @ r + beta * a
        gU = X.T @ (np.outer(r, a) * (Z > 0)) + beta * U
        return f, np.concatenate([gU.ravel(), ga])

    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(restarts):
        theta0 = rng.standard_normal(d * m + m) * rng.choice([0.1, 0.5, 1.0])
        out = minimize(fg, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 3000, "gtol": 1e-10})
        U = out.x[: d * m].reshape(d, m)
        vals.append(nonconvex_objective(problem, U, out.x[d * m :]))
    return np.array(vals)


@pytest.mark.slow
@pytest.mark.parametrize("seed,bias", [(0, False), (1, False), (2, True), (3, True)])
def test_all_patterns_convex_optimum_is_global(seed, bias):
    rng = np.random.default_rng(seed)
    n = 12 if not bias else 10
    X = rng.standard_normal((n, 1 if bias else 2))
    y = rng.standard_normal(n)
    problem = Problem.create(X, y, beta=0.05, patterns="all", bias=bias)
    assert problem.d == 2
    res = get_solver("clarabel").solve(problem, "relu", tol=1e-10)
    assert res.status == "optimal"
    f_star = res.objective
    assert res.max_violation < 1e-8
    # the mapped network attains the convex optimum
    U, a = network_from_blocks([(res.weights["V"], 1.0), (res.weights["W"], -1.0)])
    assert abs(nonconvex_objective(problem, U, a) - f_star) <= 1e-7 * abs(f_star)
    # no local solution of the non-convex problem goes below it
    vals = local_restarts(problem, m=2 * problem.P, restarts=40, seed=seed)
    assert vals.min() >= f_star - 1e-6
    # and the local method does get close (within 1%): the bound is tight, not vacuous
    assert vals.min() <= f_star * (1 + 1e-2)
    # and an independent model of the program (cvxpy, written term by term in the tests) has the same optimum
    assert abs(relu_optimum(problem.X, problem.y, problem.beta, problem.masks) - f_star) <= 1e-7 * abs(f_star)


def test_mapping_is_exact_for_feasible_solutions():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 4))
    y = rng.standard_normal(60)
    G = rng.standard_normal((4, 30))
    masks = X @ G >= 0
    problem = Problem.create(X, y, beta=0.3, patterns=masks)
    # v_i = c_i g_i is exactly feasible for pattern i (its own generator)
    V = G * rng.uniform(0.1, 2.0, 30)
    W = G * rng.uniform(0.0, 1.0, 30) * (rng.random(30) < 0.5)
    convex = RELU.objective(problem, {"V": V, "W": W})
    U, a = network_from_blocks([(V, 1.0), (W, -1.0)])
    assert U.shape[1] == a.shape[0] == 30 + np.count_nonzero(W.any(axis=0))
    assert np.allclose(np.linalg.norm(U, axis=0) ** 2, np.abs(a) ** 2)
    assert abs(nonconvex_objective(problem, U, a) - convex) <= 1e-9 * abs(convex)
