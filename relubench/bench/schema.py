"""The schema of sweep configs: every key known, every value of the right type and range, before anything runs.

Validated with ``jsonschema`` (a TOML document is JSON-shaped). A config that fails names its file and the key:
``configs/x.toml: datasets[0].betta: unknown key``. TOML's ``nan`` and ``inf`` are refused wherever they appear
(no setting takes them), and names are restricted to a safe character set (a sweep's name becomes file names).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import jsonschema

from relubench.bench.cases import PRESETS
from relubench.datasets import DATASET_GROUPS
from relubench.errors import InputError
from relubench.problem.spec import FORMULATION_NAMES, LOSS_NAMES

SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"  # no path separators, no leading dot, no control characters

POSITIVE = {"type": "number", "exclusiveMinimum": 0}
NONNEGATIVE = {"type": "number", "minimum": 0}
POSITIVE_INT = {"type": "integer", "minimum": 1}
NONNEGATIVE_INT = {"type": "integer", "minimum": 0}
NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "uniqueItems": True}
OPTION_TABLES = {"type": "object", "additionalProperties": {"type": "object"}}


def int_or_list(item: dict[str, Any]) -> dict[str, Any]:
    """An integer, or a non-empty list of them, each matching ``item``."""
    return {"anyOf": [item, {"type": "array", "items": item, "minItems": 1}]}


DATASET = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "group": {"enum": list(DATASET_GROUPS)},
        "max_rows": POSITIVE_INT,
        "sizes": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "array",
                "prefixItems": [NONNEGATIVE_INT, NONNEGATIVE_INT, POSITIVE_INT],
                "minItems": 3,
                "maxItems": 3,
            },
        },
        "beta": POSITIVE,
        "beta_per_n": POSITIVE,
        "bias": {"type": "boolean"},
        "loss": {"enum": list(LOSS_NAMES)},
        "options": {"type": "object"},
    },
    "oneOf": [{"required": ["name"]}, {"required": ["group"]}],
    "additionalProperties": False,
}

CONFIG = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": SAFE_NAME},
        "solvers": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True},
        "formulations": {"type": "array", "items": {"enum": list(FORMULATION_NAMES)}, "minItems": 1},
        "presets": {"type": "array", "items": {"enum": list(PRESETS)}, "minItems": 1},
        "seeds": {"type": "array", "items": NONNEGATIVE_INT, "minItems": 1},
        "time_limit": {**POSITIVE, "maximum": 1e7},
        "memory_limit_mb": {**POSITIVE_INT, "maximum": 2**31},
        "grace_s": {**NONNEGATIVE, "maximum": 1e7},
        "device": {"enum": ["cpu", "cuda"]},
        "precision": {"enum": ["double", "single"]},
        "solver_options": OPTION_TABLES,
        "datasets": {"type": "array", "items": DATASET},
        "experiments": {"type": "array", "items": {"type": "object", "required": ["kind"]}},
    },
    "additionalProperties": False,
}

# keys every [[experiments]] table may carry (relubench.experiments.common.CaseBuilder reads them)
EXPERIMENT_COMMON = {
    "kind": {"type": "string"},
    "dataset": {"type": "string", "minLength": 1},
    "dataset_options": {"type": "object"},
    "d": int_or_list(POSITIVE_INT),
    "beta": POSITIVE,
    "beta_per_n": POSITIVE,
    "seeds": int_or_list(NONNEGATIVE_INT),
    "time_limit": {**POSITIVE, "maximum": 1e7},
    "options": OPTION_TABLES,
    "preset": {"enum": list(PRESETS)},
}


def _non_finite(obj: Any, path: str = "") -> Iterator[str]:
    if isinstance(obj, float) and not math.isfinite(obj):
        yield path or "(top level)"
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _non_finite(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _non_finite(v, f"{path}[{i}]")


def _where(error: jsonschema.ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown key(s) {', '.join(map(repr, extra))}"
    if error.validator == "pattern":
        return f"{error.instance!r} is not a safe name (letters, digits, '.', '_', '-'; not starting with '.')"
    return error.message


def validate(document: dict[str, Any], schema: dict[str, Any], where: str) -> None:
    """InputError ``where: key: what is wrong`` for the first problem found (non-finite numbers first)."""
    bad = next(_non_finite(document), None)
    if bad is not None:
        raise InputError(f"{where}: {bad}: must be a finite number")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is not None:
        raise InputError(f"{where}: {_where(error)}: {_message(error)}")


def experiment_schema(own: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """The schema of one experiment kind's table: the common keys plus its own."""
    return {
        "type": "object",
        "properties": {**EXPERIMENT_COMMON, **own},
        "required": ["kind", *required],
        "additionalProperties": False,
    }
