"""A suite across data sets (default: the KEEL suite's quick preset, configs/keel-quick.toml) run end to end as one
sweep and summarized per problem class: which backend wins, share of problems solved to 1e-4 (relative gap and
violation, the "reached" rule), shifted geometric means of time (shift 10 s, failures charged the time limit, ratio
to the best), time to a held-out accuracy within one point of the best, and median held-out accuracy. The peer
library's backends (scnn-fista, scnn-al) and SGD are lines like every other backend; the rules are
relubench.present.profiles'.

    python scripts/record.py keel_quick -- python scripts/bench_suite.py configs/keel-quick.toml -j 2 \
        --results results/keel-quick.parquet      # then: relubench report results/keel-quick.parquet

The recorded start and end times are the sweep's wall time (every case in its own process, -j cases at once).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from benchrows import finish

from relubench.bench.config import load_config
from relubench.bench.sweep import run_sweep
from relubench.present.profiles import (
    PROFILE_TOL,
    class_summary,
    time_to_accuracy,
    time_to_heldout,
    winners,
    with_problem_keys,
)


def markdown(df: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "-" if math.isnan(v) else f"{v:.3g}"
        return str(v).replace("|", "/")

    head = "| " + " | ".join(str(c).strip() for c in df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    return "\n".join([head, rule, *("| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(False))])


def render(rows: list[dict[str, Any]]) -> str:
    df = pd.DataFrame(rows)
    df = df[df["problem_hash"].notna()]
    statuses = df.groupby(["solver", "status"]).size().unstack(fill_value=0)
    lines = [
        f"{len(rows)} cases on {df['dataset'].nunique()} data sets; statuses per backend:",
        "",
        markdown(statuses.reset_index()),
        "",
        "**Which backend wins where** (lowest shifted geometric mean of time):",
        "",
        markdown(winners(df)),
        "",
    ]
    keyed = with_problem_keys(df)
    for cls, g in keyed.groupby("problem_class", sort=True):
        acc = pd.to_numeric(g["test_accuracy"], errors="coerce").groupby(g["solver"]).median()
        acc = acc.rename("median held-out acc")
        sgm = "shifted geomean s (shift 10)"
        to_tol = class_summary(g, time_to_accuracy(g, PROFILE_TOL), "t").set_index("backend")
        held = class_summary(g, time_to_heldout(g), "h").set_index("backend")
        table = pd.DataFrame(
            {
                f"solved to {PROFILE_TOL:g}": to_tol["solved (t)"],
                "fastest on": to_tol["fastest on"],
                "geomean s": to_tol[sgm],
                "vs best": to_tol["vs best"],
                "held-out reached": held["solved (h)"],
                "geomean s ": held[sgm],
                "vs best ": held["vs best"],
                "median held-out acc": acc,
            }
        ).loc[to_tol.index]
        table = table.reset_index().rename(columns={"index": "backend"})
        lines += [f"**{cls}** ({g['problem'].nunique()} problems)", "", markdown(table), ""]
    lines.append(
        "Columns: share of problems solved to the tolerance, problems on which it was fastest, shifted geometric "
        "mean of seconds (setup + solve, shift 10 s, failures charged the time limit) and its ratio to the best "
        "backend's; then the same for a held-out accuracy within one point of the best any solve reached."
    )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", nargs="?", default="configs/keel-quick.toml")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--results", help="keep the sweep's results table here (default: a temporary folder)")
    ap.add_argument("--rows", help="write the rows (the sweep's, traces left out) here (JSON lines)")
    ap.add_argument("--table", help="write the rendered tables here")
    args = ap.parse_args()
    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.results) if args.results else Path(tmp) / f"{config.name}.parquet"
        if out.exists():
            raise SystemExit(f"bench_suite: {out} exists; the suite is timed from an empty table")
        run_sweep(config, out, jobs=args.jobs, progress=True, announce=f"{config.name}: {len(config.cases)} cases")
        df = pd.read_parquet(out).drop(columns=["trace"], errors="ignore")
    rows = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in df.to_dict("records")
    ]
    return finish(rows, render, args.rows, args.table)


if __name__ == "__main__":
    sys.exit(main())
