"""Results store: one row per case (problem instance x solver x settings x seed) in a parquet table.

Guarantees (tested in tests/test_hostile.py and tests/test_sweep.py):

* **A crash or kill -9 loses no finished row.** Every write replaces the table atomically (temporary file in the
  same folder, fsync, ``os.replace``): a row is either in the table or not, and a half-written temporary file
  (``.tmp-*``, a dotfile) is never taken for a table.
* **Concurrent writers lose nothing.** Every read-modify-write holds an exclusive file lock (``filelock``) on
  ``.NAME.lock`` beside the table, so two sweeps writing one table (same or different configs) keep every row.
* **Concurrent sweeps do not repeat a case.** A sweep claims a case (under the same lock, in ``.NAME.claims.json``)
  before running it and skips cases that are claimed by a live process or that another sweep finished (a finished
  case's claim becomes a "done" mark, so a claim never rereads the table); the claim of a process that died (same
  host) or that is older than the case's time limit plus grace and a minute (other hosts) lapses.
* **A damaged table is an error, not a crash, and is recoverable.** Each appended row is also written to an
  append-only journal ``.NAME.journal.jsonl`` (one JSON line per row, fsynced under the lock). A table that cannot
  be read, or that lacks the store's columns, gives a one-line error naming ``relubench recover TABLE``, which
  rebuilds the table from the journal plus whatever rows of the damaged table are readable (the damaged file is
  kept as ``TABLE.damaged``).

``append`` drops earlier rows with the same key, so a re-run never duplicates a case.
"""

from __future__ import annotations

import io
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from relubench.atomic import write_whole
from relubench.errors import InputError
from relubench.running.result import FAILED_STATUSES

REQUIRED = ("case_hash", "status")
LOCK_TIMEOUT_S = 600.0


class ResultStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.suffix != ".parquet":
            raise InputError(f"results file must end in .parquet, got {self.path}")
        if self.path.exists() and not self.path.is_file():
            raise InputError(f"results table {self.path} exists and is not a file")
        side = self.path.parent / f".{self.path.name}"
        self.lock_path = Path(f"{side}.lock")
        self.journal = Path(f"{side}.journal.jsonl")
        self.claims_path = Path(f"{side}.claims.json")

    # ---- reading

    def load(self) -> pd.DataFrame:
        """The table (empty if none yet); InputError for a damaged or foreign file."""
        if not self.path.exists():
            return pd.DataFrame()
        try:
            # one open file, read whole: a concurrent sweep replacing the table (os.replace) cannot hand the reader
            # the footer of one version and the row groups of the next (pyarrow reopens a path it is given)
            with open(self.path, "rb") as fh:
                df = pd.read_parquet(io.BytesIO(fh.read()))
        except Exception as exc:  # pyarrow raises many types for damaged files
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"{self.path}: damaged results table ({why}); `relubench recover {self.path}` rebuilds it"
            ) from None
        missing = [c for c in REQUIRED if c not in df.columns]
        if missing and not df.empty:
            raise InputError(f"{self.path}: not a relubench results table (no column {', '.join(missing)})")
        return df

    def done_hashes(self, rerun_failed: bool = False) -> set[str]:
        df = self.load()
        if df.empty:
            return set()
        if rerun_failed:
            df = df[~df["status"].isin(FAILED_STATUSES)]
        return set(df["case_hash"])

    # ---- writing

    def _lock(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT_S)

    def append(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            with self._lock():
                self._journal(rows)
                new = pd.DataFrame(rows)
                old = self.load()
                if not old.empty:
                    old = old[~old["case_hash"].isin(new["case_hash"])]
                    new = pd.concat([old, new], ignore_index=True)
                self._write(new)
        except Timeout:
            raise InputError(f"{self.path}: could not lock the table within {LOCK_TIMEOUT_S:g} s") from None
        except OSError as exc:  # a full disk, a quota, a folder gone read-only: the rename never happened
            raise InputError(
                f"{self.path}: could not write the table ({exc.strerror or exc}); the table as it was stays "
                "readable and a re-run resumes from it"
            ) from None

    def _journal(self, rows: list[dict[str, Any]]) -> None:
        with open(self.journal, "a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, default=_jsonable) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def _write(self, df: pd.DataFrame) -> None:
        write_whole(self.path, lambda tmp: df.to_parquet(tmp, index=False), durable=True, by_name=True)

    # ---- claims: concurrent sweeps do not run the same case twice

    def claim(self, case_hash: str, lapse_s: float, rerun_failed: bool = False) -> bool:
        """Claim a case for this process; False when another sweep finished it since this one read the table, or
        another live process holds its claim. Reads only the claims file (the table is read once per sweep)."""
        with self._lock():
            claims = self._claims()
            other = claims.get(case_hash)
            if other is not None and "done" in other:
                if not (rerun_failed and other["done"] in FAILED_STATUSES):
                    return False
            elif other is not None and _alive(other) and time.time() - other.get("time", 0) < other.get("lapse", 0):
                return False
            claims[case_hash] = {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "time": time.time(),
                "lapse": lapse_s,
            }
            self._write_claims(claims)
            return True

    def release(self, case_hashes: list[str], finished: dict[str, str] | None = None) -> None:
        """Drop this process's claims on these cases; ``finished`` (hash -> status) marks them done for others."""
        if not case_hashes:
            return
        with self._lock():
            claims = self._claims()
            me = (socket.gethostname(), os.getpid())
            for h in case_hashes:
                c = claims.get(h)
                if finished and h in finished:
                    claims[h] = {"done": finished[h]}
                elif c is not None and (c.get("host"), c.get("pid")) == me:
                    del claims[h]
            self._write_claims(claims)

    def forget_finished_not_in(self, table_hashes: set[str]) -> None:
        """Drop "done" marks of cases the table does not hold (a table removed or rebuilt since)."""
        if not self.claims_path.exists():
            return
        with self._lock():
            claims = self._claims()
            kept = {h: c for h, c in claims.items() if "done" not in c or h in table_hashes}
            if len(kept) != len(claims):
                self._write_claims(kept)

    def _claims(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.claims_path.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}  # none yet, or damaged: claims only prevent duplicate work, the table is the record

    def _write_claims(self, claims: dict[str, dict[str, Any]]) -> None:
        try:
            write_whole(self.claims_path, lambda fh: json.dump(claims, fh), binary=False)
        except OSError as exc:  # a full disk: the claims are lost, not the table
            raise InputError(
                f"{self.claims_path}: could not write the claims ({exc.strerror or exc}); the table is intact and a "
                "re-run resumes from it"
            ) from None

    # ---- recovery

    def recover(self) -> tuple[int, int]:
        """Rebuild the table from the journal and the readable row groups of the damaged table.

        Returns (rows in the rebuilt table, rows that came only from the damaged table). The damaged file is
        kept as ``TABLE.damaged``.
        """
        if not self.path.exists() and not self.journal.exists():
            raise InputError(f"{self.path}: nothing to recover (no table and no journal)")
        with self._lock():
            salvaged = _readable_rows(self.path) if self.path.exists() else pd.DataFrame()
            journal = self._journal_rows()
            if journal.empty and salvaged.empty:
                raise InputError(f"{self.path}: nothing to recover (no journal and no readable rows)")
            parts = [d for d in (salvaged, journal) if not d.empty]
            df = pd.concat(parts, ignore_index=True).drop_duplicates("case_hash", keep="last")
            only_table = 0 if salvaged.empty else int((~salvaged["case_hash"].isin(journal.get("case_hash", []))).sum())
            if self.path.exists():
                os.replace(self.path, Path(f"{self.path}.damaged"))
            self._write(df.reset_index(drop=True))
            return len(df), only_table

    def _journal_rows(self) -> pd.DataFrame:
        rows = []
        try:
            with open(self.journal, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    try:
                        row = json.loads(line)
                    except ValueError:
                        continue  # a line cut by a kill: its row was never in the table either
                    if isinstance(row, dict) and all(k in row for k in REQUIRED):
                        rows.append(row)
        except OSError:
            pass
        return pd.DataFrame(rows)


def _readable_rows(path: Path) -> pd.DataFrame:
    """Rows of the row groups of a parquet file that can still be read (none when its footer is gone)."""
    try:
        pf = pq.ParquetFile(path)
    except Exception:  # noqa: BLE001 - any damage: nothing readable through the footer
        return pd.DataFrame()
    parts = []
    for i in range(pf.num_row_groups):
        try:
            parts.append(pf.read_row_group(i).to_pandas())
        except Exception:  # noqa: BLE001, S112 - a damaged row group is skipped, the others are kept
            continue
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return df if all(c in df.columns for c in REQUIRED) else pd.DataFrame()


def _alive(claim: dict[str, Any]) -> bool:
    if claim.get("host") != socket.gethostname():
        return True  # another machine: only the time lapse ends its claim
    try:
        os.kill(int(claim.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OSError):
        return True
    return True


def _jsonable(v: Any) -> Any:
    """numpy scalars and other values in a JSON journal line."""
    if hasattr(v, "item"):
        return v.item()
    return str(v)
