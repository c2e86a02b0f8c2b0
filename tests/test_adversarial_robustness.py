"""Robustness: the robust program's certificate against attacks, its reduction at eps = 0, the one-step attack's
||x|| / sqrt(d) scaling on random networks, the hinge loss, and the CLI's save/attack round trip."""

import itertools
import json

import numpy as np
import pytest
from independent_models import relu_optimum

from relubench.cli import main
from relubench.problem import Problem
from relubench.problem.formulations import get_formulation, nonconvex_objective, robust_losses
from relubench.running.attacks import network_output, one_step_sizes, pgd_attack, random_network
from relubench.running.solver import get_solver


def labelled(seed: int, n: int = 30, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    X = r.standard_normal((n, d))
    return X, np.where(X[:, 0] - 0.5 * X[:, 1] + 0.3 * r.standard_normal(n) >= 0, 1.0, -1.0)


def vertex_worst(problem: Problem, U: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Exact worst-case per-point loss of the network over the l_inf ball when it is linear there: a convex
    function of delta is largest at a vertex, so enumerate all 2^d' vertices (d' perturbable columns)."""
    eps, pm = problem.epsilon, problem.perturbable.astype(bool)
    worst = np.full(problem.n, -np.inf)
    for signs in itertools.product((-1.0, 1.0), repeat=int(pm.sum())):
        delta = np.zeros(problem.d)
        delta[pm] = eps * np.array(signs)
        f = network_output(problem.X + delta, U, a)
        loss = 0.5 * (f - problem.y) ** 2 if problem.loss == "squared" else np.maximum(0, 1 - problem.y * f)
        worst = np.maximum(worst, loss)
    return worst


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("loss", ["squared", "hinge"])
def test_no_attack_beats_the_robust_certificate(seed, loss):
    X, y = labelled(seed)
    eps = 0.05 + 0.05 * seed
    pb = Problem.create(X, y, 0.3, patterns=8, seed=seed, bias=True, loss=loss, epsilon=eps)
    res = get_solver("cvxpy-clarabel").solve(pb, "robust", tol=1e-9)
    assert res.status == "optimal" and res.max_violation <= 1e-7
    W = res.weights
    U, a = get_formulation("robust").network(W)
    cert = robust_losses(pb, W["V"] - W["W"])
    exact = vertex_worst(pb, U, a)
    # the certificate is the exact worst case (the network is linear on each ball) ...
    np.testing.assert_allclose(exact, cert, rtol=1e-6, atol=1e-6)
    # ... and a strong attack (l_inf PGD, 5 restarts x 100 steps) never exceeds it
    found, _ = pgd_attack(pb.X, pb.y, U, a, eps, loss=loss, steps=100, restarts=5, perturbable=pb.perturbable)
    assert (found <= cert + 1e-6).all()
    decay = 0.5 * pb.beta * (np.sum(U * U) + np.sum(a * a))
    assert found.sum() + decay <= res.objective * (1 + 1e-7) + 1e-9


@pytest.mark.parametrize("loss", ["squared", "hinge"])
def test_robust_reduces_to_the_standard_program_at_eps_zero(loss):
    X, y = labelled(5)
    pb = Problem.create(X, y, 0.3, patterns=8, seed=1, loss=loss, epsilon=0.0)
    rob = get_solver("cvxpy-clarabel").solve(pb, "robust", tol=1e-10)
    std = relu_optimum(pb.X, pb.y, pb.beta, pb.masks, loss)  # the relu program, modelled independently
    assert rob.objective == pytest.approx(std, rel=1e-7)
    rng = np.random.default_rng(0)
    W = {"V": rng.standard_normal((3, pb.P)), "W": rng.standard_normal((3, pb.P))}
    assert get_formulation("robust").objective(pb, W) == pytest.approx(get_formulation("relu").objective(pb, W))
    assert get_formulation("robust").violation(pb, W) == pytest.approx(get_formulation("relu").violation(pb, W))
    # and a positive radius costs objective: the robust optimum is never below the standard one
    pb2 = Problem.create(X, y, 0.3, patterns=8, seed=1, loss=loss, epsilon=0.05)
    assert get_solver("cvxpy-clarabel").solve(pb2, "robust", tol=1e-9).objective >= std - 1e-8


@pytest.mark.slow
def test_one_step_attack_on_random_networks_scales_like_norm_over_sqrt_d():
    """Bubeck et al. 2021: one gradient step of size about ||x|| / sqrt(d) flips a random network's sign.
    Stated factor: the median size over ||x|| / sqrt(d) lies in [1/4, 4] at every d, and moves by less than
    1.5x from d = 100 to d = 1600 (a fixed-size perturbation would shrink the ratio by 4x)."""
    medians = []
    for d in (100, 400, 1600):
        U, a = random_network(d, 200, seed=1)
        X = np.random.default_rng(2).standard_normal((300, d))
        sizes = one_step_sizes(X, U, a)
        assert np.isfinite(sizes).mean() > 0.95
        medians.append(float(np.median(sizes)))
    assert all(0.25 <= m <= 4 for m in medians), medians
    assert max(medians) / min(medians) < 1.5, medians


def test_one_step_size_is_the_first_sign_change():
    U, a = random_network(20, 30, seed=3)
    X = np.random.default_rng(4).standard_normal((50, 20))
    sizes = one_step_sizes(X, U, a)
    f0 = network_output(X, U, a)
    g = (((X @ U) > 0) * a) @ U.T
    dirn = -np.sign(f0)[:, None] * g / np.linalg.norm(g, axis=1, keepdims=True)
    r = np.linalg.norm(X, axis=1) / np.sqrt(20)
    for k in np.flatnonzero(np.isfinite(sizes))[:20]:
        ts = np.linspace(0, sizes[k] * 0.999, 400)  # no sign change before the reported size ...
        vals = network_output(X[k] + (ts * r[k])[:, None] * dirn[k], U, a)
        assert (np.sign(vals) == np.sign(f0[k])).all()
        after = network_output(X[k] + sizes[k] * 1.0001 * r[k] * dirn[k], U, a)  # ... and one just after it
        assert np.sign(after) != np.sign(f0[k]) or abs(after) < 1e-9


def test_hinge_loss_backends_agree_and_map_exactly():
    X, y = labelled(7, n=24, d=2)
    pb = Problem.create(X, y, 0.2, patterns="all", loss="hinge")
    a = get_solver("cvxpy-clarabel").solve(pb, "relu", tol=1e-10)
    b = get_solver("cvxpy-ecos").solve(pb, "relu", tol=1e-9)
    assert a.objective == pytest.approx(b.objective, rel=1e-5)
    assert a.network_objective == pytest.approx(a.objective, rel=1e-6)  # feasible: the network attains it
    sgd = get_solver("sgd", width=8, epochs=400).solve(pb, "nonconvex")  # all patterns: the global optimum
    assert sgd.objective >= a.objective * (1 - 1e-6)


def test_adversarial_sgd_trains_on_perturbed_batches():
    X, y = labelled(1, n=40)
    pb = Problem.create(X, y, 0.1, patterns=5, loss="hinge", epsilon=0.1)
    plain = get_solver("sgd", width=6, epochs=60, seed=0).solve(pb, "nonconvex")
    adv = get_solver("sgd", width=6, epochs=60, seed=0, adversarial_eps=0.1, pgd_steps=5).solve(pb, "nonconvex")
    assert adv.status == "max_iter" and np.isfinite(adv.objective)
    assert not np.allclose(plain.weights["U"], adv.weights["U"])


def test_hinge_needs_labels(tmp_path, capsys):
    assert (
        main(
            ["solve", "--dataset", "gaussian", "--n", "30", "--d", "3", "--loss", "hinge", "--solver", "cvxpy-clarabel"]
        )
        == 2
    )
    assert "labels in {-1, +1}" in capsys.readouterr().err


def test_cli_saves_a_network_and_attacks_it(tmp_path, capsys):
    net = tmp_path / "net.npz"
    data = ["--dataset", "gaussian", "--labels", "sign", "--n", "80", "--d", "4", "--bias"]
    argv = [
        "solve",
        *data,
        "--patterns",
        "10",
        "--loss",
        "hinge",
        "--epsilon",
        "0.05",
        "--formulation",
        "robust",
        "--solver",
        "cvxpy-clarabel",
        "--save-network",
        str(net),
        "--json",
        "--progress",
        "0",
    ]
    assert main(argv) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert row["status"] == "optimal"
    with np.load(net) as z:
        assert z["U"].shape[0] == 5 and z["U"].shape[1] == z["a"].shape[0] and bool(z["bias"])
    assert main(["attack", str(net), *data, "--epsilon", "0.05", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["points"] == 20 and out["rows"] == "held-out"  # gaussian keeps 20 % of rows out
    assert 0 <= out["pgd_robust_accuracy"] <= out["clean_accuracy"] <= 1
    assert set(out["one_step_quantiles"]) == {"q10", "q25", "median", "q75", "q90"}
    # the network was trained with a bias column: attacking it without one is refused
    assert main(["attack", str(net), *data[:-1], "--json"]) == 2
    assert "with --bias" in capsys.readouterr().err
    assert main(["solve", *data, "--solver", "clarabel,admm", "--save-network", str(tmp_path / "x.npz")]) == 2
    assert "exactly one" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content,expect",
    [
        (None, "not found"),
        (b"garbage", "not a readable NPZ"),
        ("no-a", "must contain arrays"),
        ("mismatch", "need U of shape"),
        ("nan", "NaN"),
    ],
)
def test_attack_refuses_bad_network_files(content, expect, tmp_path, capsys):
    net = tmp_path / "net.npz"
    if content == "no-a":
        np.savez(net, U=np.ones((3, 2)))
    elif content == "mismatch":
        np.savez(net, U=np.ones((3, 2)), a=np.ones(3))
    elif content == "nan":
        np.savez(net, U=np.full((3, 2), np.nan), a=np.ones(2))
    elif content is not None:
        net.write_bytes(content)
    assert main(["attack", str(net), "--dataset", "gaussian", "--d", "3", "--n", "20"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relubench: error:") and expect in err and err.count("\n") == 1


def test_nonconvex_network_objective_uses_the_problem_loss():
    X, y = labelled(2)
    pb = Problem.create(X, y, 0.1, patterns=4, loss="hinge")
    U, a = random_network(3, 5, seed=0)
    expect = np.maximum(0, 1 - y * network_output(X, U, a)).sum() + 0.05 * (np.sum(U * U) + np.sum(a * a))
    assert nonconvex_objective(pb, U, a) == pytest.approx(expect)


def test_attack_experiments_run_and_the_report_draws_them(tmp_path, monkeypatch):
    import pandas as pd

    from relubench.bench.config import load_config
    from relubench.bench.sweep import case_columns, run_sweep
    from relubench.bench.worker import execute

    cfg = tmp_path / "rob.toml"
    cfg.write_text(
        'name = "rob"\n[[experiments]]\nkind = "attack_size"\nnetworks = ["sgd", "random-net"]\n'
        "d = [4, 16]\nn = 60\nP = 6\nwidth = 6\n"
        "options = { sgd = { epochs = 50 } }\n"
        '[[experiments]]\nkind = "adversarial_training"\nnetwork = "sgd"\n'
        "d = 3\nn = 50\nP = 5\nwidth = 5\neps = [0.0, 0.05]\n"
        "options = { sgd = { epochs = 30 } }\n"
    )
    config = load_config(cfg)
    kinds = pd.Series([c.experiment for c in config.cases]).value_counts().to_dict()
    assert kinds == {"attack_size": 6, "adversarial_training": 6}  # 2 d x 3 networks; 2 eps x 3 methods
    out = tmp_path / "results" / "rob.parquet"
    run_sweep(
        config,
        out,
        progress=False,
        runner=lambda c: {**execute(c), "wall_s": 0.0, "case_hash": c.case_hash, **case_columns(c)},
    )
    df = pd.read_parquet(out)
    assert df["attack_one_step_median"].notna().all() and df["clean_accuracy"].between(0, 1).all()
    adv = df[(df["experiment"] == "adversarial_training") & (df["epsilon"] > 0)]
    assert (adv["pgd_robust_accuracy"] <= adv["clean_accuracy"] + 1e-12).all()
    robust = adv[adv["formulation"] == "robust"]
    standard = adv[adv["formulation"] == "relu"]
    assert robust["objective"].iloc[0] >= standard["objective"].iloc[0]  # the certificate costs objective
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 0
    text = (tmp_path / "reports" / "rob" / "index.html").read_text()
    assert "id='attack_size'" in text and "id='adversarial_training'" in text
    assert text.count("data:image/png;base64,") == 2
    heads = json.loads((tmp_path / "reports" / "rob" / "headlines.json").read_text())
    assert {"attack_size", "adversarial_training"} <= set(heads)
