"""scikit-learn's bundled real data sets (no network): breast_cancer, wine, digits, iris, diabetes."""

from __future__ import annotations

import numpy as np

from relubench.datasets.base import Dataset, one_hot_pm1, register_dataset, split_standardize
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
        if multiclass:
            y = one_hot_pm1(y)
        elif task == "classification":
            classes = np.unique(y)
            pos = classes[-1] if positive_class is None and classes.size == 2 else positive_class or 0
            if pos not in classes:
                raise InputError(f"positive class {pos} not in {name}'s classes {classes.tolist()}")
            y = np.where(y == pos, 1.0, -1.0)
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
