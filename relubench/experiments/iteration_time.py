"""Seed experiment ``iteration_time`` (Bai, Gautam & Sojoudi 2023)
Keys ``n`` (list, at ``P_fixed``), ``P`` (list, at ``n_fixed``), ``solvers`` (required; e.g. ["admm", "clarabel"]),
``preset`` (default "mid"). Seconds per iteration (solve time / iterations) against n and against P, on
log-log axes with fitted slopes: ADMM's cost grows like n^2 + n d P, the interior point's faster.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from relubench.bench.cases import Case
from relubench.bench.experiment import Defaults, Experiment, register_experiment
from relubench.bench.schema import NAMES, POSITIVE_INT, int_or_list
from relubench.experiments.common import (
    CaseBuilder,
    int_list,
    log_ticks,
    loglog_slope,
    str_list,
)
from relubench.present.html import caption, png, subplots, table_html
from relubench.present.report import numeric_column

KIND = "iteration_time"


def expand(spec: dict[str, Any], defaults: Defaults, where: str) -> list[Case]:
    b = CaseBuilder(KIND, spec, defaults, where)
    cases: list[Case] = []
    preset = b.preset("mid")
    n_fixed = int_list(spec, "n_fixed", where)[0]
    P_fixed = int_list(spec, "P_fixed", where)[0]
    sizes = {(n, P_fixed) for n in int_list(spec, "n", where)} | {(n_fixed, P) for P in int_list(spec, "P", where)}
    for solver in str_list(spec, "solvers", where):
        for n, P in sorted(sizes):
            cases += [b.case(n, P, s, solver, "relu", preset, "patterns") for s in b.seeds]
    return cases


def section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    ok = df[(numeric_column(df, "iterations") > 0) & df["status"].isin(["optimal", "max_iter", "time_limit"])].copy()
    if ok.empty:
        return "<p>No finished cases.</p>", {}
    ok["per_iter"] = numeric_column(ok, "solve_s") / numeric_column(ok, "iterations")
    ok["n"] = numeric_column(ok, "n_actual")
    ok["Preq"] = pd.to_numeric(ok["P"], errors="coerce")
    # the n-sweep shares one P, the P-sweep one n: the most frequent value of each
    P_fixed = ok["Preq"].mode().iloc[0]
    n_fixed = ok["n"].mode().iloc[0]
    fig, axes = subplots(1, 2, figsize=(11, 3.8))
    rows = []
    for solver, g in ok.groupby("solver", sort=True):
        a = g[g["Preq"] == P_fixed].groupby("n")["per_iter"].median()
        b = g[g["n"] == n_fixed].groupby("Preq")["per_iter"].median()
        sa, sb = (
            loglog_slope(a.index.to_numpy(float), a.to_numpy()),
            loglog_slope(b.index.to_numpy(float), b.to_numpy()),
        )
        axes[0].plot(a.index, a.to_numpy() * 1e3, marker="o", label=f"{solver} (slope {sa:.2f})")
        axes[1].plot(b.index, b.to_numpy() * 1e3, marker="o", label=f"{solver} (slope {sb:.2f})")
        rows.append(
            {"solver": solver, "slope in n": sa, "slope in P": sb, "largest ms/iter": float(g["per_iter"].max() * 1e3)}
        )
    axes[0].set(xscale="log", yscale="log", xlabel=f"n (P = {int(P_fixed)})", ylabel="ms per iteration")
    axes[1].set(xscale="log", yscale="log", xlabel=f"P (n = {int(n_fixed)})", ylabel="ms per iteration")
    log_ticks(axes[0], ok["n"].unique())
    log_ticks(axes[1], ok.loc[ok["n"] == n_fixed, "Preq"].unique())
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle("per-iteration cost (solve seconds / iterations; setup excluded)", fontsize=10)
    table = pd.DataFrame(rows)
    headline = {f"{r['solver']} slope in n": r["slope in n"] for r in rows}
    headline.update({f"{r['solver']} slope in P": r["slope in P"] for r in rows})
    cap = "Slopes are least-squares fits of log(seconds per iteration) on log n and log P (medians over seeds)."
    return png(fig) + caption(cap) + table_html(table), headline


KEYS = {
    "n": int_or_list(POSITIVE_INT),
    "P": int_or_list(POSITIVE_INT),
    "n_fixed": int_or_list(POSITIVE_INT),
    "P_fixed": int_or_list(POSITIVE_INT),
    "solvers": NAMES,
}

register_experiment(
    Experiment(
        KIND,
        "Seconds per iteration against n and P: ADMM against the interior point (Bai et al. 2023)",
        expand,
        section,
        KEYS,
        ("d", "n", "P", "n_fixed", "P_fixed", "solvers"),
    )
)
