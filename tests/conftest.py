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
