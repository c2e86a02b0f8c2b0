import numpy as np
import pytest

from relubench.problem import Problem


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Reference optima are cached in a per-session temporary folder, never in the user's home."""
    monkeypatch.setenv("RELUBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def small_problem(n=40, d=4, P=15, beta=0.1, seed=0, bias=False, patterns=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.maximum(X @ rng.standard_normal(d), 0) - 0.5 * np.maximum(X @ rng.standard_normal(d), 0)
    y += 0.1 * rng.standard_normal(n)
    return Problem.create(X, y, beta, patterns=P if patterns is None else patterns, seed=seed, bias=bias)


# ----------------------------------------------------------------------------------------- skips in CI
# CI (.ci/run sets RELUBENCH_STRICT_SKIPS=1) installs everything the suite uses: torch (CPU), Chromium, dask,
# numba, array-api-strict. A test may then skip only for a reason on this list; any other skip fails the run.
SKIP_ALLOWED = ("no CUDA device here",)
_SKIPPED: list[tuple[str, str]] = []


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append((report.nodeid, _skip_reason(report)))


def unexpected_skips(skipped: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The skips whose reason is not on SKIP_ALLOWED."""
    return [(node, why) for node, why in skipped if not any(ok in why for ok in SKIP_ALLOWED)]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    if not _SKIPPED:
        return
    terminalreporter.section("skipped tests and their reasons")
    for node, why in sorted(_SKIPPED):
        terminalreporter.write_line(f"{node}: {why}")


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ANN001
    import os

    if os.environ.get("RELUBENCH_STRICT_SKIPS") != "1" or hasattr(session.config, "workerinput"):
        return
    bad = unexpected_skips(_SKIPPED)
    if bad:
        for node, why in bad:
            print(f"\nnot allowed to skip in CI: {node}: {why}", flush=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
