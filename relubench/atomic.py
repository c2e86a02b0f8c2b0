"""Files written whole: to a temporary file in the target's folder, then renamed over it (no reader ever sees a
half-written file; a failure leaves the old file, if any, and no temporary file)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relubench.errors import InputError


def check_output_file(path: str | Path, suffix: str, what: str) -> Path:
    """The rule every output file a command will write meets, checked before any work: a ``suffix`` name, in a
    folder that exists and can be written, not an existing folder or other non-file. InputError naming ``what``
    (the flag) otherwise."""
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise InputError(f"{what} needs a {suffix} file name, got {str(path)!r}")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{what}: folder {folder} does not exist")
    if p.exists() and not p.is_file():
        raise InputError(f"{what}: {p} exists and is not a file")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{what}: folder {folder} is not writable")
    return p


def write_whole(
    path: str | Path,
    write: Callable[[Any], object],
    binary: bool = True,
    durable: bool = False,
    by_name: bool = False,
) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it to ``path``. ``by_name``: ``write``
    gets the temporary file's name instead, for writers that open the file themselves (the results table's
    parquet writer). ``durable``: the temporary file is flushed to the disk (fsync) before the rename, so that a
    power cut leaves the old or the new file, never an empty one (the results table). The one way relubench
    replaces a file.

    InputError when the folder cannot take the temporary file (missing, read-only) or ``path`` is not a file.
    """
    p = Path(path)
    if p.exists() and not p.is_file():
        raise InputError(f"{p} exists and is not a file")
    try:
        fd, tmp = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=".tmp-", suffix=p.suffix)
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror}") from None
    try:
        if by_name:
            os.close(fd)
            write(tmp)
            if durable:
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
        else:
            with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
                write(fh)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
