"""Seed experiment ``nonconvex_gaps``
Keys ``n`` (list), ``solvers`` (required; e.g. ["sgd", "adam"]), ``init_seeds`` (list),
``preset`` (default "high"),
``width`` (default: the active neurons of the global optimum). SGD/Adam from seeded random initializations;
distribution of final relative gaps to the all-patterns global optimum.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from relubench.bench.cases import Case
from relubench.bench.experiment import Defaults, Experiment, register_experiment
from relubench.bench.schema import NAMES, NONNEGATIVE_INT, POSITIVE_INT, int_or_list
from relubench.experiments.common import (
    CaseBuilder,
    int_list,
    str_list,
)
from relubench.present.html import caption, png, subplots, table_html
from relubench.present.report import numeric_column

KIND = "nonconvex_gaps"


def expand(spec: dict[str, Any], defaults: Defaults, where: str) -> list[Case]:
    b = CaseBuilder(KIND, spec, defaults, where)
    cases: list[Case] = []
    preset = b.preset("high")
    width = spec.get("width")
    for n in int_list(spec, "n", where):
        for solver in str_list(spec, "solvers", where):
            for s in b.seeds:
                for init in int_list(spec, "init_seeds", where, list(range(10))):
                    extra = [("seed", init)] + ([("width", int(width))] if width else [])
                    cases.append(b.case(n, "all", s, solver, "nonconvex", preset, "patterns", extra))
    return cases


def section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    ok = df[numeric_column(df, "relative_gap").notna()].copy()
    if ok.empty:
        return "<p>No finished cases.</p>", {}
    ok["gap"] = numeric_column(ok, "relative_gap")
    ok["n"] = numeric_column(ok, "n_actual").astype(int)
    groups = list(ok.groupby(["solver", "n"], sort=True))
    fig, ax = subplots(figsize=(max(5.5, 1.3 * len(groups) + 2), 3.8))
    floor = 1e-8
    rows = []
    for k, ((solver, n), g) in enumerate(groups):
        gaps = g["gap"].to_numpy()
        jitter = np.random.default_rng(k).uniform(-0.15, 0.15, gaps.size)
        ax.scatter(k + jitter, np.maximum(gaps, floor), s=14, alpha=0.7)
        ax.hlines(np.median(np.maximum(gaps, floor)), k - 0.3, k + 0.3, color="k")
        rows.append(
            {
                "solver": solver,
                "n": n,
                "runs": gaps.size,
                "min gap": float(gaps.min()),
                "median gap": float(np.median(gaps)),
                "max gap": float(gaps.max()),
                "within 1e-2": float((gaps <= 1e-2).mean()),
                "within 1e-4": float((gaps <= 1e-4).mean()),
                "below optimum (must be 0)": int((gaps < -1e-6).sum()),
            }
        )
    ax.set_xticks(range(len(groups)), [f"{s}\nn={n}" for (s, n), _ in groups])
    ax.set_yscale("log")
    ax.set_ylabel("final relative gap to global optimum")
    ax.set_title("non-convex training from seeded random initializations (black: median)", fontsize=10)
    table = pd.DataFrame(rows)
    headline = {f"{r['solver']} n={r['n']}: median gap": r["median gap"] for r in rows}
    headline.update({f"{r['solver']} n={r['n']}: within 1e-2": r["within 1e-2"] for r in rows})
    cap = (
        "Gap = (f - f*) / f* with f* the relu optimum over all patterns (the global optimum); "
        "gaps below 1e-8 drawn at 1e-8."
    )
    return png(fig) + caption(cap) + table_html(table), headline


KEYS = {
    "n": int_or_list(POSITIVE_INT),
    "solvers": NAMES,
    "init_seeds": int_or_list(NONNEGATIVE_INT),
    "width": POSITIVE_INT,
}

register_experiment(
    Experiment(
        KIND,
        "SGD and Adam from random initializations against the convex global optimum",
        expand,
        section,
        KEYS,
        ("d", "n", "solvers"),
    )
)
