#!/usr/bin/env bash
# Set up a virtual environment (.venv) with relubench, then run a quick solver comparison on one problem
# against a cached high-accuracy reference optimum.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
.venv/bin/relubench solvers
.venv/bin/relubench solve --dataset gaussian --n 200 --d 10 --patterns 50 --beta 0.01 --solver all --reference "$@"
