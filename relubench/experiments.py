"""The seed experiments: ``[[experiments]]`` tables of a sweep config, and their figures in the report.

Each experiment expands into ordinary sweep cases (isolated processes, same store), tagged with its kind in
the ``experiment`` column; the report's main tables leave them out and draw one section per kind instead.
Keys common to all kinds: ``dataset`` (default "gaussian"), ``dataset_options`` (a table, e.g.
``{labels = "random"}``), ``d``, ``beta_per_n`` (default 1e-3; or ``beta``), ``seeds`` (data and pattern seeds),
``time_limit``, ``options`` (a table of solver options per solver name).

``relaxation_gap`` (Kim & Pilanci 2024)
    keys ``n`` (list), ``P`` (list), ``solver`` (default "clarabel"), ``preset`` (default "high").
    The relu program over P sampled patterns, its optimum compared with the optimum over *all* patterns of the
    same data (the global optimum; small d), or where all patterns are too many to enumerate with the best
    optimum any P reached on the same data: gap (f_P - f_all) / f_all against P and against n.
``nonconvex_gaps``
    keys ``n`` (list), ``solvers`` (default ["sgd", "adam"]), ``init_seeds`` (list), ``preset`` (default "high"),
    ``width`` (default: the active neurons of the global optimum). SGD/Adam from seeded random initializations;
    distribution of final relative gaps to the all-patterns global optimum.
``iteration_time`` (Bai, Gautam & Sojoudi 2023)
    keys ``n`` (list, at ``P_fixed``), ``P`` (list, at ``n_fixed``), ``solvers`` (default ["admm", "clarabel"]),
    ``preset`` (default "mid"). Seconds per iteration (solve time / iterations) against n and against P, on
    log-log axes with fitted slopes: ADMM's cost grows like n^2 + n d P, the interior point's faster.
``narrow``
    keys ``n`` (list), ``width_n``, ``widths`` (list), ``solvers`` (default ["sgd"]), ``init_seeds``.
    Active neurons of the all-patterns convex optimum against n (pruned to an equally good solution, at most
    n + 1 neurons; median over ``seeds``), and the final relative gap of SGD at width m < n against m, at
    n = ``width_n`` (first seed's data; one run per initialization).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from relubench.errors import InputError
from relubench.report import _png, _table_html

if TYPE_CHECKING:
    from relubench.sweep import Case

KINDS = ("relaxation_gap", "nonconvex_gaps", "iteration_time", "narrow")
TITLES = {
    "relaxation_gap": "Relaxation gap of sampled patterns against all patterns (Kim & Pilanci 2024)",
    "nonconvex_gaps": "SGD and Adam from random initializations against the convex global optimum",
    "iteration_time": "Seconds per iteration against n and P: ADMM against the interior point (Bai et al. 2023)",
    "narrow": "Narrow networks: active neurons of the convex optimum, and SGD at width m < n",
}


def _ints(spec: dict[str, Any], key: str, where: str, default: list[int] | None = None) -> list[int]:
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


def expand(spec: dict[str, Any], common: dict[str, Any], where: str) -> list[Case]:
    """The cases of one ``[[experiments]]`` table (InputError on any problem). ``common``: the config's defaults."""
    from relubench.datasets import dataset_names
    from relubench.registry import solver_class
    from relubench.sweep import PRESETS, Case

    kind = spec.get("kind")
    if kind not in KINDS:
        raise InputError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    where = f"{where} ({kind})"
    dataset = spec.get("dataset", "gaussian")
    if dataset not in dataset_names() or dataset == "file":
        raise InputError(f"{where}: unknown dataset {dataset!r}")
    dopts = spec.get("dataset_options", {})
    if not isinstance(dopts, dict):
        raise InputError(f"{where}: 'dataset_options' must be a table")
    d = _ints(spec, "d", where)[0]
    seeds = _ints(spec, "seeds", where, [0])
    time_limit = float(spec.get("time_limit", common["time_limit"]))
    options = spec.get("options", {})
    if not isinstance(options, dict):
        raise InputError(f"{where}: 'options' must be a table of solver option tables")

    def beta_of(n: int) -> float:
        b = float(spec["beta"]) if "beta" in spec else float(spec.get("beta_per_n", 1e-3)) * n
        if b <= 0:
            raise InputError(f"{where}: beta must be > 0")
        return b

    def preset_of(default: str) -> str:
        pr = spec.get("preset", default)
        if pr not in PRESETS:
            raise InputError(f"{where}: unknown preset {pr!r} (low, mid, high)")
        return pr

    def case(n: int, P: int | str, seed: int, solver: str, form: str, preset: str, reference: str, extra=()):  # noqa: ANN001, ANN202
        cls = solver_class(solver)
        if form not in cls.formulations:
            raise InputError(f"{where}: solver {solver!r} does not solve the {form} formulation")
        opts = dict(options.get(solver, {}))
        opts.update(extra)
        return Case(
            dataset,
            n,
            d,
            P,
            seed,
            beta_of(n),
            solver,
            form,
            preset,
            PRESETS[preset],
            time_limit,
            common["memory_limit_mb"],
            tuple(sorted(opts.items())),
            False,
            common["grace_s"],
            experiment=kind,
            reference_kind=reference,
            dataset_options=tuple(sorted(dopts.items())),
        )

    cases: list[Case] = []
    if kind == "relaxation_gap":
        solver, preset = spec.get("solver", "clarabel"), preset_of("high")
        for n in _ints(spec, "n", where):
            for P in _ints(spec, "P", where):
                cases += [case(n, P, s, solver, "relu", preset, "all") for s in seeds]
    elif kind == "nonconvex_gaps":
        preset = preset_of("high")
        width = spec.get("width")
        for n in _ints(spec, "n", where):
            for solver in spec.get("solvers", ["sgd", "adam"]):
                for s in seeds:
                    for init in _ints(spec, "init_seeds", where, list(range(10))):
                        extra = [("seed", init)] + ([("width", int(width))] if width else [])
                        cases.append(case(n, "all", s, solver, "nonconvex", preset, "patterns", extra))
    elif kind == "iteration_time":
        preset = preset_of("mid")
        n_fixed = _ints(spec, "n_fixed", where)[0]
        P_fixed = _ints(spec, "P_fixed", where)[0]
        sizes = {(n, P_fixed) for n in _ints(spec, "n", where)} | {(n_fixed, P) for P in _ints(spec, "P", where)}
        for solver in spec.get("solvers", ["admm", "clarabel"]):
            for n, P in sorted(sizes):
                cases += [case(n, P, s, solver, "relu", preset, "patterns") for s in seeds]
    else:  # narrow
        preset = preset_of("high")
        cases += [
            case(n, "all", s, "clarabel", "relu", preset, "patterns") for n in _ints(spec, "n", where) for s in seeds
        ]
        wn = _ints(spec, "width_n", where)[0]
        for solver in spec.get("solvers", ["sgd"]):
            for m in _ints(spec, "widths", where):
                for s in seeds[:1]:  # one data set at n = width_n; initializations vary
                    for init in _ints(spec, "init_seeds", where, [0, 1, 2]):
                        cases.append(
                            case(wn, "all", s, solver, "nonconvex", preset, "patterns", [("seed", init), ("width", m)])
                        )
    return cases


# ----------------------------------------------------------------------------------------------- figures


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce") if col in df else pd.Series(np.nan, index=df.index)


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    ok = (x > 0) & (y > 0) & np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def _log_ticks(ax, values, axis: str = "x") -> None:  # noqa: ANN001
    """Label a log axis at the given values only (plain numbers, no minor labels)."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    vals = sorted({float(v) for v in values if np.isfinite(v) and v > 0})
    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_formatter(ScalarFormatter())
    a.set_minor_formatter(NullFormatter())
    (ax.set_xticks if axis == "x" else ax.set_yticks)(vals)


def _caption(text: str) -> str:
    return f"<p class='caption'>{html.escape(text)}</p>"


def relaxation_gap_section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    import matplotlib.pyplot as plt

    ok = df[(df["status"] == "optimal") & _num(df, "objective").notna()].copy()
    if ok.empty:
        return "<p>No solved cases.</p>", {}
    # where all patterns could not be enumerated (larger d), the best objective any P reached on the same data
    # (same n and seed) stands in for the global optimum
    obj = _num(ok, "objective")
    best = obj.groupby([ok["dataset"], ok["n_actual"], ok["seed"]]).transform("min")
    exact = _num(ok, "relative_gap").notna()
    ok["gap"] = _num(ok, "relative_gap").where(exact, (obj - best) / best.abs()).clip(lower=0)
    ok["n"] = _num(ok, "n_actual")
    ok["Preq"] = pd.to_numeric(ok["P"], errors="coerce")
    med = ok.groupby(["n", "Preq"])["gap"].median().unstack("Preq")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    floor = 1e-7
    for n, row in med.iterrows():
        axes[0].plot(row.index, np.maximum(row.to_numpy(), floor), marker="o", label=f"n={int(n)}")
    axes[0].set(xscale="log", yscale="log", xlabel="sampled patterns P", ylabel="median relative gap to all patterns")
    _log_ticks(axes[0], med.columns)
    axes[0].legend(fontsize=8)
    for P in med.columns:
        col = med[P]
        axes[1].plot(col.index, np.maximum(col.to_numpy(), floor), marker="o", label=f"P={int(P)}")
    axes[1].set(xscale="log", yscale="log", xlabel="n", ylabel="median relative gap to all patterns")
    _log_ticks(axes[1], med.index)
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
    return _png(fig) + _caption(cap) + _table_html(table), headline


def nonconvex_gaps_section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    import matplotlib.pyplot as plt

    ok = df[_num(df, "relative_gap").notna()].copy()
    if ok.empty:
        return "<p>No finished cases.</p>", {}
    ok["gap"] = _num(ok, "relative_gap")
    ok["n"] = _num(ok, "n_actual").astype(int)
    groups = list(ok.groupby(["solver", "n"], sort=True))
    fig, ax = plt.subplots(figsize=(max(5.5, 1.3 * len(groups) + 2), 3.8))
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
    return _png(fig) + _caption(cap) + _table_html(table), headline


def iteration_time_section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    import matplotlib.pyplot as plt

    ok = df[(_num(df, "iterations") > 0) & df["status"].isin(["optimal", "max_iter", "time_limit"])].copy()
    if ok.empty:
        return "<p>No finished cases.</p>", {}
    ok["per_iter"] = _num(ok, "solve_s") / _num(ok, "iterations")
    ok["n"] = _num(ok, "n_actual")
    ok["Preq"] = pd.to_numeric(ok["P"], errors="coerce")
    # the n-sweep shares one P, the P-sweep one n: the most frequent value of each
    P_fixed = ok["Preq"].mode().iloc[0]
    n_fixed = ok["n"].mode().iloc[0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    rows = []
    for solver, g in ok.groupby("solver", sort=True):
        a = g[g["Preq"] == P_fixed].groupby("n")["per_iter"].median()
        b = g[g["n"] == n_fixed].groupby("Preq")["per_iter"].median()
        sa, sb = _slope(a.index.to_numpy(float), a.to_numpy()), _slope(b.index.to_numpy(float), b.to_numpy())
        axes[0].plot(a.index, a.to_numpy() * 1e3, marker="o", label=f"{solver} (slope {sa:.2f})")
        axes[1].plot(b.index, b.to_numpy() * 1e3, marker="o", label=f"{solver} (slope {sb:.2f})")
        rows.append(
            {"solver": solver, "slope in n": sa, "slope in P": sb, "largest ms/iter": float(g["per_iter"].max() * 1e3)}
        )
    axes[0].set(xscale="log", yscale="log", xlabel=f"n (P = {int(P_fixed)})", ylabel="ms per iteration")
    axes[1].set(xscale="log", yscale="log", xlabel=f"P (n = {int(n_fixed)})", ylabel="ms per iteration")
    _log_ticks(axes[0], ok["n"].unique())
    _log_ticks(axes[1], ok.loc[ok["n"] == n_fixed, "Preq"].unique())
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle("per-iteration cost (solve seconds / iterations; setup excluded)", fontsize=10)
    table = pd.DataFrame(rows)
    headline = {f"{r['solver']} slope in n": r["slope in n"] for r in rows}
    headline.update({f"{r['solver']} slope in P": r["slope in P"] for r in rows})
    cap = "Slopes are least-squares fits of log(seconds per iteration) on log n and log P (medians over seeds)."
    return _png(fig) + _caption(cap) + _table_html(table), headline


def narrow_section(df: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    import matplotlib.pyplot as plt

    conv = df[(df["formulation"] == "relu") & _num(df, "reference_active_neurons").notna()].copy()
    net = df[(df["formulation"] == "nonconvex") & _num(df, "relative_gap").notna()].copy()
    if conv.empty and net.empty:
        return "<p>No finished cases.</p>", {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    headline: dict[str, Any] = {}
    parts = []
    if not conv.empty:
        conv["n"] = _num(conv, "n_actual")
        act = conv.groupby("n")["reference_active_neurons"].median()
        axes[0].plot(act.index, act.to_numpy(), marker="o", label="active neurons of the optimum")
        axes[0].plot(act.index, act.index + 1, "k--", label="bound n + 1")
        axes[0].set(xlabel="n", ylabel="neurons", title="convex optimum (all patterns)")
        axes[0].legend(fontsize=8)
        headline.update({f"active neurons n={int(n)}": float(v) for n, v in act.items()})
        t = pd.DataFrame({"n": act.index.astype(int), "active neurons (median over seeds)": act.to_numpy()})
        parts.append(_table_html(t))
    if not net.empty:
        net["gap"] = _num(net, "relative_gap")
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
        wn = int(_num(net, "n_actual").iloc[0])
        same = conv[(conv["n"] == wn) & (conv["seed"] == net["seed"].iloc[0])] if not conv.empty else conv
        if not same.empty:  # the optimum of the very data the networks were trained on
            mstar = float(same["reference_active_neurons"].iloc[0])
            headline[f"active neurons of the trained data (n={wn})"] = mstar
            axes[1].axvline(mstar, color="k", ls="--", label=f"active neurons of the optimum ({mstar:g})")
        axes[1].set(
            xscale="log", yscale="log", xlabel=f"width m (n = {wn})", ylabel="final relative gap to global optimum"
        )
        _log_ticks(axes[1], net["m"].unique())
        axes[1].set_title("SGD at width m (band: min to max over initializations)", fontsize=10)
        axes[1].legend(fontsize=8)
        parts.append(_table_html(pd.DataFrame(rows)))
    cap = (
        "Left: neurons of an optimal convex solution pruned to at most n + 1 (an upper bound on the fewest); right: "
        "the non-convex network at width m trained by SGD, gap to the global optimum (all patterns)."
    )
    return _png(fig) + _caption(cap) + "".join(parts), headline


def _width(options_json: object) -> float:
    try:
        return float(json.loads(str(options_json)).get("width"))
    except (TypeError, ValueError, AttributeError):
        return math.nan


SECTIONS = {
    "relaxation_gap": relaxation_gap_section,
    "nonconvex_gaps": nonconvex_gaps_section,
    "iteration_time": iteration_time_section,
    "narrow": narrow_section,
}


def experiments_html(df: pd.DataFrame) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """HTML sections (title, figure, caption, table) for each experiment kind present, and headline numbers."""
    parts, headlines = [], {}
    if "experiment" not in df:
        return parts, headlines
    for kind in KINDS:
        sub = df[df["experiment"] == kind]
        if sub.empty:
            continue
        body, headline = SECTIONS[kind](sub)
        failed = sub[sub["status"].isin(["crashed", "time_limit", "memory", "error"])]
        if not failed.empty:
            what = ", ".join(f"{k}: {v}" for k, v in failed["status"].value_counts().sort_index().items())
            body += _caption(f"{len(failed)} of {len(sub)} cases did not finish ({what}); they are not drawn.")
        parts.append(f"<h2 id='{kind}'>{html.escape(TITLES[kind])}</h2>{body}")
        headlines[kind] = headline
    return parts, headlines


def write_headlines(headlines: dict[str, dict[str, Any]], path: Path) -> None:
    path.write_text(json.dumps(headlines, indent=1, sort_keys=True, default=float) + "\n")
