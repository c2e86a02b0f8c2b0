"""scikit-learn's bundled real data sets (no network): breast_cancer, wine, digits, iris, diabetes."""

from __future__ import annotations

import numpy as np

from relubench.datasets.base import Dataset, DatasetInfo, class_targets, register_dataset, split_standardize
from relubench.errors import InputError

UCI = "UCI Machine Learning Repository, CC BY 4.0 (copy shipped in scikit-learn)"
# name: (loader, rows, features, classes); diabetes (regression) below
_CLASSIFICATION = {
    "breast_cancer": ("load_breast_cancer", 569, 30, 2),
    "wine": ("load_wine", 178, 13, 3),
    "digits": ("load_digits", 1797, 64, 10),
    "iris": ("load_iris", 150, 4, 3),
}


def _make(name: str, loader: str, task: str):  # noqa: ANN202
    def load(
        n: int | None = None,
        d: int | None = None,
        seed: int = 0,
        test_fraction: float = 0.2,
        positive_class: int | None = None,
        multiclass: bool = False,
    ) -> Dataset:
        import sklearn.datasets as skd

        X, y = getattr(skd, loader)(return_X_y=True)
        X = np.asarray(X, dtype=float)
        if d is not None and d != X.shape[1]:
            raise InputError(f"dataset {name} has d={X.shape[1]} features; --d applies only to gaussian")
        if multiclass and task != "classification":
            raise InputError(f"dataset {name} is a regression set: multiclass applies to classification sets")
        if task == "classification":  # classes are 0 .. k-1: a class's index is its label
            y = class_targets(y, multiclass, positive_class, name)
        Xtr, ytr, Xte, yte = split_standardize(X, y, test_fraction, seed, standardize_y=task == "regression", n=n)
        return Dataset(name, Xtr, ytr, Xte, yte, task, meta={"seed": seed, "source": f"sklearn.datasets.{loader}"})

    if task == "classification":
        load.__doc__ = (
            f"{name}: scikit-learn's bundled copy; +-1 one-vs-rest (positive class: the last of two classes, "
            "else class 0) or, with multiclass=True, one output per class (+1 for the class, -1 elsewhere)."
        )
    else:
        load.__doc__ = f"{name}: scikit-learn's bundled copy; a regression set (targets standardized)."
    return load


for _name, (_loader, _rows, _features, _classes) in _CLASSIFICATION.items():
    _info = DatasetInfo("classification", _rows, _features, _classes, f"sklearn.datasets.{_loader}", UCI)
    register_dataset(_name, _info)(_make(_name, _loader, "classification"))
register_dataset(
    "diabetes",
    DatasetInfo(
        "regression",
        442,
        10,
        None,
        "sklearn.datasets.load_diabetes",
        "Efron et al. 2004 (copy shipped in scikit-learn, BSD-3-Clause)",
    ),
)(_make("diabetes", "load_diabetes", "regression"))
