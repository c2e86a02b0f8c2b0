"""The peer library scnn as backends (solvers/scnn_peer.py): the scaling lam = beta / (n c) checked against scnn's
own objective, the optima against Clarabel on the same patterns, the weight layout with several outputs, the
time limit, the global state it must not leave changed, and "unavailable" with a reason."""

from __future__ import annotations

import importlib.metadata
import logging

import numpy as np
import pytest

from relubench.datasets import load_dataset
from relubench.problem import Problem
from relubench.problem.formulations import get_formulation
from relubench.running.solver import get_solver
from relubench.solvers import scnn_peer

ok, why = scnn_peer.scnn_available()
pytestmark = pytest.mark.skipif(not ok, reason=f"pyscnn unavailable: {why}")


def _problem(outputs: int = 1, n: int = 80, d: int = 4, P: int = 10, beta: float = 0.5) -> Problem:
    ds = load_dataset("gaussian", n=n, d=d, seed=0)
    y = ds.y_train if outputs == 1 else np.c_[ds.y_train, -ds.y_train + 0.3 * ds.X_train[:, 0]]
    return Problem.create(ds.X_train, y, beta, patterns=P, seed=0)


def _scnn_objective(problem: Problem, Z: np.ndarray) -> float:
    """scnn's own objective (its ConvexMLP with NeuronGL1(beta / (n c))) at relubench's gated weights (d, c P)."""
    from scnn.private.interface import build_internal_regularizer, set_device
    from scnn.private.models import ConvexMLP
    from scnn.regularizers import NeuronGL1

    c = problem.outputs
    set_device("cpu", "float64", 0)
    reg = build_internal_regularizer(NeuronGL1(problem.beta / (problem.n * c)))
    model = ConvexMLP(problem.d, problem.masks.astype(float), np.zeros((problem.d, problem.P)), "einsum", reg, c=c)
    model.weights = Z.reshape(problem.d, c, -1).transpose(1, 2, 0)  # (c, P, d)
    return float(model.objective(problem.X, problem.y.reshape(problem.n, c)))


@pytest.mark.parametrize("outputs", [1, 2])
def test_scaling_is_scnns_objective_times_n_c(outputs: int) -> None:
    """relubench's objective = n c x scnn's at the same weights and masks (lam = beta / (n c)): the optima agree."""
    problem = _problem(outputs)
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((problem.d, problem.outputs * problem.P))
    ours = get_formulation("gated").objective(problem, {"U": Z})
    assert ours == pytest.approx(problem.n * outputs * _scnn_objective(problem, Z), rel=1e-12)


@pytest.mark.parametrize("outputs", [1, 2])
def test_scnn_fista_reaches_clarabels_gated_optimum_on_the_same_patterns(outputs: int) -> None:
    problem = _problem(outputs)
    ref = get_solver("clarabel").solve(problem, "gated", tol=1e-10)
    res = get_solver("scnn-fista").solve(problem, "gated", tol=1e-7, time_limit=60)
    assert res.status == "optimal" and "scnn's own stopping test" in res.message
    assert abs(res.objective - ref.objective) <= 1e-6 * abs(ref.objective)
    # the weights sit in relubench's layout: output k's groups are columns k P .. k P + P - 1
    np.testing.assert_allclose(res.weights["U"], ref.weights["U"], atol=1e-3 * np.abs(ref.weights["U"]).max())
    assert len(res.trace) >= 2 and res.trace[-1].objective == pytest.approx(res.objective)


def test_scnn_al_on_the_relu_program_with_the_same_patterns() -> None:
    """scnn's AL converges to Clarabel's relu optimum; its own test stops it about 1e-5 away (measured: +1.0e-5 at
    scnn tol 1e-12 with 10^5 inner iterations; +2.7e-4 at 1e-8), so the check is 1e-3 here and 1e-4 by scaling:
    the relu objective equals scnn's gated objective on the masks (D | D) with weights (V | -W)."""
    problem = _problem()
    ref = get_solver("clarabel").solve(problem, "relu", tol=1e-10)
    res = get_solver("scnn-al").solve(problem, "relu", tol=1e-4, time_limit=60)
    assert res.status in ("optimal", "inaccurate") and abs(res.objective - ref.objective) <= 1e-3 * ref.objective
    assert res.max_violation <= 1e-3 * np.abs(problem.y).max()
    doubled = Problem.create(problem.X, problem.y, problem.beta, patterns=np.c_[problem.masks, problem.masks])
    V, W = ref.weights["V"], ref.weights["W"]
    assert ref.objective == pytest.approx(problem.n * _scnn_objective(doubled, np.c_[V, -W]), rel=1e-12)


@pytest.mark.parametrize("outputs", [1, 3])
def test_relu_weights_come_back_in_relubenchs_layout_and_scaling(outputs: int) -> None:
    """The adapter's reading of scnn's relu weights (2, c, P, d) -> V, W (d, c P), and lam = beta / (n c): scnn's
    objective of its weights (its gated model on the masks (D | D) with weights (V | -W), output by output) times
    n c is relubench's relu objective of the weights read back, to 1e-12."""
    problem = _problem(outputs) if outputs == 1 else _problem(1)
    if outputs > 1:
        ds = load_dataset("iris", multiclass=True)
        problem = Problem.create(ds.X_train, ds.y_train, 0.5, patterns=6, seed=0)
    c, P, d = problem.outputs, problem.P, problem.d
    raw = np.random.default_rng(2).standard_normal((2, c, P, d))
    weights = scnn_peer.ScnnAL()._weights(problem, raw, "relu")
    assert weights["V"].shape == weights["W"].shape == (d, c * P)
    for k in range(c):  # column k P + i holds output k, pattern i
        np.testing.assert_array_equal(weights["V"][:, k * P : (k + 1) * P], raw[0, k].T)
    doubled = Problem.create(problem.X, problem.y, problem.beta, patterns=np.c_[problem.masks, problem.masks])
    both = np.concatenate([raw[0], -raw[1]], axis=1)  # (c, 2P, d)
    theirs = _scnn_objective(doubled, both.transpose(2, 0, 1).reshape(d, -1))
    ours = get_formulation("relu").objective(problem, weights)
    assert ours == pytest.approx(problem.n * c * theirs, rel=1e-12)


def test_time_limit_stops_scnn_and_global_state_is_restored() -> None:
    problem = _problem(n=200, P=30)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    root, handlers = logging.getLogger().level, list(logging.getLogger().handlers)
    scnn_level = logging.getLogger("scnn").level
    res = get_solver("scnn-al").solve(problem, "relu", tol=1e-9, time_limit=0.5)
    assert res.status == "time_limit" and res.solve_s <= 0.5 + 0.5, res.message
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # scnn reseeds numpy: restored
    assert logging.getLogger().level == root and logging.getLogger().handlers == handlers
    assert logging.getLogger("scnn").level == scnn_level


def test_other_versions_are_unavailable_with_the_reason(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.9")
    res = get_solver("scnn-fista").solve(_problem(), "gated", tol=1e-4)
    assert res.status == "unavailable" and "pyscnn 0.0.9 installed" in res.message


def test_scnn_runs_in_a_sweep_case_under_its_memory_cap(tmp_path) -> None:  # noqa: ANN001
    """A case's process caps its data segment; pyscnn imports torch, whose CUDA build maps gigabytes of files it
    never uses (an address-space cap made both backends "unavailable" in every sweep)."""
    import pandas as pd

    from relubench.bench.config import load_config
    from relubench.bench.sweep import run_sweep

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'name = "s"\nsolvers = ["scnn-fista", "scnn-al"]\nmemory_limit_mb = 1500\ntime_limit = 30\n'
        '[[datasets]]\nname = "gaussian"\nsizes = [[60, 3, 6]]\nbeta = 0.5\n'
    )
    run_sweep(load_config(cfg), tmp_path / "r.parquet", jobs=2, progress=False)
    df = pd.read_parquet(tmp_path / "r.parquet").set_index("solver")
    assert set(df.index) == {"scnn-fista", "scnn-al"}
    assert (df["status"] != "unavailable").all() and (df["status"] != "memory").all(), df["message"].tolist()
    assert df.loc["scnn-fista", "status"] == "optimal" and abs(df.loc["scnn-fista", "relative_gap"]) <= 1e-4


def test_scnns_own_relu_program_has_relubenchs_optimum_on_the_same_patterns() -> None:
    """scnn's relu program as scnn itself states it (its public ConvexReLU model on our gates, solved by its cvxpy
    route with ECOS, an interior point it supports): the weights it returns, placed on our masks, have relubench's
    optimum to 1e-6. scnn draws patterns as 1[X g > 0], de-duplicates and sorts them: on these gates (no X g
    exactly 0) they are our masks."""
    from scnn.metrics import Metrics
    from scnn.models import ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import CVXPYSolver

    problem = _problem()
    assert problem.gates is not None and (problem.X @ problem.gates != 0).all()
    ref = get_solver("clarabel").solve(problem, "relu", tol=1e-10)
    model = ConvexReLU(problem.gates)
    state = np.random.get_state()
    ecos = CVXPYSolver(model, "ecos", solver_kwargs={"abstol": 1e-9, "reltol": 1e-9, "feastol": 1e-9})
    model, _ = optimize_model(
        model, ecos, Metrics(), problem.X, problem.y,
        regularizer=NeuronGL1(problem.beta / problem.n), return_convex=True, unitize_data=False, dtype="float64",
    )  # fmt: skip
    np.random.set_state(state)
    theirs = problem.X @ model.G > 0  # scnn's patterns, in its order
    column = {m.tobytes(): i for i, m in enumerate(problem.masks.T)}
    assert sorted(column) == sorted(m.tobytes() for m in theirs.T)  # the same set of patterns
    order = [column[m.tobytes()] for m in theirs.T]
    V, W = (np.zeros((problem.d, problem.P)) for _ in range(2))
    V[:, order], W[:, order] = np.asarray(model.parameters[0])[0].T, np.asarray(model.parameters[1])[0].T
    weights = {"V": V, "W": W}
    relu = get_formulation("relu")
    assert relu.violation(problem, weights) <= 1e-6 * np.abs(problem.y).max()
    assert relu.objective(problem, weights) == pytest.approx(ref.objective, rel=1e-6)
