"""The skip allow-list of CI (tests/conftest.py): only the CUDA checks may skip there."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import SKIP_ALLOWED, unexpected_skips

ROOT = Path(__file__).resolve().parents[1]


def test_only_cuda_skips_are_allowed():
    assert SKIP_ALLOWED == ("no CUDA device here",)
    skipped = [
        ("tests/test_devices.py::test_cuda_path[x]", "no CUDA device here (CI): the generic path runs on the CPU"),
        ("tests/test_asv.py::test_report", "Chromium is not installed (Debian: apt-get install chromium)"),
    ]
    assert unexpected_skips(skipped) == [skipped[1]]


def test_a_skip_off_the_list_fails_a_strict_run(tmp_path):
    (tmp_path / "test_x.py").write_text(
        "import pytest\n"
        "def test_fine():\n    pass\n"
        "def test_cuda():\n    pytest.skip('no CUDA device here')\n"
        "def test_other():\n    pytest.skip('Chromium is not installed')\n"
    )
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(tmp_path)]
    strict = subprocess.run(run, cwd=tmp_path, env=os.environ | {"RELUBENCH_STRICT_SKIPS": "1"},
                            capture_output=True, text=True)  # fmt: skip
    assert strict.returncode == 1, strict.stdout
    assert "not allowed to skip in CI: test_x.py::test_other: Chromium is not installed" in strict.stdout
    assert "test_x.py::test_cuda: no CUDA device here" in strict.stdout  # listed with its reason
    loose = subprocess.run(run, cwd=tmp_path, env=os.environ | {"RELUBENCH_STRICT_SKIPS": "0"},
                           capture_output=True, text=True)  # fmt: skip
    assert loose.returncode == 0, loose.stdout
