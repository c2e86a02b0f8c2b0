#!/usr/bin/env bash
# The long fuzzing profile: every reader of user input (tests/test_fuzz_readers.py) on 10^4 fresh random examples
# (RELUBENCH_FUZZ_EXAMPLES to change), then docs/fuzzing.md rewritten with what each reader did with them (read or
# refused with one `relubench: error:` line) -- the counts come from the run, never typed. Exit status: pytest's.
#
#   bash scripts/fuzz.sh              # about 5 minutes on 2 cores
#   RELUBENCH_FUZZ_EXAMPLES=500 bash scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${RELUBENCH_VENV:-.venv/bin/python}"
N="${RELUBENCH_FUZZ_EXAMPLES:-10000}"
counts="$(mktemp)"
trap 'rm -f "$counts"' EXIT
start="$(date '+%Y-%m-%d %H:%M')"
set +e
RELUBENCH_FUZZ_EXAMPLES="$N" RELUBENCH_FUZZ_RANDOM=1 RELUBENCH_FUZZ_COUNTS="$counts" \
    "$PY" -m pytest -q -p no:cacheprovider tests/test_fuzz_readers.py 2>&1 | tee "$counts.log"
status=${PIPESTATUS[0]}
set -e
"$PY" - "$counts" "$counts.log" "$N" "$start" "$status" <<'PYEOF'
import collections, platform, subprocess, sys
counts_file, log_file, n, start, status = sys.argv[1:]
tally = collections.Counter(tuple(line.rstrip("\n").split("\t")) for line in open(counts_file) if "\t" in line)
readers = sorted({r for r, _ in tally})
last = [line for line in open(log_file).read().splitlines() if line.strip()][-1:]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = [
    "# Fuzzing the readers of user input",
    "",
    "Written by `bash scripts/fuzz.sh` from its last run (do not edit): every reader of user input",
    "(tests/test_fuzz_readers.py: CSV and NPZ data, sweep configs, network files, results tables and their",
    "journals, reference-cache entries) on fresh random examples, mostly valid inputs with a few mutations. Each",
    "example must be read, or refused with a ReluBenchError (the CLI's one `relubench: error:` line, exit 2), and",
    "write nothing outside its folder; any other exception fails the run. CI runs the same tests on 200 fixed",
    "examples per reader.",
    "",
    f"Run {start}, commit {commit}, Python {platform.python_version()}, {n} examples per reader; pytest: "
    f"{last[0] if last else '?'} (exit {status}).",
    "",
    "| reader | read | refused / dropped |",
    "|---|---|---|",
]
for r in readers:
    ok = tally[(r, "read")]
    bad = tally[(r, "refused")] + tally[(r, "dropped")]
    lines.append(f"| {r} | {ok} | {bad} |")
lines += ["", "Failures found: none in this run (a failure stops the run at its shrunk example, shown above)." if status == "0"
          else "Failures found: see the pytest output of the run (the shrunk example and its traceback)."]
open("docs/fuzzing.md", "w").write("\n".join(lines) + "\n")
print("wrote docs/fuzzing.md")
PYEOF
exit "$status"
