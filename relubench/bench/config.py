"""Sweep configs: solvers x datasets x sizes x seeds x tolerance presets, each case isolated in its own process.

Config (TOML)::

    name = "quick"                                  # letters, digits, '.', '_', '-' (it names files)
    solvers = ["clarabel", "admm", "fista", "al"]   # each runs the formulations it supports
    formulations = ["relu", "gated"]
    presets = ["low", "mid", "high"]                # tol 1e-2, 1e-4, 1e-6
    seeds = [0, 1]
    time_limit = 60                                 # seconds per case (wall clock, enforced by the parent)
    memory_limit_mb = 4096                          # data-segment cap of each case's process (not for cuda)
    device = "cpu"                                  # or "cuda": only backends that run there (fista, al, admm, ..)
    precision = "double"                            # or "single" (float32; gaps certified in float64). Absent:
                                                    # each backend's own (admm: "mixed"; it has no "single")
    grace_s = 30                                    # extra seconds before a case's process is killed
    [[datasets]]
    name = "gaussian"                               # any built-in dataset; or group = "keel" (every KEEL set;
                                                    # also "keel-balanced", "keel-imbalanced")
    max_rows = 500                                  # optional cap on training rows (n = 0: all, capped)
    sizes = [[100, 10, 20], [200, 10, 40]]          # [n, d, P]; real sets: [[n or 0, 0, P], ...]
    beta_per_n = 1e-3                               # beta = beta_per_n * n (or: beta = 0.1)
    loss = "squared"                                # or hinge, logistic (+-1 labels)
    options = { test_fraction = 0.2 }               # keyword arguments of the dataset's loader; multiclass =
                                                    # "auto": one output per class on sets of > 2 classes
    [solver_options.sgd]                            # optional per-solver options
    epochs = 500
    [[experiments]]                                 # optional seed experiments (see relubench.experiments)
    kind = "relaxation_gap"
    d = 2
    n = [20, 40, 80]
    P = [2, 8, 32]

The whole file is checked against :data:`relubench.bench.schema.CONFIG` (unknown keys, wrong types, values out
of range, non-finite numbers) and every solver option against the options its backend declares, before any
case runs. Every case runs in a fresh Python process that the parent kills at the time limit plus a grace: a
crash (signal), a hang, or MemoryError marks that case ``crashed``, ``time_limit`` or ``memory`` and the sweep
goes on. Rows are appended atomically to a parquet table keyed by a hash of the case; a re-run skips finished
cases (``rerun_failed`` retries failed ones). With a dask scheduler address the same isolated cases run on a
dask.distributed cluster. Each row records machine, package and solver versions.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from relubench.bench.cases import GRACE_S, PRESETS, Case, SweepConfig
from relubench.bench.experiment import Defaults, expand_experiment
from relubench.bench.schema import CONFIG, SAFE_NAME, validate
from relubench.datasets import DATASET_GROUPS, check_dataset_options, dataset_info, dataset_names
from relubench.errors import InputError
from relubench.problem.instance import BYTES_PER_MASK_ENTRY
from relubench.problem.spec import FORMULATION_NAMES, ProblemClass
from relubench.resources import require_memory
from relubench.running.solver import check_options, solver_class

T = TypeVar("T")


def _named(p: Path, key: str, check: Callable[..., T], *args: Any) -> T:
    """``check(*args)``, its InputError prefixed with the file and the key."""
    try:
        return check(*args)
    except InputError as exc:
        raise InputError(f"{exc} (in {p}, {key})") from None


def capped_rows(name: str, n: int, max_rows: int, test_fraction: float) -> int:
    """Training rows of a [[datasets]] entry with ``max_rows``: n (0: every training row of the set) capped at
    max_rows and at the set's training rows (its rows less round(test_fraction * rows) held out)."""
    rows = dataset_info(name).rows
    train = rows - int(round(test_fraction * rows)) if rows is not None else None
    n = n or train or max_rows
    return min(n, max_rows, train) if train is not None else min(n, max_rows)


def load_config(path: str | Path) -> SweepConfig:
    """Parse and validate a sweep TOML file into its list of cases (InputError naming the file and key)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"config not found: {p}")
    try:
        cfg = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read: {exc}") from None
    validate(cfg, CONFIG, str(p))
    name = cfg.get("name", p.stem)
    if not re.fullmatch(SAFE_NAME, name):
        raise InputError(f"{p}: name {name!r} is not a safe name (letters, digits, '.', '_', '-'): set 'name'")
    solvers = cfg.get("solvers", [])
    classes = [_named(p, f"solvers[{k}]", solver_class, s) for k, s in enumerate(solvers)]  # unknown names first
    experiments = cfg.get("experiments", [])
    datasets = cfg.get("datasets", [])
    if not datasets and not experiments:
        raise InputError(f"{p}: at least one [[datasets]] or [[experiments]] table is needed")
    if datasets and not solvers:
        raise InputError(f"{p}: solvers: a non-empty list is needed with [[datasets]]")
    options = cfg.get("solver_options", {})
    for solver, opts in options.items():  # unknown solver, unknown option or wrong type: named
        _named(p, f"solver_options.{solver}", lambda s, o: check_options(solver_class(s), o), solver, opts)
    forms = cfg.get("formulations", list(FORMULATION_NAMES))
    presets = cfg.get("presets", ["mid"])
    seeds = cfg.get("seeds", [0])
    time_limit = float(cfg.get("time_limit", 60))
    mem = int(cfg.get("memory_limit_mb", 4096))
    grace = float(cfg.get("grace_s", GRACE_S))
    device, precision = cfg.get("device", "cpu"), cfg.get("precision", "double")
    placed = device != "cpu" or precision != "double"
    if placed:  # only backends with device options; each case carries them (the default placement hashes as before)
        classes = [
            c
            for c in classes
            if len(c.capabilities.devices) > 1
            and device in c.capabilities.devices
            and precision in c.capabilities.precisions
        ]
        if not classes:
            raise InputError(
                f"{p}: device {device!r}, precision {precision!r}: none of the solvers runs there "
                "(see `relubench solvers`)"
            )

    def placement_options(cls: type) -> dict[str, str]:
        """device, and precision as the config names it or else the backend's own default (admm: mixed)."""
        return {"device": device, "precision": precision if "precision" in cfg else cls.capabilities.precisions[0]}

    solver_opts = {c.name: options.get(c.name, {}) | (placement_options(c) if placed else {}) for c in classes}
    cases = []
    entries = [  # a group ("keel") stands for each of its sets with the entry's settings
        (k, dname, ds)
        for k, ds in enumerate(datasets)
        for dname in (DATASET_GROUPS[ds["group"]] if "group" in ds else [ds["name"]])
    ]
    for k, dname, ds in entries:
        if dname not in dataset_names() or dname == "file":
            raise InputError(
                f"{p}: datasets[{k}].name: unknown dataset {dname!r} (known: {', '.join(dataset_names())})"
            )
        loss = ds.get("loss", "squared")
        ds_options = dict(ds.get("options", {}))
        if ds_options.get("multiclass") == "auto":  # one output per class where there are more than two
            ds_options["multiclass"] = (dataset_info(dname).classes or 0) > 2
        _named(p, f"datasets[{k}].options", check_dataset_options, dname, ds_options)
        outputs = 2 if ds_options.get("multiclass") else 1  # one output per class; the count needs the data
        for n, d, P in ds.get("sizes", [[0, 0, 50]]):
            if "max_rows" in ds:
                n = capped_rows(dname, n, ds["max_rows"], float(ds_options.get("test_fraction", 0.2)))
            _named(
                p,
                f"datasets[{k}].sizes",
                require_memory,
                BYTES_PER_MASK_ENTRY * n * P + 24.0 * n * d,
                f"[{n}, {d}, {P}]",
            )
            beta = float(ds["beta"]) if "beta" in ds else float(ds.get("beta_per_n", 1e-3)) * max(n, 1)
            for seed in seeds:
                for cls in classes:
                    if cls.capabilities.max_rows is not None and n > cls.capabilities.max_rows:
                        continue  # n x n matrices (admm) beyond the rows it declares
                    for form in forms:
                        if cls.capabilities.why_not(ProblemClass(form, loss, outputs)) is not None:
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
                                    tuple(sorted(solver_opts[cls.name].items())),
                                    bool(ds.get("bias", False)),
                                    grace,
                                    dataset_options=tuple(sorted(ds_options.items())),
                                    loss=loss,
                                )
                            )
    common = Defaults(time_limit, mem, grace)
    for k, spec in enumerate(experiments):
        cases += expand_experiment(spec, common, f"{p}: experiments[{k}]")
    for case in cases:  # experiment tables carry options of their own
        _named(
            p,
            f"options of {case.solver}",
            lambda s, o: check_options(solver_class(s), o),
            case.solver,
            dict(case.options),
        )
    if not cases:
        raise InputError(f"{p}: the config gives no cases (do the solvers support the formulations?)")
    return SweepConfig(name, cases)
