"""scripts/mutants.py stays in step with the code, and docs/mutation.md with its stored runs."""

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


def test_the_page_is_rendered_from_the_stored_runs_and_no_mutant_survives():
    rows = mutants.read_runs()
    assert (ROOT / "docs" / "mutation.md").read_text() == mutants.render(rows)
    latest = {r["key"]: r["outcome"] for r in rows}
    assert set(latest) == {m.key for m in mutants.MUTANTS}  # every mutant has been run
    assert all(o.startswith("killed") for o in latest.values()), latest  # and its latest run killed it
    assert re.search(r"survived in run", (ROOT / "docs" / "mutation.md").read_text())
