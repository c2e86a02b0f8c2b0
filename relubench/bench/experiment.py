"""The interface through which seed experiments join a sweep and its report.

A seed experiment is one module in ``relubench.experiments`` that registers an :class:`Experiment`: its
``kind`` (the value of ``kind`` in a config's ``[[experiments]]`` table), a title, ``expand`` (the table ->
ordinary sweep cases, tagged with the kind in the ``experiment`` column) and ``section`` (its rows of the
results table -> an HTML section and headline numbers). The config loader calls :func:`expand_experiment`,
the report :func:`experiment_sections`; neither names an experiment. Like backends, experiments are
discovered: the first lookup imports every module of ``relubench.experiments``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from relubench.bench.cases import Case
from relubench.bench.schema import experiment_schema, validate
from relubench.errors import InputError
from relubench.running.result import RUN_FAILED_STATUSES


@dataclass(frozen=True)
class Defaults:
    """Config-wide values an experiment table inherits unless it sets its own."""

    time_limit: float
    memory_limit_mb: int
    grace_s: float


@dataclass(frozen=True)
class Experiment:
    """A seed experiment. ``keys``: JSON-schema properties of its own table keys (the common ones are added);
    ``required``: which of them must be given."""

    kind: str
    title: str
    expand: Callable[[dict[str, Any], Defaults, str], list[Case]]  # (table, defaults, where) -> cases
    section: Callable[[pd.DataFrame], tuple[str, dict[str, Any]]]  # its rows -> (HTML body, headline numbers)
    keys: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()


_EXPERIMENTS: dict[str, Experiment] = {}
_LOADED = False


def register_experiment(exp: Experiment) -> Experiment:
    if exp.kind in _EXPERIMENTS and _EXPERIMENTS[exp.kind] is not exp:
        raise TypeError(f"experiment kind {exp.kind!r} registered twice")
    _EXPERIMENTS[exp.kind] = exp
    return exp


def experiments() -> dict[str, Experiment]:
    """Every registered experiment by kind (discovering the relubench.experiments modules on first use)."""
    global _LOADED
    if not _LOADED:
        package = importlib.import_module("relubench.experiments")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            importlib.import_module(f"{package.__name__}.{info.name}")
        _LOADED = True
    return dict(sorted(_EXPERIMENTS.items()))


def expand_experiment(spec: dict[str, Any], defaults: Defaults, where: str) -> list[Case]:
    """The cases of one ``[[experiments]]`` table (InputError on any problem)."""
    known = experiments()
    kind = spec.get("kind")
    if kind not in known:
        raise InputError(f"{where}: 'kind' must be one of {', '.join(known)}, got {kind!r}")
    exp = known[kind]
    validate(spec, experiment_schema(exp.keys, list(exp.required)), f"{where} ({kind})")
    return exp.expand(spec, defaults, f"{where} ({kind})")


def experiment_sections(df: pd.DataFrame) -> tuple[list[tuple[str, str, str, str]], dict[str, dict[str, Any]]]:
    """(kind, title, HTML body, failure note) per experiment present in the table, and their headline numbers."""
    parts: list[tuple[str, str, str, str]] = []
    headlines: dict[str, dict[str, Any]] = {}
    if "experiment" not in df:
        return [], headlines
    for kind, exp in experiments().items():
        sub = df[df["experiment"] == kind]
        if sub.empty:
            continue
        body, headline = exp.section(sub)
        failed = sub[sub["status"].isin(RUN_FAILED_STATUSES)]
        note = ""
        if not failed.empty:
            what = ", ".join(f"{k}: {v}" for k, v in failed["status"].value_counts().sort_index().items())
            note = f"{len(failed)} of {len(sub)} cases did not finish ({what}); they are not drawn."
        parts.append((kind, exp.title, body, note))
        headlines[kind] = headline
    return parts, headlines
