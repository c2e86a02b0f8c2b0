"""The asv harness and the published site: `asv check` passes; in a throwaway clone, scripts/main.sh draws a
history that renders offline (vendored assets; graphs drawn in headless Chromium), `asv run` + `asv compare` (what
`asv continuous` does) flag an injected 2x slowdown in ADMM and not a no-op commit, and the site's index opens
every page it links."""

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


def test_asv_check_passes():
    proc = subprocess.run([*ASV, "check", "--python=same"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No problems found" in proc.stdout


def make_throwaway_repo(root):
    """A clone of this repository with two extra commits: a no-op change, then a 2x ADMM slowdown."""
    repo = root / "repo"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(repo)], check=True)
    # uncommitted work in the checkout under test travels too (staged or not, new, deleted), so that the clone
    # benchmarks this tree
    def listed(*args):
        return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()

    for rel in listed("diff", "--name-only", "--no-renames", "HEAD") + listed("ls-files", "-o", "--exclude-standard"):
        if (ROOT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, repo / rel)
        elif (repo / rel).is_file():
            (repo / rel).unlink()
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
TINY_SWEEP = """name = "tiny"
solvers = ["admm", "clarabel"]
formulations = ["relu", "gated"]
presets = ["low"]
time_limit = 60
[[datasets]]
name = "gaussian"
sizes = [[40, 3, 8]]
beta = 0.1
"""


def flagged(out):
    return [line for line in out.splitlines() if line.replace("|", " ").split()[:1] == ["+"]]


def test_main_script_history_regressions_and_site(tmp_path):
    """One throwaway clone, one asv environment and one build per commit for three checks (a single test, so that
    the minute of building is paid once whatever the scheduling of the test processes):

    1. scripts/main.sh benchmarks the clone's last 3 commits (history tier) and HEAD, publishes, vendors and
       writes the site's index;
    2. `asv run` + `asv compare` on those builds (what `asv continuous` does) pass the no-op commit and flag the
       2x ADMM slowdown, and nothing else;
    3. in headless Chromium: the HistorySuite graph draws a line through 3 commits; asv's own page stays blank
       without a network; the site's index (with a sweep report beside the asv pages) opens every page it links
       with no missing asset."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    repo = make_throwaway_repo(tmp_path)
    env = dict(os.environ, **CI_TIER, RELUBENCH_VENV=sys.executable, RELUBENCH_HISTORY="3")
    proc = subprocess.run(
        ["bash", "scripts/main.sh", "--bench", "HistorySuite"],  # the clone's own copy
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "history" in proc.stdout and "the site: reports/index.html" in proc.stdout
    assert 'href="asv/index.html"' in (repo / "reports" / "index.html").read_text().replace("'", '"')

    code, out = asv(repo, "run", "-b", "SolveSuite.time_solve", "-a", "rounds=1", "HEAD~3..HEAD", **CI_TIER)
    assert code == 0, out
    _, same = asv(repo, "compare", "--factor", "1.5", "-s", "HEAD~2", "HEAD~1", **CI_TIER)
    assert "time_solve('admm'" in same and not [line for line in flagged(same) if "SolveSuite" in line], same
    _, slow = asv(repo, "compare", "--factor", "1.5", "-s", "HEAD~1", "HEAD", **CI_TIER)
    # the slowdown is flagged, and the one-solve benchmark of ADMM shows it (asv marks a ratio "~" where its few
    # samples of a second-long solve do not make the change significant: the ratio itself must be >= 1.5)
    admm_solve = [line for line in slow.splitlines() if "SolveSuite.time_solve('admm'" in line]
    assert "got worse" in slow and len(admm_solve) == 1, slow
    assert float(admm_solve[0].split("|")[4].strip().lstrip("~")) >= 1.5, slow
    # every benchmark it flags is an ADMM one (the only backend of this run), and none got better by chance
    assert all("admm" in line for line in flagged(slow)) and "got better" not in slow, slow

    sys.path.insert(0, str(ROOT / "scripts"))
    from check_asv_offline import drawn_commits, find_chromium, render
    from check_site import check_site

    from relubench.present.asv_offline import drop_unmeasured, make_offline

    if find_chromium() is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
    html = repo / "reports" / "asv"
    history = "bench_solvers.HistorySuite.time_solve"
    drawn, dom = render(html, history, tmp_path / "graph.png")
    assert drawn, dom[-2000:]
    assert drawn_commits(dom) >= 3, dom[-2000:]
    assert (tmp_path / "graph.png").stat().st_size > 10_000
    # asv's own page needs CDNs: blank here, where only loopback is reachable; vendored, it draws again
    subprocess.run([*ASV, "publish"], cwd=repo, check=True, capture_output=True)
    assert not render(html, history)[0]
    make_offline(html)
    # the run above was narrowed to two suites: the others are left out of asv's index (no graphs to ask for)
    assert "bench_solvers.SetupSuite.time_setup" in drop_unmeasured(html)
    assert "https://" not in (html / "index.html").read_text().split("<body", 1)[0]
    assert render(html, history)[0]

    # the site: a sweep report and a figure beside the asv pages, all linked from one index
    (repo / "tiny.toml").write_text(TINY_SWEEP)
    cli = [sys.executable, "-m", "relubench"]
    subprocess.run([*cli, "sweep", "tiny.toml", "--no-progress"], cwd=repo, check=True, capture_output=True)
    subprocess.run([*cli, "report", "results/tiny.parquet"], cwd=repo, check=True, capture_output=True)
    (repo / "reports" / "figures").mkdir()
    shutil.copy2(tmp_path / "graph.png", repo / "reports" / "figures" / "graph.png")
    subprocess.run([*cli, "publish"], cwd=repo, check=True, capture_output=True)
    pages, problems = check_site(repo / "reports")
    assert not problems, problems
    assert {"index.html", "asv/index.html", "tiny/index.html", "figures/graph.png"} <= set(pages), pages
