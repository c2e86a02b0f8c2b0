"""Seed experiment ``adversarial_training`` (Bai, Gautam & Sojoudi 2023): convex adversarial training against
standard convex training and against SGD with PGD adversarial training, as the l_inf radius eps grows.

Keys ``n``, ``d``, ``P``, ``eps`` (list of radii >= 0), ``network`` (the non-convex backend trained with PGD, e.g.
"sgd"), ``width`` (of its network), ``seeds``; data: gaussian
with ``labels = "sign"`` unless ``dataset_options`` says otherwise; ``options`` (e.g. ``{ sgd = { epochs = 300 } }``).
All three use the hinge loss. Per eps: the robust convex program (``robust`` formulation, trained at eps), the
standard convex program (``relu``), and SGD trained on PGD-perturbed batches at eps (``adversarial_eps``). Each
is scored on held-out rows: clean accuracy and robust accuracy under an l_inf PGD attack of radius eps (3 restarts
of 50 steps); the robust program's objective is its certified worst-case training loss plus weight decay.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from relubench.bench.cases import Case
from relubench.bench.experiment import Defaults, Experiment, register_experiment
from relubench.bench.schema import NONNEGATIVE, POSITIVE_INT, int_or_list
from relubench.errors import InputError
from relubench.experiments.common import CaseBuilder, int_list
from relubench.present.html import caption, png, subplots, table_html
from relubench.present.report import numeric_column
from relubench.problem.spec import ProblemClass
from relubench.running.solver import reference_solvers

KIND = "adversarial_training"


def _convex_solver() -> str:
    for cls in reference_solvers(ProblemClass("robust", "hinge")):
        if cls.available()[0]:
            return cls.name
    raise InputError("no backend available here solves the robust formulation with the hinge loss")


def expand(spec: dict[str, Any], defaults: Defaults, where: str) -> list[Case]:
    b = CaseBuilder(KIND, spec, defaults, where, dataset_defaults={"labels": "sign"})
    n, P, width = (int_list(spec, k, where)[0] for k in ("n", "P", "width"))
    eps_list = [float(e) for e in (spec["eps"] if isinstance(spec["eps"], list) else [spec["eps"]])]
    convex = _convex_solver()
    cases: list[Case] = []
    for eps in eps_list:
        for s in b.seeds:
            common = {"loss": "hinge", "epsilon": eps}
            cases.append(b.case(n, P, s, convex, "robust", b.preset("mid"), "patterns", **common))
            cases.append(b.case(n, P, s, convex, "relu", b.preset("mid"), "patterns", **common))
            extra = [("width", width), ("seed", s)] + ([("adversarial_eps", eps)] if eps > 0 else [])
            cases.append(b.case(n, P, s, spec["network"], "nonconvex", "mid", "patterns", extra, **common))
    return cases


METHODS = {"robust": "convex adversarial training", "relu": "standard convex training"}


def section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    ok = df[numeric_column(df, "clean_accuracy").notna()].copy()
    if ok.empty:
        return "<p>No finished cases with accuracies.</p>", {}
    ok["method"] = ok["formulation"].map(METHODS).fillna(ok["solver"] + " + PGD training")
    ok["eps"] = numeric_column(ok, "epsilon").fillna(0.0)
    ok["clean"] = numeric_column(ok, "clean_accuracy")
    ok["robust"] = numeric_column(ok, "pgd_robust_accuracy").where(ok["eps"] > 0, ok["clean"])  # eps 0: no attack
    ok["robust objective"] = numeric_column(ok, "objective").where(ok["formulation"] == "robust")
    agg = ok.groupby(["method", "eps"])[["clean", "robust", "robust objective"]].median().reset_index()
    fig, axes = subplots(1, 3, figsize=(14, 3.8))
    for method, g in agg.groupby("method", sort=True):
        axes[0].plot(g["eps"], g["clean"], marker="o", label=method)
        axes[1].plot(g["eps"], g["robust"], marker="o", label=method)
        if g["robust objective"].notna().any():
            axes[2].plot(g["eps"], g["robust objective"], marker="o", label=method)
    axes[0].set(xlabel="eps (l_inf)", ylabel="clean accuracy (held out)")
    axes[1].set(xlabel="eps (l_inf)", ylabel="PGD robust accuracy (held out)")
    axes[2].set(xlabel="eps (l_inf)", ylabel="robust objective (certified)")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle("convex adversarial training (hinge loss) against standard training and SGD + PGD", fontsize=10)
    headline = {
        f"{r['method']} eps={r['eps']:g}: {k}": float(r[k])
        for _, r in agg.iterrows()
        for k in ("clean", "robust")
        if np.isfinite(r[k])
    }
    cap = (
        "Medians over seeds. Robust accuracy: fraction of held-out points whose label survives an l_inf PGD attack "
        "of radius eps on the margin (3 restarts x 50 steps); at eps = 0 it is the clean accuracy. The robust "
        "objective upper-bounds the worst-case hinge loss on the training set plus the weight decay."
    )
    return png(fig) + caption(cap) + table_html(agg), headline


KEYS = {
    "n": int_or_list(POSITIVE_INT),
    "P": int_or_list(POSITIVE_INT),
    "width": int_or_list(POSITIVE_INT),
    "eps": {"anyOf": [NONNEGATIVE, {"type": "array", "items": NONNEGATIVE, "minItems": 1}]},
    "network": {"type": "string", "minLength": 1},
}

register_experiment(
    Experiment(
        KIND,
        "Convex adversarial training against standard convex training and SGD with PGD (Bai et al. 2023)",
        expand,
        section,
        KEYS,
        ("d", "n", "P", "eps", "width", "network"),
    )
)
