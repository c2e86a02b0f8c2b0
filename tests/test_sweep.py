"""Sweeps: isolation of crashing/hanging/memory-hungry cases, atomic resume after SIGKILL, dask, report."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from relubench.bench.config import load_config
from relubench.bench.sweep import run_sweep

TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def plugins(monkeypatch):
    monkeypatch.setenv("RELUBENCH_PLUGINS", "sweep_plugins")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import relubench.running.solver as reg

    monkeypatch.setattr(reg, "_LOADED", False)


def write_config(
    path, solvers, sizes="[[40, 3, 8]]", presets='["mid"]', seeds="[0]", time_limit=20, grace=1, memory=1500
):
    path.write_text(
        f'name = "t"\nsolvers = {solvers}\nformulations = ["relu", "gated"]\npresets = {presets}\n'
        f"seeds = {seeds}\ntime_limit = {time_limit}\ngrace_s = {grace}\nmemory_limit_mb = {memory}\n"
        f'[[datasets]]\nname = "gaussian"\nsizes = {sizes}\nbeta = 0.1\n'
    )
    return path


@pytest.mark.slow
def test_misbehaving_cases_are_recorded_and_the_sweep_completes(tmp_path):
    cfg = load_config(
        write_config(tmp_path / "c.toml", '["test-abort", "test-hang", "test-hog", "clarabel"]', time_limit=3, grace=6)
    )
    out = tmp_path / "r.parquet"
    counts = run_sweep(cfg, out, jobs=2, progress=False)
    df = pd.read_parquet(out)
    status = dict(zip(df["solver"] + ":" + df["formulation"], df["status"], strict=True))
    assert status["test-abort:relu"] == "crashed"
    assert status["test-hang:relu"] == "time_limit"
    assert status["test-hog:relu"] == "memory"
    assert status["clarabel:relu"] == "optimal" and status["clarabel:gated"] == "optimal"
    assert sum(v for k, v in counts.items() if k != "skipped") == len(df) == 5
    assert df["case_hash"].is_unique
    for col in ("machine", "packages", "python", "solver_version"):
        assert col in df
    from relubench.running.measure import ROW_KEYS

    assert set(ROW_KEYS) <= set(df.columns)  # a stored row has every key of `solve --json` (the one schema)
    row = df[df["solver"] == "clarabel"].iloc[0]
    assert abs(row["relative_gap"]) <= 1e-4 and row["time_to_0.01"] > 0  # preset mid: tol 1e-4
    # a re-run skips everything; --rerun-failed retries the three failures only
    assert run_sweep(cfg, out, progress=False) == {"skipped": 5}
    again = run_sweep(cfg, out, rerun_failed=True, progress=False)
    assert again["skipped"] == 2 and len(pd.read_parquet(out)) == 5


@pytest.mark.slow
def test_resume_after_sigkill_loses_and_duplicates_nothing(tmp_path):
    config = write_config(
        tmp_path / "c.toml",
        '["admm", "fista", "clarabel"]',
        sizes="[[60, 4, 10], [80, 4, 12]]",
        presets='["low", "mid"]',
    )
    out = tmp_path / "r.parquet"
    total = len(load_config(config).cases)
    cmd = [sys.executable, "-m", "relubench", "sweep", str(config), "-o", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    before = None
    while time.time() < deadline:
        if out.exists():
            try:
                before = pd.read_parquet(out)
            except (OSError, ValueError):
                before = None  # never happens with atomic replace; tolerated only for the poll
            if before is not None and len(before) >= 3:
                break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = pd.read_parquet(out)
    assert 3 <= len(before) < total
    subprocess.run(cmd, check=True, capture_output=True)
    after = pd.read_parquet(out)
    assert len(after) == total and after["case_hash"].is_unique
    kept = after.set_index("case_hash").loc[before["case_hash"]]
    assert (kept["wall_s"].to_numpy() == before["wall_s"].to_numpy()).all()  # finished rows were not rerun


@pytest.mark.slow
def test_sweep_on_a_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    cfg = load_config(write_config(tmp_path / "c.toml", '["admm", "test-abort"]'))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        counts = run_sweep(cfg, tmp_path / "r.parquet", scheduler=lc.scheduler_address, progress=False)
    df = pd.read_parquet(tmp_path / "r.parquet")
    assert set(df["status"]) == {"optimal", "crashed"} and len(df) == 3
    assert counts["optimal"] == 2 and counts["crashed"] == 1


@pytest.mark.slow
def test_sweep_on_a_local_cluster_by_name_resumes(tmp_path):
    pytest.importorskip("distributed")
    cfg = load_config(write_config(tmp_path / "c.toml", '["admm", "fista"]'))
    counts = run_sweep(cfg, tmp_path / "r.parquet", jobs=2, scheduler="local", progress=False)
    assert counts["optimal"] == 3 and len(pd.read_parquet(tmp_path / "r.parquet")) == 3
    again = run_sweep(cfg, tmp_path / "r.parquet", jobs=2, scheduler="local", progress=False)
    assert again == {"skipped": 3}  # finished rows are not run again


@pytest.mark.slow
def test_report_tables_profiles_curves_and_escaping(tmp_path):
    from relubench.present.report import write_report

    cfg = load_config(
        write_config(tmp_path / "c.toml", '["admm", "fista", "clarabel", "test-abort"]', presets='["low", "high"]')
    )
    out = tmp_path / "r.parquet"
    run_sweep(cfg, out, progress=False)
    df = pd.read_parquet(out)
    df.loc[df["solver"] == "test-abort", "message"] = "<script>alert(1)</script>"
    df.to_parquet(out)
    page = write_report(out, tmp_path / "rep")
    text = page.read_text()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    assert text.count("data:image/png;base64,") >= 3  # profiles per problem class and convergence curves
    assert "Preset low" in text and "Preset high" in text and "success rate" in text
    # the first screen says which backend wins where; the profiles follow, one section per problem class
    assert text.index("Which backend wins where") < text.index("Across data sets") < text.index("Preset low")
    assert "<h3>gated, squared, 1 output" in text and "<h3>relu, squared, 1 output" in text
    assert "http://" not in text and "https://" not in text


def test_bad_config_is_one_line_exit_2(tmp_path, capsys):
    from relubench.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nsolvers = ["nosuch"]\n')
    assert main(["sweep", str(bad), "-o", str(tmp_path / "r.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relubench: error: unknown solver") and err.count("\n") == 1
    assert not (tmp_path / "r.parquet").exists()


@pytest.mark.slow
def test_a_dask_worker_killed_in_the_middle_of_a_case_loses_and_doubles_nothing(tmp_path, monkeypatch):
    """The case it held runs again elsewhere (dask reschedules it): every case ends as one row, none twice. (The
    worker is found and killed through the cluster object: a second Client in this process would share, and on
    closing stop, the sweep's connection.)"""
    import signal
    import threading

    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("RELUBENCH_TEST_SLOW_S", "4")
    cfg = load_config(write_config(tmp_path / "c.toml", '["test-slow"]', sizes="[[30, 3, 5], [40, 3, 5]]"))
    out = tmp_path / "r.parquet"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        result: dict = {}
        sweep = threading.Thread(
            target=lambda: result.update(run_sweep(cfg, out, scheduler=lc.scheduler_address, progress=False))
        )
        sweep.start()
        deadline = time.time() + 60
        busy = []
        while time.time() < deadline and not busy:
            busy = [ws.address for ws in lc.scheduler.workers.values() if ws.processing]
            time.sleep(0.2)
        assert busy, "no case started"
        time.sleep(1.0)  # in the middle of the case
        nanny = next(n for n in lc.workers.values() if n.worker_address == busy[0])
        os.kill(nanny.process.process.pid, signal.SIGKILL)
        sweep.join(timeout=120)
        assert not sweep.is_alive(), "the sweep hung after a worker died"
    df = pd.read_parquet(out)
    assert len(df) == len(cfg.cases) and df["case_hash"].is_unique
    assert set(df["status"]) == {"max_iter"}  # the killed case ran again to its end
    assert sum(v for k, v in result.items() if k != "skipped") == len(cfg.cases)


@pytest.mark.slow
def test_a_scheduler_killed_mid_sweep_ends_it_with_one_line_and_a_rerun_resumes(tmp_path, monkeypatch):
    import signal
    import socket

    pytest.importorskip("distributed")
    monkeypatch.setenv("RELUBENCH_TEST_SLOW_S", "2")
    config = write_config(
        tmp_path / "c.toml", '["test-slow"]', sizes="[[30, 3, 5], [40, 3, 5], [50, 3, 5], [60, 3, 5]]"
    )
    out = tmp_path / "r.parquet"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", str(port),
                              "--no-dashboard"], **quiet)  # fmt: skip
    worker = None
    try:
        time.sleep(3)
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--no-dashboard"], **quiet)  # fmt: skip
        cmd = [sys.executable, "-m", "relubench", "sweep", str(config), "-o", str(out), "--no-progress"]
        sweep = subprocess.Popen([*cmd, "--scheduler", address], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)  # fmt: skip
        deadline = time.time() + 90
        while time.time() < deadline and not out.exists():
            time.sleep(0.2)
        assert out.exists(), "no row was stored"
        sched.send_signal(signal.SIGKILL)
        _, err = sweep.communicate(timeout=90)  # it ends, it does not hang
    finally:
        for proc in (sched, worker):
            if proc is not None and proc.poll() is None:
                proc.kill()
    lines = err.strip().splitlines()
    assert sweep.returncode == 2 and "Traceback" not in err, err
    assert lines[-1].startswith("relubench: error: lost the dask scheduler") and len(lines) == 2, err
    before = pd.read_parquet(out)
    assert 1 <= len(before) < 4
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)  # resumes here, without the cluster
    after = pd.read_parquet(out)
    assert len(after) == 4 and after["case_hash"].is_unique
    kept = after.set_index("case_hash").loc[before["case_hash"]]
    assert (kept["wall_s"].to_numpy() == before["wall_s"].to_numpy()).all()  # finished rows were not rerun


def test_a_case_that_kills_every_worker_becomes_a_crashed_row(tmp_path, monkeypatch):
    """dask gives up on a task after its workers died several times (KilledWorker): that case is a crashed row
    and the sweep goes on with the others."""
    distributed = pytest.importorskip("distributed")
    from relubench.bench import sweep as sweep_mod

    class KilledWorker(Exception):
        pass

    class Fut:
        def __init__(self, key, value):
            self.key, self.value = key, value

        def result(self):
            if isinstance(self.value, Exception):
                raise self.value
            return self.value

    class Client:
        status = "running"

        def map(self, fn, cases, pure):
            return [Fut(i, KilledWorker("worker died 3 times") if i == 0 else {"case_hash": c.case_hash})
                    for i, c in enumerate(cases)]  # fmt: skip

    monkeypatch.setattr(distributed, "as_completed", lambda futures: iter(futures))
    cfg = load_config(write_config(tmp_path / "c.toml", '["admm"]', sizes="[[30, 3, 5], [40, 3, 5]]"))
    rows = list(sweep_mod._dask_rows(cfg.cases, Client(), lambda c: None))
    assert rows[0]["status"] == "crashed" and rows[0]["case_hash"] == cfg.cases[0].case_hash
    assert "dask workers died" in rows[0]["message"] and rows[1] == {"case_hash": cfg.cases[1].case_hash}
