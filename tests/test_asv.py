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

# test-injected regression: every ADMM solve (setup and iterations) runs twice
_original_solve = ADMM._solve


def _twice(self, *args):  # noqa: ANN001, ANN002, ANN202
    runs = [_original_solve(self, *args), _original_solve(self, *args)]
    for run in runs:
        next(run)
    callback = yield
    for run in runs:
        try:
            run.send(callback)
        except StopIteration as stop:
            result = stop.value
    return result


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
    env = dict(os.environ, RELUBENCH_ASV_TIER="ci", RELUBENCH_ASV_SOLVERS="admm")
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
    flagged = [line for line in out.splitlines() if line.replace("|", " ").split()[:1] == ["+"]]
    assert len(flagged) == 1 and "time_solve('admm'" in flagged[0], out


def test_main_script_history_draws_commits_offline(throwaway_repo, tmp_path):
    """scripts/main.sh benchmarks the last commits (the history tier) and HEAD, publishes and vendors: its
    HistorySuite graph draws a line through 3 commits in headless Chromium; asv's own page does not render offline."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from check_asv_offline import drawn_commits, find_chromium, render

    from relubench.present.asv_offline import make_offline

    if find_chromium() is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
    env = dict(
        os.environ,
        RELUBENCH_ASV_TIER="ci",
        RELUBENCH_ASV_SOLVERS="admm",
        RELUBENCH_VENV=sys.executable,
        RELUBENCH_HISTORY="3",
    )
    proc = subprocess.run(
        ["bash", "scripts/main.sh", "--bench", "HistorySuite"],  # the clone's own copy
        cwd=throwaway_repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "history" in proc.stdout and "report: reports/asv/index.html" in proc.stdout
    html = throwaway_repo / "reports" / "asv"
    history = "bench_solvers.HistorySuite.time_solve"
    drawn, dom = render(html, history, tmp_path / "graph.png")
    assert drawn, dom[-2000:]
    assert drawn_commits(dom) >= 3, dom[-2000:]
    assert (tmp_path / "graph.png").stat().st_size > 10_000
    # asv's own page needs CDNs: blank here, where only loopback is reachable; vendored, it draws again
    subprocess.run([*ASV, "publish"], cwd=throwaway_repo, check=True, capture_output=True)
    assert not render(html, history)[0]
    make_offline(html)
    assert "https://" not in (html / "index.html").read_text().split("<body", 1)[0]
    assert render(html, history)[0]
