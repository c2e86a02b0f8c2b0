"""Run one benchmark script and store its output for the results page (docs/results.md).

    python scripts/record.py first_order -- python scripts/bench_first_order.py --sizes 500,20,100
    python scripts/results_page.py          # rewrites docs/results.md from everything stored

The script gets ``--rows docs/results/NAME.jsonl`` appended (every benchmark script here writes its rows there:
rows of relubench's measurement schema, scripts/benchrows.py); beside them, ``NAME.json`` records the command,
start and end times, the machine and the commit. The results page renders each table from the stored rows with
the script's own ``render``, so no number on that page is typed by hand. A run that fails stores nothing (the
previous output of that name stays).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "docs" / "results"


def machine() -> str:
    cpu = ""
    try:
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            "",
        )
    except OSError:
        pass
    mem = ""
    try:
        kb = int(
            next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
        )
        mem = f", {kb / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{os.cpu_count()} cores{mem}, {cpu or platform.processor() or platform.machine()}, {platform.system()}"


def commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return (proc.stdout.strip() or "unknown") + (" (with uncommitted changes)" if dirty else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", help="the stored output's name (letters, digits, '_' and '-')")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- then the benchmark command")
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not re.fullmatch(r"[A-Za-z0-9_-]+", args.name) or not cmd:
        print("record: error: give NAME (letters, digits, '_', '-') and -- COMMAND", file=sys.stderr)
        return 2
    STORE.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=STORE, prefix=".tmp-", suffix=".jsonl")
    os.close(fd)
    start = dt.datetime.now()
    proc = subprocess.run([*cmd, "--rows", tmp], cwd=ROOT)
    end = dt.datetime.now()
    if proc.returncode != 0 or not Path(tmp).stat().st_size:
        Path(tmp).unlink(missing_ok=True)
        print(f"record: {shlex.join(cmd)} failed (exit {proc.returncode}); nothing stored", file=sys.stderr)
        return 1
    meta = {
        "command": shlex.join(cmd),
        "started": start.isoformat(timespec="seconds"),
        "finished": end.isoformat(timespec="seconds"),
        "machine": machine(),
        "commit": commit(),
        "python": platform.python_version(),
    }
    os.replace(tmp, STORE / f"{args.name}.jsonl")
    (STORE / f"{args.name}.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"stored docs/results/{args.name}.jsonl ({(end - start).total_seconds():.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
