"""MNIST-1D, generated offline (the KEEL/UCI sets, magic, letter and penbased among them: relubench.datasets.keel).

* ``mnist1d``: the MNIST-1D generator (Greydanus 2020, ``mnist1d`` package, Apache-2.0) run locally with its
  default transformations, ``num_samples`` = the rows asked for (training plus held-out; default 12500, so 10000
  training rows at the default split), 40 features, 10 classes; its ``get_dataset`` (a download) is never called.

Every set: seeded shuffle and split (``test_fraction``, default 0.2; the KEEL 10-fold files are not used),
features standardized with training statistics, labels +1 / -1 one-vs-rest (``positive_class``: the index of the
class among the sorted labels; binary sets default to the last) or, with ``multiclass``, one output per class.
"""

from __future__ import annotations

import random

import numpy as np

from relubench.datasets.base import Dataset, DatasetInfo, class_targets, register_dataset, split_standardize
from relubench.errors import InputError
from relubench.resources import require_memory


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
