"""The structured interior point (solvers/ipm.py) against independent references."""

import numpy as np
import pytest

from conftest import small_problem
from relubench.problem import Problem
from relubench.problem.instance import y_scale
from relubench.running.reference import reference_optimum, relative_gap
from relubench.running.solver import get_solver
from relubench.solvers.ipm import _NT, _soc_divide, _soc_jordan, _soc_step

INSTANCES = [(40, 4, 15, 0.1, 0), (30, 3, 10, 0.5, 1), (60, 3, 12, 0.2, 2), (100, 5, 20, 0.1, 3)]


def _interior(rng, k, m):
    u = rng.standard_normal((k, m))
    u[:, 0] = np.linalg.norm(u[:, 1:], axis=1) + rng.random(k) + 1e-3
    return u


def test_nesterov_todd_scaling_and_jordan_algebra():
    rng = np.random.default_rng(0)
    s, lam = _interior(rng, 6, 5), _interior(rng, 6, 5)
    nt = _NT(s.copy(), lam)
    W, Winv = nt.matrix(), nt.matrix(inverse=True)
    assert np.allclose(W @ Winv, np.eye(5), atol=1e-12)
    assert np.allclose(nt.apply(lam), nt.apply(s, inverse=True), atol=1e-12)  # W lam = W^-1 s
    x = rng.standard_normal((6, 5))
    assert np.allclose(nt.inv2(x), np.einsum("kij,kjl,kl->ki", Winv, Winv, x), atol=1e-10)
    r = rng.standard_normal((6, 5))
    assert np.allclose(_soc_jordan(nt.v, _soc_divide(nt.v, r)), r, atol=1e-10)
    du = rng.standard_normal((6, 5))
    a = _soc_step(s, du)
    edge = s + a * du
    assert np.min(edge[:, 0] - np.linalg.norm(edge[:, 1:], axis=1)) == pytest.approx(0.0, abs=1e-9)
    assert np.all((s + 0.99 * a * du)[:, 0] > np.linalg.norm((s + 0.99 * a * du)[:, 1:], axis=1))


@pytest.mark.parametrize("n,d,P,beta,seed", INSTANCES)
@pytest.mark.parametrize("formulation", ["relu", "gated"])
def test_reaches_the_clarabel_optimum(n, d, P, beta, seed, formulation):
    problem = small_problem(n=n, d=d, P=P, beta=beta, seed=seed)
    ref = reference_optimum(problem, formulation).value
    res = get_solver("ipm").solve(problem, formulation, tol=1e-6, time_limit=60)
    assert res.status == "optimal", res.message
    assert abs(relative_gap(res.objective, ref)) <= 1e-6, (res.objective, ref)
    assert res.max_violation <= 1e-6 * y_scale(problem.y)
    # the certified gap is an upper bound on the true gap, and the network of the solution has the same objective
    assert res.certified_gap is not None and res.certified_gap >= res.objective - ref - 1e-9 * abs(ref)
    if formulation == "relu":  # a gated solution's network has other activations: no such identity
        assert res.network_objective == pytest.approx(res.objective, rel=1e-9)
    assert res.trace[-1].objective == pytest.approx(res.objective, rel=1e-12)
    assert res.iterations <= 40


def test_all_patterns_optimum_is_the_global_one():
    # with every pattern enumerated the convex optimum is the network's global optimum: the enumerated reference
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((25, 2)), rng.standard_normal(25)
    problem = Problem.create(X, y, beta=0.05, patterns="all", bias=True)
    ref = reference_optimum(problem, "relu").value
    res = get_solver("ipm").solve(problem, "relu", tol=1e-6)
    assert res.status == "optimal"
    assert abs(relative_gap(res.objective, ref)) <= 1e-6


def test_limits_return_the_best_iterate_with_an_honest_status():
    problem = small_problem(n=80, d=4, P=20, beta=0.1, seed=4)
    res = get_solver("ipm", max_iter=4).solve(problem, "relu", tol=1e-8)
    assert res.status == "max_iter" and res.iterations == 4
    assert res.certified_gap > 1e-8 * abs(res.objective)
    assert res.trace[-1].objective == pytest.approx(res.objective, rel=1e-12)
    assert "iterate" in res.message


@pytest.mark.parametrize("space", ["variables", "rows"])
def test_a_factorization_breaking_down_mid_run_returns_the_best_iterate(monkeypatch, space):
    """Near the solution a Newton matrix may stop being numerically positive definite (700 x 12, P = 80 at tol
    1e-12 after 43 iterations): the run ends with status numerical_error and the reason, and returns its best
    iterate with a valid certificate, not a result without weights (what the raised error used to give)."""
    from relubench.errors import NumericalError
    from relubench.solvers import ipm

    problem = small_problem(n=80, d=4, P=20, beta=0.1, seed=4)
    ref = reference_optimum(problem, "relu").value
    cls = ipm._NewtonVariables if space == "variables" else ipm._Newton
    factor, calls = cls.factor, []

    def breaks_at_the_sixth(self, wlp, Winv):
        calls.append(1)
        if len(calls) == 6:
            raise NumericalError("ipm: the Newton matrix (test) is not positive definite")
        return factor(self, wlp, Winv)

    monkeypatch.setattr(cls, "factor", breaks_at_the_sixth)
    res = get_solver("ipm", newton=space).solve(problem, "relu", tol=1e-8)
    assert res.status == "numerical_error" and res.iterations == 5, (res.status, res.iterations)
    assert "(test) is not positive definite" in res.message and "iterate" in res.message
    assert res.weights is not None and res.trace
    assert res.certified_gap >= res.objective - ref - 1e-9 * abs(ref)


@pytest.mark.parametrize("space", ["rows", "variables"])
def test_newton_matrices_that_do_not_fit_are_refused_with_a_result(monkeypatch, space):
    """Nothing n x n (or N x N) is formed that the machine cannot hold: the setup refuses from its estimate and
    the result says so (status memory), as for every backend."""
    import relubench.resources as resources

    problem = small_problem(n=60, d=3, P=6)
    monkeypatch.setattr(resources, "available_memory", lambda: 1_000)
    res = get_solver("ipm", newton=space).solve(problem, "relu", tol=1e-6)
    assert res.status == "memory" and res.weights is None, (res.status, res.message)
    assert "needs about" in res.message and ("Schur complement" in res.message) == (space == "rows")


def test_dense_factorizations_beyond_the_crash_size_are_refused(monkeypatch):
    """OpenBLAS's Cholesky segfaults from about 16000 unknowns here: ipm refuses (one line) rather than crash."""
    from relubench.errors import InputError
    from relubench.solvers import ipm

    monkeypatch.setattr(ipm, "DENSE_MAX", 20)
    with pytest.raises(InputError, match="segmentation fault"):
        get_solver("ipm", newton="variables").solve(small_problem(n=60, d=3, P=8), "relu", tol=1e-6)
    assert not ipm._NewtonVariables.preferred(60, 3, 8, True)  # 24 unknowns: auto does not pick it


def test_bad_options_are_refused():
    from relubench.errors import InputError

    problem = small_problem(n=30, d=3, P=5, beta=0.1, seed=0)
    with pytest.raises(InputError):
        get_solver("ipm", max_iter=0).solve(problem, "relu")
    with pytest.raises(InputError):
        get_solver("ipm", proximal=-1.0).solve(problem, "relu")
