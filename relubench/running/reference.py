"""Reference optima f* per problem instance, cached on disk by a content hash of (X, y, beta, patterns).

The reference is a high-accuracy interior-point solve of the convex formulation over the problem's patterns
by the backends that declare a ``reference_rank``, tried in rank order (MOSEK when licensed, then native
Clarabel; tolerance 1e-10). With all patterns enumerated it is the
global optimum of the non-convex problem. The non-convex formulation is measured against the relu optimum.
``active_neurons`` of a relu reference counts the groups of an equally good solution with at most n + 1 of them
(:func:`relubench.problem.formulations.prune_neurons`): the width a network needs to attain f*.
Cache directory: ``$RELUBENCH_CACHE`` or ``~/.cache/relubench``; files are written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from relubench.errors import ReluBenchError
from relubench.problem.formulations import get_formulation, group_norms, prune_neurons
from relubench.problem.instance import Problem
from relubench.running.solver import get_solver, reference_solvers

REFERENCE_TOL = 1e-10


@dataclass
class Reference:
    value: float
    formulation: str
    solver: str
    status: str
    max_violation: float
    key: str
    active_neurons: int = 0


def cache_dir() -> Path:
    return Path(os.environ.get("RELUBENCH_CACHE", Path.home() / ".cache" / "relubench"))


def relative_gap(value: float, reference: float) -> float:
    """(f - f*) / |f*| (signed: an infeasible point may lie below f*)."""
    return (value - reference) / max(abs(reference), 1e-300)


def _atomic_write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cache_path(problem: Problem, formulation: str) -> tuple[str, str, Path]:
    form = get_formulation(formulation).reference
    key = f"{problem.content_hash}-{form}"
    return form, key, cache_dir() / "reference" / f"{key}.json"


def cached_reference(problem: Problem, formulation: str = "relu") -> Reference | None:
    """The cached reference optimum, or None when none is cached (or the entry is corrupt)."""
    _, _, path = _cache_path(problem, formulation)
    if not path.exists():
        return None
    try:
        return Reference(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        path.unlink(missing_ok=True)  # corrupt entry: recomputed on the next request
        return None


def reference_optimum(problem: Problem, formulation: str = "relu", use_cache: bool = True) -> Reference:
    """The cached (or freshly computed) reference optimum of ``problem`` in ``formulation``."""
    form, key, path = _cache_path(problem, formulation)
    if use_cache:
        cached = cached_reference(problem, formulation)
        if cached is not None:
            return cached
    last = None
    for cls in reference_solvers(problem.problem_class(form)):
        solver = get_solver(cls.name, **({"max_iter": 500} if "max_iter" in cls.capabilities.options else {}))
        res = solver.solve(problem, form, tol=REFERENCE_TOL)
        if res.status == "unavailable":
            continue
        last = res
        if res.status == "optimal":
            break
    if last is None or last.status != "optimal":
        msg = last.message if last is not None else "no interior-point solver available"
        raise ReluBenchError(f"reference solve failed for {problem.describe()}: {msg}")
    active = last.active_neurons
    if get_formulation(form).constrained and last.weights is not None:
        pruned = prune_neurons(problem, last.weights["V"], last.weights["W"])
        active = int(np.count_nonzero(group_norms(np.hstack(pruned)) > 0))
    ref = Reference(last.objective, form, last.solver, last.status, last.max_violation, key, active)
    if use_cache:
        _atomic_write_json(path, asdict(ref))
    return ref
