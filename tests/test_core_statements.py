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


def test_reached_counts_points_below_f_star_by_their_distance():
    """M30: a point below f* (infeasible, or a relaxation's) counted as reached whatever its distance."""
    from relubench.running.metrics import reached

    assert reached(1.005, 0.0, 1.0, 1e-2, 1.0) and reached(0.995, 0.0, 1.0, 1e-2, 1.0)
    assert not reached(0.9, 0.0, 1.0, 1e-2, 1.0)  # 10 % below f*
    assert not reached(1.0, 0.02, 1.0, 1e-2, 1.0)  # on f* but too infeasible
    assert reached(1.0, 0.02, 1.0, 1e-2, 3.0)  # the violation is relative to max|y|


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
def test_each_loss_ascent_direction_increases_the_loss(loss):
    """M28: the squared loss's attack direction flipped (towards the target)."""
    from relubench.problem.losses import get_loss

    rng = np.random.default_rng(4)
    y = rng.choice([-1.0, 1.0], 50) if loss != "squared" else rng.standard_normal(50)
    pred = (y if loss == "squared" else 0.3 * y) + 0.1 * rng.standard_normal(50)  # hinge margins below 1
    L = get_loss(loss)
    up = L.pointwise(pred + 1e-3 * L.ascent(pred, y), y)
    assert (up > L.pointwise(pred, y)).all()


def test_time_to_certified_needs_the_violation_target_too():
    """M31, M32: time to a certified gap that ignores the violation, or the run's own violation target."""
    from relubench.running.metrics import time_to_certified
    from relubench.running.result import Result, TracePoint

    trace = [
        TracePoint(1.0, 10.0, max_violation=0.5, certified_gap=1e-3),  # certified gap small, far from feasible
        TracePoint(2.0, 10.0, max_violation=5e-3, certified_gap=1e-3),
        TracePoint(3.0, 10.0, max_violation=1e-5, certified_gap=1e-3),
    ]
    res = Result("x", "relu", "max_iter", trace=trace)
    assert time_to_certified(res, 1e-3, 2.0) == 3.0  # violation <= 1e-3 x max|y| = 2e-3 first at 3 s
    assert time_to_certified(res, 1e-3, 2.0, violation_tol=1e-2) == 2.0  # a looser violation target
    assert time_to_certified(res, 1e-5, 2.0) == float("inf")


@pytest.mark.parametrize("kind", ["sampled", "all", "bias", "outputs", "given"])
def test_the_certificates_feasible_point_is_feasible_and_near(kind):
    """feasible_point: the repaired point satisfies every cone constraint, moves little from a nearly feasible
    point, and feasible_objective is its objective; the cone directions lie inside their cones."""
    from relubench.problem.formulations import feasible_objective, feasible_point

    rng = np.random.default_rng(6)
    X = rng.standard_normal((40, 3 if kind != "all" else 2))
    y = rng.standard_normal((40, 2)) if kind == "outputs" else rng.standard_normal(40)
    patterns = {"all": "all", "given": X @ rng.standard_normal((X.shape[1], 12)) >= 0}.get(kind, 12)
    problem = Problem.create(X, y, 0.1, patterns=patterns, seed=0, bias=kind == "bias")
    G = problem.cone_directions(np.arange(problem.groups))  # group k P + i: pattern i's direction
    assert (problem.group_signs * (problem.X @ G) >= -1e-12).all()  # inside their cones
    Z = 0.3 * rng.standard_normal((problem.d, 2 * problem.groups))
    Zf, XZf = feasible_point(problem, Z, problem.X @ Z)
    assert RELU.violation(problem, RELU.split(Zf)) <= 1e-12 * float(np.abs(XZf).max())
    np.testing.assert_allclose(XZf, problem.X @ Zf, atol=1e-12)
    assert feasible_objective(problem, Z, problem.X @ Z) == pytest.approx(RELU.objective(problem, RELU.split(Zf)))
    # a point 1e-6 outside its cones is repaired by a move of the same order
    sol = 0.5 * np.hstack([G, G])  # feasible: positive multiples of the directions
    near = sol + 1e-6 * rng.standard_normal(sol.shape)
    Zn, _ = feasible_point(problem, near, problem.X @ near)
    assert np.abs(Zn - near).max() <= 1e-4


def test_time_to_tolerance_counts_the_first_trace_point():
    """M36: time to tolerance that skips the first point of the trace."""
    from relubench.running.metrics import time_to_tolerance
    from relubench.running.result import Result, TracePoint

    res = Result("x", "relu", "optimal", trace=[TracePoint(0.5, 1.0), TracePoint(1.0, 1.0)])
    assert time_to_tolerance(res, 1.0, 1e-6, 1.0) == 0.5


def test_optimal_with_a_violation_above_tol_becomes_inaccurate():
    """M37: relubench's check of the violation on a wrapped library's "optimal" point, made 100x looser."""
    from relubench.running.result import Result
    from relubench.running.solver import Capabilities, Solver

    class Claims(Solver):  # a library whose stopping test ignores a violation of 10 tol max|y|
        name = "test-claims"
        family = "baseline"
        capabilities = Capabilities(formulations=("relu",), benchmark=False)

        def _solve(self, problem, formulation, tol, time_limit, callback):
            V = problem.cone_directions(np.arange(problem.P))
            W = -V * 1e-9  # off its cones by about 1e-9 max |x^T g|
            return Result(self.name, formulation, "optimal", weights={"V": V, "W": W})

    problem = small_problem(n=30, d=3, P=6, seed=1)
    ymax = float(np.abs(problem.y).max())
    viol = Claims().solve(problem, "relu", tol=1.0).max_violation
    assert viol > 0
    res = Claims().solve(problem, "relu", tol=viol / (3 * ymax))  # violation 3 x tol max|y|
    assert res.status == "inaccurate" and "constraint violation" in res.message
    assert Claims().solve(problem, "relu", tol=3 * viol / ymax).status == "optimal"  # within tol max|y|: kept
