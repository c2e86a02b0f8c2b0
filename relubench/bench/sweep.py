"""Running sweeps: each case in its own process, rows appended to the store as they finish.

Every case runs in a fresh Python process that the parent kills at the time limit plus a grace: a
crash (signal), a hang, or MemoryError marks that case ``crashed``, ``time_limit`` or ``memory`` and the sweep
goes on. Rows are appended atomically to a parquet table keyed by a hash of the case; a re-run skips finished
cases (``rerun_failed`` retries failed ones). With a dask scheduler address the same isolated cases run on a
dask.distributed cluster. Each row records machine, package and solver versions.
The config format is documented in :mod:`relubench.bench.config`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from relubench.bench.cases import Case, SweepConfig
from relubench.bench.store import ResultStore
from relubench.bench.worker import ROW_MARK
from relubench.errors import InputError


def environment_info() -> dict[str, str]:
    pkgs = {}
    for name in ("relubench", "numpy", "scipy", "clarabel", "scs", "cvxpy"):
        try:
            pkgs[name] = version(name)
        except PackageNotFoundError:
            pkgs[name] = ""
    return {
        "machine": platform.node(),
        "platform": platform.platform(),
        "cpu_count": str(os.cpu_count()),
        "python": platform.python_version(),
        "packages": json.dumps(pkgs, sort_keys=True),
    }


def run_isolated(case: Case) -> dict[str, Any]:
    """Run a case in a fresh Python process; kill it at time_limit + grace. Always returns a complete row.

    A subprocess (not multiprocessing) so that it also works inside daemonic dask worker processes.
    """
    spec = json.dumps(asdict(case), default=str)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "relubench.bench.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = case.time_limit + case.grace_s
    try:
        out, err = proc.communicate(spec, timeout=deadline)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        out = ""
    wall = time.perf_counter() - start
    line = next((ln for ln in out.splitlines() if ln.startswith(ROW_MARK)), None)
    if line is None:
        if wall >= deadline:
            row = {"status": "time_limit", "message": f"killed after {wall:.1f} s (limit {case.time_limit} s)"}
        else:
            code = proc.returncode
            why = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            tail = err.strip().splitlines()[-1:] if err else []
            # an allocation refused under the memory cap aborts a Rust library (Clarabel) with SIGABRT
            status = "memory" if "memory allocation of" in " ".join(tail) else "crashed"
            row = {"status": status, "message": f"worker died ({why}) {' '.join(tail)}"[:2000]}
    else:
        kind, row = json.loads(line[len(ROW_MARK) :])
        if kind == "memory":
            row["status"] = "memory"
        elif kind == "error":
            row["status"] = "error"
    row.update({"wall_s": wall, "case_hash": case.case_hash, **case_columns(case), **environment_info()})
    return row


def case_columns(case: Case) -> dict[str, Any]:
    d = asdict(case)
    d["options"] = json.dumps(dict(case.options), sort_keys=True, default=str)
    d["dataset_options"] = json.dumps(dict(case.dataset_options), sort_keys=True, default=str)
    d["P"] = str(case.P)  # counts and "all" in one column
    return d


def _progress(done: int, total: int, start: float, last: dict[str, Any] | None) -> None:
    """One carriage-returned status line on stderr: bar, counts, elapsed, ETA and the last case."""
    elapsed = time.perf_counter() - start
    eta = elapsed / done * (total - done) if done else float("nan")
    width = 30
    fill = int(width * done / max(total, 1))
    what = f" {last['solver']} {last['dataset']} {last['status']}" if last else ""
    sys.stderr.write(
        f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} elapsed {elapsed:6.0f}s ETA {eta:6.0f}s{what:40s}"
    )
    sys.stderr.flush()


def run_sweep(
    config: SweepConfig,
    store_path: str | Path,
    jobs: int = 1,
    rerun_failed: bool = False,
    scheduler: str | None = None,
    progress: bool = True,
    runner: Callable[[Case], dict[str, Any]] = run_isolated,
    announce: str | None = None,
) -> dict[str, int]:
    """Run the config's unfinished cases, appending each row as it completes. Returns counts by status.
    ``announce``: a line printed to stderr once the sweep has what it needs (the scheduler answered).

    Each case is claimed in the store before it runs (:meth:`ResultStore.claim`), so sweeps running at the same
    time on one table split the cases between them; ``skipped`` counts cases finished or run by another sweep.
    """
    client = _connect(scheduler, jobs) if scheduler else None  # before the store is touched: a refusal writes nothing
    if announce:
        print(announce, file=sys.stderr, flush=True)
    try:
        return _run_cases(config, ResultStore(store_path), jobs, rerun_failed, client, progress, runner)
    finally:
        if client is not None:
            with _quiet_dask():  # closing after a lost scheduler logs its reconnection's traceback
                cluster = client.cluster if scheduler == "local" else None
                client.close()
                if cluster is not None:
                    cluster.close()


def _run_cases(
    config: SweepConfig,
    store: ResultStore,
    jobs: int,
    rerun_failed: bool,
    client: Any,
    progress: bool,
    runner: Callable[[Case], dict[str, Any]],
) -> dict[str, int]:
    store.forget_finished_not_in(store.done_hashes())
    done = store.done_hashes(rerun_failed=rerun_failed)
    todo = [c for c in config.cases if c.case_hash not in done]
    counts: dict[str, int] = {"skipped": len(config.cases) - len(todo)}
    start = time.perf_counter()
    if progress:
        _progress(0, len(todo), start, None)

    def claimed(case: Case) -> bool:
        return store.claim(case.case_hash, case.time_limit + case.grace_s + 60.0, rerun_failed=rerun_failed)

    def run_claimed(case: Case) -> dict[str, Any] | None:
        return runner(case) if claimed(case) else None

    rows: Iterable[dict[str, Any] | None]
    held: list[str] = []
    if client is not None:  # remote workers: claim up front, here
        mine = [c for c in todo if claimed(c)]
        held = [c.case_hash for c in mine]
        counts["skipped"] += len(todo) - len(mine)
        rows = _dask_rows(mine, client, runner)
    elif jobs > 1:
        rows = _pool_rows(todo, jobs, run_claimed)
    else:
        rows = (run_claimed(c) for c in todo)
    k = 0
    try:
        for row in rows:
            k += 1
            if row is None:
                counts["skipped"] += 1
            else:
                store.append([row])
                store.release([row["case_hash"]], finished={row["case_hash"]: row["status"]})
                counts[row["status"]] = counts.get(row["status"], 0) + 1
            if progress:
                _progress(k, len(todo), start, row)
    finally:
        store.release(held)
    if progress:
        sys.stderr.write("\n")
    return counts


def _pool_rows(
    todo: list[Case], jobs: int, runner: Callable[[Case], dict[str, Any] | None]
) -> Iterable[dict[str, Any] | None]:
    # threads only wait on the isolated worker processes
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(runner, c) for c in todo]
        for fut in as_completed(futures):
            yield fut.result()


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """dask.distributed's loggers held back: its connection attempts log tracebacks; relubench says it in a line."""
    names = ["distributed"] + [n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _connect(scheduler: str, jobs: int = 1) -> Any:
    """A dask.distributed client of the scheduler, or InputError (one line: dask's own log lines are held back).
    ``"local"``: a LocalCluster started here, ``jobs`` worker processes of one thread each (closed after the sweep)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--scheduler needs dask.distributed: pip install 'relubench[dask]'") from None
    try:
        with _quiet_dask():
            if scheduler == "local":
                cluster = LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, dashboard_address=None)
                return Client(cluster)
            return Client(scheduler, timeout=10)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"cannot connect to dask scheduler {scheduler}: {exc}") from None


def _dask_rows(todo: list[Case], client: Any, runner: Callable[[Case], dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Rows as the cluster finishes them. A worker that dies is dask's to survive (it reruns the case elsewhere);
    a scheduler that goes away ends the sweep with one error line: the rows stored so far stay, a re-run resumes."""
    from distributed import as_completed

    lost = ("CancelledError", "CommClosedError")
    with _quiet_dask():  # its reconnection attempts log tracebacks; the one line below says it all
        futures = client.map(runner, todo, pure=False)
        case_of = {fut.key: case for fut, case in zip(futures, todo, strict=True)}
        for fut in as_completed(futures):
            try:
                row = fut.result()
            except Exception as exc:  # a cancelled future or a closed comm: the scheduler is gone
                if type(exc).__name__ == "KilledWorker":  # the case killed every worker dask gave it: a row
                    case = case_of[fut.key]
                    why = f"dask workers died running it ({str(exc).splitlines()[0][:300] if str(exc) else exc!r})"
                    row = {"status": "crashed", "message": why, "wall_s": float("nan"), "case_hash": case.case_hash}
                    yield {**row, **case_columns(case), **environment_info()}
                    continue
                if client.status == "running" and not type(exc).__name__.endswith(lost):
                    raise
                raise InputError(
                    f"lost the dask scheduler ({type(exc).__name__}); the rows finished so far are stored, "
                    "re-run the sweep to resume"
                ) from None
            yield row
