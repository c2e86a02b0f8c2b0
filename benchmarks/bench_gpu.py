"""asv tier ``gpu``: seconds to a certified gap on CUDA (and the numpy path beside it), and peak GPU memory.

Only when RELUBENCH_ASV_TIER=gpu (the other tiers see no benchmark here). Grid: every backend that runs on CUDA
(fista: gated, al and admm: relu; admm, whose Woodbury matrices are n x n, only up to its max_rows = 2 x 10^4)
x n in {10^4, 10^5, 10^6}, d = 100, P in {500, 1000} x device {cuda, cpu}. The CPU (numpy) path runs the sizes
up to n = 10^5 only at P = 500 (larger ones take far longer than the GPU's limit).
Each benchmark solves to a certified relative gap of 1e-4 (gated) or 1e-3 with violation <= 1e-3 max|y| (relu),
within a 600 s limit, and reports:

* ``track_seconds_to_certified``: setup + solve seconds, NaN when the target was not certified in time;
* ``track_peak_gpu_mib``: torch's peak allocated GPU memory of that solve (asv's peakmem covers the host only).

Without a visible GPU the CUDA benchmarks are skipped (NotImplementedError: "no CUDA device"). Problems are built
in ``setup`` (not timed; a 10^6 x 500 problem takes about 4 GB of masks, so nothing is pickled by setup_cache).
Run: ``RELUBENCH_ASV_TIER=gpu asv run --quick --python=same --bench GpuSuite``.
"""

from __future__ import annotations

import math
import os

from relubench.datasets import load_dataset
from relubench.problem.instance import Problem
from relubench.running.device import cuda_status
from relubench.running.result import Result
from relubench.running.solver import get_solver, solver_class, solver_names

TIER = os.environ.get("RELUBENCH_ASV_TIER", "quick")
SIZES = ["10000x100x500", "10000x100x1000", "100000x100x500", "100000x100x1000", "1000000x100x500"]
CPU_SIZES = {"10000x100x500", "100000x100x500"}
TARGET = {"gated": 1e-4, "relu": 1e-3}
LIMIT_S = 600.0
_PROBLEMS: dict[str, Problem] = {}


def gpu_solvers() -> list[str]:
    return [n for n in solver_names() if "cuda" in solver_class(n).capabilities.devices]


def make_problem(size: str) -> Problem:
    if size not in _PROBLEMS:
        n, d, P = (int(v) for v in size.split("x"))
        ds = load_dataset("gaussian", n=n, d=d, seed=0)
        _PROBLEMS.clear()
        _PROBLEMS[size] = Problem.create(ds.X_train, ds.y_train, 1e-3 * n, patterns=P, seed=0, name=f"gaussian-{size}")
    return _PROBLEMS[size]


def solve_to_target(solver: str, size: str, device: str) -> Result:
    """One solve of the size's problem on ``device`` to its certified target (the formulation the backend solves)."""
    form = solver_class(solver).capabilities.formulations[0]
    return get_solver(solver, device=device).solve(make_problem(size), form, tol=TARGET[form], time_limit=LIMIT_S)


if TIER == "gpu":

    class GpuSuite:
        """Seconds to a certified gap and peak GPU memory, per backend x size x device."""

        params = (gpu_solvers(), SIZES, ["cuda", "cpu"])
        param_names = ["solver", "size", "device"]
        timeout = 3600
        number = 1
        repeat = 1

        def setup(self, solver: str, size: str, device: str) -> None:
            if device == "cuda" and not cuda_status()[0]:
                raise NotImplementedError(cuda_status()[1])
            if device == "cpu" and size not in CPU_SIZES:
                raise NotImplementedError("the numpy path runs only the sizes of CPU_SIZES")
            n, _, P = (int(v) for v in size.split("x"))
            if not solver_class(solver).capabilities.offered_at(n, P):  # admm: n x n matrices up to its max_rows
                raise NotImplementedError(f"{solver} is not offered at {size} (its declared max_rows / max_size)")
            make_problem(size)

        def track_seconds_to_certified(self, solver: str, size: str, device: str) -> float:
            res = solve_to_target(solver, size, device)
            return res.setup_s + res.solve_s if res.status == "optimal" else math.nan

        track_seconds_to_certified.unit = "seconds"

        def track_peak_gpu_mib(self, solver: str, size: str, device: str) -> float:
            if device != "cuda":
                raise NotImplementedError("peak GPU memory is measured on cuda only")
            peak = solve_to_target(solver, size, device).device_peak_bytes
            return math.nan if peak is None else peak / 2**20

        track_peak_gpu_mib.unit = "MiB"
