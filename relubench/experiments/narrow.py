"""Seed experiment ``narrow``
Keys ``n`` (list), ``width_n``, ``widths`` (list), ``solvers`` (required; e.g. ["sgd"]), ``init_seeds``.
Active neurons of the all-patterns convex optimum against n (pruned to an equally good solution, at most
n + 1 neurons; median over ``seeds``), and the final relative gap of SGD at width m < n against m, at
n = ``width_n`` (first seed's data; one run per initialization).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from relubench.bench.cases import Case
from relubench.bench.experiment import Defaults, Experiment, register_experiment
from relubench.bench.schema import NAMES, NONNEGATIVE_INT, POSITIVE_INT, int_or_list
from relubench.experiments.common import (
    CaseBuilder,
    int_list,
    log_ticks,
    reference_solver,
    str_list,
)
from relubench.present.html import caption, png, subplots, table_html
from relubench.present.report import numeric_column

KIND = "narrow"


def expand(spec: dict[str, Any], defaults: Defaults, where: str) -> list[Case]:
    b = CaseBuilder(KIND, spec, defaults, where)
    cases: list[Case] = []
    preset = b.preset("high")
    optimum = reference_solver("relu")  # the convex optimum: the backend that computes references here
    cases += [
        b.case(n, "all", s, optimum, "relu", preset, "patterns") for n in int_list(spec, "n", where) for s in b.seeds
    ]
    wn = int_list(spec, "width_n", where)[0]
    for solver in str_list(spec, "solvers", where):
        for m in int_list(spec, "widths", where):
            for s in b.seeds[:1]:  # one data set at n = width_n; initializations vary
                for init in int_list(spec, "init_seeds", where, [0, 1, 2]):
                    cases.append(
                        b.case(wn, "all", s, solver, "nonconvex", preset, "patterns", [("seed", init), ("width", m)])
                    )
    return cases


def section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    conv = df[(df["formulation"] == "relu") & numeric_column(df, "reference_active_neurons").notna()].copy()
    net = df[(df["formulation"] == "nonconvex") & numeric_column(df, "relative_gap").notna()].copy()
    if conv.empty and net.empty:
        return "<p>No finished cases.</p>", {}
    fig, axes = subplots(1, 2, figsize=(11, 3.8))
    headline: dict[str, Any] = {}
    parts = []
    if not conv.empty:
        conv["n"] = numeric_column(conv, "n_actual")
        act = conv.groupby("n")["reference_active_neurons"].median()
        axes[0].plot(act.index, act.to_numpy(), marker="o", label="active neurons of the optimum")
        axes[0].plot(act.index, act.index + 1, "k--", label="bound n + 1")
        axes[0].set(xlabel="n", ylabel="neurons", title="convex optimum (all patterns)")
        axes[0].legend(fontsize=8)
        headline.update({f"active neurons n={int(n)}": float(v) for n, v in act.items()})
        t = pd.DataFrame({"n": act.index.astype(int), "active neurons (median over seeds)": act.to_numpy()})
        parts.append(table_html(t))
    if not net.empty:
        net["gap"] = numeric_column(net, "relative_gap")
        net["m"] = net["options"].map(lambda s: _width(s))
        net = net[net["m"].notna()]
        rows = []
        for solver, g in net.groupby("solver", sort=True):
            stats = g.groupby("m")["gap"].agg(["median", "min", "max"])
            m = stats.index.to_numpy(float)
            axes[1].plot(m, np.maximum(stats["median"], 1e-8), marker="o", label=f"{solver} median")
            axes[1].fill_between(m, np.maximum(stats["min"], 1e-8), np.maximum(stats["max"], 1e-8), alpha=0.2)
            for mm, r in stats.iterrows():
                rows.append({"solver": solver, "width m": int(mm), "median gap": r["median"], "min gap": r["min"]})
                headline[f"{solver} m={int(mm)} median gap"] = float(r["median"])
        wn = int(numeric_column(net, "n_actual").iloc[0])
        same = conv[(conv["n"] == wn) & (conv["seed"] == net["seed"].iloc[0])] if not conv.empty else conv
        if not same.empty:  # the optimum of the very data the networks were trained on
            mstar = float(same["reference_active_neurons"].iloc[0])
            headline[f"active neurons of the trained data (n={wn})"] = mstar
            axes[1].axvline(mstar, color="k", ls="--", label=f"active neurons of the optimum ({mstar:g})")
        axes[1].set(
            xscale="log", yscale="log", xlabel=f"width m (n = {wn})", ylabel="final relative gap to global optimum"
        )
        log_ticks(axes[1], net["m"].unique())
        axes[1].set_title("SGD at width m (band: min to max over initializations)", fontsize=10)
        axes[1].legend(fontsize=8)
        parts.append(table_html(pd.DataFrame(rows)))
    cap = (
        "Left: neurons of an optimal convex solution pruned to at most n + 1 (an upper bound on the fewest); right: "
        "the non-convex network at width m trained by SGD, gap to the global optimum (all patterns)."
    )
    return png(fig) + caption(cap) + "".join(parts), headline


def _width(options_json: object) -> float:
    try:
        return float(json.loads(str(options_json)).get("width"))
    except (TypeError, ValueError, AttributeError):
        return math.nan


KEYS = {
    "n": int_or_list(POSITIVE_INT),
    "width_n": int_or_list(POSITIVE_INT),
    "widths": int_or_list(POSITIVE_INT),
    "solvers": NAMES,
    "init_seeds": int_or_list(NONNEGATIVE_INT),
}

register_experiment(
    Experiment(
        KIND,
        "Narrow networks: active neurons of the convex optimum, and SGD at width m < n",
        expand,
        section,
        KEYS,
        ("d", "n", "width_n", "widths", "solvers"),
    )
)
