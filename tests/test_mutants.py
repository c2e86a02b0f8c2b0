"""scripts/mutants.py stays in step with the code, and docs/mutation.md with its list."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import mutants  # noqa: E402


def test_every_mutant_applies_to_the_code_once():
    assert mutants.check(mutants.MUTANTS) == []
    assert len({m.key for m in mutants.MUTANTS}) == len(mutants.MUTANTS)
    assert all(m.old != m.new for m in mutants.MUTANTS)


def test_the_page_reports_every_mutant_and_no_survivor():
    page = (ROOT / "docs" / "mutation.md").read_text()
    keys = re.findall(r"^\| (M\d+) \|", page, re.M)
    assert sorted(keys) == sorted(m.key for m in mutants.MUTANTS)
    assert re.search(rf"\*\*{len(mutants.MUTANTS)} mutants: {len(mutants.MUTANTS)} killed, 0 survived\.\*\*", page)
