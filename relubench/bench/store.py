"""Results store: one row per case (problem instance x solver x settings x seed) in a parquet table.

Rows are keyed by ``case_hash``. Every write replaces the file atomically (write to a temporary file in the
same folder, fsync, ``os.replace``), so a crash or SIGKILL never leaves a partial table: a row is either
there or not. ``append`` drops earlier rows with the same key, so a re-run never duplicates a case.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from relubench.errors import InputError

FAILED = ("crashed", "time_limit", "memory", "error", "numerical_error", "max_iter", "infeasible")


class ResultStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.suffix != ".parquet":
            raise InputError(f"results file must end in .parquet, got {self.path}")

    def load(self) -> pd.DataFrame:
        if not self.path.exists():
            return pd.DataFrame()
        return pd.read_parquet(self.path)

    def done_hashes(self, rerun_failed: bool = False) -> set[str]:
        df = self.load()
        if df.empty:
            return set()
        if rerun_failed:
            df = df[~df["status"].isin(FAILED)]
        return set(df["case_hash"])

    def append(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        new = pd.DataFrame(rows)
        old = self.load()
        if not old.empty:
            old = old[~old["case_hash"].isin(new["case_hash"])]
            new = pd.concat([old, new], ignore_index=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".parquet")
        os.close(fd)
        try:
            new.to_parquet(tmp, index=False)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
