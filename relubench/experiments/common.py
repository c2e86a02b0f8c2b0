"""Helpers the seed experiments share: reading their config tables, building cases, figure axes."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from relubench.bench.cases import PRESETS, Case
from relubench.bench.experiment import Defaults
from relubench.datasets import dataset_names
from relubench.errors import InputError
from relubench.problem.spec import ProblemClass
from relubench.running.solver import reference_solvers, solver_class


def int_list(spec: dict[str, Any], key: str, where: str, default: list[int] | None = None) -> list[int]:
    """The integers under ``key`` (a list or one value); InputError when missing, empty or not positive."""
    v = spec.get(key, default)
    if v is None:
        raise InputError(f"{where}: '{key}' is required")
    vals = v if isinstance(v, list) else [v]
    try:
        out = [int(x) for x in vals]
    except (TypeError, ValueError):
        raise InputError(f"{where}: '{key}' must be integers, got {v!r}") from None
    if not out or min(out) < (0 if key in ("seeds", "init_seeds") else 1):
        raise InputError(f"{where}: '{key}' must be a non-empty list of positive integers, got {v!r}")
    return out


def str_list(spec: dict[str, Any], key: str, where: str) -> list[str]:
    """The solver names (or other strings) under ``key``; InputError when missing or not a list of strings."""
    v = spec.get(key)
    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
        raise InputError(f"{where}: '{key}' must be a non-empty list of names, got {v!r}")
    return v


def reference_solver(formulation: str = "relu") -> str:
    """The backend that computes reference optima here (the first available by declared rank)."""
    for cls in reference_solvers(ProblemClass(formulation)):
        if cls.available()[0]:
            return cls.name
    raise InputError(f"no backend available here computes {formulation} reference optima")


class CaseBuilder:
    """Cases of one experiment table: the keys every kind shares are read once, here.

    Shared keys: ``dataset`` (default "gaussian"), ``dataset_options`` (a table), ``d``, ``beta_per_n`` (default
    1e-3; or ``beta``), ``seeds`` (data and pattern seeds), ``time_limit``, ``options`` (solver option tables).
    """

    def __init__(
        self,
        kind: str,
        spec: dict[str, Any],
        defaults: Defaults,
        where: str,
        dataset_defaults: dict[str, Any] | None = None,
    ) -> None:
        self.kind, self.spec, self.defaults, self.where = kind, spec, defaults, where
        self.dataset = spec.get("dataset", "gaussian")
        if self.dataset not in dataset_names() or self.dataset == "file":
            raise InputError(f"{where}: unknown dataset {self.dataset!r}")
        dopts = spec.get("dataset_options", {})
        if not isinstance(dopts, dict):
            raise InputError(f"{where}: 'dataset_options' must be a table")
        if "dataset" not in spec:  # the kind's own data defaults apply to its default dataset
            dopts = {**(dataset_defaults or {}), **dopts}
        self.dataset_options = tuple(sorted(dopts.items()))
        self.d = int_list(spec, "d", where)[0]
        self.seeds = int_list(spec, "seeds", where, [0])
        self.time_limit = float(spec.get("time_limit", defaults.time_limit))
        self.options = spec.get("options", {})
        if not isinstance(self.options, dict):
            raise InputError(f"{where}: 'options' must be a table of solver option tables")

    def beta_of(self, n: int) -> float:
        s = self.spec
        b = float(s["beta"]) if "beta" in s else float(s.get("beta_per_n", 1e-3)) * n
        if b <= 0:
            raise InputError(f"{self.where}: beta must be > 0")
        return b

    def preset(self, default: str) -> str:
        pr = self.spec.get("preset", default)
        if pr not in PRESETS:
            raise InputError(f"{self.where}: unknown preset {pr!r} (low, mid, high)")
        return pr

    def case(
        self,
        n: int,
        P: int | str,
        seed: int,
        solver: str,
        form: str,
        preset: str,
        reference: str,
        extra: list[tuple[str, Any]] | tuple[()] = (),
        d: int | None = None,
        loss: str = "squared",
        epsilon: float = 0.0,
    ) -> Case:
        cls = solver_class(solver)
        if form not in cls.capabilities.formulations:
            raise InputError(f"{self.where}: solver {solver!r} does not solve the {form} formulation")
        opts = dict(self.options.get(solver, {}))
        opts.update(extra)
        return Case(
            self.dataset,
            n,
            self.d if d is None else d,
            P,
            seed,
            self.beta_of(n),
            solver,
            form,
            preset,
            PRESETS[preset],
            self.time_limit,
            self.defaults.memory_limit_mb,
            tuple(sorted(opts.items())),
            False,
            self.defaults.grace_s,
            experiment=self.kind,
            reference_kind=reference,
            dataset_options=self.dataset_options,
            loss=loss,
            epsilon=epsilon,
        )


def loglog_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y on log x over the positive finite points (NaN with fewer than 2)."""
    ok = (x > 0) & (y > 0) & np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def log_ticks(ax: Any, values: Any, axis: str = "x") -> None:
    """Label a log axis at the given values only (plain numbers, no minor labels)."""
    vals = sorted({float(v) for v in values if np.isfinite(v) and v > 0})
    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_formatter(ScalarFormatter())
    a.set_minor_formatter(NullFormatter())
    (ax.set_xticks if axis == "x" else ax.set_yticks)(vals)
