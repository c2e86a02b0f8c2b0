"""Every conic backend agrees with every other one; results are recomputed from the returned weights."""

import inspect

import numpy as np
import pytest

from conftest import small_problem
from relubench.errors import InputError
from relubench.running.solver import get_solver, solver_class, solver_names

# every backend that solves the conic program as a conic solver does (native APIs and the cvxpy routes), from the
# registry: a new route joins these tests by being registered in one of those modules
CONIC_MODULES = {"relubench.solvers.conic_native", "relubench.solvers.cvxpy_routes"}
CONIC = [n for n in solver_names() if solver_class(n).__module__ in CONIC_MODULES]


@pytest.mark.parametrize("formulation", ["relu", "gated"])
@pytest.mark.parametrize(
    "seed,n,d,P,beta,bias", [(0, 40, 4, 15, 0.1, False), (1, 60, 3, 25, 0.01, True), (2, 30, 6, 10, 1.0, False)]
)
def test_backends_agree(formulation, seed, n, d, P, beta, bias):
    problem = small_problem(n=n, d=d, P=P, beta=beta, seed=seed, bias=bias)
    values = {}
    for name in CONIC:
        if not solver_class(name).available()[0]:
            continue
        res = get_solver(name).solve(problem, formulation, tol=1e-9)
        assert res.status == "optimal", (name, res.message)
        if formulation == "relu":
            assert res.max_violation < 1e-6
        values[name] = res.objective
    ref = values["clarabel"]
    for name, v in values.items():
        assert abs(v - ref) <= 1e-5 * abs(ref), (name, v, ref)
    assert len(values) >= 5


def test_gated_optimum_is_below_relu_optimum():
    # dropping the cone constraints can only lower the optimum (same patterns)
    problem = small_problem(seed=4)
    relu = get_solver("clarabel").solve(problem, "relu", tol=1e-9).objective
    gated = get_solver("clarabel").solve(problem, "gated", tol=1e-9).objective
    assert gated <= relu + 1e-8


def test_mosek_without_licence_is_unavailable_not_failed(monkeypatch):
    monkeypatch.setenv("MOSEKLM_LICENSE_FILE", "/nonexistent/mosek.lic")
    cls = solver_class("mosek")
    ok, why = cls.available()
    if ok:
        pytest.skip("a MOSEK licence is installed here")
    assert why == "no MOSEK licence"
    res = get_solver("mosek").solve(small_problem(), "relu")
    assert res.status == "unavailable" and res.message == "unavailable: no MOSEK licence"


def test_setup_reported_apart_and_time_limit_respected():
    problem = small_problem(n=300, d=10, P=60, seed=1)
    limit = 0.2
    res = get_solver("clarabel").solve(problem, "relu", tol=1e-8, time_limit=limit)
    assert res.setup_s > 0  # the conic data and Clarabel's setup, not charged to the limit
    # it needs about 26 iterations of ~40 ms here: a limit of 0.2 s stops it, or it finishes inside the limit
    assert res.status in ("time_limit", "optimal"), (res.status, res.iterations)
    if res.status == "optimal":
        assert res.solve_s <= limit
    # Clarabel looks at its clock once per iteration: the limit plus 20 % and one of its iterations (at most 0.1 s)
    assert 0 < res.solve_s <= 1.2 * limit + min(res.solve_s / res.iterations, 0.1), (res.solve_s, res.iterations)
    assert np.isfinite(res.objective)


@pytest.mark.parametrize("formulation", ["relu", "gated"])
def test_direct_csc_assembly_equals_sparse_stacking(formulation):
    from dense_reference import build_by_stacking

    from relubench.problem.conic import build

    problem = small_problem(n=35, d=4, P=9, seed=8, bias=True)
    A = build(problem, formulation).A
    B = build_by_stacking(problem, formulation)
    assert A.shape == B.shape and A.has_sorted_indices
    assert abs(A - B).max() == 0.0


# every available backend with a setup of its own (a generator _solve), from the registry
SPLIT = [
    n
    for n in solver_names()
    if inspect.isgeneratorfunction(solver_class(n)._solve) and solver_class(n).available()[0]
]
# short runs: the cap on iterations each declares
SHORT = {"max_iter": 50, "max_outer": 5, "epochs": 30, "max_iters": 2000}


@pytest.mark.parametrize("name", SPLIT)
def test_setup_apart_from_solve_is_the_setup_the_result_reports(name):
    """Solver.setup times the work before the first iteration; a solve from it reports exactly that as setup_s,
    does not set up again and ends where a solve that sets up itself ends."""
    problem = small_problem(n=40, d=4, P=12, seed=3)
    cls = solver_class(name)
    formulation = next(f for f in ("relu", "gated", "nonconvex") if f in cls.capabilities.formulations)
    options = {k: v for k, v in SHORT.items() if k in cls.capabilities.options}
    solver = get_solver(name, **options)
    prepared = solver.setup(problem, formulation, tol=1e-6)
    assert prepared.seconds > 0 and prepared.run is not None and prepared.result is None
    res = solver.solve(problem, formulation, tol=1e-6, prepared=prepared)
    if name.startswith("cvxpy-"):  # plus the setup its solver reports doing inside cvxpy's solve call
        assert res.setup_s >= prepared.seconds
    else:
        assert res.setup_s == prepared.seconds
    assert res.solve_s > 0 and len(res.trace) >= 1
    plain = get_solver(name, **options).solve(problem, formulation, tol=1e-6)
    assert plain.setup_s > 0
    assert res.status == plain.status and res.iterations == plain.iterations
    assert res.objective == pytest.approx(plain.objective, rel=1e-9, abs=1e-12)
    with pytest.raises(InputError, match="runs once"):
        solver.solve(problem, formulation, tol=1e-6, prepared=prepared)


def test_cvxpy_scs_reports_the_factorization_scs_does_inside_its_call_as_setup():
    """SCS factorizes inside cvxpy's solve call and its time limit does not count that: the route reports it in
    setup_s (beyond what Solver.setup timed), not in solve_s or the trace, so solve_s stays within the limit."""
    problem = small_problem(n=200, d=8, P=40, seed=2)
    solver = get_solver("cvxpy-scs")
    prepared = solver.setup(problem, "relu", tol=1e-12, time_limit=0.2)
    res = solver.solve(problem, "relu", tol=1e-12, time_limit=0.2, prepared=prepared)
    inner = res.setup_s - prepared.seconds
    assert inner > 0 and f"solver setup {inner:.3f} s" in res.message
    assert res.trace and res.trace[-1].seconds <= res.solve_s + 1e-3
    assert res.solve_s <= 0.2 + 0.5


def test_a_prepared_solve_builds_its_conic_data_once_and_only_for_its_own_arguments(monkeypatch):
    from relubench.solvers import conic_native

    calls = []
    original = conic_native.build
    monkeypatch.setattr(conic_native, "build", lambda *a: calls.append(a) or original(*a))
    problem, other = small_problem(seed=5), small_problem(seed=6)
    solver = get_solver("clarabel")
    prepared = solver.setup(problem, "relu", tol=1e-8)
    assert len(calls) == 1
    for args in [(other, "relu", 1e-8), (problem, "gated", 1e-8), (problem, "relu", 1e-6)]:
        with pytest.raises(InputError, match="set up for another"):
            solver.solve(*args, prepared=prepared)
    with pytest.raises(InputError, match="another"):
        get_solver("scs").solve(problem, "relu", tol=1e-8, prepared=prepared)
    res = solver.solve(problem, "relu", tol=1e-8, prepared=prepared)
    assert len(calls) == 1 and res.status == "optimal"


def test_isolated_backend_times_its_setup_in_its_own_process():
    # ECOS has no time limit of its own: with one it runs in a separate process, which sets up and times it there
    problem = small_problem(seed=7)
    res = get_solver("cvxpy-ecos").solve(problem, "relu", tol=1e-8, time_limit=30)
    assert res.status == "optimal" and res.setup_s > 0 and res.solve_s > 0
