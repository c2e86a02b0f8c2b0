"""Saved networks: NPZ files with arrays U (d x m), a (m,) and bias (a 0-d boolean), written whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from relubench.atomic import write_whole
from relubench.datasets.files import read_npz
from relubench.errors import InputError


def save_network(path: str | Path, U: np.ndarray, a: np.ndarray, bias: bool) -> None:
    """Write the network to ``path`` (temporary file in the same folder, then rename)."""
    write_whole(
        path,
        lambda fh: np.savez(
            fh, U=np.asarray(U, dtype=float), a=np.asarray(a, dtype=float), bias=np.asarray(bool(bias))
        ),
    )


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
