"""Test-only backends that misbehave, loaded into sweep workers through RELUBENCH_PLUGINS."""

import os
import time
from pathlib import Path

import numpy as np

from relubench.running.result import Result
from relubench.running.solver import Capabilities, Solver, register


@register
class Abort(Solver):
    name = "test-abort"
    family = "baseline"
    capabilities = Capabilities(formulations=("relu",), benchmark=False)

    def _solve(self, problem, formulation, tol, time_limit, callback):
        os.abort()  # SIGABRT: the worker process dies without a word


@register
class Hang(Solver):
    name = "test-hang"
    family = "baseline"
    capabilities = Capabilities(formulations=("relu",), benchmark=False)

    def _solve(self, problem, formulation, tol, time_limit, callback):
        while True:  # ignores its time limit
            time.sleep(1)


@register
class Hog(Solver):
    name = "test-hog"
    family = "baseline"
    capabilities = Capabilities(formulations=("relu",), benchmark=False)

    def _solve(self, problem, formulation, tol, time_limit, callback):
        blocks = []
        while True:
            blocks.append(np.ones(50_000_000))  # 400 MB at a time, until the memory cap


def fast_runner(case):
    """A stand-in for run_isolated that finishes at once (concurrency tests of the store)."""
    from relubench.bench.sweep import case_columns

    time.sleep(0.02)
    return {"status": "optimal", "message": "", "wall_s": 0.02, "case_hash": case.case_hash, **case_columns(case)}


_ARRIVED = False


def barrier_runner(case):
    """fast_runner once every process of a concurrency test has reached its first case: each process writes its
    pid into the folder RELUBENCH_TEST_BARRIER and waits (at most 60 s) for RELUBENCH_TEST_PARTIES such files, so
    no process can take every case before the others have started."""
    global _ARRIVED
    if not _ARRIVED:
        folder = Path(os.environ["RELUBENCH_TEST_BARRIER"])
        (folder / str(os.getpid())).touch()
        end = time.monotonic() + 60
        while len(list(folder.iterdir())) < int(os.environ["RELUBENCH_TEST_PARTIES"]) and time.monotonic() < end:
            time.sleep(0.05)
        _ARRIVED = True
    return fast_runner(case)


@register
class Slow(Solver):
    name = "test-slow"
    family = "baseline"
    capabilities = Capabilities(formulations=("relu",), benchmark=False)

    def _solve(self, problem, formulation, tol, time_limit, callback):
        time.sleep(float(os.environ.get("RELUBENCH_TEST_SLOW_S", "3")))  # long enough to be killed in the middle
        return Result(self.name, formulation, "max_iter", message="slept")
