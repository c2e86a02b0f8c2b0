"""Static HTML comparison report from a sweep's results table (opens offline: figures embedded as PNG).

First screen: which backend wins where (per problem class: formulation x loss x outputs). Across data sets, per
problem class: Dolan-More performance profiles of time to 1e-4 (the "reached" rule) and to held-out accuracy,
shifted geometric means, success rates and a per-set table (:mod:`relubench.present.profiles`).
Per tolerance preset:
* success rate: status "optimal" and |relative gap| <= the preset's tolerance, against the reference where one
  exists, else the backend's certified gap (sizes no interior point reaches); a row with neither (no reference, a
  backend without a certificate) counts on its status, a conic solver's own primal-dual test;
* shifted geometric mean of time (setup + solve), shift 10 s, failures charged the case's time limit;
* median relative gap;
* convergence curves: |relative gap| against seconds from the solver traces, one panel per problem, one line per
  backend (its run at the tightest tolerance).
Rows of seed experiments (column ``experiment``) are left out of these and drawn in one section per experiment
(registered in :mod:`relubench.bench.experiment`); their headline numbers are also written to
``headlines.json`` next to the page.
All text from the table is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relubench.atomic import write_whole
from relubench.bench.experiment import experiment_sections
from relubench.bench.store import ResultStore
from relubench.errors import InputError
from relubench.present.html import caption, png, subplots, table_html
from relubench.present.profiles import (
    HELDOUT_POINTS,
    PROFILE_TOL,
    SHIFT_S,
    class_summary,
    has_case_columns,
    per_set_table,
    profile_curve,
    profile_ratios,
    shifted_geomean,
    time_matrix,
    time_to_accuracy,
    time_to_heldout,
    winners,
    with_problem_keys,
)
from relubench.running.result import Status, read_trace

# columns every row of a sweep table has (run_isolated writes them for finished and failed cases alike)
CASE_COLUMNS = ("dataset", "solver", "formulation", "preset", "tol", "time_limit", "seed", "status", "case_hash")
# marks <body data-images-loaded="decoded/total"> once the page has loaded (read by scripts/check_report.py)
_IMAGE_CHECK = (
    "<script>window.addEventListener('load',function(){var a=Array.prototype.slice.call(document.images);"
    "document.body.setAttribute('data-images-loaded',a.filter(function(i){return i.complete&&i.naturalWidth>0;})"
    ".length+'/'+a.length);});</script>"
)
PRESET_ORDER = ["low", "mid", "high"]


def success_mask(df: pd.DataFrame) -> pd.Series:
    """Rows that reached their tolerance: status "optimal" (which the harness grants only to points feasible to
    tol max|y|) and a relative gap <= tol, the reference's where there is one, else the certified one (a backend's
    stopping test alone, e.g. al's objective settling, is not accuracy; see the module docstring)."""
    ok = df["status"] == Status.OPTIMAL
    gap = accuracy_gap(df)
    return ok & (gap.isna() | (gap <= df["tol"] * (1 + 1e-9)))


def numeric_column(df: pd.DataFrame, name: str) -> pd.Series:
    """The column as numbers; NaN where missing (a table whose cases all failed has no solve times at all)."""
    return pd.to_numeric(df[name], errors="coerce") if name in df else pd.Series(np.nan, index=df.index)


def accuracy_gap(df: pd.DataFrame) -> pd.Series:
    """|relative gap| to the reference; where there is none (sizes no interior point reaches), the backend's
    relative certified gap; NaN where neither exists."""
    return numeric_column(df, "relative_gap").abs().fillna(numeric_column(df, "relative_certified_gap"))


def charged_time(df: pd.DataFrame) -> pd.Series:
    t = numeric_column(df, "setup_s").fillna(0) + numeric_column(df, "solve_s").fillna(0)
    return t.where(success_mask(df), df["time_limit"])


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (preset, solver, form), g in df.groupby(["preset", "solver", "formulation"], sort=True):
        gaps = numeric_column(g, "relative_gap")
        rows.append(
            {
                "preset": preset,
                "solver": solver,
                "formulation": form,
                "cases": len(g),
                "success rate": float(success_mask(g).mean()),
                f"shifted geomean time (s, shift {SHIFT_S:g})": shifted_geomean(charged_time(g)),
                "median relative gap": float(gaps.median()) if gaps.notna().any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def across_sets_section(df: pd.DataFrame, tol: float = PROFILE_TOL, points: float = HELDOUT_POINTS) -> list[str]:
    """Per problem class: the summary tables and Dolan-More profiles of time to ``tol`` and to held-out accuracy
    (:mod:`relubench.present.profiles`), then the per-set table."""
    df = with_problem_keys(df)
    parts = [
        "<h2 id='profiles'>Across data sets: performance profiles per problem class</h2>",
        caption(
            f"rho(tau): fraction of a class's problems a backend solved within tau times the fastest backend. Left: "
            f"time (setup + solve) to relative gap and violation <= {tol:g} (the 'reached' rule; certified gap where "
            f"no reference optimum exists). Right: time to a held-out accuracy within {points * 100:g} point(s) of "
            f"the best any solve reached on the problem. Shifted geometric mean: shift {SHIFT_S:g} s, failures "
            "charged the time limit; 'vs best' = mean / best mean."
        ),
    ]
    for cls, g in df.groupby("problem_class", sort=True):
        measures = ((f"to {tol:g}", time_to_accuracy(g, tol)), ("to held-out", time_to_heldout(g, points)))
        parts.append(f"<h3>{html.escape(str(cls))}: {g['problem'].nunique()} problems</h3>")
        fig, axes = subplots(1, 2, figsize=(10, 3.6))
        for ax, (what, times) in zip(axes, measures, strict=True):
            parts.append(table_html(class_summary(g, times, what)))
            ratios = profile_ratios(time_matrix(g, times))
            finite = ratios.replace(np.inf, np.nan).stack()
            tau_max = max(2.0, float(finite.max()) * 1.5 if not finite.empty else 2.0)
            taus = np.logspace(0, math.log10(tau_max), 200)
            for solver in ratios.columns:
                ax.step(taus, profile_curve(ratios[solver], taus), where="post", label=solver)
            ax.set_xscale("log")
            ax.set_xlabel("tau (time / fastest time)")
            ax.set_ylabel("fraction of problems")
            ax.set_ylim(0, 1.02)
            ax.set_title(f"{cls}: time {what}", fontsize=9)
            ax.legend(fontsize=7)
        parts.append(png(fig))
    parts.append(f"<h3>Seconds to {tol:g} per data set</h3>")
    parts.append(caption("Fastest success of each backend (setup + solve), median over seeds; '-': never reached."))
    parts.append(table_html(per_set_table(df, tol)))
    return parts


def _gap_axes(ax: Any, first: pd.Series, ylabel: str) -> None:
    """Log-log axes of a gap-against-time panel, titled by the problem of its first row."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("seconds (setup + solve)")
    ax.set_ylabel(ylabel)
    ax.set_title(
        f"{first['dataset']} n={first['n_actual']} d={first['d_actual']} P={first['P_actual']} {first['formulation']}",
        fontsize=9,
    )
    ax.legend(fontsize=7)


def curve_rows(g: pd.DataFrame) -> pd.DataFrame:
    """The rows a convergence panel draws: one per backend, its run at the tightest tolerance (one legend entry
    per backend)."""
    return g.sort_values(["solver", "tol"]).drop_duplicates("solver")


def convergence_curves(df: pd.DataFrame, max_panels: int = 6) -> list[str]:
    figs = []
    keyed = df.assign(key=df["problem_hash"].astype(str) + ":" + df["formulation"])
    for key, g in list(keyed.groupby("key", sort=True))[:max_panels]:
        fig, ax = subplots(figsize=(5.5, 3.6))
        drawn = 0
        for _, row in curve_rows(g).iterrows():
            ref = row.get("reference")
            tr = read_trace(row.get("trace"))
            if ref is None or (isinstance(ref, float) and math.isnan(ref)) or tr is None:
                continue
            floor = row.get("gap_floor")
            floor = float(floor) if isinstance(floor, int | float) and math.isfinite(floor) else 0.0
            gap = np.abs(tr["objective"] - ref) / max(abs(ref), floor, 1e-300)
            ax.plot(
                np.maximum(tr["seconds"] + row["setup_s"], 1e-4),
                np.maximum(gap, 1e-16),
                marker=".",
                ms=3,
                label=str(row["solver"]),
            )
            drawn += 1
        if not drawn:
            continue
        _gap_axes(ax, g.iloc[0], "|relative gap|")
        figs.append(png(fig))
    return figs


def certified_section(df: pd.DataFrame, max_panels: int = 6) -> list[str]:
    """Certified relative gap (primal - dual over |objective|; no reference optimum needed) against time, one
    line per solver and device, per problem: what a sweep can show where no interior point computes f*
    (:data:`relubench.running.reference.REFERENCE_MAX_ENTRIES`). Traces without certified points are left out."""
    panels = []
    keyed = df.assign(key=df["problem_hash"].astype(str) + ":" + df["formulation"])
    for _, g in keyed.groupby("key", sort=True):
        fig, ax = None, None
        for _, row in g.sort_values(["solver", "tol"]).iterrows():
            tr = read_trace(row.get("trace"))
            if tr is None or not np.isfinite(tr["certified_gap"]).any():
                continue
            ok = np.isfinite(tr["certified_gap"])
            if fig is None:
                fig, ax = subplots(figsize=(5.5, 3.6))
            device = row.get("device") if isinstance(row.get("device"), str) else "cpu"
            rel = tr["certified_gap"][ok] / np.maximum(np.abs(tr["objective"][ok]), 1e-300)
            setup = float(row["setup_s"]) if math.isfinite(float(row["setup_s"])) else 0.0
            ax.plot(
                np.maximum(tr["seconds"][ok] + setup, 1e-4),
                np.maximum(rel, 1e-16),
                marker=".",
                ms=3,
                label=f"{row['solver']} on {device} (tol {row['tol']:g})",
            )
        if fig is None:
            continue
        _gap_axes(ax, g.iloc[0], "certified relative gap")
        panels.append(png(fig))
        if len(panels) == max_panels:
            break
    if not panels:
        return []
    return [
        "<h2 id='certified'>Certified gaps by device</h2>",
        caption(
            "Primal minus dual value over |objective| along each solve of a backend that certifies its gap (fista, "
            "al): an upper bound of the relative gap that needs no reference optimum. Relu points enter only where "
            "their cone violation is within the tolerance."
        ),
        *panels,
    ]


HELDOUT_METRICS = (("test_accuracy", "held-out accuracy"), ("test_loss", "held-out loss per row"))


def heldout_section(df: pd.DataFrame, max_panels: int = 6) -> list[str]:
    """Held-out quality of the mapped networks next to optimization accuracy, per problem (dataset, loss,
    outputs, formulation): the median table, and per problem two panels against time (setup + solve) of each
    finished case: |relative gap| and the held-out accuracy (loss per row where there are no +-1 labels).
    Points are the final iterates of each solve (the traces hold objectives, not networks)."""
    metric = next((m for m in HELDOUT_METRICS if m[0] in df and numeric_column(df, m[0]).notna().any()), None)
    if metric is None:
        return []
    col, label = metric
    df = df.assign(
        loss=df["loss"].fillna("squared") if "loss" in df else "squared",
        outputs=numeric_column(df, "outputs").fillna(1).astype(int),
        seconds=numeric_column(df, "setup_s").fillna(0) + numeric_column(df, "solve_s").fillna(0),
        gap=accuracy_gap(df),  # certified where there is no reference, said in the axis
        metric=numeric_column(df, col),
    )
    df = df[df["metric"].notna()]
    keys = ["dataset", "loss", "outputs", "formulation"]
    table = (
        df.groupby([*keys, "solver"], sort=True)
        .agg(cases=("metric", "size"), median_metric=("metric", "median"), median_seconds=("seconds", "median"))
        .reset_index()
        .rename(columns={"median_metric": f"median {label}", "median_seconds": "median seconds"})
    )
    parts = [
        "<h2 id='heldout'>Held-out metrics</h2>",
        caption(
            f"{label} of the network mapped from each solve's final point, on rows held out from training, beside "
            "its relative gap. Equal gaps give equal networks only at equal objectives: compare held-out numbers "
            "at a stated gap."
        ),
        table_html(table),
    ]
    for key, g in list(df.groupby(keys, sort=True))[:max_panels]:
        fig, (ax1, ax2) = subplots(1, 2, figsize=(10, 3.6))
        for solver, gs in g.groupby("solver", sort=True):
            t = np.maximum(gs["seconds"].to_numpy(dtype=float), 1e-4)
            ax1.scatter(t, np.maximum(gs["gap"].to_numpy(dtype=float), 1e-16), s=14, label=solver)
            ax2.scatter(t, gs["metric"].to_numpy(dtype=float), s=14, label=solver)
        for ax in (ax1, ax2):
            ax.set_xscale("log")
            ax.set_xlabel("seconds (setup + solve)")
        if (g["gap"] > 0).any():
            ax1.set_yscale("log")
        else:  # matplotlib cannot log-scale an axis with no positive value (no reference, no certificate)
            ax1.text(0.5, 0.5, "no gap: no reference optimum and no certificate", ha="center", transform=ax1.transAxes)
        ax1.set_ylabel("|relative gap| (certified where no reference)")
        ax2.set_ylabel(label)
        ax2.legend(fontsize=7)
        fig.suptitle(f"{key[0]}: {key[1]} loss, {key[2]} output(s), {key[3]}", fontsize=9)
        parts.append(png(fig))
    return parts


def write_report(results: str | Path, out_dir: str | Path) -> Path:
    """Write out_dir/index.html (and headlines.json) for the results table; returns the page's path.

    A damaged or foreign table is an InputError before anything is written; both files are written whole
    (temporary file, then rename).
    """
    df = ResultStore(results).load()
    missing = [c for c in CASE_COLUMNS if c not in df.columns]
    if missing and not df.empty:
        raise InputError(f"{results}: not a sweep results table (no column {', '.join(missing)})")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"report folder {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create report folder {out}: {exc.strerror}") from None
    title = f"relubench report: {Path(results).stem}"
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(df)} cases; objective loss + beta * penalty (squared: 1/2 ||r||^2; logistic: sum log(1 + "
        "exp(-y f)); summed over rows); gaps (f - f*)/max(|f*|, floor) against cached interior-point references. "
        "Failures are charged the time limit.</p>",
    ]
    sections, headlines = experiment_sections(df)
    exp_parts = [
        f"<h2 id='{html.escape(kind)}'>{html.escape(title)}</h2>{body}" + (caption(note) if note else "")
        for kind, title, body, note in sections
    ]
    if "experiment" in df:
        df = df[df["experiment"].fillna("") == ""]
    if df.empty and not exp_parts:
        parts.append("<p>No rows.</p>")
    elif not df.empty:
        failures = df[~success_mask(df)]
        keyed = df[df["problem_hash"].notna()] if "problem_hash" in df else df.iloc[:0]
        # across problems: every row, killed and crashed ones too (they count as failures of their problem)
        compared = df if has_case_columns(df) else keyed
        if not compared.empty:
            parts.append("<h2 id='winners'>Which backend wins where</h2>")
            parts.append(
                caption(
                    f"Per problem class, the backend with the lowest shifted geometric mean of time to relative gap "
                    f"and violation <= {PROFILE_TOL:g}, and to a held-out accuracy within {HELDOUT_POINTS * 100:g} "
                    "point(s) of the best; profiles and per-set times below."
                )
            )
            parts.append(table_html(winners(compared)))
            parts.extend(across_sets_section(compared))
        for preset in [p for p in PRESET_ORDER if p in set(df["preset"])]:
            sub = df[df["preset"] == preset]
            tol = float(sub["tol"].iloc[0])
            parts.append(f"<h2>Preset {html.escape(preset)} (tolerance {tol:g})</h2>")
            parts.append(table_html(summary_table(sub)))
        parts.append("<h2>Convergence curves</h2>")
        caption_text = "One line per backend: its run at the tightest tolerance preset."
        parts.append(caption(caption_text))
        if not keyed.empty:
            parts.extend(convergence_curves(keyed))
            parts.extend(certified_section(keyed))
        parts.extend(heldout_section(df))
        if not failures.empty:
            parts.append("<h2>Failed cases</h2>")
            cols = [
                c for c in ("solver", "dataset", "formulation", "preset", "seed", "status", "message") if c in failures
            ]
            parts.append(table_html(failures[cols]))
    if exp_parts:
        parts.append("<h1>Seed experiments</h1>")
        parts.extend(exp_parts)
    _write_whole(out / "headlines.json", json.dumps(headlines, indent=1, sort_keys=True, default=float) + "\n")
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}img{margin:8px}.caption{color:#444;font-size:13px}"
    )
    page = out / "index.html"
    _write_whole(
        page,
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}{_IMAGE_CHECK}</body></html>",
    )
    return page


def _write_whole(path: Path, text: str) -> None:
    write_whole(path, lambda fh: fh.write(text), binary=False)
