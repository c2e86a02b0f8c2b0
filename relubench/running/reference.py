"""Reference optima f* per problem instance, cached on disk by a content hash of (X, y, beta, patterns).

The reference is a high-accuracy interior-point solve of the convex formulation over the problem's patterns
by the backends that declare a ``reference_rank``, tried in rank order (MOSEK when licensed, then native
Clarabel; tolerance 1e-10), up to n x cP = ``REFERENCE_MAX_ENTRIES`` (beyond, no f* exists and results carry
only the certified gaps of the backends that compute them). With all patterns enumerated it is the
global optimum of the non-convex problem. The non-convex formulation is measured against the relu optimum.
``active_neurons`` of a relu reference counts the groups of an equally good solution with at most n + 1 of them
(:func:`relubench.problem.formulations.prune_neurons`): the width a network needs to attain f*.
Cache directory: ``$RELUBENCH_CACHE`` or ``~/.cache/relubench``; files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from relubench.atomic import write_whole
from relubench.errors import InputError, ReluBenchError
from relubench.problem.formulations import RELU, get_formulation, group_norms, prune_neurons
from relubench.problem.instance import Problem
from relubench.running.solver import get_solver, reference_solvers

REFERENCE_TOL = 1e-10
# largest n * cP (rows x groups) given to an interior point for a reference: at 2e6 Clarabel takes minutes to hours
REFERENCE_MAX_ENTRIES = 2_000_000


@dataclass
class Reference:
    value: float
    formulation: str
    solver: str
    status: str
    max_violation: float
    key: str
    active_neurons: int = 0

    def checksum(self) -> str:
        """SHA-256 of the fields: a cache entry whose checksum or key does not match is recomputed."""
        blob = json.dumps({k: v for k, v in asdict(self).items()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def cache_dir() -> Path:
    return Path(os.environ.get("RELUBENCH_CACHE", Path.home() / ".cache" / "relubench"))


def gap_floor(y: np.ndarray) -> float:
    """Smallest denominator of a relative gap: 1e-6 f(0), f(0) = 1/2 ||y||^2 the objective of the zero network.

    Every objective lies in [0, f(0)]; an optimum far below 1e-6 f(0) (targets fitted almost exactly) would
    otherwise turn rounding-level differences into large relative gaps. With y = 0 every objective is measured
    absolutely (floor 1).
    """
    f0 = 0.5 * float(np.dot(np.ravel(y), np.ravel(y)))
    return 1e-6 * f0 if f0 > 0 else 1.0


def relative_gap(value: float, reference: float, floor: float = 0.0) -> float:
    """(f - f*) / max(|f*|, floor) (signed: an infeasible point may lie below f*); floor: :func:`gap_floor`."""
    return (value - reference) / max(abs(reference), floor, 1e-300)


def _cache_path(problem: Problem, formulation: str) -> tuple[str, str, Path]:
    form = get_formulation(formulation).reference
    key = f"{problem.content_hash}-{form}"
    return form, key, cache_dir() / "reference" / f"{key}.json"


def cached_reference(problem: Problem, formulation: str = "relu") -> Reference | None:
    """The cached reference optimum, or None when none is cached or the entry fails its checks.

    An entry is trusted only when it is a JSON object of the right fields, its key is this problem's content
    hash (and formulation), its checksum matches and its value is finite; anything else is removed (where it
    is a file) and recomputed on the next request.
    """
    _, key, path = _cache_path(problem, formulation)
    if not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text())
        stored = entry.pop("checksum")
        ref = Reference(**entry)
        ok = (
            stored == ref.checksum()
            and ref.key == key
            and isinstance(ref.value, int | float)
            and math.isfinite(ref.value)
            and ref.status == "optimal"
        )
    except (ValueError, TypeError, KeyError, AttributeError, OSError):
        ok = False
    if not ok:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
        return None
    return ref


def reference_optimum(
    problem: Problem, formulation: str = "relu", use_cache: bool = True, time_limit: float | None = None
) -> Reference:
    """The cached (or freshly computed) reference optimum of ``problem`` in ``formulation``; ``time_limit``: seconds
    for each reference solver tried (a solve that runs out is no reference: ReluBenchError)."""
    form, key, path = _cache_path(problem, formulation)
    if use_cache:
        cached = cached_reference(problem, formulation)
        if cached is not None:
            return cached
    entries = problem.n * problem.groups
    if entries > REFERENCE_MAX_ENTRIES:
        raise ReluBenchError(
            f"n x cP = {entries:,} is beyond the interior point's reach ({REFERENCE_MAX_ENTRIES:,}): no reference "
            "optimum; backends that certify gaps report them (certified gap, not a gap to f*)"
        )
    last = None
    for cls in reference_solvers(problem.problem_class(form)):
        solver = get_solver(cls.name, **({"max_iter": 500} if "max_iter" in cls.capabilities.options else {}))
        res = solver.solve(problem, form, tol=REFERENCE_TOL, time_limit=time_limit)
        if res.status == "unavailable":
            continue
        last = res
        if res.status == "optimal":
            break
    if last is None or last.status != "optimal":
        msg = last.message if last is not None else "no interior-point solver available"
        raise ReluBenchError(f"reference solve failed for {problem.describe()}: {msg}")
    active = last.active_neurons
    if get_formulation(form) is RELU and last.weights is not None:  # pruning keeps f, not a robust loss
        pruned = prune_neurons(problem, last.weights["V"], last.weights["W"])
        active = int(np.count_nonzero(group_norms(np.hstack(pruned)) > 0))
    ref = Reference(last.objective, form, last.solver, last.status, last.max_violation, key, active)
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            entry = {**asdict(ref), "checksum": ref.checksum()}
            write_whole(path, lambda fh: json.dump(entry, fh), binary=False)
        except (OSError, InputError) as exc:  # the reference is still good: say why it was not kept, and return it
            why = exc.strerror if isinstance(exc, OSError) else str(exc)
            print(f"relubench: warning: reference not cached ({cache_dir()}: {why})", file=sys.stderr)
    return ref
