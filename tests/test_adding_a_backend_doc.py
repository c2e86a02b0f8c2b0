"""docs/adding-a-backend.md stays true: its backend, run as a plugin, is listed, solves, sweeps, is benchmarked."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    doc = (ROOT / "docs" / "adding-a-backend.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert len(blocks) == 1, "the walkthrough has exactly one Python block: the backend"
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "ista_backend.py").write_text(blocks[0])
    assert 50 <= len(blocks[0].splitlines()) <= 90  # a real backend of about 60 lines
    env = dict(os.environ, PYTHONPATH=str(folder), RELUBENCH_PLUGINS="ista_backend")
    env["RELUBENCH_CACHE"] = str(folder / "cache")
    return env, folder


def run(env, *args, cwd=ROOT):
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_walkthrough_backend_is_listed_and_agrees_with_clarabel(plugin_env):
    env, _ = plugin_env
    listed = run(env, sys.executable, "-m", "relubench", "solvers")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^ista\s+first-order\s+gated\s+squared\s+1\s+cpu\s+yes\s+yes", listed.stdout, re.M)
    args = ["--dataset", "gaussian", "--n", "60", "--d", "3", "--patterns", "10", "--formulation", "gated"]
    solved = run(
        env, sys.executable, "-m", "relubench", "solve", *args, "--solver", "ista,clarabel", "--tol", "1e-9", "--json"
    )
    assert solved.returncode == 0, solved.stderr
    rows = {r["solver"]: r for r in map(json.loads, solved.stdout.splitlines())}
    assert rows["ista"]["status"] == "optimal" and rows["clarabel"]["status"] == "optimal"
    assert rows["ista"]["objective"] == pytest.approx(rows["clarabel"]["objective"], rel=1e-7)
    unknown = run(env, sys.executable, "-m", "relubench", "solve", *args, "--solver", "ista", "--formulation", "relu")
    assert unknown.returncode == 2 and "does not solve the 'relu' formulation" in unknown.stderr


@pytest.mark.slow
def test_walkthrough_backend_runs_in_a_sweep_and_is_in_the_asv_grid(plugin_env):
    env, folder = plugin_env
    config = folder / "ista.toml"
    config.write_text(
        'name = "ista"\nsolvers = ["ista"]\nformulations = ["gated", "relu"]\npresets = ["mid"]\n'
        'time_limit = 60\n[[datasets]]\nname = "gaussian"\nsizes = [[50, 3, 8]]\nbeta = 0.5\n'
    )
    out = folder / "ista.parquet"
    swept = run(env, sys.executable, "-m", "relubench", "sweep", str(config), "-o", str(out), "--no-progress")
    assert swept.returncode == 0, swept.stderr
    assert "optimal=1" in swept.stdout  # gated only: the relu case is not offered to it
    grid = run(
        env, sys.executable, "-c", "import bench_solvers as b; print(','.join(b.SOLVERS))", cwd=ROOT / "benchmarks"
    )
    assert grid.returncode == 0, grid.stderr
    assert "ista" in grid.stdout.strip().split(",")
