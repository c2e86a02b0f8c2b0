"""The time of a sweep preset too long to run here, estimated from a measured random sample of its cases: a seeded
sample (``--fraction`` of the cases, every case equally likely) runs as one sweep on this machine, and the preset's
time is estimated as the sample's wall time times (cases / sampled cases). Stated as an estimate with the sample's
size, its wall time, per-case times and statuses.

    python scripts/record.py keel_full -- python scripts/time_preset.py configs/keel.toml --fraction 0.05 -j 2
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from benchrows import finish

from relubench.bench.config import load_config
from relubench.bench.sweep import run_sweep


def render(rows: list[dict[str, Any]]) -> str:
    df = pd.DataFrame(rows)
    meta = df[df["kind"] == "estimate"].iloc[0]
    cases = df[df["kind"] == "case"]
    wall = pd.to_numeric(cases["wall_s"], errors="coerce")
    est_h = meta["sample_wall_s"] * meta["cases"] / meta["sampled"] / 3600
    status = cases.groupby("status").size().to_dict()
    lines = [
        f"Preset `{meta['config']}`: {int(meta['cases'])} cases; a seeded sample of {int(meta['sampled'])} "
        f"(fraction {meta['fraction']:g}, seed {int(meta['seed'])}) ran in {meta['sample_wall_s'] / 60:.1f} min "
        f"with {int(meta['jobs'])} cases at once: **estimated {est_h:.1f} h for the whole preset on this machine** "
        "(sample wall time x cases / sampled cases; not measured in full).",
        "",
        "| solver | cases | median wall s | max wall s | statuses |",
        "|---|---|---|---|---|",
    ]
    for solver, g in cases.groupby("solver", sort=True):
        w = pd.to_numeric(g["wall_s"], errors="coerce")
        st = ", ".join(f"{k} {v}" for k, v in g.groupby("status").size().items())
        lines.append(f"| {solver} | {len(g)} | {w.median():.1f} | {w.max():.1f} | {st} |")
    lines += ["", f"All sampled cases: median wall {wall.median():.1f} s; statuses {status}."]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config")
    ap.add_argument("--fraction", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--rows", help="write the rows here (JSON lines)")
    ap.add_argument("--table", help="write the rendered table here")
    args = ap.parse_args()
    if not 0 < args.fraction <= 1:
        raise SystemExit("time_preset: --fraction must be in (0, 1]")
    config = load_config(args.config)
    n = len(config.cases)
    k = max(1, math.ceil(args.fraction * n))
    pick = sorted(np.random.default_rng(args.seed).choice(n, size=k, replace=False))
    sample = dataclasses.replace(config, cases=[config.cases[i] for i in pick])
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run_sweep(sample, Path(tmp) / "sample.parquet", jobs=args.jobs, announce=f"{config.name}: {k} of {n} cases")
        wall = time.perf_counter() - start
        df = pd.read_parquet(Path(tmp) / "sample.parquet")
    keep = ["dataset", "solver", "formulation", "loss", "status", "wall_s", "setup_s", "solve_s"]
    rows: list[dict[str, Any]] = [
        {
            "kind": "estimate",
            "config": args.config,
            "cases": n,
            "sampled": k,
            "fraction": args.fraction,
            "seed": args.seed,
            "jobs": args.jobs,
            "sample_wall_s": wall,
        }  # fmt: skip
    ]
    rows += [{"kind": "case", **{c: r.get(c) for c in keep}} for r in df.to_dict("records")]
    return finish(rows, render, args.rows, args.table)


if __name__ == "__main__":
    sys.exit(main())
