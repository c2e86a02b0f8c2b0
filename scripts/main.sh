#!/usr/bin/env bash
# Set up .venv, benchmark recent commits and HEAD with asv, publish the HTML report to reports/asv and vendor its web
# assets so that it renders offline, then write the site's index, reports/index.html (asv, every sweep report under
# reports/, figures). View it with `python3 -m http.server -d reports`.
#
# 1. History: the commits of RELUBENCH_RANGE (default: the last RELUBENCH_HISTORY = 5 commits, HEAD included) on a
#    fast tier (RELUBENCH_HISTORY_BENCH, default HistorySuite: every backend's solve time at 100 x 10, P = 20), in
#    asv's own virtualenv (.asv/env, built once). Benchmarks a commit already has results for are skipped
#    (results stay in .asv/results between runs), so a rerun or a longer range costs only what is not yet measured
#    (plus installing each commit); results of other suites on a commit (asv continuous) do not skip its history.
# 2. HEAD: every suite of the quick tier, in the same environment (committed code: commit work in progress first).
#    Extra arguments go to this `asv run`.
#
# Extend the range: RELUBENCH_HISTORY=20 bash scripts/main.sh, or any git range: RELUBENCH_RANGE=efb92a2..HEAD.
# RELUBENCH_VENV=/path/to/python uses that interpreter (with relubench[dev] installed) instead of setting up .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${RELUBENCH_VENV:-}" ]]; then
    PY="$RELUBENCH_VENV"
else
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    PY=.venv/bin/python
fi
HISTORY="${RELUBENCH_HISTORY:-5}"
if ! [[ "$HISTORY" =~ ^[1-9][0-9]*$ ]]; then
    echo "main.sh: error: RELUBENCH_HISTORY must be a positive whole number of commits, got '$HISTORY'" >&2
    exit 2
fi
if [[ -n "${RELUBENCH_RANGE:-}" ]]; then
    RANGE="$RELUBENCH_RANGE"
else
    # the oldest of the last HISTORY commits (fewer when the history is shorter) .. HEAD
    OLDEST="$(git rev-list --max-count="$HISTORY" HEAD | tail -n 1)"
    RANGE="$OLDEST^!"
    if git rev-parse -q --verify "$OLDEST^" >/dev/null; then
        RANGE="$OLDEST^..HEAD"
    elif [[ "$OLDEST" != "$(git rev-parse HEAD)" ]]; then
        RANGE="ALL"
    fi
fi
"$PY" -m asv machine --yes >/dev/null
echo "main.sh [${SECONDS} s]: history $RANGE, benchmarks matching '${RELUBENCH_HISTORY_BENCH:-HistorySuite}'"
"$PY" -m asv run --quick --skip-existing --show-stderr \
    --bench "${RELUBENCH_HISTORY_BENCH:-HistorySuite}" "$RANGE"
echo "main.sh [${SECONDS} s]: every quick-tier suite on HEAD"
"$PY" -m asv run --quick --show-stderr "$@" "HEAD^!"
echo "main.sh [${SECONDS} s]: publishing"
"$PY" -m asv publish
"$PY" -m relubench asv-offline reports/asv
"$PY" -m relubench publish reports
echo "report: reports/asv/index.html; the site: reports/index.html (asv, sweep reports, figures)"
echo "serve it with: python3 -m http.server -d reports (browsers refuse asv's data files from file://)"
