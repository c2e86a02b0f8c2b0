"""The command line: correct results, and one-line errors with exit code 2 that write nothing."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from relubench.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cache_files():
    root = os.environ["RELUBENCH_CACHE"]
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs) if os.path.isdir(root) else []


def test_solve_json_with_reference(capsys):
    code, out, err = run_cli(
        capsys,
        "solve",
        "--dataset",
        "gaussian",
        "--n",
        "60",
        "--d",
        "4",
        "--patterns",
        "20",
        "--solver",
        "scs",
        "--tol",
        "1e-8",
        "--json",
        "--reference",
    )
    assert code == 0, err
    row = json.loads(out)
    for key in (
        "objective",
        "network_objective",
        "max_violation",
        "iterations",
        "setup_s",
        "solve_s",
        "status",
        "relative_gap",
    ):
        assert key in row
    assert row["status"] == "optimal"
    assert abs(row["relative_gap"]) < 1e-5
    assert row["relative_gap"] == pytest.approx((row["objective"] - row["reference"]) / abs(row["reference"]))
    # the reference is now cached: a plain run reports the gap without --reference
    code, out, _ = run_cli(
        capsys,
        "solve",
        "--dataset",
        "gaussian",
        "--n",
        "60",
        "--d",
        "4",
        "--patterns",
        "20",
        "--solver",
        "clarabel",
        "--json",
    )
    assert json.loads(out)["relative_gap"] is not None


def test_solve_table_for_several_solvers(capsys):
    code, out, _ = run_cli(
        capsys, "solve", "--dataset", "iris", "--patterns", "10", "--solver", "clarabel,mosek", "--beta", "0.1"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["solver", "status", "objective"]
    assert any(line.startswith("clarabel") and "optimal" in line for line in lines)
    assert any(line.startswith("mosek") and ("unavailable" in line or "optimal" in line) for line in lines)


def test_npz_with_masks_and_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = rng.standard_normal(30)
    D = X @ rng.standard_normal((3, 8)) >= 0
    np.savez(tmp_path / "data.npz", X=X, y=y, D=D)
    code, out, _ = run_cli(capsys, "solve", "--data", str(tmp_path / "data.npz"), "--beta", "0.1", "--json")
    assert code == 0 and json.loads(out)["P_actual"] == 8
    csv = tmp_path / "data.csv"
    csv.write_text("a,b,label\n" + "\n".join(f"{r[0]},{r[1]},{t}" for r, t in zip(X, y, strict=True)))
    code, out, _ = run_cli(capsys, "solve", "--data", str(csv), "--target", "label", "--patterns", "6", "--json")
    assert code == 0 and json.loads(out)["d_actual"] == 2


def write_npz(path, X, y):
    np.savez(path, X=X, y=y)
    return str(path)


@pytest.fixture
def bad_inputs(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 2))
    y = rng.standard_normal(10)
    Xnan = X.copy()
    Xnan[3, 1] = np.nan
    Xinf = X.copy()
    Xinf[0, 0] = np.inf
    text = tmp_path / "text.csv"
    text.write_text("a,b,y\n1,x,2\n3,4,5\n")
    return {
        "nan": ["--data", write_npz(tmp_path / "nan.npz", Xnan, y)],
        "inf": ["--data", write_npz(tmp_path / "inf.npz", Xinf, y)],
        "shape": ["--data", write_npz(tmp_path / "shape.npz", X, y[:7])],
        "empty": ["--data", write_npz(tmp_path / "empty.npz", X[:0], y[:0])],
        "beta0": ["--dataset", "gaussian", "--beta", "0"],
        "beta_neg": ["--dataset", "gaussian", "--beta", "-1"],
        "solver": ["--dataset", "gaussian", "--solver", "nosuch"],
        "dataset": ["--dataset", "nosuch"],
        "non_numeric_csv": ["--data", str(text)],
        "missing_file": ["--data", str(tmp_path / "absent.csv")],
        "patterns": ["--dataset", "gaussian", "--patterns", "zero"],
        "all_too_many": ["--dataset", "gaussian", "--n", "500", "--d", "20", "--patterns", "all"],
        "d_on_real": ["--dataset", "wine", "--d", "3"],
        "progress_neg": ["--dataset", "gaussian", "--progress", "-1"],
    }


ARGPARSE_CASES = ("beta0", "beta_neg", "patterns", "progress_neg")  # rejected by the parser (SystemExit)


@pytest.mark.parametrize(
    "case",
    [
        "nan",
        "inf",
        "shape",
        "empty",
        "beta0",
        "beta_neg",
        "solver",
        "dataset",
        "non_numeric_csv",
        "missing_file",
        "patterns",
        "all_too_many",
        "d_on_real",
        "progress_neg",
    ],
)
def test_bad_input_one_line_exit_2_writes_nothing(bad_inputs, capsys, case):
    before = cache_files()
    with pytest.raises(SystemExit) if case in ARGPARSE_CASES else _noop():
        code, out, err = run_cli(capsys, "solve", *bad_inputs[case])
        assert code == 2
        assert out == ""
        assert err.startswith("relubench: error: ") and err.count("\n") == 1, err
    if case in ARGPARSE_CASES:
        err = capsys.readouterr().err
        assert err.startswith("relubench: error: ") and err.count("\n") == 1, err
    assert cache_files() == before


class _noop:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_console_script_error_has_no_traceback(tmp_path):
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "relubench", "solve", "--dataset", "gaussian", "--solver", "nope"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "unknown solver 'nope'" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_solvers_lists_availability(capsys):
    code, out, _ = run_cli(capsys, "solvers")
    assert code == 0
    table, gpu = out.split("\n\n")  # the table, then whether a GPU is visible
    names = [line.split()[0] for line in table.splitlines()[1:]]
    from relubench.running.solver import solver_names

    assert names == solver_names()  # every registered backend, unavailable ones (mosek without a licence) too
    assert gpu.startswith("GPU: ")


def test_solvers_and_datasets_as_json_agree_with_the_registries(capsys):
    from relubench.datasets import dataset_names
    from relubench.running.solver import solver_class, solver_names

    code, out, _ = run_cli(capsys, "solvers", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["name"] for r in rows] == solver_names()
    for r in rows:
        caps = solver_class(r["name"]).capabilities
        assert r["formulations"] == list(caps.formulations) and r["certified_gap"] == bool(caps.certified_gap)
    code, out, _ = run_cli(capsys, "datasets", "--json")
    sets = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and sorted(sets) == dataset_names()
    assert sets["diabetes"]["task"] == "regression" and sets["diabetes"]["classes"] is None
    assert (sets["breast_cancer"]["rows"], sets["breast_cancer"]["features"]) == (569, 30)
    code, out, _ = run_cli(capsys, "datasets")
    header, *lines = out.split("\n\n")[0].splitlines()
    assert header.split()[:5] == ["name", "task", "rows", "features", "classes"]
    assert {line.split()[0] for line in lines} == set(sets)


def test_nonconvex_baseline_through_cli_is_measured_against_the_relu_optimum(capsys):
    code, out, err = run_cli(
        capsys,
        "solve",
        "--dataset",
        "iris",
        "--patterns",
        "12",
        "--beta",
        "0.1",
        "--formulation",
        "nonconvex",
        "--solver",
        "sgd",
        "--reference",
        "--json",
    )
    assert code == 0, err
    row = json.loads(out)
    assert row["status"] in ("optimal", "max_iter") and row["relative_gap"] is not None
    assert row["message"].startswith("width=")


@pytest.mark.slow
def test_solve_reports_progress_on_stderr_and_not_when_asked(capsys):
    # ADMM records a trace point at each residual check; with a tiny interval each becomes a progress line with
    # objective, gap against the given reference and violation; --progress 0 prints none. The table is unchanged.
    args = ["solve", "--dataset", "iris", "--patterns", "10", "--solver", "admm,clarabel", "--reference", "2.0814"]
    code, out, err = run_cli(capsys, *args, "--progress", "1e-9")
    assert code == 0
    lines = [ln for ln in err.splitlines() if ln.strip().startswith("admm:")]
    assert len(lines) >= 10 and all("objective" in ln and "gap" in ln and "violation" in ln for ln in lines)
    seconds = [float(ln.split()[1]) for ln in lines]
    assert seconds == sorted(seconds)
    # interior point: one line, the returned point's own objective and (measured, nonzero) violation
    (ip,) = [ln for ln in err.splitlines() if ln.strip().startswith("clarabel:")]
    assert float(ip.split("violation")[1]) > 0
    code, out_quiet, err_quiet = run_cli(capsys, *args, "--progress", "0")
    assert code == 0 and "objective" not in err_quiet
    assert [ln.split()[:2] for ln in out_quiet.splitlines()] == [ln.split()[:2] for ln in out.splitlines()]
