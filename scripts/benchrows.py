"""Rows of the benchmark scripts: each script measures its solves with relubench's one pipeline
(:func:`relubench.running.measure.measure`: the row schema of `relubench solve --json` and of sweep tables) plus
columns of its own (``kind``, sizes, per-iteration times), writes them as JSON lines (``--rows FILE``) and renders
its table from those rows alone (its ``render(rows)``). scripts/results_page.py renders docs/results.md from the
stored rows with the same ``render``, so a table on that page is the rows, never numbers typed by hand.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relubench.atomic import write_whole
from relubench.datasets import Dataset, load_dataset
from relubench.problem import Problem
from relubench.running.measure import measure
from relubench.running.result import Result


def solve_row(problem: Problem, ds: Dataset, res: Result, reference: float | None, **extra: Any) -> dict[str, Any]:
    """A solve measured into the schema's row (no attack columns: they are not what these scripts time), plus the
    script's own columns (``kind`` "solve" unless given)."""
    return {"kind": "solve", **measure(problem, ds, res, reference, attacks=False), **extra}


def write_rows(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """All rows as JSON lines, written whole (a run stopped part-way keeps the rows written before)."""
    text = "".join(json.dumps(r, default=str) + "\n" for r in rows)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, lambda fh: fh.write(text), binary=False)


def write_table(path: str | Path, text: str) -> None:
    """The rendered table (markdown), written whole."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, lambda fh: fh.write(text), binary=False)


def finish(
    rows: list[dict[str, Any]],
    render: Callable[[list[dict[str, Any]]], str],
    rows_path: str | None,
    table_path: str | None,
) -> int:
    """A script's last step: the rows to ``rows_path`` (if given), their rendered table to stdout and to
    ``table_path`` (if given); returns the exit code 0."""
    if rows_path:
        write_rows(rows_path, rows)
    text = render(rows)
    print(text, end="")
    if table_path:
        write_table(table_path, text)
    return 0


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def fmt(t: float | None, digits: int = 2) -> str:
    """A number of the tables; '-' for none, NaN or infinity (not reached)."""
    return "-" if t is None or not math.isfinite(t) else f"{t:.{digits}f}"


def num(v: Any) -> float:
    """A cell of a row as a float (None -> NaN)."""
    return math.nan if v is None else float(v)


def instance(spec: str, patterns: int | None = None) -> tuple[str, Problem, Dataset]:
    """A benchmark instance: ``name:P`` or ``name`` (a bundled data set's seeded training split, P patterns, else
    ``patterns``) or ``n,d,P`` (gaussian data, seed 0); P sampled patterns (seed 0), beta = 1e-3 n, squared loss.
    Returns (its label, the problem, the data set)."""
    if "," in spec:
        n, d, P = (int(v) for v in spec.split(","))
        ds = load_dataset("gaussian", n=n, d=d, seed=0)
        name = f"gaussian {n}x{d}"
    else:
        name, _, given = spec.partition(":")
        P = int(given) if given else patterns
        if P is None:
            raise SystemExit(f"instance {spec!r}: give its number of patterns (name:P)")
        ds = load_dataset(name, seed=0)
    n = ds.X_train.shape[0]
    problem = Problem.create(ds.X_train, ds.y_train, 1e-3 * n, patterns=int(P), seed=0)
    return f"{name} (n={n}, d={problem.d}, P={problem.P})", problem, ds
