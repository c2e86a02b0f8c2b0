"""scikit-learn's bundled real data sets (no network): breast_cancer, wine, digits, iris, diabetes."""

from __future__ import annotations

import numpy as np

from relubench.datasets.base import Dataset, class_targets, register_dataset, split_standardize
from relubench.errors import InputError

_CLASSIFICATION = {
    "breast_cancer": "load_breast_cancer",
    "wine": "load_wine",
    "digits": "load_digits",
    "iris": "load_iris",
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

    load.__doc__ = (
        f"{name} ({task}; multi-class sets as one-vs-rest, positive class 0 by default; multiclass=True: "
        "one output per class, +1 for the class and -1 elsewhere)."
    )
    return load


for _name, _loader in _CLASSIFICATION.items():
    register_dataset(_name)(_make(_name, _loader, "classification"))
register_dataset("diabetes")(_make("diabetes", "load_diabetes", "regression"))
