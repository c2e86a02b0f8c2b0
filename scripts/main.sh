#!/usr/bin/env bash
# Set up .venv, run the asv quick tier on the current commit in that environment, publish the HTML report to
# reports/asv and vendor its web assets so that it renders offline. View it with `.venv/bin/asv preview`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
.venv/bin/asv machine --yes >/dev/null
.venv/bin/asv run --quick --python=same --set-commit-hash "$(git rev-parse HEAD)" "$@"
.venv/bin/asv publish
.venv/bin/relubench asv-offline reports/asv
echo "report: reports/asv/index.html -- serve it with: .venv/bin/asv preview (or python3 -m http.server -d reports/asv)"
