"""One implementation, two devices: the generic (array API) path of fista, al and admm against the numpy path.

CI has no GPU: the code that runs on CUDA runs here on array-api-strict (the standard's reference library, which
refuses every numpy-only call), and must agree with numpy to 1e-8 in double precision. Where torch is installed
(the [gpu] extra; CI installs it) the same checks run on torch's CPU device too. A CUDA request without a visible GPU
is reported "unavailable" and never fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from relubench.errors import InputError
from relubench.problem.formulations import dual_gap_gated, dual_gap_relu, predict_groups
from relubench.problem.instance import Problem
from relubench.running.device import cuda_status, placement
from relubench.running.solver import get_solver, solver_class, solver_names

LIBRARIES = ["array-api-strict"] + (["torch"] if importlib.util.find_spec("torch") else [])
DEVICE_BACKENDS = tuple(n for n in solver_names() if "cuda" in solver_class(n).capabilities.devices)


def _problem(loss: str = "squared", outputs: int = 1, n: int = 60, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    y = rng.standard_normal((n, outputs)) if outputs > 1 else X @ rng.standard_normal(4) + 0.1 * rng.standard_normal(n)
    if loss in ("logistic", "hinge"):
        y = np.where(y >= 0, 1.0, -1.0)
    return Problem.create(X, y, 0.05 * n, patterns=12, seed=seed, loss=loss)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize(("loss", "outputs"), [("squared", 1), ("logistic", 1), ("squared", 3)])
def test_fista_generic_path_agrees_with_numpy(library: str, loss: str, outputs: int) -> None:
    p = _problem(loss, outputs)
    ref = get_solver("fista").solve(p, "gated", tol=1e-7)
    res = get_solver("fista", array_library=library).solve(p, "gated", tol=1e-7)
    assert ref.status == res.status == "optimal"
    assert res.iterations == ref.iterations
    np.testing.assert_allclose(res.weights["U"], ref.weights["U"], rtol=0, atol=1e-8)
    assert abs(res.objective - ref.objective) <= 1e-8 * abs(ref.objective)
    assert abs(res.certified_gap - ref.certified_gap) <= 1e-8 * abs(ref.objective)  # a difference of two sums
    assert res.device == "cpu" and res.device_peak_bytes is None


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize(("loss", "outputs"), [("squared", 1), ("logistic", 1), ("squared", 2)])
def test_al_generic_path_agrees_with_numpy(library: str, loss: str, outputs: int) -> None:
    # a fixed amount of work (3 outer steps of 150 inner iterations): long runs amplify rounding differences in
    # line-search decisions, the same iterates must agree
    opts = {"max_outer": 3, "inner_iter": 150}
    p = _problem(loss, outputs, seed=1)
    ref = get_solver("al", **opts).solve(p, "relu", tol=1e-12)
    res = get_solver("al", array_library=library, **opts).solve(p, "relu", tol=1e-12)
    assert res.iterations == ref.iterations > 0
    for key in ("V", "W"):
        np.testing.assert_allclose(res.weights[key], ref.weights[key], rtol=0, atol=1e-8)
    assert res.max_violation == pytest.approx(ref.max_violation, rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize(
    ("name", "loss", "batch"), [("sgd", "squared", None), ("adam", "hinge", 50), ("sgd", "logistic", 50)]
)
def test_network_baselines_generic_path_agrees_with_numpy(
    library: str, name: str, loss: str, batch: int | None
) -> None:
    p = _problem(loss, 1, n=100, seed=3)
    opts = {"width": 6, "epochs": 60} | ({} if batch is None else {"batch_size": batch})
    ref = get_solver(name, **opts).solve(p, "nonconvex", tol=1e-9)
    res = get_solver(name, array_library=library, **opts).solve(p, "nonconvex", tol=1e-9)
    assert res.iterations == ref.iterations == 60
    for key in ("U", "a"):
        np.testing.assert_allclose(res.weights[key], ref.weights[key], rtol=0, atol=1e-8)
    assert [t.objective for t in res.trace] == pytest.approx([t.objective for t in ref.trace], rel=1e-10)


def test_torch_is_installed_where_ci_promises_it() -> None:
    """A strict run (CI, RELUBENCH_STRICT_SKIPS=1) must have torch: its agreement checks are not skips but absent
    parameters when it is missing, which the skip allow-list cannot see."""
    if os.environ.get("RELUBENCH_STRICT_SKIPS") == "1":
        assert "torch" in LIBRARIES


def test_network_baselines_in_single_precision() -> None:
    p = _problem(n=80, seed=4)
    ref = get_solver("adam", width=5, epochs=50).solve(p, "nonconvex", tol=1e-9)
    res = get_solver("adam", width=5, epochs=50, precision="single").solve(p, "nonconvex", tol=1e-9)
    assert abs(res.objective - ref.objective) <= 1e-4 * abs(ref.objective)
    # and it did run in float32: the same 50 epochs end measurably apart (float32 rounding, about 1e-7)
    diff = max(float(np.abs(res.weights[k] - ref.weights[k]).max()) for k in ("U", "a"))
    assert diff > 1e-9, diff


def test_adversarial_training_stays_on_numpy() -> None:
    p = _problem("hinge", 1, n=40)
    with pytest.raises(InputError, match="numpy placement only"):
        get_solver("sgd", width=4, epochs=2, adversarial_eps=0.1, array_library="array-api-strict").solve(
            p, "nonconvex"
        )


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("form", ["relu", "gated"])
@pytest.mark.parametrize("precision", ["double", "mixed"])
def test_admm_generic_path_agrees_with_numpy(library: str, form: str, precision: str) -> None:
    # a whole run (rho changes; "mixed": the float32 slack state and its promotion to float64): same iterations,
    # same weights; mixed differs in float32 sums' order only (about 1e-10 here)
    p = _problem(seed=1)
    ref = get_solver("admm", precision=precision).solve(p, form, tol=1e-7)
    res = get_solver("admm", precision=precision, array_library=library).solve(p, form, tol=1e-7)
    assert ref.status == res.status == "optimal"
    assert res.iterations == ref.iterations
    assert form == "gated" or "factorizations=1 " not in ref.message  # relu: rho changed on the way
    for key, value in ref.weights.items():
        np.testing.assert_allclose(res.weights[key], value, rtol=0, atol=1e-8)
    assert abs(res.certified_gap - ref.certified_gap) <= 1e-8 * abs(ref.objective)
    assert res.max_violation == pytest.approx(ref.max_violation, rel=1e-6, abs=1e-10)


def test_admm_placement_limits() -> None:
    with pytest.raises(InputError, match="fused=True cannot be honoured: the kernel runs on numpy"):
        get_solver("admm", fused=True, array_library="array-api-strict").solve(_problem(), "relu", tol=1e-3)
    assert solver_class("admm").capabilities.offered_at(20_000, 10**6)
    assert not solver_class("admm").capabilities.offered_at(20_001, 10)


def test_admm_refuses_n_by_n_matrices_that_do_not_fit(monkeypatch) -> None:  # noqa: ANN001
    import relubench.resources as resources

    monkeypatch.setattr(resources, "available_memory", lambda: 100_000)
    res = get_solver("admm").solve(_problem(), "gated", tol=1e-3)  # a result that says so, not an exception
    assert res.status == "memory" and res.weights is None
    assert re.search(r"admm's n x n Woodbury matrices at n = 60 needs about .* GiB; this machine", res.message)


@pytest.mark.parametrize("library", LIBRARIES)
def test_generic_kernels_match_numpy(library: str) -> None:
    p = _problem("logistic", 1)
    where = placement("cpu", library)
    data = where.view(p)
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((p.d, 2 * p.groups))
    lam = np.abs(rng.standard_normal((p.n, 2 * p.groups)))
    Zd, lamd = where.asarray(Z), where.asarray(lam)
    XZ, XZd = p.X @ Z, data.X @ Zd
    np.testing.assert_allclose(
        where.to_numpy(predict_groups(data, XZd[:, : p.groups])), predict_groups(p, XZ[:, : p.groups])
    )
    np.testing.assert_allclose(
        dual_gap_gated(data, Zd[:, : p.groups], XZd[:, : p.groups]),
        dual_gap_gated(p, Z[:, : p.groups], XZ[:, : p.groups]),
    )
    np.testing.assert_allclose(dual_gap_relu(data, Zd, XZd, lamd), dual_gap_relu(p, Z, XZ, lam))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ("fista", "al"))
def test_single_precision_runs_in_float32_and_certifies_in_float64(backend: str) -> None:
    p = _problem()
    form = "gated" if backend == "fista" else "relu"
    ref = get_solver("clarabel").solve(p, form, tol=1e-9)
    res = get_solver(backend, precision="single").solve(p, form, tol=1e-3, time_limit=30)
    double = get_solver(backend).solve(p, form, tol=1e-3, time_limit=30)
    assert res.weights is not None and all(w.dtype == np.float64 for w in res.weights.values())
    assert abs(res.objective - ref.objective) <= 1e-2 * abs(ref.objective)
    # it did compute in float32: the same method from the same start ends measurably away from double precision
    diff = max(float(np.abs(res.weights[k] - double.weights[k]).max()) for k in res.weights)
    assert diff > 1e-9 * max(float(np.abs(w).max()) for w in double.weights.values()), diff
    # a certificate holds whatever the status (it is computed in float64): the true gap never exceeds it
    assert res.certified_gap is not None and np.isfinite(res.certified_gap)
    assert res.objective - ref.objective <= res.certified_gap + 1e-7 * abs(ref.objective)


def test_cuda_without_a_gpu_is_unavailable_not_a_failure(monkeypatch) -> None:  # noqa: ANN001
    import relubench.running.solver as solver_module

    monkeypatch.setattr(solver_module, "cuda_status", lambda: (False, "no CUDA device"))
    res = get_solver("fista", device="cuda").solve(_problem(), "gated", tol=1e-6)
    assert res.status == "unavailable" and res.message == "unavailable: no CUDA device" and res.device == "cuda"
    assert res.weights is None


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("fista", {"device": "tpu"}, "device 'tpu' is not one this backend runs on"),
        ("fista", {"array_library": "cupy"}, "array_library 'cupy' does not run on cpu"),
        ("al", {"device": "cuda", "array_library": "numpy"}, "array_library 'numpy' does not run on cuda"),
        ("fista", {"precision": "half"}, "precision must be one of double, single"),
        ("admm", {"precision": "single"}, "precision must be one of mixed, double"),
        ("clarabel", {"device": "cuda"}, "has no option 'device'"),
    ],
)
def test_bad_device_options_are_clear_errors(name: str, options: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        get_solver(name, **options)


def test_only_generic_backends_declare_cuda() -> None:
    """A backend declares cuda exactly when it computes through a placement (the array-API code path that the
    tests here run on array-api-strict); the others (conic libraries, the interior point) stay on the CPU."""
    import inspect

    def placed(cls: type) -> bool:  # its own code or a base class's (not Solver's) asks for a placement
        return any(
            "self.placement()" in inspect.getsource(k)
            for k in cls.__mro__
            if k.__module__.startswith("relubench.solvers")
        )

    generic = {n for n in solver_names() if placed(solver_class(n))}
    assert set(DEVICE_BACKENDS) == generic and {"fista", "al", "admm"} <= generic
    assert "cuda" not in solver_class("clarabel").capabilities.devices


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "relubench", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_cli_device_flags() -> None:
    base = ("solve", "--dataset", "gaussian", "--n", "80", "--d", "4", "--patterns", "10", "--formulation", "gated")
    out = _cli(*base, "--solver", "fista", "--precision", "single", "--tol", "1e-3", "--json")
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout.splitlines()[0])
    assert row["device"] == "cpu" and row["status"] in ("optimal", "max_iter") and row["objective"] > 0
    bad = _cli(*base, "--solver", "admm", "--precision", "single")  # admm's own precisions: mixed, double
    assert bad.returncode == 2 and bad.stdout == "", bad.stderr
    assert bad.stderr.strip() == "relubench: error: precision must be one of mixed, double, got 'single'"
    bad = _cli(*base, "--solver", "clarabel", "--device", "cuda")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("relubench: error: solver 'clarabel' runs on the cpu")
    if not cuda_status()[0]:  # no GPU here: the run is reported and skipped, the command succeeds
        out = _cli(*base, "--device", "cuda", "--json")
        assert out.returncode == 0, out.stderr
        row = json.loads(out.stdout.splitlines()[0])
        assert row["solver"] == "fista" and row["status"] == "unavailable"
        assert row["message"].startswith("unavailable: no CUDA device")
    listing = _cli("solvers")
    assert listing.returncode == 0 and "GPU:" in listing.stdout


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba not installed")
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_al_fused_kernels_agree_with_the_array_api_path(loss: str) -> None:
    p = _problem(loss, 1, n=80, seed=5)
    opts = {"max_outer": 3, "inner_iter": 100}
    ref = get_solver("al", fused=False, **opts).solve(p, "relu", tol=1e-12)
    res = get_solver("al", fused=True, **opts).solve(p, "relu", tol=1e-12)
    assert res.iterations == ref.iterations > 0
    for key in ("V", "W"):
        np.testing.assert_allclose(res.weights[key], ref.weights[key], rtol=0, atol=1e-10)


def test_al_fused_kernels_refuse_what_they_cannot_do() -> None:
    p = _problem("squared", 2, n=40)
    with pytest.raises(InputError, match="fused=True cannot be honoured: they handle one output"):
        get_solver("al", fused=True).solve(p, "relu", tol=1e-3)
    with pytest.raises(InputError, match="fused=True cannot be honoured: they run on numpy in double precision"):
        get_solver("al", fused=True, precision="single").solve(_problem(), "relu", tol=1e-3)


def test_sweep_config_device_cuda_runs_only_device_backends(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import relubench.running.solver as solver_module
    from relubench.bench.config import load_config
    from relubench.bench.store import ResultStore
    from relubench.bench.sweep import case_columns, run_sweep
    from relubench.bench.worker import execute

    def in_process(case):  # noqa: ANN001, ANN202
        return {**execute(case), "wall_s": 0.0, "case_hash": case.case_hash, **case_columns(case)}

    cfg = tmp_path / "g.toml"
    cfg.write_text(
        'name = "g"\nsolvers = ["clarabel", "fista", "al"]\ndevice = "cuda"\n'
        '[[datasets]]\nname = "gaussian"\nsizes = [[60, 4, 8]]\n'
    )
    config = load_config(cfg)
    assert {(c.solver, c.formulation) for c in config.cases} == {("fista", "gated"), ("al", "relu")}
    assert all(dict(c.options) == {"device": "cuda", "precision": "double"} for c in config.cases)
    # admm: its own default precision (mixed) unless the config names one; not offered beyond its max_rows
    both = tmp_path / "a.toml"
    both.write_text(
        'name = "a"\nsolvers = ["admm", "fista"]\ndevice = "cuda"\nformulations = ["relu"]\n'
        '[[datasets]]\nname = "gaussian"\nsizes = [[60, 4, 8], [30000, 4, 8]]\n'
    )
    cases = load_config(both).cases
    assert {(c.solver, c.n) for c in cases} == {("admm", 60)}
    assert dict(cases[0].options) == {"device": "cuda", "precision": "mixed"}
    single = tmp_path / "s.toml"
    single.write_text(
        'name = "s"\nsolvers = ["admm", "al"]\ndevice = "cuda"\nprecision = "single"\nformulations = ["relu"]\n'
        '[[datasets]]\nname = "gaussian"\nsizes = [[60, 4, 8]]\n'
    )
    assert {c.solver for c in load_config(single).cases} == {"al"}  # admm has no single precision
    monkeypatch.setattr(solver_module, "cuda_status", lambda: (False, "no CUDA device"))
    out = tmp_path / "g.parquet"
    counts = run_sweep(config, out, progress=False, runner=in_process)
    assert counts.get("unavailable") == 2, counts
    rows = ResultStore(out).load()
    assert set(rows["status"]) == {"unavailable"} and set(rows["device"]) == {"cuda"}
    bad = tmp_path / "b.toml"
    bad.write_text('name = "b"\nsolvers = ["clarabel"]\ndevice = "cuda"\n[[datasets]]\nname = "iris"\n')
    with pytest.raises(InputError, match="none of the solvers runs there"):
        load_config(bad)


@pytest.mark.slow
def test_rows_and_report_carry_certified_gaps(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from relubench.bench.config import load_config
    from relubench.bench.store import ResultStore
    from relubench.bench.sweep import case_columns, run_sweep
    from relubench.bench.worker import execute
    from relubench.present.report import write_report

    monkeypatch.setenv("RELUBENCH_CACHE", str(tmp_path / "cache"))

    def in_process(case):  # noqa: ANN001, ANN202
        return {**execute(case), "wall_s": 0.0, "case_hash": case.case_hash, **case_columns(case)}

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'name = "c"\nsolvers = ["fista", "al"]\npresets = ["low"]\n'
        '[[datasets]]\nname = "gaussian"\nsizes = [[60, 4, 8]]\n'
    )
    run_sweep(load_config(cfg), tmp_path / "c.parquet", progress=False, runner=in_process)
    rows = ResultStore(tmp_path / "c.parquet").load().set_index("solver")
    fista = rows.loc["fista"]
    assert fista["status"] == "optimal" and 0 <= fista["relative_certified_gap"] <= 1e-2
    assert fista["time_to_certified_0.01"] <= fista["setup_s"] + fista["solve_s"] + 1e-9
    assert json.loads(fista["trace"])[-1][3] is not None  # the certified gap rides in the trace
    # a certificate bounds the gap to the reference optimum
    assert fista["objective"] - fista["reference"] <= fista["certified_gap"] * (1 + 1e-9) + 1e-12
    page = write_report(tmp_path / "c.parquet", tmp_path / "report").read_text()
    assert "id='certified'" in page and page.count("<img") >= 2  # convergence and certified panels
    # at sizes no interior point reaches there is no reference: the report stands on certified gaps alone
    alone = ResultStore(tmp_path / "c.parquet").load()
    alone[["reference", "relative_gap"]] = np.nan
    alone.to_parquet(tmp_path / "alone.parquet")
    page = write_report(tmp_path / "alone.parquet", tmp_path / "alone").read_text()
    assert "id='heldout'" in page and "id='certified'" in page


def test_success_without_a_reference_needs_a_certified_gap() -> None:
    import pandas as pd

    from relubench.present.report import success_mask

    nan = float("nan")
    df = pd.DataFrame(
        {
            "status": ["optimal", "optimal", "optimal", "optimal", "time_limit", "optimal"],
            "tol": [1e-3] * 6,
            # reference gap / certified gap: the reference decides where it exists; without one, a backend's own
            # stopping test (al: objective settled) is not accuracy, its certificate is; neither: the status
            "relative_gap": [-1e-4, nan, nan, nan, nan, 2e-3],
            "relative_certified_gap": [0.5, 0.25, 5e-4, nan, 1e-5, 1e-4],
        }
    )
    assert success_mask(df).tolist() == [True, False, True, True, False, False]
    assert success_mask(df.drop(columns="relative_certified_gap")).tolist() == [True, True, True, True, False, False]


@pytest.mark.skipif(not cuda_status()[0], reason="no CUDA device here (CI): the generic path is checked on the CPU")
@pytest.mark.parametrize(("backend", "form"), [("fista", "gated"), ("al", "relu")])
def test_cuda_path_agrees_with_numpy_in_double_precision(backend: str, form: str) -> None:
    # a fixed amount of work: GPU reductions sum in another order, and long runs amplify that rounding (a fista run
    # to a gap of 1e-7 here ends 8e-8 apart in the weights, with the same iteration count)
    opts = {"max_outer": 3, "inner_iter": 150} if backend == "al" else {"max_iter": 150}
    p = _problem(seed=1)
    ref = get_solver(backend, **opts).solve(p, form, tol=1e-12)
    res = get_solver(backend, device="cuda", **opts).solve(p, form, tol=1e-12)
    assert res.device == "cuda" and res.device_peak_bytes is not None and res.device_peak_bytes > 0
    assert res.iterations == ref.iterations > 0
    for key, value in ref.weights.items():
        np.testing.assert_allclose(res.weights[key], value, rtol=0, atol=1e-8)
