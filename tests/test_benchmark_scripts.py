"""The benchmark scripts run end to end on a tiny size: their rows are rows of the one measurement schema and
their tables are those rows rendered (what docs/results.md shows)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_first_order_table_and_per_iteration_line(tmp_path):
    out = tmp_path / "bench.jsonl"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_first_order.py"), "--sizes", "60,4,10"]
    cmd += ["--solvers", "admm,fista,clarabel", "--time-limit", "20", "--rows", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_first_order
    from benchrows import read_rows

    from relubench.running.measure import ROW_KEYS

    stored = read_rows(out)
    solves = [r for r in stored if r["kind"] == "solve"]
    assert len(solves) == 2 + 2 * 3 and all(set(ROW_KEYS) <= set(r) for r in solves)  # rows of the one schema
    text = bench_first_order.render(stored)  # the table is the rows rendered
    assert text == proc.stdout
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| 60 |")]
    by_solver = {(r[3].strip(), r[4].strip()): r for r in rows}
    assert set(by_solver) == {("relu", "admm"), ("gated", "fista"), ("relu", "clarabel"), ("gated", "clarabel")}
    # every backend reaches 1e-2 on this tiny problem, and times to tighter tolerances never decrease
    for r in rows:
        times = [float("inf") if c.strip() == "-" else float(c) for c in r[5:8]]
        assert times[0] < float("inf") and times == sorted(times), r
    assert "ADMM relu iteration" in text and "in single" in text and "in double" in text


@pytest.mark.slow
def test_bench_certificates_rows_and_no_claim_without_a_certificate(tmp_path):
    out = tmp_path / "cert.jsonl"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_certificates.py"), "--instances", "60,3,10"]
    cmd += ["--backends", "al", "ipm", "--rows", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_certificates
    from benchrows import read_rows

    stored = read_rows(out)
    assert len(stored) == 2 * len(bench_certificates.TOLS)
    assert bench_certificates.render(stored) == proc.stdout
    assert proc.stdout.rstrip().endswith("0 of those without a certificate at tol.")
    for r in stored:  # every certificate is valid: never below the true gap
        assert r["certified_gap"] >= abs(r["objective"] - r["reference"]) - 1e-9 * abs(r["reference"])


@pytest.mark.slow
def test_bench_relu_large_rows_in_their_own_processes(tmp_path):
    out = tmp_path / "large.jsonl"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_relu_large.py"), "--instances", "80,3,10", "60,3,8@1e-3"]
    cmd += ["--solvers", "ipm", "clarabel", "--tol", "1e-5", "--time-limit", "60", "--rows", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_relu_large
    from benchrows import read_rows

    stored = read_rows(out)
    assert [r["solver"] for r in stored] == ["ipm", "clarabel", "ipm", "clarabel"]
    assert [r["run_tol"] for r in stored] == [1e-5, 1e-5, 1e-3, 1e-3]  # spec@tol: that instance's own
    assert bench_relu_large.render(stored) == proc.stdout
    assert all(r["peak_rss_bytes"] > 10 * 2**20 for r in stored)  # each process's own peak
    ipm = stored[0]
    assert ipm["status"] == "optimal" and ipm["certified_gap"] <= 1e-5 * abs(ipm["objective"])
    assert "| certified |" in proc.stdout.splitlines()[2]


def test_bench_relu_large_row_of_a_refused_solve(monkeypatch):
    """Clarabel refuses a relu instance its measured bytes per cone entry say will not fit (here: made to); the
    script's row says so, and its table names the reason."""
    from relubench.running.solver import get_solver
    from relubench.solvers import conic_native

    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_relu_large
    from benchrows import instance

    monkeypatch.setattr(conic_native, "RELU_BYTES_PER_ENTRY", 1e12)
    _, problem, _ = instance("60,3,8")
    refused = get_solver("clarabel").solve(problem, "relu", tol=1e-4)
    assert refused.status == "memory" and "GiB" in refused.message and refused.weights is None
    assert get_solver("clarabel").solve(problem, "gated", tol=1e-4).status == "optimal"  # relu's count only
    row = bench_relu_large._one("60,3,8", 8, "clarabel", 1e-4, 30.0)
    assert row["status"] == "memory" and "clarabel on the relu program" in row["message"]
    assert "| not run: clarabel on the relu program" in bench_relu_large.render([row])


TINY_SUITE = """name = "tiny"
solvers = ["fista", "clarabel", "sgd"]
formulations = ["gated", "relu", "nonconvex"]
time_limit = 20
[[datasets]]
name = "gaussian"
sizes = [[50, 3, 6], [60, 3, 6]]
beta = 0.5
options = { labels = "sign" }
[solver_options.sgd]
epochs = 50
"""


@pytest.mark.slow
def test_bench_suite_times_a_sweep_and_renders_its_rows(tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY_SUITE)
    out, results = tmp_path / "suite.jsonl", tmp_path / "r.parquet"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_suite.py"), str(cfg), "--rows", str(out)]
    proc = subprocess.run([*cmd, "--results", str(results)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_suite
    from benchrows import read_rows

    stored = read_rows(out)
    assert len(stored) == 2 * 4 and all("trace" not in r for r in stored) and results.is_file()
    text = bench_suite.render(stored)
    assert text == proc.stdout
    assert "| gated, squared, 1 output | 2 |" in text and "**relu, squared, 1 output** (2 problems)" in text
    assert "| sgd |" in text  # the non-convex baseline is a line of the relu class
    again = subprocess.run([*cmd, "--results", str(results)], capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "exists" in again.stderr  # a suite is timed from an empty table


@pytest.mark.slow
def test_time_preset_estimates_from_a_seeded_sample(tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY_SUITE)
    out = tmp_path / "t.jsonl"
    cmd = [sys.executable, str(ROOT / "scripts" / "time_preset.py"), str(cfg), "--fraction", "0.5", "--rows", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, str(ROOT / "scripts"))
    import time_preset
    from benchrows import read_rows

    stored = read_rows(out)
    est = stored[0]
    assert est["kind"] == "estimate" and est["cases"] == 8 and est["sampled"] == 4 and len(stored) == 1 + 4
    assert time_preset.render(stored) == proc.stdout and "not measured in full" in proc.stdout
    hours = est["sample_wall_s"] * 8 / 4 / 3600
    assert f"estimated {hours:.1f} h" in proc.stdout
