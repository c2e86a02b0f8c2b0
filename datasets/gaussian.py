"""Synthetic data: X ~ N(0, I_d); targets from a planted teacher ReLU network plus noise, or random labels."""

from __future__ import annotations

import numpy as np

from relubench.datasets.base import Dataset, DatasetInfo, register_dataset
from relubench.errors import InputError
from relubench.resources import require_memory


@register_dataset(
    "gaussian",
    DatasetInfo("regression or classification", None, None, None, "synthetic (seeded teacher network)", "-"),
)
def gaussian(
    n: int | None = None,
    d: int | None = None,
    seed: int = 0,
    teacher_units: int = 5,
    noise: float = 0.1,
    labels: str = "teacher",
    test_fraction: float = 0.2,
) -> Dataset:
    """n training rows (default 100) and round(test_fraction * n / (1 - test_fraction)) test rows in d dims.

    labels="teacher": y = relu(X U*) a* / sqrt(k) + noise * N(0, 1), U* columns of unit norm, a* = +/-1;
    labels="sign": y = sign of the teacher's output (noise included), a classification task;
    labels="random": y uniform in {-1, +1} (a memorization task).
    """
    n = 100 if n is None else int(n)
    d = 10 if d is None else int(d)
    if n < 1 or d < 1:
        raise InputError(f"gaussian needs n >= 1 and d >= 1, got n={n}, d={d}")
    if teacher_units < 1 or noise < 0:
        raise InputError("teacher_units must be >= 1 and noise >= 0")
    if labels not in ("teacher", "sign", "random"):
        raise InputError(f"labels must be 'teacher', 'sign' or 'random', got {labels!r}")
    n_test_est = int(round(test_fraction * n / (1 - test_fraction))) if test_fraction else 0
    require_memory(3 * 8.0 * (n + n_test_est) * max(d, teacher_units), f"gaussian data of n={n}, d={d}")
    rng = np.random.default_rng(seed)
    n_test = int(round(test_fraction * n / (1 - test_fraction))) if test_fraction else 0
    X = rng.standard_normal((n + n_test, d))
    if labels in ("teacher", "sign"):
        U = rng.standard_normal((d, teacher_units))
        U /= np.linalg.norm(U, axis=0)
        a = rng.choice([-1.0, 1.0], size=teacher_units)
        y = np.maximum(X @ U, 0) @ a / np.sqrt(teacher_units) + noise * rng.standard_normal(n + n_test)
        task = "regression"
        if labels == "sign":  # the teacher's sign: a +-1 classification task a two-layer network can fit
            y, task = np.where(y >= 0, 1.0, -1.0), "classification"
    else:
        y = rng.choice([-1.0, 1.0], size=n + n_test)
        task = "classification"
    return Dataset(
        "gaussian",
        X[:n],
        y[:n],
        X[n:],
        y[n:],
        task,
        meta={"seed": seed, "teacher_units": teacher_units, "noise": noise, "labels": labels},
    )
