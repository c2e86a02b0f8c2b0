"""A A' past 2 GiB: numpy's syrk route crashes the process there (numpy issue #19685); admm's Woodbury matrix and
ipm's Schur complement meet it at n = 2 * 10^4 (admm at (20000, 50, 500) died with a segmentation fault)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from relubench.problem import arrays


def _run_apart(code: str, timeout: float) -> str:
    """What a fresh Python process running ``code`` prints (a crash there fails the caller, not the session)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    return done.stdout.strip()


@pytest.mark.parametrize("n, k, block_bytes", [(7, 3, 8 * 7 * 2), (50, 4, 8 * 50 * 3), (9, 2, 1)])
def test_outer_gram_in_row_blocks_is_the_product(monkeypatch, n, k, block_bytes):
    """The blocked route (uneven last block, one-row blocks) gives A A' exactly as the plain product does."""
    monkeypatch.setattr(arrays, "SYRK_SAFE_BYTES", block_bytes)
    A = np.random.default_rng(n).standard_normal((n, k))
    out = arrays.outer_gram(A)
    np.testing.assert_allclose(out, A @ A.copy().T, rtol=1e-13, atol=1e-13)
    assert out.shape == (n, n) and out.dtype == A.dtype


@pytest.mark.slow
def test_outer_gram_past_2_gib_does_not_crash():
    """20000 x 256 (a 3.2 GB result): ``A @ A.T`` ends the process with SIGSEGV here; outer_gram must not.
    Run apart, so that a crash fails this test instead of the test session."""
    code = (
        "import numpy as np; from relubench.problem.arrays import outer_gram\n"
        "A = np.ones((20000, 256)); A[:, 0] = np.arange(20000.0)\n"
        "B = outer_gram(A)\n"
        "assert B[19999, 19999] == 19999.0**2 + 255 and B[3, 19998] == 3.0 * 19998 + 255\n"
        "print('ok')"
    )
    assert _run_apart(code, timeout=120) == "ok"


def test_available_memory_honours_the_data_segment_cap():
    """A sweep case caps its data segment (RLIMIT_DATA): the memory a backend may plan for is below that cap, so
    its estimate refuses what the cap would kill mid-allocation. Run apart (the cap would stay on this process)."""
    code = (
        "import resource; from relubench.resources import available_memory\n"
        "cap = 3 << 30\n"
        "resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))\n"
        "print(available_memory() <= cap)"
    )
    assert _run_apart(code, timeout=60) == "True"
