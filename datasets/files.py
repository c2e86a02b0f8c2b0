"""User data files: CSV with a named target column, or NPZ with arrays X and y (and optional masks D)."""

from __future__ import annotations

import csv
import warnings
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from relubench.datasets.base import Dataset, DatasetInfo, register_dataset, split_standardize
from relubench.errors import InputError
from relubench.resources import require_memory


def read_npz(
    p: Path, required: tuple[str, ...] = ("X", "y"), optional: tuple[str, ...] = ("D",)
) -> dict[str, np.ndarray]:
    """The named arrays of an NPZ, each header checked (no pickles, size within memory) before it is read.

    Any other member is ignored; a missing required array, a damaged archive or member is an InputError.
    """
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{p}: not a readable NPZ (zip) file: {exc}") from None
    out = {}
    with zf:
        members = {name[:-4]: name for name in zf.namelist() if name.endswith(".npy")}
        if any(k not in members for k in required):
            found = ", ".join(sorted(members)) or "no .npy arrays"
            need = " and ".join(repr(k) for k in required)
            raise InputError(f"{p}: NPZ must contain arrays {need} (found {found})")
        for key in (k for k in (*required, *optional) if k in members):
            try:
                with zf.open(members[key]) as fh:
                    version = np.lib.format.read_magic(fh)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else (np.lib.format.read_array_header_2_0)
                    )
                    shape, _, dtype = read_header(fh)
                if dtype.hasobject:
                    raise InputError(f"{p}: array {key!r} holds Python objects (pickles are never read)")
                require_memory(float(np.prod(shape, dtype=float)) * dtype.itemsize, f"{p}: array {key!r} {shape}")
                with zf.open(members[key]) as fh:
                    out[key] = np.lib.format.read_array(fh, allow_pickle=False)
            except InputError:
                raise
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError) as exc:
                raise InputError(f"{p}: array {key!r} is not a readable .npy: {exc}") from None
    return out


def _read_csv(p: Path, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features, target(s) and the feature columns' names of a CSV with one header row; every row must have
    exactly the header's fields.

    ``target`` names one column, or several separated by commas (y then has one column per name: c outputs).
    """
    import pandas as pd  # here, not at the top: a sweep case's process need not load pandas

    try:
        with open(p, newline="", encoding="utf-8-sig") as fh:  # -sig: a byte-order mark (Excel) is not a name
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text") from None
    except (OSError, csv.Error) as exc:
        raise InputError(f"{p}: cannot read CSV: {exc}") from None
    if not header:
        raise InputError(f"{p}: empty CSV (a header row is needed)")
    names = list(header)
    dupes = sorted(h for h, k in Counter(names).items() if k > 1)  # linear in the columns (wide files)
    if dupes:
        raise InputError(f"{p}: duplicate column name(s) in the header: {_shown(map(repr, dupes))}")
    if any(not h for h in names):
        raise InputError(f"{p}: empty column name in the header (column {names.index('') + 1})")
    targets = target_names(target)
    fast = _plain_numbers(p, len(names))
    if fast is not None:  # the common case, read by numpy in one pass (linear in the file, wide files too)
        pos = {h: i for i, h in enumerate(names)}
        missing = [t for t in targets if t not in pos]
        if missing:
            raise InputError(f"{p}: no target column {', '.join(map(repr, missing))} (columns: {_shown(names)})")
        cols = [pos[t] for t in targets]
        keep = np.ones(len(names), dtype=bool)
        keep[cols] = False
        if not keep.any():
            raise InputError(f"{p}: no feature columns besides the target(s) {target!r}")
        y = fast[:, cols]
        features = [h for h, k in zip(names, keep, strict=True) if k]
        return fast[:, keep], (y[:, 0] if len(targets) == 1 else y), features
    # anything else (quoted or non-numeric fields, ragged rows, no data rows) is read by pandas, whose errors say
    # which row or column is wrong
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(p, index_col=False, on_bad_lines="error")
    except pd.errors.ParserWarning:
        raise InputError(f"{p}: some rows have more fields than the header ({len(names)} columns)") from None
    except pd.errors.ParserError as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        if "Expected" in first:  # the C parser's wording for a row longer than the header
            raise InputError(f"{p}: some rows have more fields than the header ({first.split('. ')[-1]})") from None
        raise InputError(f"{p}: cannot parse CSV: {first or type(exc).__name__}") from None
    except (ValueError, OSError) as exc:
        raise InputError(
            f"{p}: cannot parse CSV: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    if df.empty:
        raise InputError(f"{p}: no data rows below the header")
    missing = [t for t in targets if t not in df.columns]
    if missing:
        raise InputError(f"{p}: no target column {', '.join(map(repr, missing))} (columns: {_shown(df.columns)})")
    bad = [str(c) for c, t in df.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
    if bad:
        raise InputError(f"{p}: non-numeric column(s): {_shown(bad)}")
    y = df[targets].to_numpy(dtype=float)
    features_df = df.drop(columns=targets)
    X = features_df.to_numpy(dtype=float)
    if X.shape[1] == 0:
        raise InputError(f"{p}: no feature columns besides the target(s) {target!r}")
    return X, (y[:, 0] if len(targets) == 1 else y), [str(c) for c in features_df.columns]


def _plain_numbers(p: Path, columns: int) -> np.ndarray | None:
    """The data rows as an (n, columns) float array when every row is ``columns`` plain numbers, else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "empty input file" is a None here, not a warning
            data = np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2, dtype=float, comments=None, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if data.shape[0] > 0 and data.shape[1] == columns else None


def _shown(names: object, most: int = 20) -> str:
    """Column names for an error line: the first ``most``, then how many more."""
    names = [str(n) for n in names]
    more = f", ... ({len(names) - most} more)" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def target_names(target: str) -> list[str]:
    """The target column names of a ``--target`` value (comma-separated; no empty or repeated name)."""
    names = [t.strip() for t in str(target).split(",")]
    if any(not t for t in names):
        raise InputError(f"--target has an empty column name: {target!r}")
    if len(set(names)) != len(names):
        raise InputError(f"--target names a column twice: {target!r}")
    return names


def load_file(
    path: str | Path,
    target: str = "y",
    seed: int = 0,
    test_fraction: float = 0.0,
    n: int | None = None,
    standardize: bool = False,
) -> Dataset:
    """Read a CSV (header row, numeric columns, ``target`` column(s) hold y) or an NPZ (X, y, optional D).

    y may have c columns (CSV: ``target="a,b,c"``; NPZ: y of shape (n, c)): c outputs.
    NPZ files are read with ``allow_pickle=False``. A mask array D (n x P, boolean) is only accepted when the
    rows are used as given (no split, no subsample). Data are used as given unless ``standardize``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"data file not found: {p}")
    masks = None
    features = None  # the feature columns' names (CSV)
    if p.suffix.lower() == ".npz":
        arrays = read_npz(p)
        X, y, masks = arrays["X"], arrays["y"], arrays.get("D")
        if X.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
            raise InputError(f"{p}: X and y must be real numeric arrays, got {X.dtype} and {y.dtype}")
    elif p.suffix.lower() in (".csv", ".txt"):
        X, y, features = _read_csv(p, target)
    else:
        raise InputError(f"{p}: unsupported data file type {p.suffix!r} (use .csv or .npz)")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if X.ndim != 2 or y.ndim not in (1, 2) or X.shape[0] != y.shape[0] or X.shape[0] == 0 or y.size == 0:
        raise InputError(
            f"{p}: need X of shape (n, d) and y of length n (or n x c) with n >= 1, got {X.shape} and {y.shape}"
        )
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
    meta = {"path": str(p)} if features is None else {"path": str(p), "features": features}
    return Dataset(p.stem, X, y, Xte, yte, task, meta=meta)


def with_test_file(ds: Dataset, path: str | Path, target: str = "y") -> Dataset:
    """``ds`` with its held-out rows replaced by those of a file (same features and outputs; used as given)."""
    if ds.X_test.shape[0]:
        raise InputError("--test replaces the held-out rows: do not combine it with --test-fraction")
    held = load_file(path, target=target)
    if held.masks is not None:
        raise InputError(f"{path}: a held-out file has no pattern masks (found an array D)")
    mine, theirs = ds.meta.get("features"), held.meta.get("features")
    Xh = held.X_train
    if mine is not None and theirs is not None and mine != theirs:  # CSV columns are matched by name
        mine_set, theirs_set = set(mine), set(theirs)  # sets: linear in the columns (wide files)
        missing, extra = [c for c in mine if c not in theirs_set], [c for c in theirs if c not in mine_set]
        if missing or extra:
            raise InputError(
                f"{path}: its features (columns) differ from the training file's (missing: "
                f"{_shown(missing) if missing else 'none'}; not in the training file: "
                f"{_shown(extra) if extra else 'none'})"
            )
        where = {c: i for i, c in enumerate(theirs)}
        Xh = Xh[:, [where[c] for c in mine]]  # the same columns in another order
    if Xh.shape[1] != ds.X_train.shape[1]:
        raise InputError(f"{path}: {Xh.shape[1]} features, the training data have {ds.X_train.shape[1]}")
    if held.y_train.shape[1:] != ds.y_train.shape[1:]:
        raise InputError(
            f"{path}: targets of shape {held.y_train.shape[1:]}, the training data have {ds.y_train.shape[1:]}"
        )
    meta = {**ds.meta, "test_path": str(path)}
    return Dataset(ds.name, ds.X_train, ds.y_train, Xh, held.y_train, ds.task, ds.masks, meta)


register_dataset(
    "file", DatasetInfo("as the file says", None, None, None, "a CSV or NPZ file of yours (--data)", "yours")
)(load_file)
