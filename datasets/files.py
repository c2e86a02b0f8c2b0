"""User data files: CSV with a named target column, or NPZ with arrays X and y (and optional masks D)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from relubench.datasets.base import Dataset, register_dataset, split_standardize
from relubench.errors import InputError


def load_file(
    path: str | Path,
    target: str = "y",
    seed: int = 0,
    test_fraction: float = 0.0,
    n: int | None = None,
    standardize: bool = False,
) -> Dataset:
    """Read a CSV (header row, numeric columns, ``target`` column holds y) or an NPZ (X, y, optional D).

    NPZ files are read with ``allow_pickle=False``. A mask array D (n x P, boolean) is only accepted when the
    rows are used as given (no split, no subsample). Data are used as given unless ``standardize``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"data file not found: {p}")
    masks = None
    if p.suffix.lower() == ".npz":
        try:
            with np.load(p, allow_pickle=False) as z:
                if "X" not in z or "y" not in z:
                    raise InputError(f"{p}: NPZ must contain arrays 'X' and 'y' (found {', '.join(z.files)})")
                X, y = z["X"], z["y"]
                masks = z["D"] if "D" in z else None
        except ValueError as exc:
            raise InputError(f"{p}: cannot read NPZ without pickles: {exc}") from None
        except (OSError, EOFError) as exc:
            raise InputError(f"{p}: not a readable NPZ file: {exc}") from None
        if X.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
            raise InputError(f"{p}: X and y must be numeric arrays")
    elif p.suffix.lower() in (".csv", ".txt"):
        import pandas as pd

        try:
            df = pd.read_csv(p)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise InputError(f"{p}: cannot parse CSV: {str(exc).splitlines()[0]}") from None
        if target not in df.columns:
            raise InputError(f"{p}: no target column {target!r} (columns: {', '.join(map(str, df.columns))})")
        bad = [str(c) for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
        if bad:
            raise InputError(f"{p}: non-numeric column(s): {', '.join(bad)}")
        y = df[target].to_numpy(dtype=float)
        X = df.drop(columns=[target]).to_numpy(dtype=float)
        if X.shape[1] == 0:
            raise InputError(f"{p}: no feature columns besides the target {target!r}")
    else:
        raise InputError(f"{p}: unsupported data file type {p.suffix!r} (use .csv or .npz)")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise InputError(f"{p}: need X of shape (n, d) and y of length n with n >= 1, got {X.shape} and {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise InputError(f"{p}: data contain NaN or infinite values")
    if masks is not None:
        if test_fraction or n is not None or standardize:
            raise InputError(f"{p}: pattern masks D are only used with the rows as given (no split or --n)")
        return Dataset(p.stem, X, y, X[:0], y[:0], "regression", masks=masks, meta={"path": str(p)})
    if test_fraction or n is not None or standardize:
        X, y, Xte, yte = split_standardize(X, y, test_fraction, seed, n=n)
    else:
        Xte, yte = X[:0], y[:0]
    task = "classification" if np.isin(y, (-1.0, 1.0)).all() else "regression"
    return Dataset(p.stem, X, y, Xte, yte, task, meta={"path": str(p)})


register_dataset("file")(load_file)
