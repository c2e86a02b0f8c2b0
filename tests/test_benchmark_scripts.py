"""scripts/bench_first_order.py runs end to end on a tiny size and prints what the README quotes from it."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_first_order_table_and_per_iteration_line(tmp_path):
    out = tmp_path / "bench.md"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_first_order.py"), "--sizes", "60,4,10"]
    cmd += ["--solvers", "admm,fista,clarabel", "--time-limit", "20", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| 60 |")]
    by_solver = {(r[3].strip(), r[4].strip()): r for r in rows}
    assert set(by_solver) == {("relu", "admm"), ("gated", "fista"), ("relu", "clarabel"), ("gated", "clarabel")}
    # every backend reaches 1e-2 on this tiny problem, and times to tighter tolerances never decrease
    for r in rows:
        times = [float("inf") if c.strip() == "-" else float(c) for c in r[5:8]]
        assert times[0] < float("inf") and times == sorted(times), r
    assert "ADMM relu iteration" in text and "in single" in text and "in double" in text
