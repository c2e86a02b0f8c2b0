"""Rows of the benchmark scripts: each script measures its solves with relubench's one pipeline
(:func:`relubench.running.measure.measure`: the row schema of `relubench solve --json` and of sweep tables) plus
columns of its own (``kind``, sizes, per-iteration times), writes them as JSON lines (``--rows FILE``) and renders
its table from those rows alone (its ``render(rows)``). scripts/results_page.py renders docs/results.md from the
stored rows with the same ``render``, so a table on that page is the rows, never numbers typed by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from relubench.atomic import write_whole
from relubench.datasets import Dataset
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


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def fmt(t: float | None, digits: int = 2) -> str:
    """A number of the tables; '-' for none, NaN or infinity (not reached)."""
    return "-" if t is None or not math.isfinite(t) else f"{t:.{digits}f}"


def num(v: Any) -> float:
    """A cell of a row as a float (None -> NaN)."""
    return math.nan if v is None else float(v)
