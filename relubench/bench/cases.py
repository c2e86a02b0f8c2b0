"""Sweep cases: one solve of one problem instance with one backend at one tolerance preset.

A :class:`Case` is a plain value (JSON-serializable, hashed into ``case_hash``), built by the config loader
(:mod:`relubench.bench.config`) and by seed experiments (:mod:`relubench.bench.experiment`), run by
:mod:`relubench.bench.sweep`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

PRESETS = {"low": 1e-2, "mid": 1e-4, "high": 1e-6}
GRACE_S = 30.0  # beyond the case's own time limit, for setup and reference solves
HASH_STABLE_DEFAULTS = {"loss": "squared", "epsilon": 0.0}


@dataclass(frozen=True)
class Case:
    dataset: str
    n: int | None
    d: int | None
    P: int | str  # a count, or "all" (every pattern; small d only)
    seed: int
    beta: float
    solver: str
    formulation: str
    preset: str
    tol: float
    time_limit: float
    memory_limit_mb: int
    options: tuple[tuple[str, Any], ...] = ()
    bias: bool = False
    grace_s: float = 30.0
    experiment: str = ""  # seed experiment kind (relubench.experiments), "" for the solver comparison grid
    reference_kind: str = "patterns"  # f* over the case's own patterns, or "all": over every pattern of the data
    dataset_options: tuple[tuple[str, Any], ...] = ()
    loss: str = "squared"
    epsilon: float = 0.0  # l_inf radius: trained against by the robust formulation, attacked by PGD in every case

    @property
    def case_hash(self) -> str:
        fields = asdict(self)
        for key, default in HASH_STABLE_DEFAULTS.items():  # fields added later hash as before at their default
            if fields[key] == default:
                del fields[key]
        blob = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass
class SweepConfig:
    name: str
    cases: list[Case] = field(default_factory=list)
