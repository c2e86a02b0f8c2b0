"""Comparisons across data sets: per problem class, Dolan-More performance profiles, shifted geometric means of
time, success rates, and which backend wins.

A *problem* is one instance (a sweep row's case columns: data set, rows, patterns, beta, seed, loss, options; the
content hash elsewhere) with one formulation; its
*class* is formulation x loss x outputs (``relu, squared, 1 output``; several outputs, one per class of a
multi-class set, are one class: ``c outputs``): a backend is compared only on the classes it
solves, so a gated-only backend is never charged failures on relu problems. The non-convex baselines (sgd, adam)
are measured against the relu optimum and join the relu problems of the same instance.

Two measures of time, both seconds of setup plus solve, both by rules stated here and tested on hand-made tables
(tests/test_profiles.py):

* **time to accuracy** ``tol`` (default 1e-4): the first trace point that *reached* ``tol`` by relubench's one
  rule (:func:`relubench.running.metrics.reached`: relative gap to the reference optimum <= tol and violation <=
  tol max|y|; column ``time_to_<tol>``), or where the problem has no reference, the first point whose certified
  gap is <= tol with the same violation bound (``time_to_certified_<tol>``); inf when neither happened;
* **time to held-out accuracy**: a solve counts when the held-out accuracy of its final network is within
  ``points`` (default 0.01, one point) of the best held-out accuracy any row of the same problem reached; its time
  is the whole solve (accuracy is measured at the final point only).

A backend with several rows on one problem (tolerance presets) is charged its fastest success. Profiles: rho(tau)
= fraction of the class's problems a backend solved within tau times the fastest backend's time on that problem
(a problem it did not solve or was not run on counts as unsolved). Shifted geometric mean (the qpbenchmark
convention): exp(mean(log(t + s))) - s with shift s = 10 s, a failure charged the case's time limit, reported as
seconds and as a ratio to the best backend's mean (1.00 = best). With times far below the shift the means lie
close together: read the ratios with the profiles beside them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from relubench.problem.formulations import get_formulation
from relubench.problem.spec import FORMULATION_NAMES

SHIFT_S = 10.0
# the case columns that decide a problem instance (a sweep row has them even when its process was killed)
CASE_PROBLEM = ("dataset", "n", "P", "beta", "d", "seed", "loss", "bias", "epsilon", "dataset_options")
PROFILE_TOL = 1e-4
HELDOUT_POINTS = 0.01


def _num(df: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(df[name], errors="coerce") if name in df else pd.Series(np.nan, index=df.index)


def has_case_columns(df: pd.DataFrame) -> bool:
    """Whether the rows carry the case columns that identify their instance (sweep rows do, killed ones too)."""
    return all(c in df for c in CASE_PROBLEM[:4])


def with_problem_keys(df: pd.DataFrame) -> pd.DataFrame:
    """The rows with ``problem`` (instance, formulation, seed) and ``problem_class`` (formulation, loss, outputs).

    The formulation is the one whose optimum is the row's reference: a non-convex network (sgd, adam) is measured
    against the relu optimum of the same instance, so it joins that problem and class."""
    form = df["formulation"].map(lambda f: get_formulation(f).reference if f in FORMULATION_NAMES else f)
    loss = df["loss"].fillna("squared") if "loss" in df else pd.Series("squared", index=df.index)
    if has_case_columns(df):  # sweep rows: the case decides the instance, killed rows included
        instance = df[[c for c in CASE_PROBLEM if c in df]].map(str).agg("|".join, axis=1)
    else:
        instance = df["problem_hash"].astype(str)
    several = df["dataset_options"].astype(str).str.contains('"multiclass": true') if "dataset_options" in df else False
    outputs = _num(df, "outputs").fillna(pd.Series(np.where(several, 2, 1), index=df.index))
    unit = pd.Series(np.where(outputs > 1, "c outputs", "1 output"), index=df.index)
    return df.assign(
        problem=instance + ":" + form + ":" + df["seed"].astype(str),
        problem_class=form + ", " + loss + ", " + unit,
    )


def time_to_accuracy(df: pd.DataFrame, tol: float = PROFILE_TOL) -> pd.Series:
    """Seconds (setup + solve) to the first point that reached ``tol``; inf where none did (module docstring)."""
    setup = _num(df, "setup_s").fillna(0.0)
    by_reference = _num(df, f"time_to_{tol:g}")
    certified = _num(df, f"time_to_certified_{tol:g}")
    has_reference = _num(df, "reference").notna()
    t = by_reference.where(has_reference, certified)
    return (t + setup).where(t.notna() & np.isfinite(t), np.inf)


def time_to_heldout(df: pd.DataFrame, points: float = HELDOUT_POINTS) -> pd.Series:
    """Seconds (setup + solve) of rows whose held-out accuracy is within ``points`` of the problem's best; inf for
    the others and where there is no held-out accuracy (rows need ``problem``: :func:`with_problem_keys`)."""
    acc = _num(df, "test_accuracy")
    best = acc.groupby(df["problem"]).transform("max")
    seconds = _num(df, "setup_s").fillna(0.0) + _num(df, "solve_s")
    ok = acc.notna() & (acc >= best - points - 1e-12) & seconds.notna()
    return seconds.where(ok, np.inf)


def time_matrix(df: pd.DataFrame, times: pd.Series) -> pd.DataFrame:
    """Problems x backends: each backend's fastest success per problem (inf: none, or not run)."""
    t = df.assign(t=times).pivot_table(index="problem", columns="solver", values="t", aggfunc="min")
    return t.fillna(np.inf)


def profile_ratios(t: pd.DataFrame) -> pd.DataFrame:
    """Time over the fastest time on the same problem (inf where unsolved; problems nobody solved: all inf)."""
    ratios = t.div(t.min(axis=1).clip(lower=1e-9), axis=0).clip(lower=1.0)  # the fastest is 1, even at 0 s
    return ratios.where(np.isfinite(t), np.inf)


def profile_curve(ratios: pd.Series, taus: np.ndarray) -> np.ndarray:
    """rho(tau): the fraction of problems solved within tau times the fastest."""
    r = ratios.to_numpy(dtype=float)
    return (r[None, :] <= taus[:, None]).mean(axis=1) if r.size else np.zeros(taus.size)


def shifted_geomean(times: np.ndarray | pd.Series, shift: float = SHIFT_S) -> float:
    t = np.asarray(times, dtype=float)
    return float(np.exp(np.mean(np.log(t + shift))) - shift) if t.size else float("nan")


def class_summary(df: pd.DataFrame, times: pd.Series, label: str) -> pd.DataFrame:
    """Per backend of one class: problems, solved (by ``times``), fastest on (ties count for each), shifted
    geometric mean of time (failures charged the problem's time limit) and its ratio to the best backend."""
    t = time_matrix(df, times)
    limit = df.groupby("problem")["time_limit"].max().reindex(t.index).astype(float)
    charged = t.where(np.isfinite(t), limit, axis=0)
    ratios = profile_ratios(t)
    rows = []
    for solver in t.columns:
        rows.append(
            {
                "backend": solver,
                "problems": len(t),
                f"solved ({label})": float(np.isfinite(t[solver]).mean()),
                "fastest on": int((ratios[solver] == 1.0).sum()),
                f"shifted geomean s (shift {SHIFT_S:g})": shifted_geomean(charged[solver]),
            }
        )
    out = pd.DataFrame(rows)
    sgm = out[f"shifted geomean s (shift {SHIFT_S:g})"]
    out["vs best"] = sgm / max(sgm.min(), 1e-12) if len(out) else []
    return out.sort_values(["vs best", "backend"]).reset_index(drop=True)


def winners(df: pd.DataFrame, tol: float = PROFILE_TOL, points: float = HELDOUT_POINTS) -> pd.DataFrame:
    """The first screen: per problem class, the backend with the best shifted geometric mean to ``tol`` and to
    held-out accuracy, with the share of problems each solved."""
    df = with_problem_keys(df)
    rows = []
    for cls, g in df.groupby("problem_class", sort=True):
        row: dict[str, object] = {"problem class": cls, "problems": int(g["problem"].nunique())}
        for what, times in ((f"to {tol:g}", time_to_accuracy(g, tol)), ("to held-out", time_to_heldout(g, points))):
            s = class_summary(g, times, what)
            solved = s[s[f"solved ({what})"] > 0]
            if solved.empty:
                row[f"best {what}"] = "none solved"
                continue
            top = solved.iloc[0]
            row[f"best {what}"] = f"{top['backend']} (solved {top[f'solved ({what})']:.0%})"
        rows.append(row)
    return pd.DataFrame(rows)


def per_set_table(df: pd.DataFrame, tol: float = PROFILE_TOL) -> pd.DataFrame:
    """Data set x class rows, one column per backend: seconds to ``tol`` (fastest success, median over seeds), or
    '-' where it never reached it."""
    df = with_problem_keys(df).assign(t=lambda x: time_to_accuracy(x, tol))
    best = df.groupby(["dataset", "problem_class", "seed", "solver"])["t"].min().reset_index()
    med = best.groupby(["dataset", "problem_class", "solver"])["t"].median().unstack("solver")
    return med.map(lambda v: f"{v:.3g}" if math.isfinite(v) else "-").reset_index()
