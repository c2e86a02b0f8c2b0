"""Saved networks: NPZ files with arrays U (d x m), a (m,) and bias (a 0-d boolean), written whole."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from relubench.datasets.files import read_npz
from relubench.errors import InputError


def save_network(path: str | Path, U: np.ndarray, a: np.ndarray, bias: bool) -> None:
    """Write the network to ``path`` (temporary file in the same folder, then rename)."""
    p = Path(path)
    if p.exists() and not p.is_file():
        raise InputError(f"{p} exists and is not a file")
    try:
        fd, tmp = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=".tmp-", suffix=".npz")
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, U=np.asarray(U, dtype=float), a=np.asarray(a, dtype=float), bias=np.asarray(bool(bias)))
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_network(path: str | Path) -> tuple[np.ndarray, np.ndarray, bool]:
    """(U, a, bias) of a saved network; InputError for a missing, damaged or inconsistent file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"network file not found: {p}")
    arrays = read_npz(p, required=("U", "a"), optional=("bias",))
    U, a = arrays["U"], arrays["a"]
    bias = arrays.get("bias", np.asarray(False))
    if U.dtype.kind not in "biuf" or a.dtype.kind not in "biuf" or bias.shape != ():
        raise InputError(f"{p}: U and a must be real arrays and bias a single boolean")
    if U.ndim != 2 or a.ndim != 1 or U.shape[1] != a.shape[0] or U.shape[1] == 0:
        raise InputError(f"{p}: need U of shape (d, m) and a of length m >= 1, got {U.shape} and {a.shape}")
    U, a = U.astype(float), a.astype(float)
    if not (np.isfinite(U).all() and np.isfinite(a).all()):
        raise InputError(f"{p}: the network has NaN or infinite weights")
    return U, a, bool(bias)
