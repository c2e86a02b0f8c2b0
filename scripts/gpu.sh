#!/usr/bin/env bash
# The GPU measurements of issue 16 in one command, on a machine with a CUDA GPU and torch installed:
#   bash scripts/gpu.sh [--quick] [OUT]        (OUT: folder for the tables, default results/gpu)
# 1. scripts/bench_devices.py: per-iteration time against one X @ U, time to a certified gap and peak GPU memory,
#    numpy (CPU) beside torch CUDA fp64 and fp32, at the issue's sizes;
# 2. (not with --quick) the sweep configs/gpu.toml (n = 10^4..10^6, d = 100, P = 500/1000, gated and relu; 40
#    cases of up to 300 s each, hours in all) and its report.
# --quick: the tables of the README's "Devices" section only, about 12 minutes on an H100 (what fits a 30-minute
# lease of a lent machine): gated and relu at (5000, 50, 500) on cuda, cuda fp32 and the host's CPU, gated and
# relu at (10^5, 100, 1000), gated at (10^6, 100, 500) (al does not fit 80 GB there in fp64); and admm's relu
# on cuda at (5000, 50, 500) and (20000, 100, 1000) (a few minutes more; admm has not yet run on a GPU).
# Without network access (the lent device machines): the relubench package is installed from ./wheels when that
# folder exists. Build it here, with wheels of the Python version there (3.12 on the lent machines):
#   pip wheel --no-deps -w wheels .
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
#       --platform manylinux_2_28_x86_64 -d wheels cvxpy clarabel ecos osqp qdldl jsonschema \
#       jsonschema-specifications referencing rpds-py array-api-compat
# (torch, numpy, scipy, pandas, pyarrow, matplotlib, numba and filelock are expected to be there already.)
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
if [ "${1:-}" = "--quick" ]; then QUICK=1; shift; fi
OUT="${1:-results/gpu}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [ -d wheels ]; then
    # non-editable, into a folder of its own; python runs from $OUT so that this checkout's sources (whose
    # relubench.solvers lives in ./solvers) do not shadow the installed package
    python3 -m pip install -q --no-index --no-deps --upgrade --target "$OUT/site" wheels/*.whl
    export PYTHONPATH="$OUT/site${PYTHONPATH:+:$PYTHONPATH}"
else
    python3 -m pip install -q -e ".[gpu]"
fi
RELUBENCH=(env -C "$OUT" python3 -m relubench)
env -C "$OUT" python3 -c "from relubench.running.device import cuda_status; ok, what = cuda_status(); \
print('GPU:', what); raise SystemExit(0 if ok else 1)"
B=scripts/bench_devices.py
if [ "$QUICK" = 1 ]; then
    python3 $B --sizes 5000,50,500 --placements cuda,cuda32,cpu --time-limit 90 --out "$OUT/devices_5000.md"
    python3 $B --sizes 5000,50,500 20000,100,1000 --placements cuda --iters admm --solves admm --time-limit 90 \
        --out "$OUT/devices_admm.md"
    python3 $B --sizes 100000,100,1000 --placements cuda --time-limit 300 --out "$OUT/devices_1e5.md"
    python3 $B --sizes 100000,100,1000 --placements cuda32 --no-solve --out "$OUT/devices_1e5_fp32.md"
    python3 $B --sizes 1000000,100,500 --placements cuda --iters fista --solves gated --time-limit 100 \
        --out "$OUT/devices_1e6.md"
    python3 $B --sizes 1000000,100,500 --placements cuda32 --iters fista --no-solve --out "$OUT/devices_1e6_fp32.md"
    exit 0
fi
python3 $B --sizes 5000,50,500 20000,100,1000 100000,100,1000 --placements cuda,cuda32 --time-limit 300 \
    --solves gated,relu,admm --out "$OUT/devices.md"
python3 $B --sizes 1000000,100,500 --placements cuda,cuda32 --iters fista --solves gated --time-limit 300 \
    --out "$OUT/devices_1e6.md"
python3 $B --sizes 5000,50,500 --placements cpu --time-limit 300 --out "$OUT/devices_cpu.md"
"${RELUBENCH[@]}" sweep "$PWD/configs/gpu.toml" -o "$OUT/gpu.parquet"
"${RELUBENCH[@]}" report "$OUT/gpu.parquet" -o "$OUT/report"
