"""Sweep configs: solvers x datasets x sizes x seeds x tolerance presets, each case isolated in its own process.

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

import tomllib
from pathlib import Path

from relubench.bench.cases import GRACE_S, PRESETS, Case, SweepConfig
from relubench.bench.experiment import Defaults, expand_experiment
from relubench.datasets import dataset_names
from relubench.errors import InputError
from relubench.running.solver import solver_class


def load_config(path: str | Path) -> SweepConfig:
    """Parse and validate a sweep TOML file into its list of cases (InputError on any problem)."""
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
                        if form not in cls.capabilities.formulations:
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
    common = Defaults(time_limit, mem, grace)
    for k, spec in enumerate(experiments, 1):
        if not isinstance(spec, dict):
            raise InputError(f"{p}: experiment {k} must be a table")
        cases += expand_experiment(spec, common, f"{p}: experiment {k}")
    if not cases:
        raise InputError(f"{p}: the config gives no cases (do the solvers support the formulations?)")
    return SweepConfig(name, cases)
