"""Seed experiment ``attack_size`` (Bubeck, Cherapanamjeri, Gidel & Tachet des Combes 2021; Bartlett, Bubeck &
Cherapanamjeri 2021): how far the one-step attack must move a point, relative to ||x|| / sqrt(d), for random
networks, SGD-trained networks and globally optimal convex networks on the same data, as d grows.

Keys ``d`` (list), ``n``, ``P``, ``networks`` (the non-convex backends to compare, e.g. ``["sgd", "random-net"]``),
``width`` (of those networks), ``seeds``; data: gaussian with
``labels = "sign"`` unless ``dataset_options`` says otherwise; ``options`` (e.g. ``{ sgd = { epochs = 500 } }``).
The convex network is the relu optimum over P sampled patterns (the backend that computes references here),
trained with the squared loss on the +-1 labels like SGD. Sizes are measured on the held-out rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from relubench.bench.cases import Case
from relubench.bench.experiment import Defaults, Experiment, register_experiment
from relubench.bench.schema import NAMES, POSITIVE_INT, int_or_list
from relubench.experiments.common import CaseBuilder, int_list, reference_solver, str_list
from relubench.present.html import caption, png, subplots, table_html
from relubench.present.report import numeric_column

KIND = "attack_size"


def expand(spec: dict[str, Any], defaults: Defaults, where: str) -> list[Case]:
    b = CaseBuilder(KIND, spec, defaults, where, dataset_defaults={"labels": "sign"})
    n, P, width = (int_list(spec, k, where)[0] for k in ("n", "P", "width"))
    convex = reference_solver("relu")
    networks = str_list(spec, "networks", where)
    cases: list[Case] = []
    for d in int_list(spec, "d", where):
        for s in b.seeds:
            cases.append(b.case(n, P, s, convex, "relu", b.preset("mid"), "patterns", d=d))
            for net in networks:
                cases.append(b.case(n, P, s, net, "nonconvex", "mid", "patterns", [("width", width), ("seed", s)], d=d))
    return cases


def _who(row: pd.Series) -> str:
    if row["formulation"] != "nonconvex":
        return "convex optimum"
    return f"{row['solver']} (untrained)" if row["status"] == "untrained" else f"{row['solver']} (trained)"


def section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    ok = df[numeric_column(df, "attack_one_step_median").notna()].copy()
    if ok.empty:
        return "<p>No finished cases with attack sizes.</p>", {}
    ok["network"] = ok.apply(_who, axis=1)
    ok["d"] = numeric_column(ok, "d_actual")
    ok["size"] = numeric_column(ok, "attack_one_step_median")
    med = ok.groupby(["network", "d"])["size"].median().unstack("d")
    fig, ax = subplots(figsize=(6.5, 3.8))
    for name, row in med.iterrows():
        vals = row.to_numpy(dtype=float)
        ax.plot(row.index, np.where(np.isfinite(vals), vals, np.nan), marker="o", label=name)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="||x|| / sqrt(d)")
    ax.set(xscale="log", yscale="log", xlabel="input dimension d", ylabel="one-step attack size / (||x|| / sqrt(d))")
    ax.set_title("median one-step attack size (held-out points)", fontsize=10)
    ax.legend(fontsize=8)
    table = med.copy()
    table.columns = [f"d={int(c)}" for c in table.columns]
    table.insert(0, "network", table.index)
    headline = {f"{name} d={int(d)}": float(v) for name, row in med.iterrows() for d, v in row.items()}
    acc = ok.groupby(["network", "d"])["clean_accuracy"].median().unstack("d") if "clean_accuracy" in ok else None
    cap = (
        "Size = smallest step along the normalized input gradient that changes the sign of the network's output, "
        "over ||x|| / sqrt(d); median over held-out points, then over seeds. Theory (Bubeck et al. "
        "2021) predicts order 1 for random networks; the trained networks show what training changes."
    )
    parts = png(fig) + caption(cap) + table_html(table)
    if acc is not None:
        acc.columns = [f"d={int(c)}" for c in acc.columns]
        acc.insert(0, "clean accuracy", acc.index)
        parts += table_html(acc)
    return parts, headline


KEYS = {
    "n": int_or_list(POSITIVE_INT),
    "P": int_or_list(POSITIVE_INT),
    "width": int_or_list(POSITIVE_INT),
    "networks": NAMES,
}

register_experiment(
    Experiment(
        KIND,
        "One-step adversarial attack size against d: random, SGD-trained and globally optimal networks",
        expand,
        section,
        KEYS,
        ("d", "n", "P", "width", "networks"),
    )
)
