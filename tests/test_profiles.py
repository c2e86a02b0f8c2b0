"""The measures across data sets (relubench.present.profiles) on a hand-made table with hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from relubench.present import profiles as pf

INF = math.inf


def _row(problem: str, form: str, solver: str, setup: float, t: float, **kw: object) -> dict:
    row = {
        "problem_hash": problem, "formulation": form, "seed": 0, "loss": "squared", "outputs": 1, "solver": solver,
        "dataset": problem.split("-")[0], "setup_s": setup, "solve_s": kw.pop("solve", 5.0), "time_limit": 60.0,
        "reference": kw.pop("reference", 1.0), "time_to_0.0001": t, "time_to_certified_0.0001": kw.pop("cert", None),
        "test_accuracy": kw.pop("acc", None),
    }  # fmt: skip
    assert not kw
    return row


TABLE = pd.DataFrame(
    [
        _row("a-1", "relu", "A", 1.0, 1.0, acc=0.90, solve=1.5),  # A: 2 s
        _row("a-1", "relu", "A", 0.5, 3.0, acc=0.90),  # a second preset, slower: the fastest success counts
        _row("a-1", "relu", "B", 1.0, 3.0, acc=0.895, solve=3.0),  # B: 4 s; accuracy within one point of 0.90
        _row("b-1", "relu", "A", 1.0, 3.0, acc=0.80, solve=3.0),  # A: 4 s; accuracy 15 points below the best
        _row("b-1", "relu", "B", 0.5, 1.5, acc=0.95, solve=1.5),  # B: 2 s
        _row("c-1", "relu", "A", 1.0, INF, cert=2.0, reference=None),  # no reference: certified time counts (3 s)
        _row("c-1", "relu", "B", 1.0, 1.0, cert=INF, reference=None),  # reached by reference only: no reference here
        _row("a-1", "gated", "C", 0.0, 0.5),
        _row("a-1", "gated", "A", 0.0, 1.0),
        {**_row("d-1", "gated", "A", 0.0, 1.0), "outputs": 3},  # 3 and 10 outputs: one class, "c outputs"
        {**_row("e-1", "gated", "A", 0.0, 1.0), "outputs": 10},
        _row("a-1", "nonconvex", "sgd", 0.0, INF, acc=0.91, solve=0.5),  # against relu's optimum: a relu problem
    ]
)


def test_time_to_accuracy_takes_the_reached_time_plus_setup_or_the_certified_time_without_a_reference() -> None:
    t = pf.time_to_accuracy(TABLE)
    assert t.tolist() == [2.0, 3.5, 4.0, 4.0, 2.0, 3.0, INF, 0.5, 1.0, 1.0, 1.0, INF]


def test_profiles_are_per_class_and_charge_unsolved_problems() -> None:
    df = pf.with_problem_keys(TABLE)
    assert sorted(set(df["problem_class"])) == [
        "gated, squared, 1 output", "gated, squared, c outputs", "relu, squared, 1 output"
    ]  # fmt: skip
    relu = df[df["problem_class"] == "relu, squared, 1 output"]
    t = pf.time_matrix(relu, pf.time_to_accuracy(relu))
    assert list(t.columns) == ["A", "B", "sgd"]  # C solves only gated: not in the relu class
    np.testing.assert_array_equal(
        t.loc[["a-1:relu:0", "b-1:relu:0", "c-1:relu:0"]].to_numpy(), [[2, 4, INF], [4, 2, INF], [3, INF, INF]]
    )  # sgd's network never reached 1e-4 of the relu optimum; on b-1 and c-1 it was not run: unsolved
    r = pf.profile_ratios(t)
    np.testing.assert_array_equal(r["A"].to_numpy(), [1.0, 2.0, 1.0])
    np.testing.assert_array_equal(r["B"].to_numpy(), [2.0, 1.0, INF])
    taus = np.array([1.0, 1.99, 2.0, 100.0])
    np.testing.assert_allclose(pf.profile_curve(r["A"], taus), [2 / 3, 2 / 3, 1, 1])
    np.testing.assert_allclose(pf.profile_curve(r["B"], taus), [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_array_equal(pf.profile_curve(r["sgd"], taus), [0, 0, 0, 0])


def test_shifted_geomean_charges_failures_the_time_limit_and_ratios_to_the_best() -> None:
    relu = pf.with_problem_keys(TABLE[TABLE["formulation"] == "relu"])
    s = pf.class_summary(relu, pf.time_to_accuracy(relu), "x").set_index("backend")
    sgm = "shifted geomean s (shift 10)"
    a = math.exp(np.mean(np.log([12.0, 14.0, 13.0]))) - 10
    b = math.exp(np.mean(np.log([14.0, 12.0, 70.0]))) - 10  # c-1 unsolved: charged 60 s
    assert s.loc["A", sgm] == pytest.approx(a) and s.loc["B", sgm] == pytest.approx(b)
    assert s.loc["A", "vs best"] == pytest.approx(1.0) and s.loc["B", "vs best"] == pytest.approx(b / a)
    assert s.loc["A", "solved (x)"] == 1.0 and s.loc["B", "solved (x)"] == pytest.approx(2 / 3)
    assert s.loc["A", "fastest on"] == 2 and s.loc["B", "fastest on"] == 1


def test_time_to_heldout_counts_solves_within_one_point_of_the_best() -> None:
    df = pf.with_problem_keys(TABLE)
    t = pf.time_to_heldout(df)
    # a-1: best 0.90, both within a point (A's two rows: 2.5 s and 5.5 s); b-1: best 0.95, A is 15 points below
    # sgd's network on a-1 (a relu problem) is the best, 0.91: A (0.90) stays within a point, B (0.895) drops out
    assert t.tolist()[:5] == [2.5, 5.5, INF, INF, 2.0] and t.iloc[-1] == 0.5
    assert np.isinf(t.iloc[5:-1]).all()  # no held-out accuracy: never counted
    assert pf.class_summary(df[df["outputs"] > 1], t, "x")["problems"].tolist() == [2]
    w = pf.winners(TABLE).set_index("problem class")
    assert w.loc["relu, squared, 1 output", "best to 0.0001"] == "A (solved 100%)"
    assert w.loc["relu, squared, 1 output", "best to held-out"] == "sgd (solved 33%)"  # 1 of 3 relu problems, fastest
    assert w.loc["gated, squared, 1 output", "best to 0.0001"] == "C (solved 100%)"
    assert w.loc["gated, squared, 1 output", "best to held-out"] == "none solved"


def test_per_set_table_shows_seconds_or_a_dash() -> None:
    table = pf.per_set_table(TABLE).set_index(["dataset", "problem_class"])
    assert table.loc[("c", "relu, squared, 1 output"), "B"] == "-"
    assert table.loc[("a", "relu, squared, 1 output"), "A"] == "2"


def test_sweep_rows_killed_before_measuring_count_as_failures_of_their_problem() -> None:
    """A case whose process was killed has no problem hash, only its case columns: it still belongs to its problem
    (the case columns decide the instance) and counts as unsolved there, in its class (several outputs from its
    dataset options)."""
    case = {"dataset": "s", "n": 100, "P": 10, "beta": 0.1, "d": None, "seed": 0, "loss": "squared", "bias": False}
    rows = [
        {**_row("h1", "relu", "A", 0.0, 1.0), **case, "dataset_options": "{}"},
        {**_row("h1", "relu", "B", 0.0, INF), **case, "dataset_options": "{}", "problem_hash": None, "outputs": None},
        {**_row("h2", "relu", "A", 0.0, 2.0), **case, "dataset_options": '{"multiclass": true}', "outputs": 3},
        {**case, "dataset_options": '{"multiclass": true}', "solver": "B", "formulation": "relu",
         "status": "time_limit", "time_limit": 60.0, "problem_hash": None},  # killed: nothing measured
    ]  # fmt: skip
    df = pf.with_problem_keys(pd.DataFrame(rows))
    assert df["problem"].nunique() == 2
    assert df["problem_class"].tolist() == ["relu, squared, 1 output"] * 2 + ["relu, squared, c outputs"] * 2
    for cls, g in df.groupby("problem_class"):
        s = pf.class_summary(g, pf.time_to_accuracy(g), "x").set_index("backend")
        assert s.loc["B", "solved (x)"] == 0.0 and s.loc["A", "solved (x)"] == 1.0, cls


def test_a_convergence_panel_draws_one_line_per_backend() -> None:
    from relubench.present.report import curve_rows

    g = pd.DataFrame({"solver": ["b", "a", "a", "b", "a"], "tol": [1e-2, 1e-2, 1e-6, 1e-6, 1e-4]})
    rows = curve_rows(g)
    assert rows["solver"].tolist() == ["a", "b"] and rows["tol"].tolist() == [1e-6, 1e-6]
