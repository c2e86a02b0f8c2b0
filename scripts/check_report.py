"""Check that a `relubench report` page renders offline in headless Chromium: every embedded figure decodes,
and every named section (e.g. the seed experiments) is on the page.

    python scripts/check_report.py reports/quick/index.html --sections relaxation_gap nonconvex_gaps \\
        iteration_time narrow --png shot.png

The page is opened from disk (file://) with networking off. Exit code 0 when all figures decoded and all
sections are present, 1 otherwise, 2 on bad input (no page, no Chromium).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from check_asv_offline import CHROMIUM_FLAGS, find_chromium


def render(page: Path, png: Path | None = None) -> str:
    """The DOM of the page after load, as headless Chromium sees it."""
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found (Debian: apt-get install chromium)")
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9"]
        dom = subprocess.run([chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        if png is not None:
            subprocess.run(
                [chromium, *flags, "--window-size=1200,5000", f"--screenshot={png}", url],
                capture_output=True,
                timeout=120,
            )
    return dom


def check(dom: str, sections: list[str]) -> tuple[bool, str]:
    m = re.search(r'data-images-loaded="(\d+)/(\d+)"', dom)
    if m is None:
        return False, "the page did not finish loading (no data-images-loaded mark)"
    decoded, total = int(m.group(1)), int(m.group(2))
    missing = [s for s in sections if f'id="{s}"' not in dom]
    ok = total > 0 and decoded == total and not missing
    msg = f"{decoded}/{total} figures decoded" + (f"; missing sections: {', '.join(missing)}" if missing else "")
    return ok, msg


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("page", type=Path, help="index.html written by `relubench report`")
    ap.add_argument("--sections", nargs="*", default=[], help="section ids that must be present")
    ap.add_argument("--png", type=Path, help="also save a full-page screenshot here")
    args = ap.parse_args()
    if not args.page.is_file():
        print(f"check_report: no such page: {args.page}", file=sys.stderr)
        return 2
    try:
        dom = render(args.page, args.png)
    except FileNotFoundError as exc:
        print(f"check_report: {exc}", file=sys.stderr)
        return 2
    ok, msg = check(dom, args.sections)
    print(("ok: " if ok else "FAILED: ") + msg)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
