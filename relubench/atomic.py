"""Files written whole: to a temporary file in the target's folder, then renamed over it (no reader ever sees a
half-written file; a failure leaves the old file, if any, and no temporary file)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from relubench.errors import InputError


def write_whole(
    path: str | Path, write: Callable[[IO[Any]], object], binary: bool = True, durable: bool = False
) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it to ``path``. ``durable``: the
    temporary file is flushed to the disk (fsync) before the rename, so that a power cut leaves the old or the new
    file, never an empty one (the results table). The one way relubench replaces a file.

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
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            write(fh)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
