"""The asv harness: `asv check` passes, `asv continuous` flags an injected 2x slowdown in ADMM, and the
published HTML renders offline (vendored assets; graphs drawn in headless Chromium)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ASV = [sys.executable, "-m", "asv"]

SLOWDOWN = """

# test-injected regression: every ADMM solve runs twice
_original_solve = ADMM._solve


def _twice(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    _original_solve(self, *args, **kwargs)
    return _original_solve(self, *args, **kwargs)


ADMM._solve = _twice
"""


def git(cwd, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True, capture_output=True
    )


def test_asv_check_passes():
    proc = subprocess.run([*ASV, "check", "--python=same"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No problems found" in proc.stdout


@pytest.fixture(scope="module")
def throwaway_repo(tmp_path_factory):
    """A clone of this repository with two extra commits: a no-op change, then a 2x ADMM slowdown."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    repo = tmp_path_factory.mktemp("asvrepo") / "repo"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(repo)], check=True)
    # uncommitted work in the checkout under test travels too, so the clone benchmarks this tree
    for rel in subprocess.run(
        ["git", "ls-files", "-m", "-o", "--exclude-standard"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split():
        if (ROOT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, repo / rel)
    git(repo, "checkout", "-q", "-B", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "base")
    admm = repo / "solvers" / "admm.py"
    admm.write_text(admm.read_text() + "\n# a comment: no change in behaviour\n")
    git(repo, "commit", "-q", "-am", "no-op")
    admm.write_text(admm.read_text() + SLOWDOWN)
    git(repo, "commit", "-q", "-am", "slow")
    return repo


def continuous(repo, base, head):
    env = dict(os.environ, RELUBENCH_ASV_TIER="ci")
    proc = subprocess.run(
        [*ASV, "continuous", "--factor", "1.5", "-b", "SolveSuite.time_solve", base, head],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_asv_continuous_flags_injected_slowdown(throwaway_repo):
    subprocess.run([*ASV, "machine", "--yes"], cwd=throwaway_repo, check=True, capture_output=True)
    code, out = continuous(throwaway_repo, "HEAD~2", "HEAD~1")
    assert code == 0, out
    assert "BENCHMARKS NOT SIGNIFICANTLY CHANGED" in out
    code, out = continuous(throwaway_repo, "HEAD~1", "HEAD")
    assert code == 1, out
    assert "PERFORMANCE DECREASED" in out
    flagged = [line for line in out.splitlines() if line.lstrip().startswith("+") and "time_solve" in line]
    assert flagged and "admm" in flagged[0], out
