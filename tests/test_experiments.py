"""Seed experiments: neuron pruning, config expansion, and a tiny run of all four drawn in the report."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relubench.bench.config import load_config
from relubench.bench.sweep import case_columns, run_sweep
from relubench.bench.worker import execute
from relubench.datasets import load_dataset
from relubench.problem import Problem
from relubench.problem.formulations import (
    RELU,
    group_norms,
    network_from_blocks,
    nonconvex_objective,
    prune_neurons,
    relu_violation,
)
from relubench.running.solver import get_solver

ROOT = Path(__file__).resolve().parents[1]


def test_pruning_keeps_the_optimum_with_at_most_n_plus_1_neurons():
    ds = load_dataset("gaussian", n=20, d=2, seed=0)
    pb = Problem.create(ds.X_train, ds.y_train, 0.02, patterns="all")
    res = get_solver("clarabel").solve(pb, "relu", tol=1e-10)
    V, W = res.weights["V"], res.weights["W"]
    before = int((group_norms(np.hstack([V, W])) > 0).sum())
    assert before > pb.n + 1  # the interior point's solution is not sparse: the pruning has work to do
    V2, W2 = prune_neurons(pb, V, W)
    after = int((group_norms(np.hstack([V2, W2])) > 0).sum())
    assert after <= pb.n + 1
    f = RELU.objective(pb, {"V": V, "W": W})
    assert RELU.objective(pb, {"V": V2, "W": W2}) == pytest.approx(f, rel=1e-9)
    assert relu_violation(pb, V2, W2) <= 1e-8
    U, a = network_from_blocks([(V2, 1.0), (W2, -1.0)])  # a network of that width attains the optimum
    assert np.count_nonzero(a) == after
    assert nonconvex_objective(pb, U, a) == pytest.approx(f, rel=1e-9)


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(
        """name = "exp"
time_limit = 60
grace_s = 30
solvers = ["clarabel"]
formulations = ["relu"]
[[datasets]]
name = "gaussian"
sizes = [[30, 3, 6]]
beta = 0.1
[[experiments]]
kind = "relaxation_gap"
d = 2
n = [12, 24]
P = [2, 8]
[[experiments]]
kind = "nonconvex_gaps"
solvers = ["sgd", "adam"]
d = 2
n = [16]
init_seeds = [0, 1, 2]
options = { sgd = { epochs = 300 }, adam = { epochs = 300 } }
[[experiments]]
kind = "iteration_time"
solvers = ["admm", "clarabel"]
d = 3
n = [40, 80]
P_fixed = 4
P = [2, 4]
n_fixed = 40
options = { admm = { max_iter = 50 } }
[[experiments]]
kind = "narrow"
solvers = ["sgd"]
d = 2
n = [8, 16]
width_n = 16
widths = [1, 4]
init_seeds = [0]
options = { sgd = { epochs = 300 } }
"""
    )
    return path


def _in_process(case):  # noqa: ANN001, ANN202
    return {**execute(case), "wall_s": 0.0, "case_hash": case.case_hash, **case_columns(case)}


@pytest.mark.slow
def test_experiments_expand_run_and_draw_every_figure(tmp_path, monkeypatch):
    from relubench.cli import main

    cfg = load_config(_config(tmp_path))
    kinds = pd.Series([c.experiment for c in cfg.cases]).value_counts().to_dict()
    # 2 n x 2 P; 2 solvers x 3 inits; 2 solvers x 3 sizes; 2 neuron cases + 2 widths
    assert kinds == {"relaxation_gap": 4, "nonconvex_gaps": 6, "iteration_time": 6, "narrow": 4, "": 1}
    assert all(c.reference_kind == "all" for c in cfg.cases if c.experiment == "relaxation_gap")
    out = tmp_path / "results" / "exp.parquet"
    run_sweep(cfg, out, progress=False, runner=_in_process)
    df = pd.read_parquet(out)
    assert len(df) == 21 and df["case_hash"].is_unique
    # sampled patterns restrict the program: never below the all-patterns optimum; P=8 of ~2n is close to it
    rg = df[df["experiment"] == "relaxation_gap"]
    assert (rg["status"] == "optimal").all() and (rg["relative_gap"] >= -1e-6).all()
    assert (rg["reference_kind"] == "all").all() and pd.to_numeric(rg["reference"]).notna().all()
    # a trained network is never better than the global optimum
    ng = df[df["experiment"] == "nonconvex_gaps"]
    assert ng["relative_gap"].notna().all() and (ng["relative_gap"] >= -1e-6).all()
    nw = df[(df["experiment"] == "narrow") & (df["formulation"] == "relu")]
    assert (nw["reference_active_neurons"] <= nw["n_actual"] + 1).all() and (nw["reference_active_neurons"] >= 1).all()
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 0  # `relubench report` alone: the newest table in results/ -> reports/NAME/
    page = tmp_path / "reports" / "exp" / "index.html"
    text = page.read_text()
    for kind in ("relaxation_gap", "nonconvex_gaps", "iteration_time", "narrow"):
        assert f"id='{kind}'" in text
    # 4 experiment figures + the comparison grid's profile and convergence curve; its table has the 1 grid case
    assert text.count("data:image/png;base64,") == 7  # + the held-out panel of the one grid case
    assert "<td>clarabel</td><td>relu</td><td>1</td>" in text
    heads = json.loads((tmp_path / "reports" / "exp" / "headlines.json").read_text())
    assert set(heads) == {"relaxation_gap", "nonconvex_gaps", "iteration_time", "narrow"}
    assert all(np.isfinite(v) for v in heads["iteration_time"].values())  # two sizes per axis give a slope
    assert heads["narrow"]["active neurons n=8"] <= 9

    sys.path.insert(0, str(ROOT / "scripts"))
    from check_asv_offline import find_chromium
    from check_report import check, render

    if find_chromium() is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
    ok, msg = check(render(page), ["relaxation_gap", "nonconvex_gaps", "iteration_time", "narrow"])
    assert ok, msg


def test_bad_experiment_is_one_line_exit_2(tmp_path, capsys):
    from relubench.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[experiments]]\nkind = "nosuch"\nd = 2\n')
    assert main(["sweep", str(bad), "-o", str(tmp_path / "r.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relubench: error:") and "kind" in err and err.count("\n") == 1
    assert not (tmp_path / "r.parquet").exists()


def test_relaxation_gap_falls_back_to_the_best_known_optimum():
    # no all-patterns optimum (relative_gap missing): the lowest objective on the same data stands in for it
    from relubench.experiments.relaxation_gap import section as relaxation_gap_section

    rows = [
        {
            "dataset": "gaussian",
            "n_actual": 50,
            "seed": s,
            "P": str(P),
            "P_actual": P,
            "status": "optimal",
            "objective": obj,
            "relative_gap": None,
        }
        for s, P, obj in [(0, 4, 3.0), (0, 16, 2.0), (1, 4, 5.0), (1, 16, 4.0)]
    ]
    html, headline = relaxation_gap_section(pd.DataFrame(rows))
    assert headline["median gap n=50 P=16"] == 0.0
    assert headline["median gap n=50 P=4"] == pytest.approx((0.5 + 0.25) / 2)
    assert "best-known" in html
