"""Check that published asv HTML renders offline: serve it on localhost, load a benchmark's graph page in
headless Chromium (network off but loopback), and require a drawn flot graph and no asset-load failure.

    python scripts/check_asv_offline.py reports/asv bench_solvers.AccuracySuite.track_relative_gap --png shot.png

Exit code 0 when the graph rendered, 1 when it did not, 2 on bad input (no index.html, no Chromium).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=15000",
    "--window-size=1280,900",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render(html_dir: Path, fragment: str, png: Path | None = None) -> tuple[bool, str]:
    """(graph drawn, DOM text) for http://127.0.0.1:PORT/#fragment served from html_dir."""
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found (Debian: apt-get install chromium)")
    handler = functools.partial(QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/#{fragment}"
    try:
        with tempfile.TemporaryDirectory() as profile:
            flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
            dom = subprocess.run(
                [chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
            ).stdout
            if png is not None:
                subprocess.run([chromium, *flags, f"--screenshot={png}", url], capture_output=True, timeout=120)
    finally:
        server.shutdown()
    drawn = (
        'class="flot-base"' in dom
        and "Failed to load" not in dom
        and "js_load_failure" not in dom.split("<body", 1)[-1]
    )
    return drawn, dom


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("html_dir")
    ap.add_argument("benchmark", help="benchmark name, e.g. bench_solvers.AccuracySuite.track_relative_gap")
    ap.add_argument("--png", type=Path, help="also save a screenshot here")
    args = ap.parse_args()
    root = Path(args.html_dir)
    if not (root / "index.html").is_file():
        print(f"check_asv_offline: error: {root}/index.html not found; run asv publish first", file=sys.stderr)
        return 2
    try:
        drawn, _ = render(root, args.benchmark, args.png)
    except FileNotFoundError as exc:
        print(f"check_asv_offline: error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.benchmark}: graph {'rendered' if drawn else 'NOT rendered'}")
    return 0 if drawn else 1


if __name__ == "__main__":
    sys.exit(main())
