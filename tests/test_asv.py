"""The asv harness: `asv check` passes; in a throwaway clone, scripts/main.sh draws a history that renders
offline (vendored assets; graphs drawn in headless Chromium), and `asv run` + `asv compare` (what `asv continuous`
does) flag an injected 2x slowdown in ADMM and not a no-op commit. The clone, asv's environment and the commits'
builds are made once for the module (one xdist group)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
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


@pytest.mark.xdist_group("asv")
def test_asv_check_passes():
    proc = subprocess.run([*ASV, "check", "--python=same"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No problems found" in proc.stdout


# made once per process: pytest-xdist may tear a module fixture down and set it up again between two tests of one
# worker (when its queue runs dry), and these take a minute to make
_MADE: dict = {}


@pytest.fixture(scope="module")
def throwaway_repo(tmp_path_factory):
    """A clone of this repository with two extra commits: a no-op change, then a 2x ADMM slowdown."""
    if "repo" not in _MADE:
        _MADE["repo"] = _throwaway_repo(tmp_path_factory)
    return _MADE["repo"]


def _throwaway_repo(tmp_path_factory):
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


def asv(repo, *args, timeout=900, **env):
    proc = subprocess.run(
        [*ASV, *args], cwd=repo, capture_output=True, text=True, env=dict(os.environ, **env), timeout=timeout
    )
    return proc.returncode, proc.stdout + proc.stderr


CI_TIER = {"RELUBENCH_ASV_TIER": "ci", "RELUBENCH_ASV_SOLVERS": "admm"}


@pytest.fixture(scope="module")
def main_script_run(throwaway_repo):
    """scripts/main.sh in the throwaway clone (history of its last 3 commits, ADMM alone): it builds asv's
    environment and the three commits once, for the tests below to share."""
    if "main" not in _MADE:
        _MADE["main"] = _main_script_run(throwaway_repo)
    return _MADE["main"]


def _main_script_run(throwaway_repo):
    env = dict(os.environ, **CI_TIER, RELUBENCH_VENV=sys.executable, RELUBENCH_HISTORY="3")
    proc = subprocess.run(
        ["bash", "scripts/main.sh", "--bench", "HistorySuite"],  # the clone's own copy
        cwd=throwaway_repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    return proc


def flagged(out):
    return [line for line in out.splitlines() if line.replace("|", " ").split()[:1] == ["+"]]


@pytest.mark.xdist_group("asv")
def test_asv_flags_injected_slowdown(throwaway_repo, main_script_run):
    """What `asv continuous` does (run both commits, compare), on the three commits main.sh already built:
    the no-op commit is not flagged, the 2x ADMM slowdown is, and nothing else is."""
    assert main_script_run.returncode == 0, main_script_run.stdout[-3000:] + main_script_run.stderr[-3000:]
    code, out = asv(throwaway_repo, "run", "-b", "SolveSuite.time_solve", "-a", "rounds=1", "HEAD~3..HEAD", **CI_TIER)
    assert code == 0, out
    _, same = asv(throwaway_repo, "compare", "--factor", "1.5", "-s", "HEAD~2", "HEAD~1", **CI_TIER)
    assert "time_solve('admm'" in same and not [
        line for line in flagged(same) if "SolveSuite.time_solve" in line
    ], same
    _, slow = asv(throwaway_repo, "compare", "--factor", "1.5", "-s", "HEAD~1", "HEAD", **CI_TIER)
    solve_lines = [line for line in flagged(slow) if "SolveSuite.time_solve" in line]
    assert "got worse" in slow and len(solve_lines) == 1 and "time_solve('admm'" in solve_lines[0], slow
    # every benchmark it flags is an ADMM one (the only backend of this run): nothing improved by chance
    assert all("admm" in line for line in flagged(slow)) and "got better" not in slow, slow


@pytest.mark.xdist_group("asv")
def test_main_script_history_draws_commits_offline(throwaway_repo, main_script_run, tmp_path):
    """scripts/main.sh benchmarks the last commits (the history tier) and HEAD, publishes and vendors: its
    HistorySuite graph draws a line through 3 commits in headless Chromium; asv's own page does not render offline."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from check_asv_offline import drawn_commits, find_chromium, render

    from relubench.present.asv_offline import make_offline

    proc = main_script_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "history" in proc.stdout and "report: reports/asv/index.html" in proc.stdout
    if find_chromium() is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
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
