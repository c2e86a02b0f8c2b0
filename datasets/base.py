"""The Dataset record, the loader registry and the split/standardize step every real-data loader uses."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relubench.errors import InputError


@dataclass
class Dataset:
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str  # "classification" (+/-1 labels; n x c: +1 for the class, -1 elsewhere) or "regression"
    masks: np.ndarray | None = None  # optional user-given pattern masks (n_train x P)
    meta: dict[str, Any] = field(default_factory=dict)


def class_targets(labels: np.ndarray, multiclass: bool, positive_class: int | None, name: str) -> np.ndarray:
    """+-1 one-vs-rest targets (the positive class by its index among the sorted labels; default: the last of
    two classes, else the first) or, with ``multiclass``, +-1 one-hot targets (n x c)."""
    if multiclass:
        return one_hot_pm1(labels)
    classes = np.unique(labels)
    pos = (classes.size - 1 if classes.size == 2 else 0) if positive_class is None else int(positive_class)
    if not 0 <= pos < classes.size:
        raise InputError(f"dataset {name}: positive_class must be in [0, {classes.size - 1}], got {positive_class}")
    return np.where(labels == classes[pos], 1.0, -1.0)


def one_hot_pm1(labels: np.ndarray) -> np.ndarray:
    """n x c targets for c classes: +1 in the column of the row's class, -1 elsewhere (classes sorted)."""
    classes, idx = np.unique(labels, return_inverse=True)
    out = -np.ones((labels.shape[0], classes.size))
    out[np.arange(labels.shape[0]), idx] = 1.0
    return out


@dataclass(frozen=True)
class DatasetInfo:
    """What `relubench datasets` lists about a set: facts of the data as shipped, before any split.

    ``rows``/``features``/``classes`` are None where the loader's arguments decide them (synthetic data: n, d);
    ``classes`` is None for regression sets (one output). tests/test_problem_data.py loads every set whose size is
    fixed and checks these numbers against the loaded arrays."""

    task: str  # "classification", "regression", or "regression or classification" (chosen by an option)
    rows: int | None  # training + held-out rows as shipped
    features: int | None
    classes: int | None
    source: str
    licence: str

    def as_dict(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "task": self.task,
            "rows": self.rows,
            "features": self.features,
            "classes": self.classes,
            "source": self.source,
            "licence": self.licence,
            "description": dataset_doc(name),
        }


_LOADERS: dict[str, Callable[..., Dataset]] = {}
_INFO: dict[str, DatasetInfo] = {}


def register_dataset(name: str, info: DatasetInfo) -> Callable[[Callable[..., Dataset]], Callable[..., Dataset]]:
    def deco(fn: Callable[..., Dataset]) -> Callable[..., Dataset]:
        _LOADERS[name] = fn
        _INFO[name] = info
        return fn

    return deco


def dataset_names() -> list[str]:
    return sorted(_LOADERS)


def dataset_info(name: str) -> DatasetInfo:
    """The declared facts of a registered set (task, size, classes, source, licence)."""
    if name not in _INFO:
        raise InputError(f"unknown dataset {name!r}; known datasets: {', '.join(dataset_names())}")
    return _INFO[name]


def dataset_doc(name: str) -> str:
    """The first line of the named loader's docstring (its one-line description)."""
    doc = (_LOADERS[name].__doc__ or "").strip().splitlines()
    return doc[0] if doc else ""


def check_dataset_options(name: str, options: dict[str, Any]) -> None:
    """InputError unless every key is a keyword the named loader takes (n, d and seed are set by the sweep)."""
    if name not in _LOADERS:
        raise InputError(f"unknown dataset {name!r}; known datasets: {', '.join(dataset_names())}")
    params = set(inspect.signature(_LOADERS[name]).parameters) - {"n", "d", "seed"}
    bad = sorted(set(options) - params)
    if bad:
        raise InputError(
            f"dataset {name} takes no option(s) {', '.join(map(repr, bad))} (it takes: {', '.join(sorted(params))})"
        )


def load_dataset(name: str, **kwargs: Any) -> Dataset:
    """Load a named dataset; InputError for unknown names or options it does not take."""
    if name not in _LOADERS:
        raise InputError(f"unknown dataset {name!r}; known datasets: {', '.join(dataset_names())}")
    return _LOADERS[name](**kwargs)


def split_standardize(
    X: np.ndarray,
    y: np.ndarray,
    test_fraction: float,
    seed: int,
    standardize_y: bool = False,
    n: int | None = None,
    impute: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded shuffle, optional subsample of n training rows, split, and standardization by training stats.

    ``impute``: X may hold NaN (missing values); statistics are taken over the present training values and every
    missing value becomes 0 after standardization (the training mean); a column with no present training value
    is 0."""
    if not 0 <= test_fraction < 1:
        raise InputError(f"test fraction must be in [0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(X.shape[0])
    n_test = int(round(test_fraction * X.shape[0]))
    test, train = perm[:n_test], perm[n_test:]
    if n is not None:
        if n < 1 or n > train.size:
            raise InputError(f"--n must be between 1 and {train.size} for this dataset, got {n}")
        train = train[:n]
    Xtr, Xte, ytr, yte = X[train], X[test], y[train].astype(float), y[test].astype(float)
    if impute:  # statistics of the present values; a column with none present: mean 0, scale 1
        present = ~np.isnan(Xtr)
        count = np.maximum(present.sum(axis=0), 1)
        mu = np.where(present, Xtr, 0.0).sum(axis=0) / count
        sd = np.sqrt((np.where(present, Xtr - mu, 0.0) ** 2).sum(axis=0) / count)
    else:
        mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    sd[sd == 0] = 1.0
    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    if impute:  # a missing value is the training mean: 0 after standardization; a column unseen in training is 0
        unseen = ~present.any(axis=0)
        Xtr, Xte = np.where(np.isnan(Xtr), 0.0, Xtr), np.where(np.isnan(Xte) | unseen, 0.0, Xte)
    if standardize_y:
        ym, ys = ytr.mean(axis=0), ytr.std(axis=0)
        ys = np.where(ys > 0, ys, 1.0)
        ytr, yte = (ytr - ym) / ys, (yte - ym) / ys
    return Xtr, ytr, Xte, yte
