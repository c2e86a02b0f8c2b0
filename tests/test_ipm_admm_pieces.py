"""The interior point and ADMM split into named pieces: whole runs equal those recorded from the code before the
split (tests/data/split_runs.json, to 1e-10), and each piece does what its docstring says."""

import json
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from conftest import small_problem
from relubench.running.solver import get_solver
from relubench.solvers import admm as admm_mod
from relubench.solvers import ipm as ipm_mod

RUNS = json.loads((Path(__file__).parent / "data" / "split_runs.json").read_text())["runs"]


@pytest.mark.parametrize("run", RUNS, ids=[f"{r['solver']}-{r['formulation']}-{r['iterations']}" for r in RUNS])
def test_whole_runs_equal_the_code_before_the_split(run):
    with threadpool_limits(1):  # as recorded: BLAS summation order depends on the thread count
        res = get_solver(run["solver"], **run["options"]).solve(
            small_problem(**run["problem"]), run["formulation"], tol=run["tol"]
        )
    assert (res.status, res.iterations) == (run["status"], run["iterations"])
    got = np.array([[p.objective, p.max_violation] for p in res.trace])
    want = np.array([t[:2] for t in run["trace"]])
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for key, w in run["weights"].items():
        np.testing.assert_allclose(res.weights[key], np.asarray(w), rtol=1e-10, atol=1e-12)


def _newton(relu=True, seed=0, space=None):
    problem = small_problem(n=12, d=3, P=4, seed=seed)
    cls = ipm_mod._NewtonVariables if space == "variables" else ipm_mod._Newton
    return problem, cls(problem.X, problem.mask_float, problem.signs, relu, 1e-3)


@pytest.mark.parametrize("space", ["rows", "variables"])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("in_place", [False, True])
def test_ipm_reduced_solve_is_the_dense_solve(relu, space, in_place, monkeypatch):
    """factor + solve_reduced solve (H + delta I + E'E) x = b, H = blkdiag(W_g^-2 + diag(0, X' diag(w_g) X)),
    through the n x n Schur complement (rows) or the variables' Gram matrix (variables; relu: each pattern's own
    unknowns eliminated first), with the Cholesky factorizations of numpy or (large matrices) scipy in place."""
    if in_place:
        monkeypatch.setattr(ipm_mod, "CHOL_IN_PLACE_BYTES", 0)
    problem, kkt = _newton(relu, space=space)
    rng = np.random.default_rng(1)
    n, d, K = kkt.n, kkt.d, kkt.K
    A = rng.standard_normal((K, d + 1, d + 1))
    Winv = A @ A.transpose(0, 2, 1) + np.eye(d + 1)  # symmetric positive definite blocks
    wlp = rng.uniform(0.5, 2.0, (n, K)) if relu else None
    kkt.factor(wlp, Winv)
    if in_place and space == "variables":  # the factor lies in the matrix's own buffer (no copy of N^2 doubles)
        assert kkt.Af.base is not None and kkt.Af.flags.f_contiguous
    bz, bt = rng.standard_normal((d, K)), rng.standard_normal(K)
    dZ, dt = kkt.solve_reduced(bz, bt)
    # dense: variables ordered (t_g, z_g) per group
    H = np.zeros((K * (d + 1), K * (d + 1)))
    Emat = np.zeros((n, K * (d + 1)))
    for g in range(K):
        sl = slice(g * (d + 1), (g + 1) * (d + 1))
        block = Winv[g] @ Winv[g] + kkt.delta * np.eye(d + 1)
        if relu:
            block[1:, 1:] += problem.X.T @ (wlp[:, g, None] * problem.X)
        H[sl, sl] = block
        Emat[:, g * (d + 1) + 1 : (g + 1) * (d + 1)] = kkt.Msig[:, g, None] * problem.X
    b = np.concatenate([np.r_[bt[g], bz[:, g]] for g in range(K)])
    x = np.linalg.solve(H + Emat.T @ Emat, b).reshape(K, d + 1)
    np.testing.assert_allclose(dt, x[:, 0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dZ, x[:, 1:].T, rtol=1e-8, atol=1e-10)


def test_ipm_centrality_and_max_step():
    rng = np.random.default_rng(2)
    K, d, n = 5, 3, 4
    e = np.zeros((K, d + 1))
    e[:, 0] = 1.0
    lp = np.ones((n, K))
    mu, cent = ipm_mod._centrality(K + n * K, e, e, lp, lp)  # s = lam = identity: on the central path
    assert mu == pytest.approx(1.0) and cent == pytest.approx(1.0)
    pt = ipm_mod._Point(None, None, None, e.copy(), e.copy(), lp.copy(), lp.copy())
    ds = rng.standard_normal((K, d + 1))
    a = ipm_mod._max_step(pt, ds, np.zeros_like(ds), np.zeros_like(lp), np.zeros_like(lp))
    edge = e + a * ds  # on the boundary of the second-order cones: smallest eigenvalue t - ||x|| = 0 for one block
    assert float(np.min(ipm_mod._soc_min_eig(edge))) == pytest.approx(0.0, abs=1e-9)
    assert float(np.min(ipm_mod._soc_min_eig(e + 0.99 * a * ds))) > 0


def test_ipm_initial_point_is_interior_and_a_step_keeps_it_central():
    problem, kkt = _newton(relu=True, seed=5)
    pt = ipm_mod._initial_point(kkt, problem.y, problem.beta)
    for u in (pt.s_soc, pt.lam_soc):
        assert float(np.min(ipm_mod._soc_min_eig(u))) > 0  # strictly inside the second-order cones
    assert float(pt.s_lp.min()) > 0 and float(pt.lam_lp.min()) > 0
    np.testing.assert_allclose(pt.XZ, problem.X @ pt.Z)
    degree = kkt.K + kkt.n * kkt.K
    res = ipm_mod._residuals(kkt, pt, problem.y, problem.beta)
    mu, cent = ipm_mod._centrality(degree, pt.s_soc, pt.lam_soc, pt.s_lp, pt.lam_lp)
    sc = ipm_mod._scale_and_factor(kkt, pt, res)
    new, a, sigma = ipm_mod._step(kkt, sc, pt, mu, cent, degree, 8, 1.0, False)
    assert 0 < a <= 1 and 0 <= sigma <= 1
    mu_new, cent_new = ipm_mod._centrality(degree, new.s_soc, new.lam_soc, new.s_lp, new.lam_lp)
    assert mu_new < mu and cent_new >= min(ipm_mod.CENTRALITY, 0.5 * cent)  # closer to optimal, still central
    # the primal residual shrinks by the step: r_p(new) = (1 - a) r_p (the linear part of the Newton step)
    res_new = ipm_mod._residuals(kkt, new, problem.y, problem.beta)
    np.testing.assert_allclose(res_new.rp_soc, (1 - a) * res.rp_soc, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(res_new.rp_lp, (1 - a) * res.rp_lp, rtol=1e-6, atol=1e-8)


def _admm_state(relu=True):
    problem = small_problem(n=30, d=3, P=6, seed=4)
    ops = admm_mod._Ops(None)
    st = admm_mod._State.start(ops, problem, relu, 2.0, 1.0, 1.6, np.float32)
    for it in range(1, 41):
        st.iterate(problem.beta, it == 40)
    return problem, st


def test_admm_set_rho_keeps_the_unscaled_duals_and_the_slack():
    problem, st = _admm_state()
    duals = st.rho * st.Lam
    nu = st.rho * st.H / st.alpha  # rho N: the slack's unscaled multiplier
    s = st.T - st.H / st.alpha  # Sig o s
    assert st.set_rho(3.0 * st.rho) and not st.set_rho(st.rho)
    np.testing.assert_allclose(st.rho * st.Lam, duals, rtol=1e-12)
    np.testing.assert_allclose(st.rho * st.H / st.alpha, nu, rtol=1e-5)
    np.testing.assert_allclose(st.T - st.H / st.alpha, s, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st.XtN, (st.H.T.astype(float) @ problem.X).T / st.alpha, rtol=1e-4, atol=1e-6)


def test_admm_promote_moves_the_state_to_double_and_keeps_its_values():
    problem, st = _admm_state()
    T, H = st.T.copy(), st.H.copy()
    assert st.T.dtype == np.float32
    st.promote()
    assert st.T.dtype == st.H.dtype == st.LO.dtype == np.float64 and st.Xs is problem.X
    np.testing.assert_array_equal(st.T, T.astype(float))
    np.testing.assert_array_equal(st.H, H.astype(float))
    st.iterate(problem.beta, True)  # the next iteration runs in double precision
    r = st.residuals(problem.y, problem.beta)
    assert st.T.dtype == np.float64 and np.isfinite(r.obj) and r.r_pri >= 0 and r.dim_p > r.dim_d


def test_admm_residuals_vanish_at_a_fixed_point():
    """At a point where the iteration no longer moves, the primal and dual residuals are zero (gated)."""
    problem, st = _admm_state(relu=False)
    for it in range(3000):
        st.iterate(problem.beta, True)
    r = st.residuals(problem.y, problem.beta)
    assert r.r_pri <= 1e-8 * r.pri_scale and r.r_dual <= 1e-8 * max(r.dual_scale, 1.0)


@pytest.mark.parametrize("formulation", ["relu", "gated"])
def test_ipm_in_variable_space_reaches_the_independent_optimum(formulation):
    """The variable-space Newton systems (newton="variables") solve the program: against the term-by-term cvxpy
    model, all patterns, certified."""
    from independent_models import gated_optimum, relu_optimum

    from relubench.problem import Problem

    rng = np.random.default_rng(9)
    X = rng.standard_normal((60, 2))
    y = np.maximum(X @ [1.0, -1.0], 0) + 0.1 * rng.standard_normal(60)
    problem = Problem.create(X, y, 0.2, patterns="all")
    ref = (relu_optimum if formulation == "relu" else gated_optimum)(problem.X, problem.y, problem.beta, problem.masks)
    res = get_solver("ipm", newton="variables").solve(problem, formulation, tol=1e-7)
    assert res.status == "optimal" and res.certified_gap <= 1e-7 * abs(res.objective)
    assert res.objective == pytest.approx(ref, rel=1e-7)
    assert "variables" in res.message
