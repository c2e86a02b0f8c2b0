"""Sweeps: solvers x datasets x sizes x seeds x tolerance presets, each case isolated in its own process.

Config (TOML)::

    name = "quick"
    solvers = ["clarabel", "admm", "fista", "al"]   # each runs the formulations it supports
    formulations = ["relu", "gated"]
    presets = ["low", "mid", "high"]                # tol 1e-2, 1e-4, 1e-6
    seeds = [0, 1]
    time_limit = 60                                 # seconds per case (wall clock, enforced by the parent)
    memory_limit_mb = 4096                          # address-space cap of each case's process
    grace_s = 30                                    # extra seconds before a case's process is killed
    [[datasets]]
    name = "gaussian"                               # any built-in dataset
    sizes = [[100, 10, 20], [200, 10, 40]]          # [n, d, P]; real sets: [[n or 0, 0, P], ...]
    beta_per_n = 1e-3                               # beta = beta_per_n * n (or: beta = 0.1)
    [solver_options.sgd]                            # optional per-solver options
    epochs = 500
    [[experiments]]                                 # optional seed experiments (see relubench.experiments)
    kind = "relaxation_gap"
    d = 2
    n = [20, 40, 80]
    P = [2, 8, 32]

Every case runs in a fresh Python process that the parent kills at the time limit plus a grace: a
crash (signal), a hang, or MemoryError marks that case ``crashed``, ``time_limit`` or ``memory`` and the sweep
goes on. Rows are appended atomically to a parquet table keyed by a hash of the case; a re-run skips finished
cases (``rerun_failed`` retries failed ones). With a dask scheduler address the same isolated cases run on a
dask.distributed cluster. Each row records machine, package and solver versions.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from relubench.errors import InputError

PRESETS = {"low": 1e-2, "mid": 1e-4, "high": 1e-6}
GRACE_S = 30.0  # beyond the case's own time limit, for setup and reference solves


@dataclass(frozen=True)
class Case:
    dataset: str
    n: int | None
    d: int | None
    P: int | str  # a count, or "all" (every pattern; small d only)
    seed: int
    beta: float
    solver: str
    formulation: str
    preset: str
    tol: float
    time_limit: float
    memory_limit_mb: int
    options: tuple[tuple[str, Any], ...] = ()
    bias: bool = False
    grace_s: float = 30.0
    experiment: str = ""  # seed experiment kind (relubench.experiments), "" for the solver comparison grid
    reference_kind: str = "patterns"  # f* over the case's own patterns, or "all": over every pattern of the data
    dataset_options: tuple[tuple[str, Any], ...] = ()

    @property
    def case_hash(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass
class SweepConfig:
    name: str
    cases: list[Case] = field(default_factory=list)


def load_config(path: str | Path) -> SweepConfig:
    """Parse and validate a sweep TOML file into its list of cases (InputError on any problem)."""
    from relubench.datasets import dataset_names
    from relubench.registry import solver_class

    p = Path(path)
    if not p.is_file():
        raise InputError(f"config not found: {p}")
    try:
        cfg = tomllib.loads(p.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: invalid TOML: {exc}") from None
    name = str(cfg.get("name", p.stem))
    experiments = cfg.get("experiments", [])
    if not isinstance(experiments, list):
        raise InputError(f"{p}: 'experiments' must be an array of tables ([[experiments]])")
    solvers = cfg.get("solvers", [] if experiments else None)
    if solvers is None or not isinstance(solvers, list) or (not solvers and cfg.get("datasets")):
        raise InputError(f"{p}: 'solvers' must be a non-empty list")
    classes = [solver_class(s) for s in solvers]
    forms = cfg.get("formulations", ["relu", "gated", "nonconvex"])
    presets = cfg.get("presets", ["mid"])
    for pr in presets:
        if pr not in PRESETS:
            raise InputError(f"{p}: unknown preset {pr!r} (low, mid, high)")
    seeds = [int(s) for s in cfg.get("seeds", [0])]
    time_limit = float(cfg.get("time_limit", 60))
    mem = int(cfg.get("memory_limit_mb", 4096))
    grace = float(cfg.get("grace_s", GRACE_S))
    if time_limit <= 0 or mem <= 0:
        raise InputError(f"{p}: time_limit and memory_limit_mb must be > 0")
    options = cfg.get("solver_options", {})
    datasets = cfg.get("datasets", [] if experiments else None)
    if not datasets and not experiments:
        raise InputError(f"{p}: at least one [[datasets]] or [[experiments]] table is needed")
    cases = []
    for ds in datasets:
        dname = ds.get("name")
        if dname not in dataset_names() or dname == "file":
            raise InputError(f"{p}: unknown dataset {dname!r}")
        sizes = ds.get("sizes", [[0, 0, 50]])
        for size in sizes:
            if len(size) != 3 or int(size[2]) < 1:
                raise InputError(f"{p}: sizes are [n, d, P] with P >= 1, got {size}")
            n, d, P = (int(v) for v in size)
            beta = float(ds["beta"]) if "beta" in ds else float(ds.get("beta_per_n", 1e-3)) * max(n, 1)
            if beta <= 0:
                raise InputError(f"{p}: beta must be > 0")
            for seed in seeds:
                for cls in classes:
                    for form in forms:
                        if form not in cls.formulations:
                            continue
                        for pr in presets:
                            cases.append(
                                Case(
                                    dname,
                                    n or None,
                                    d or None,
                                    P,
                                    seed,
                                    beta,
                                    cls.name,
                                    form,
                                    pr,
                                    PRESETS[pr],
                                    time_limit,
                                    mem,
                                    tuple(sorted(options.get(cls.name, {}).items())),
                                    bool(ds.get("bias", False)),
                                    grace,
                                )
                            )
    from relubench.experiments import expand

    common = {"time_limit": time_limit, "memory_limit_mb": mem, "grace_s": grace}
    for k, spec in enumerate(experiments, 1):
        if not isinstance(spec, dict):
            raise InputError(f"{p}: experiment {k} must be a table")
        cases += expand(spec, common, f"{p}: experiment {k}")
    if not cases:
        raise InputError(f"{p}: the config gives no cases (do the solvers support the formulations?)")
    return SweepConfig(name, cases)


def environment_info() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    pkgs = {}
    for name in ("relubench", "numpy", "scipy", "clarabel", "scs", "cvxpy"):
        try:
            pkgs[name] = version(name)
        except PackageNotFoundError:
            pkgs[name] = ""
    return {
        "machine": platform.node(),
        "platform": platform.platform(),
        "cpu_count": str(os.cpu_count()),
        "python": platform.python_version(),
        "packages": json.dumps(pkgs, sort_keys=True),
    }


def build_problem(case: Case):  # noqa: ANN201
    from relubench.datasets import load_dataset
    from relubench.problem import Problem

    ds = load_dataset(case.dataset, n=case.n, d=case.d, seed=case.seed, **dict(case.dataset_options))
    return Problem.create(
        ds.X_train, ds.y_train, case.beta, patterns=case.P, seed=case.seed, bias=case.bias, name=case.dataset
    )


def execute(case: Case) -> dict[str, Any]:
    """Run one case in this process and return its row (without isolation; see :func:`run_isolated`)."""
    from relubench.metrics import TOLERANCES, time_to_tolerance, y_scale
    from relubench.reference import reference_optimum, relative_gap
    from relubench.registry import get_solver

    problem = build_problem(case)
    solver = get_solver(case.solver, **dict(case.options))
    res = solver.solve(problem, case.formulation, tol=case.tol, time_limit=case.time_limit)
    row: dict[str, Any] = {
        **res.summary(),
        "problem_hash": problem.content_hash,
        "n_actual": problem.n,
        "d_actual": problem.d,
        "P_actual": problem.P,
    }
    ref = None
    try:
        ref_problem = problem
        if case.reference_kind == "all" and problem.pattern_spec != "all":
            from relubench.problem import Problem

            ref_problem = Problem.create(problem.X, problem.y, problem.beta, patterns="all", name=problem.name)
        reference = reference_optimum(ref_problem, case.formulation)
        ref = reference.value
        row["reference_active_neurons"] = reference.active_neurons
    except Exception as exc:  # a failed reference leaves the gap empty, it does not fail the case
        row["message"] += f"; no reference: {exc}"
    row["reference"] = ref
    row["relative_gap"] = relative_gap(res.objective, ref) if ref is not None else None
    ys = y_scale(problem.y)
    for tol in TOLERANCES:
        row[f"time_to_{tol:g}"] = (res.setup_s + time_to_tolerance(res, ref, tol, ys)) if ref is not None else None
    row["trace"] = json.dumps([[p.seconds, p.objective, p.max_violation] for p in res.trace])
    return row


_ROW_MARK = "RELUBENCH-ROW "


def _worker_main() -> int:
    """Entry point of a case's process: a Case as JSON on stdin, its row as one marked JSON line on stdout."""
    spec = json.loads(sys.stdin.read())
    spec["options"] = tuple(tuple(kv) for kv in spec["options"])
    spec["dataset_options"] = tuple(tuple(kv) for kv in spec.get("dataset_options", ()))
    case = Case(**spec)
    try:
        import resource

        cap = case.memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    try:
        kind, row = "ok", execute(case)
    except MemoryError:
        kind, row = "memory", {"message": "MemoryError (memory cap reached)"}
    except BaseException as exc:  # any failure of a case is a result, reported in its row
        kind, row = "error", {"message": f"{type(exc).__name__}: {exc}"[:2000]}
    sys.stdout.write(_ROW_MARK + json.dumps([kind, row], default=str) + "\n")
    sys.stdout.flush()
    return 0


def run_isolated(case: Case) -> dict[str, Any]:
    """Run a case in a fresh Python process; kill it at time_limit + grace. Always returns a complete row.

    A subprocess (not multiprocessing) so that it also works inside daemonic dask worker processes.
    """
    spec = json.dumps(asdict(case), default=str)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "relubench.sweep"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = case.time_limit + case.grace_s
    try:
        out, err = proc.communicate(spec, timeout=deadline)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        out = ""
    wall = time.perf_counter() - start
    line = next((ln for ln in out.splitlines() if ln.startswith(_ROW_MARK)), None)
    if line is None:
        if wall >= deadline:
            row = {"status": "time_limit", "message": f"killed after {wall:.1f} s (limit {case.time_limit} s)"}
        else:
            code = proc.returncode
            why = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            tail = err.strip().splitlines()[-1:] if err else []
            row = {"status": "crashed", "message": f"worker died ({why}) {' '.join(tail)}"[:2000]}
    else:
        kind, row = json.loads(line[len(_ROW_MARK) :])
        if kind == "memory":
            row["status"] = "memory"
        elif kind == "error":
            row["status"] = "error"
    row.update({"wall_s": wall, "case_hash": case.case_hash, **_case_columns(case), **environment_info()})
    return row


def _case_columns(case: Case) -> dict[str, Any]:
    d = asdict(case)
    d["options"] = json.dumps(dict(case.options), sort_keys=True, default=str)
    d["dataset_options"] = json.dumps(dict(case.dataset_options), sort_keys=True, default=str)
    d["P"] = str(case.P)  # counts and "all" in one column
    return d


def _progress(done: int, total: int, start: float, last: dict[str, Any] | None) -> None:
    elapsed = time.perf_counter() - start
    eta = elapsed / done * (total - done) if done else float("nan")
    width = 30
    fill = int(width * done / max(total, 1))
    what = f" {last['solver']} {last['dataset']} {last['status']}" if last else ""
    sys.stderr.write(
        f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} elapsed {elapsed:6.0f}s ETA {eta:6.0f}s{what:40s}"
    )
    sys.stderr.flush()


def run_sweep(
    config: SweepConfig,
    store_path: str | Path,
    jobs: int = 1,
    rerun_failed: bool = False,
    scheduler: str | None = None,
    progress: bool = True,
    runner: Callable[[Case], dict[str, Any]] = run_isolated,
) -> dict[str, int]:
    """Run the config's unfinished cases, appending each row as it completes. Returns counts by status."""
    from relubench.store import ResultStore

    store = ResultStore(store_path)
    done = store.done_hashes(rerun_failed=rerun_failed)
    todo = [c for c in config.cases if c.case_hash not in done]
    counts: dict[str, int] = {"skipped": len(config.cases) - len(todo)}
    start = time.perf_counter()
    if progress:
        _progress(0, len(todo), start, None)
    rows: Iterable[dict[str, Any]]
    if scheduler:
        rows = _dask_rows(todo, scheduler, runner)
    elif jobs > 1:
        rows = _pool_rows(todo, jobs, runner)
    else:
        rows = (runner(c) for c in todo)
    for k, row in enumerate(rows, 1):
        store.append([row])
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        if progress:
            _progress(k, len(todo), start, row)
    if progress:
        sys.stderr.write("\n")
    return counts


def _pool_rows(todo: list[Case], jobs: int, runner: Callable[[Case], dict[str, Any]]) -> Iterable[dict[str, Any]]:
    from concurrent.futures import ThreadPoolExecutor, as_completed

    # threads only wait on the isolated worker processes
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(runner, c) for c in todo]
        for fut in as_completed(futures):
            yield fut.result()


def _dask_rows(todo: list[Case], scheduler: str, runner: Callable[[Case], dict[str, Any]]) -> Iterable[dict[str, Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--scheduler needs dask.distributed: pip install 'relubench[dask]'") from None
    try:
        client = Client(scheduler, timeout=10)
    except OSError as exc:
        raise InputError(f"cannot connect to dask scheduler {scheduler}: {exc}") from None
    try:
        futures = client.map(runner, todo, pure=False)
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(_worker_main())
