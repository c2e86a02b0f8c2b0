"""Seed experiment ``relaxation_gap`` (Kim & Pilanci 2024)
Keys ``n`` (list), ``P`` (list), ``solver`` (default: the backend that computes reference optima here,
Clarabel without MOSEK), ``preset`` (default "high").
The relu program over P sampled patterns, its optimum compared with the optimum over *all* patterns of the
same data (the global optimum; small d), or where all patterns are too many to enumerate with the best
optimum any P reached on the same data: gap (f_P - f_all) / f_all against P and against n.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from relubench.bench.cases import Case
from relubench.bench.experiment import Defaults, Experiment, register_experiment
from relubench.bench.schema import POSITIVE_INT, int_or_list
from relubench.experiments.common import (
    CaseBuilder,
    int_list,
    log_ticks,
    reference_solver,
)
from relubench.present.html import caption, png, subplots, table_html
from relubench.present.report import numeric_column
from relubench.running.result import Status

KIND = "relaxation_gap"


def expand(spec: dict[str, Any], defaults: Defaults, where: str) -> list[Case]:
    b = CaseBuilder(KIND, spec, defaults, where)
    cases: list[Case] = []
    solver, preset = spec.get("solver") or reference_solver("relu"), b.preset("high")
    for n in int_list(spec, "n", where):
        for P in int_list(spec, "P", where):
            cases += [b.case(n, P, s, solver, "relu", preset, "all") for s in b.seeds]
    return cases


def section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    ok = df[(df["status"] == Status.OPTIMAL) & numeric_column(df, "objective").notna()].copy()
    if ok.empty:
        return "<p>No solved cases.</p>", {}
    # where all patterns could not be enumerated (larger d), the best objective any P reached on the same data
    # (same n and seed) stands in for the global optimum
    obj = numeric_column(ok, "objective")
    best = obj.groupby([ok["dataset"], ok["n_actual"], ok["seed"]]).transform("min")
    exact = numeric_column(ok, "relative_gap").notna()
    ok["gap"] = numeric_column(ok, "relative_gap").where(exact, (obj - best) / best.abs()).clip(lower=0)
    ok["n"] = numeric_column(ok, "n_actual")
    ok["Preq"] = pd.to_numeric(ok["P"], errors="coerce")
    med = ok.groupby(["n", "Preq"])["gap"].median().unstack("Preq")
    fig, axes = subplots(1, 2, figsize=(11, 3.8))
    floor = 1e-7
    for n, row in med.iterrows():
        axes[0].plot(row.index, np.maximum(row.to_numpy(), floor), marker="o", label=f"n={int(n)}")
    axes[0].set(xscale="log", yscale="log", xlabel="sampled patterns P", ylabel="median relative gap to all patterns")
    log_ticks(axes[0], med.columns)
    axes[0].legend(fontsize=8)
    for P in med.columns:
        col = med[P]
        axes[1].plot(col.index, np.maximum(col.to_numpy(), floor), marker="o", label=f"P={int(P)}")
    axes[1].set(xscale="log", yscale="log", xlabel="n", ylabel="median relative gap to all patterns")
    log_ticks(axes[1], med.index)
    axes[1].legend(fontsize=8)
    fig.suptitle("relu program over P sampled patterns vs the global optimum (all patterns)", fontsize=10)
    counts = ok.groupby("n").size()
    table = med.copy()
    table.columns = [f"P={int(c)}" for c in table.columns]
    table.insert(0, "n", [int(v) for v in table.index])
    headline = {f"median gap n={int(n)} P={int(P)}": float(med.loc[n, P]) for n in med.index for P in med.columns}
    cap = (
        f"{len(ok)} solved cases ({', '.join(f'n={int(k)}: {v}' for k, v in counts.items())}); gap = (f_P - f_all) "
        "/ f_all, medians over seeds (data and patterns), gaps below 1e-7 drawn at 1e-7."
        + ("" if exact.all() else f" {int((~exact).sum())} cases lack an all-patterns optimum: best-known one used.")
    )
    return png(fig) + caption(cap) + table_html(table), headline


KEYS = {"n": int_or_list(POSITIVE_INT), "P": int_or_list(POSITIVE_INT), "solver": {"type": "string"}}

register_experiment(
    Experiment(
        KIND,
        "Relaxation gap of sampled patterns against all patterns (Kim & Pilanci 2024)",
        expand,
        section,
        KEYS,
        ("d", "n", "P"),
    )
)
