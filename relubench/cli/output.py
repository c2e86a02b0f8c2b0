"""What the command line prints: progress lines on stderr and aligned tables on stdout."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from typing import Any

from relubench.problem.formulations import get_formulation
from relubench.running.reference import relative_gap
from relubench.running.result import Status, TracePoint


def progress_printer(
    name: str, formulation: str, ref: float | None, every: float, floor: float = 0.0
) -> Callable[[TracePoint], bool] | None:
    """A solve callback printing one stderr line per trace point, at most every ``every`` seconds.

    Backends report trace points as they go (first-order methods at each residual check) or once at the end
    (interior point, SCS: the returned point's own objective and violation).
    """
    if every <= 0:
        return None
    last = -math.inf

    def show(p: TracePoint) -> bool:
        nonlocal last
        if p.seconds - last >= every:
            last = p.seconds
            gap = "" if ref is None else f"  gap {relative_gap(p.objective, ref, floor):.2e}"
            viol = f"  violation {p.max_violation:.2e}" if get_formulation(formulation).constrained else ""
            print(
                f"  {name}: {p.seconds:8.1f} s  objective {p.objective:.10g}{gap}{viol}",
                file=sys.stderr,
                flush=True,
            )
        return False

    return show


def strict_json(obj: Any) -> str:
    """JSON with every non-finite float as null (strict JSON has no NaN or Infinity)."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(obj))


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}" if math.isfinite(v) else str(v)
    return str(v)


def print_aligned(table: list[list[str]]) -> None:
    """Print rows of strings as left-aligned columns separated by two spaces."""
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def print_table(rows: list[dict[str, Any]]) -> None:
    cols = ["solver", "status", "objective", "relative_gap", "max_violation", "iterations", "setup_s", "solve_s"]
    cols += [c for c in ("test_accuracy", "test_loss", "test_mse") if any(r.get(c) is not None for r in rows)]
    print_aligned([cols] + [[fmt(r.get(c)) for c in cols] for r in rows])
    for r in rows:
        if r["status"] != Status.OPTIMAL:
            print(f"{r['solver']}: {r['message']}")
