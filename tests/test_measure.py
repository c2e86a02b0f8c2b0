"""One measurement pipeline: `solve --json`, a sweep case's row and `path --json` carry the keys of one schema,
and its numbers are the definitions (relative gap, time to tolerance by the one 'reached' rule, certified gaps)."""

import json
import math

import pytest

from relubench.bench.cases import Case
from relubench.bench.worker import execute
from relubench.cli import main
from relubench.datasets import load_dataset
from relubench.problem import Problem
from relubench.running.measure import ROW_KEYS, measure
from relubench.running.result import Result, TracePoint
from relubench.running.solver import get_solver


def test_solve_json_and_a_sweep_row_carry_the_same_keys(capsys):
    code = main(["solve", "--dataset", "gaussian", "--labels", "sign", "--n", "50", "--d", "3", "--patterns", "8",
                 "--solver", "fista", "--formulation", "gated", "--reference", "--json"])  # fmt: skip
    cli_row = json.loads(capsys.readouterr().out)
    assert code == 0 and list(cli_row) == list(ROW_KEYS)
    case = Case("gaussian", 50, 3, 8, 0, 0.1, "fista", "gated", "mid", 1e-4, 60, 2000,
                dataset_options=(("labels", "sign"),))  # fmt: skip
    row = execute(case)
    assert list(row) == list(ROW_KEYS)
    for key in ("relative_gap", "time_to_0.01", "relative_certified_gap", "test_accuracy", "clean_accuracy"):
        assert cli_row[key] is not None and row[key] is not None, key
    assert cli_row["P_actual"] == row["P_actual"] and cli_row["problem_hash"] != ""


def test_a_reference_gets_only_the_time_left_before_the_kill_deadline(monkeypatch, tmp_path):
    """The parent kills a case at time limit + grace: a reference that would not fit is no reference (the row
    says why), never a killed case without a row."""
    import time

    monkeypatch.setenv("RELUBENCH_CACHE", str(tmp_path))  # nothing cached
    case = Case("gaussian", 50, 3, 8, 0, 0.1, "fista", "gated", "mid", 1e-4, 20, 2000, grace_s=1)
    row = execute(case, started=time.perf_counter() - 30)  # the deadline has passed
    assert row["reference"] is None and "no reference: no time left" in row["message"]
    assert row["relative_certified_gap"] is not None  # the backend's own certificate still stands
    fresh = execute(case)
    assert fresh["reference"] is not None


def test_path_points_are_rows_of_the_schema(capsys):
    code = main(["path", "--dataset", "gaussian", "--n", "40", "--d", "3", "--patterns", "6", "--betas", "1,0.1",
                 "--solver", "fista", "--formulation", "gated", "--json"])  # fmt: skip
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(lines) == 3
    for point in lines[:2]:
        assert set(ROW_KEYS) <= set(point) and {"seconds", "warm_start"} <= set(point)
    assert [p["beta"] for p in lines[:2]] == [1.0, 0.1]


def test_measure_follows_the_definitions():
    ds = load_dataset("gaussian", n=30, d=3, seed=1)
    problem = Problem.create(ds.X_train, ds.y_train, 0.5, patterns=6, seed=1)
    res = get_solver("clarabel").solve(problem, "relu", tol=1e-8)
    f_star = res.objective
    # a hand-made trace: the second point is within 1e-2 but infeasible, the third reaches 1e-4 feasibly
    scale = float(abs(problem.y).max())
    res.trace = [
        TracePoint(0.5, f_star * 1.5, 0.0),
        TracePoint(1.0, f_star * 1.001, 1.0 * scale),
        TracePoint(2.0, f_star * 1.00005, 1e-6 * scale, certified_gap=f_star * 2e-3),
    ]
    res.setup_s, res.certified_gap = 0.25, f_star * 2e-3
    row = measure(problem, ds, res, reference=f_star / (1 + 1e-7))
    assert row["relative_gap"] == pytest.approx(1e-7, rel=1e-3)
    assert row["time_to_0.01"] == row["time_to_0.0001"] == 2.25  # setup + the first point that reached it
    assert math.isinf(row["time_to_1e-06"])
    assert row["time_to_certified_0.01"] == 2.25 and math.isinf(row["time_to_certified_0.0001"])
    assert row["relative_certified_gap"] == pytest.approx(2e-3)
    assert json.loads(row["trace"])[2][:2] == [2.0, pytest.approx(f_star * 1.00005)]
    # no reference: the gap and the times to tolerance are None (not measured), the certified ones stand
    bare = measure(problem, ds, res)
    assert bare["relative_gap"] is None and bare["time_to_0.01"] is None and bare["time_to_certified_0.01"] == 2.25


def test_a_failed_solve_is_a_row_too():
    ds = load_dataset("gaussian", n=20, d=2, seed=0)
    problem = Problem.create(ds.X_train, ds.y_train, 0.5, patterns=4, seed=0)
    row = measure(problem, ds, Result("x", "relu", "error", message="boom"), reference=1.0)
    assert list(row) == list(ROW_KEYS) and row["status"] == "error" and row["relative_gap"] is None
    assert row["test_accuracy"] is None and row["test_rows"] == ds.X_test.shape[0]


def test_one_status_vocabulary():
    from relubench.running.result import FAILED_STATUSES, RUN_FAILED_STATUSES, STATUSES, Status

    assert RUN_FAILED_STATUSES < FAILED_STATUSES <= set(STATUSES)
    assert Status("optimal").solved and not Status("inaccurate").solved
    assert Status("inaccurate").failed and not Status("inaccurate").run_failed and Status("crashed").run_failed
    assert not Status("unavailable").failed and not Status("optimal").failed
    with pytest.raises(ValueError, match="unknown status 'solved'"):
        Result("x", "relu", "solved")


def test_traces_are_read_by_name():
    from relubench.running.result import read_trace, trace_rows

    plain = read_trace(json.dumps(trace_rows([TracePoint(1.0, 2.0, 0.5)])))
    assert plain["seconds"].tolist() == [1.0] and plain["max_violation"].tolist() == [0.5]
    assert math.isnan(plain["certified_gap"][0])
    both = read_trace(json.dumps(trace_rows([TracePoint(1.0, 2.0, 0.0), TracePoint(2.0, 1.5, 0.0, 0.25)])))
    assert math.isnan(both["certified_gap"][0]) and both["certified_gap"][1] == 0.25
    for bad in (None, 3.0, "", "not json", "[]", "[[1, 2]]", '[["a", 1, 2]]'):
        assert read_trace(bad) is None, bad


def test_a_reference_solve_that_dies_costs_the_row_its_reference_not_the_row(monkeypatch, tmp_path):
    """A Rust library (Clarabel) aborts the process when the memory cap refuses an allocation: the reference is
    solved in a child process, so only the reference is lost."""
    import os
    import signal

    import relubench.bench.worker as worker

    monkeypatch.setenv("RELUBENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(worker, "reference_optimum", lambda *a, **k: os.kill(os.getpid(), signal.SIGABRT))
    case = Case("gaussian", 50, 3, 8, 0, 0.1, "fista", "gated", "mid", 1e-4, 20, 2000)
    row = execute(case)
    assert row["status"] == "optimal" and row["reference"] is None
    assert "no reference: the reference solve died (exit code -6; memory?)" in row["message"]


def test_a_network_baseline_without_a_relu_optimum_to_size_it_says_so(monkeypatch):
    import relubench.solvers.nonconvex as nonconvex
    from relubench.errors import ReluBenchError

    def fail(*args, **kwargs):
        raise ReluBenchError("reference solve failed for x: CLARABEL failed")

    monkeypatch.setattr(nonconvex, "reference_optimum", fail)
    ds = load_dataset("gaussian", n=30, d=3, seed=1)
    problem = Problem.create(ds.X_train, ds.y_train, 0.5, patterns=6, seed=1)
    res = get_solver("adam", epochs=5).solve(problem, "nonconvex", tol=1e-4)
    assert res.status == "max_iter" and f"width={2 * problem.P}" in res.message and "CLARABEL failed" in res.message
