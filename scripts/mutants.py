"""Hand-made mutants of relubench's core, each run against the test suite: a mutant the tests do not fail is a
survivor, a statement no test checks.

    python scripts/mutants.py                  # every mutant against the fast tier (pytest -m "not slow" -x)
    python scripts/mutants.py --only M07 M12   # some of them
    python scripts/mutants.py --list           # the mutants, without running anything
    python scripts/mutants.py --record         # store the run (docs/mutation/runs.jsonl) and rewrite the page
    python scripts/mutants.py --render         # rewrite docs/mutation.md from the stored runs only

Each mutant replaces one snippet (which must occur exactly once in its file: tests/test_mutants.py keeps the
list in step with the code) in the checkout it runs in, runs pytest, and restores the file whatever happens.
Run it in a clean checkout: it refuses files with uncommitted changes. The core targeted here: the formulations
(problem/formulations.py), the losses (problem/losses.py), the accuracy metrics (running/metrics.py), the
status rules of running/solver.py, and the certificate rules of al and admm.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
F, L, M, S = (
    "relubench/problem/formulations.py",
    "relubench/problem/losses.py",
    "relubench/running/metrics.py",
    "relubench/running/solver.py",
)


# the tests that check the core's numbers, run before the rest
FIRST = [f"tests/{name}.py" for name in (
    "test_losses_and_outputs", "test_independent_references", "test_global_optimality", "test_measure",
    "test_first_order", "test_ipm", "test_adversarial_robustness", "test_backends", "test_hostile",
)]  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    key: str
    path: str
    old: str
    new: str
    what: str


MUTANTS = [
    Mutant("M01", F, "xp.vecdot(problem.mask_float, H, axis=-1)", "xp.sum(H, axis=-1)", "prediction ignores the masks"),
    Mutant("M02", F, 'np.sqrt(np.einsum("ij,ij->j", U, U))', 'np.einsum("ij,ij->j", U, U)', "group norm squared"),
    Mutant("M03", F, "-float((problem.group_signs * (problem.X @ Z)).min(initial=0.0))",
           "-float((problem.X @ Z).min(initial=0.0))", "cone violation without the signs 2 D_i - I"),
    Mutant("M04", F, "Us.append(B[:, keep] / root)", "Us.append(B[:, keep] / norms[keep])",
           "mapping: u = z / ||z|| instead of z / sqrt(||z||)"),
    Mutant("M05", F, "As.append(s * root)", "As.append(root)", "mapping: output sign of the block dropped"),
    Mutant("M06", F, "loss + 0.5 * problem.beta * (np.sum(U * U)", "loss + problem.beta * (np.sum(U * U)",
           "network weight decay beta instead of beta / 2"),
    Mutant("M07", F, "return float(get_loss(problem.loss).value(pred, problem.y) + problem.beta * pen)",
           "return float(get_loss(problem.loss).value(pred, problem.y) + 0.5 * problem.beta * pen)",
           "convex penalty halved"),
    Mutant("M08", F, "if not self.constrained:\n            return 0.0", "if True:\n            return 0.0",
           "relu violation never computed"),
    Mutant("M09", F, "margin = problem.signs * (problem.X @ Z) - problem.epsilon",
           "margin = problem.signs * (problem.X @ Z) + problem.epsilon", "robust cone margin sign flipped"),
    Mutant("M10", F, "shift = problem.epsilon * (np.abs(G) @ problem.perturbable)",
           "shift = problem.epsilon * np.abs(G @ problem.perturbable)", "robust shift: |sum g| instead of ||g||_1"),
    Mutant("M11", F, "xp.clip(1.0 - thresh / xp.clip(group_norms(A), min=1e-300), min=0.0)",
           "xp.clip(1.0 + thresh / xp.clip(group_norms(A), min=1e-300), min=0.0)", "group prox: sign flipped"),
    Mutant("M12", F, "c = min(1.0, problem.beta / max(float(namespace(G).max(group_norms(G))), 1e-300))",
           "c = 1.0", "dual point not scaled into the dual feasible set"),
    Mutant("M13", F, "A = xp.concat([Mr - S * lam[:, :k], -Mr - S * lam[:, k:]], axis=1)",
           "A = xp.concat([Mr + S * lam[:, :k], -Mr - S * lam[:, k:]], axis=1)", "relu dual: multiplier sign"),
    Mutant("M14", F, "w = np.abs(a) ** 2 if a.ndim == 1", "w = np.abs(a) if a.ndim == 1",
           "active neurons counted on |a| instead of |a|^2"),
    Mutant("M15", F, '"max_violation": form.violation(problem, weights),', '"max_violation": 0.0,',
           "evaluate reports no violation"),
    Mutant("M16", F, "while keep.sum() > n + 1:", "while keep.sum() > n + 3:", "pruning stops above n + 1 neurons"),
    Mutant("M17", F, "return max(cone_violation(problem, weights[k]) for k, _ in self.blocks)",
           "return cone_violation(problem, weights[self.blocks[0][0]])", "violation of the first block only"),
    Mutant("M18", L, "return float(0.5 * xp.sum(r * r))", "return float(xp.sum(r * r))", "squared loss not halved"),
    Mutant("M19", L, "    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:\n        return pred - y",
           "    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:\n        return y - pred",
           "squared loss gradient sign flipped"),
    Mutant("M20", L, "return float(-xp.sum(theta * y) - 0.5 * xp.sum(theta * theta))",
           "return float(-xp.sum(theta * y) + 0.5 * xp.sum(theta * theta))", "squared loss conjugate sign"),
    Mutant("M21", L, "return namespace(pred, y).clip(1.0 - y * pred, min=0.0)",
           "return namespace(pred, y).clip(1.0 + y * pred, min=0.0)", "hinge margin sign flipped"),
    Mutant("M22", L, "return xp.where(1.0 - y * pred > 0, -y, xp.zeros_like(y))",
           "return xp.where(1.0 - y * pred > 0, y, xp.zeros_like(y))", "hinge subgradient sign flipped"),
    Mutant("M23", L, "return np.maximum(0.0, 1.0 - y * pred + shift)", "return np.maximum(0.0, 1.0 - y * pred)",
           "hinge worst case ignores the perturbation"),
    Mutant("M24", L, "return 0.5 * (np.abs(pred - y) + shift) ** 2", "return 0.5 * (np.abs(pred - y)) ** 2",
           "squared worst case ignores the perturbation"),
    Mutant("M25", L, "return -y * _sigmoid(-y * pred)", "return -y * _sigmoid(y * pred)", "logistic gradient"),
    Mutant("M26", L, "return float(-xp.sum(_xlogx(s) + _xlogx(1.0 - s)))",
           "return float(xp.sum(_xlogx(s) + _xlogx(1.0 - s)))", "logistic conjugate sign"),
    Mutant("M27", L, "return xp.exp(-_softplus(-t))", "return xp.exp(-_softplus(t))", "sigmoid of -t"),
    Mutant("M28", L, "return np.where(pred >= y, 1.0, -1.0)  # away from the target",
           "return np.where(pred >= y, -1.0, 1.0)  # away from the target", "squared attack direction flipped"),
    Mutant("M29", M, "return abs(relative_gap(objective, reference, floor)) <= tol and violation <= tol * y_scale",
           "return abs(relative_gap(objective, reference, floor)) <= tol", "reached: violation not checked"),
    Mutant("M30", M, "return abs(relative_gap(objective, reference, floor)) <= tol and",
           "return relative_gap(objective, reference, floor) <= tol and", "reached: points below f* count"),
    Mutant("M31", M, "if p.certified_gap <= tol * max(abs(p.objective), floor) and p.max_violation <= bar:",
           "if p.certified_gap <= tol * max(abs(p.objective), floor):", "time to certified: violation not checked"),
    Mutant("M32", M, "bar = (tol if violation_tol is None else violation_tol) * y_scale", "bar = tol * y_scale",
           "time to certified: its own violation target ignored"),
    Mutant("M33", M, 'out = {"loss": get_loss(loss).value(pred, y) / y.shape[0]}',
           'out = {"loss": get_loss(loss).value(pred, y)}', "held-out loss not per row"),
    Mutant("M34", M, "np.where(pred >= 0, 1.0, -1.0) == y", "np.where(pred > 0, 1.0, -1.0) == y",
           "accuracy: a zero prediction counts as -1"),
    Mutant("M35", M, "Xte = with_bias_column(ds.X_test) if problem.bias else ds.X_test", "Xte = ds.X_test",
           "held-out rows without the bias column"),
    Mutant("M36", M, "for p in result.trace:\n        if reached(", "for p in result.trace[1:]:\n        if reached(",
           "time to tolerance skips the first point"),
    Mutant("M37", S, "if res.status == \"optimal\" and res.max_violation > limit:",
           "if res.status == \"optimal\" and res.max_violation > 100 * limit:",
           "status optimal with a violation above tol max|y|"),
    Mutant("M38", S, "limit = tol * y_scale(problem.y)", "limit = tol", "violation tolerance not scaled by max|y|"),
    Mutant("M39", S, "if not np.isfinite(value):", "if False:", "overflowing data not refused"),
    Mutant("M40", F, "max(primal - dual, feasible_objective(problem, Z, XZ, cache=cache) - primal), viol",
           "abs(primal - dual), viol", "relu certificate |P - D| at infeasible points (the old one)"),
    Mutant("M41", "solvers/proxgrad.py", "if gap <= tol * abs(obj) and viol <= vtol:",
           "if gap <= tol * abs(obj) and viol <= vtol or settled_steps >= 2:",
           "al optimal on its KKT-type test without a certificate (the old rule)"),
    Mutant("M42", "solvers/admm.py", "if cert <= tol * max(abs(obj), GAP_FLOOR) and viol <= tol * yscale:",
           "if True:", "admm optimal on its residual test without a certificate (the old rule)"),
]  # fmt: skip


def check(mutants: list[Mutant]) -> list[str]:
    """The mutants whose snippet does not occur exactly once in its file (the list is out of step)."""
    bad = []
    for m in mutants:
        count = (ROOT / m.path).read_text().count(m.old)
        if count != 1:
            bad.append(f"{m.key}: {count} occurrences of its snippet in {m.path}")
    return bad


def run_one(m: Mutant, pytest_args: list[str], timeout: float) -> dict:
    path = ROOT / m.path
    original = path.read_text()
    path.write_text(original.replace(m.old, m.new, 1))
    start = time.perf_counter()
    try:
        env = os.environ | {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
        cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *pytest_args]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        code, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired:
        code, out = -1, ""
    finally:
        path.write_text(original)
    seconds = time.perf_counter() - start
    first = re.search(r"^FAILED (\S+)", out, re.M) or re.search(r"^ERROR (\S+)", out, re.M)
    if code == -1:
        outcome = "timeout"
    elif code == 0:
        outcome = "survived"
    elif code == 1 or (code == 2 and first):  # failures (2: interrupted by -x after one)
        outcome = "killed"
    else:  # collection errors, an interrupted run: the mutant broke more than a statement
        outcome = "killed (error)"
    return {"key": m.key, "path": m.path, "what": m.what, "outcome": outcome, "seconds": round(seconds, 1),
            "first_failure": first.group(1) if first else ""}  # fmt: skip


RUNS = ROOT / "docs" / "mutation" / "runs.jsonl"
PAGE = ROOT / "docs" / "mutation.md"


def read_runs(path: Path = RUNS) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def render(rows: list[dict]) -> str:
    """The page of every stored run: counts per run, then each mutant's latest outcome and the tests it met."""
    runs: dict[str, list[dict]] = {}
    for r in rows:
        runs.setdefault(r["run"], []).append(r)
    latest = {r["key"]: r for r in rows}  # rows are in run order: the last one wins
    lines = [
        "# Mutation check",
        "",
        "Generated by `python scripts/mutants.py --record` from the stored runs (docs/mutation/runs.jsonl): hand-made",
        "mutants of the core (`scripts/mutants.py`: a sign flipped in a prox or a loss, a tolerance ignored, a",
        "violation not checked, a mapping or a metric changed), each run against the tests named per run until the",
        "first failure. A survivor is a statement no test checks; survivors are then killed by new tests, run again.",
        "",
        "| run | commit | date | tests | mutants | killed | survived |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, (run, rs) in enumerate(runs.items(), 1):
        killed = sum(r["outcome"].startswith("killed") for r in rs)
        survived = sum(r["outcome"] == "survived" for r in rs)
        head = f"| {i} | {rs[0]['commit']} | {rs[0]['date']} | {rs[0]['tests']} "
        lines.append(head + f"| {len(rs)} | {killed} | {survived} |")
    now_killed = sum(r["outcome"].startswith("killed") for r in latest.values())
    lines += ["", f"**Latest outcome of each of the {len(latest)} mutants: {now_killed} killed, "
              f"{len(latest) - now_killed} not killed.**", ""]  # fmt: skip
    lines += ["| mutant | file | change | latest outcome | by | s | survived in run |", "|---|---|---|---|---|---|---|"]
    order = list(runs)
    for key in sorted(latest):
        r = latest[key]
        survived_in = ", ".join(
            str(order.index(x["run"]) + 1) for x in rows if x["key"] == key and x["outcome"] == "survived"
        )
        test = f"`{r['first_failure']}`" if r["first_failure"] else ""
        lines.append(
            f"| {key} | {r['path']} | {r['what']} | {r['outcome']} | {test} | {r['seconds']} | {survived_in} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill still restores the mutated file (finally)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", metavar="KEY", help="run these mutants (e.g. M07 M12)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--all-tests", action="store_true", help="the whole suite (slow tier too), not the fast tier")
    ap.add_argument("--record", action="store_true", help="store the run and rewrite docs/mutation.md")
    ap.add_argument("--render", action="store_true", help="rewrite docs/mutation.md from the stored runs and exit")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant (default 900)")
    args = ap.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.only or m.key in args.only]
    if args.only and len(chosen) != len(set(args.only)):
        print(f"error: unknown mutant in {args.only}", file=sys.stderr)
        return 2
    if args.render:
        PAGE.write_text(render(read_runs()))
        return 0
    if args.list:
        for m in chosen:
            print(f"{m.key}  {m.path}: {m.what}")
        return 0
    bad = check(chosen)
    if bad:
        print("error: the mutant list is out of step with the code: " + "; ".join(bad), file=sys.stderr)
        return 2
    dirty = subprocess.run(["git", "status", "--porcelain", "--", *sorted({m.path for m in chosen})], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    if dirty:
        print(f"error: uncommitted changes in the mutated files (commit or stash them):\n{dirty}", file=sys.stderr)
        return 2
    tier = "the whole suite" if args.all_tests else 'the fast tier (pytest -m "not slow")'
    # one process, stopping at the first failure; the tests of the core first, so that a mutant dies early.
    # This check's own test reads the page being written: left out.
    pytest_args = ["-p", "no:xdist", *FIRST, "tests", "--ignore=tests/test_mutants.py"]
    pytest_args += [] if args.all_tests else ["-m", "not slow"]
    baseline = run_one(Mutant("M00", chosen[0].path, "", "", "no mutation"), pytest_args, args.timeout)
    if baseline["outcome"] != "survived":  # a mutant counts as killed only if the code itself passes
        print(f"error: the tests fail without any mutant ({baseline['first_failure']})", file=sys.stderr)
        return 2
    rows = []
    for i, m in enumerate(chosen, 1):
        row = run_one(m, pytest_args, args.timeout)
        rows.append(row)
        print(f"[{i}/{len(chosen)}] {m.key} {row['outcome']:14s} {row['seconds']:6.1f} s  {m.what}"
              f"  {row['first_failure']}", flush=True)  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    stamp = {"run": f"{commit.stdout.strip()}-{time.time():.0f}", "commit": commit.stdout.strip() or "unknown",
             "date": datetime.date.today().isoformat(), "tests": tier}  # fmt: skip
    if args.record:
        RUNS.parent.mkdir(parents=True, exist_ok=True)
        with RUNS.open("a") as f:
            for row in rows:
                f.write(json.dumps(stamp | row) + "\n")
        PAGE.write_text(render(read_runs()))
    survived = sum(r["outcome"] == "survived" for r in rows)
    print(f"{len(rows)} mutants: {len(rows) - survived} killed or failing, {survived} survived")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
