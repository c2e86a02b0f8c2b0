"""Statements of the core that scripts/mutants.py found no test checking (docs/mutation.md): each test here
fails on the mutant named in its docstring. Values are computed independently, row by row."""

import numpy as np
import pytest

from conftest import small_problem
from relubench.problem import Problem
from relubench.problem.formulations import RELU, ROBUST, active_neurons, prune_neurons


def _violation_by_rows(problem: Problem, Z: np.ndarray, eps: float) -> float:
    """max over groups i and rows j of eps ||z_i (features)||_1 - (2 D_ij - 1) x_j^T z_i, floored at 0."""
    worst = 0.0
    feats = problem.perturbable > 0
    for i in range(Z.shape[1]):
        need = eps * np.abs(Z[feats, i]).sum()
        for j in range(problem.n):
            s = 1.0 if problem.masks[j, i % problem.P] else -1.0
            worst = max(worst, need - s * float(problem.X[j] @ Z[:, i]))
    return worst


def test_relu_violation_covers_both_blocks():
    """M17: the violation of the first block only."""
    problem = small_problem(n=30, d=3, P=8, seed=2)
    rng = np.random.default_rng(1)
    V = np.zeros((3, 8))  # feasible
    W = rng.standard_normal((3, 8))  # not
    got = RELU.violation(problem, {"V": V, "W": W})
    assert got > 0 and got == pytest.approx(_violation_by_rows(problem, np.hstack([V, W]), 0.0), rel=1e-12)
    assert RELU.violation(problem, {"V": W, "W": V}) == got


def test_robust_violation_is_the_margin_on_the_whole_ball():
    """M09: the robust margin's sign flipped (eps ||z||_1 added to the margin instead of taken from it)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((25, 2))
    problem = Problem.create(X, rng.standard_normal(25), 0.1, patterns=6, seed=0, bias=True, epsilon=0.2)
    for scale in (0.01, 1.0):
        W = {"V": scale * rng.standard_normal((3, 6)), "W": scale * rng.standard_normal((3, 6))}
        Z = np.hstack([W["V"], W["W"]])
        expected = _violation_by_rows(problem, Z, 0.2)
        assert expected > 0 and ROBUST.violation(problem, W) == pytest.approx(expected, rel=1e-12)
    zero = np.zeros((3, 6))  # no violation at any radius
    assert ROBUST.violation(problem, {"V": zero, "W": zero}) == 0.0


def test_active_neurons_compare_squared_output_weights():
    """M14: |a| compared instead of |a|^2 (the group norm)."""
    assert active_neurons(np.array([1.0, 1e-4])) == 1  # 1e-8 <= 1e-6 x 1
    assert active_neurons(np.array([1.0, 1e-2, -1e-2])) == 3
    assert active_neurons(np.array([[1.0, 0.0], [0.0, 1e-4]])) == 1


def test_pruning_leaves_at_most_n_plus_one_neurons():
    """M16: pruning that stops above n + 1 nonzero groups (Pilanci & Ergen 2020, Theorem 1)."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((6, 3))
    G = rng.standard_normal((3, 40))
    problem = Problem.create(X, rng.standard_normal(6), 0.3, patterns=X @ G >= 0)
    V = G * rng.uniform(0.5, 2.0, 40)  # v_i = c_i g_i: feasible for pattern i, every group nonzero
    W = G * rng.uniform(0.5, 2.0, 40) * (rng.random(40) < 0.5)
    before = RELU.objective(problem, {"V": V, "W": W})
    V2, W2 = prune_neurons(problem, V, W)
    count = np.count_nonzero(np.linalg.norm(V2, axis=0)) + np.count_nonzero(np.linalg.norm(W2, axis=0))
    assert count <= problem.n + 1
    assert RELU.objective(problem, {"V": V2, "W": W2}) == pytest.approx(before, rel=1e-9)
    assert RELU.violation(problem, {"V": V2, "W": W2}) <= 1e-12
