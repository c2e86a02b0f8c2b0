"""Check that published asv HTML renders offline: serve it on localhost, load a benchmark's graph page in
headless Chromium (network off but loopback), and require a drawn flot graph and no asset-load failure.
``--min-commits N`` also requires a line of the drawn graph with at least N commits (points with a value): the
server adds a probe to the page it serves (the files are not changed) that reads the points flot drew.

    python scripts/check_asv_offline.py reports/asv bench_solvers.AccuracySuite.track_relative_gap --png shot.png
    python scripts/check_asv_offline.py reports/asv bench_solvers.SolveSuite.time_solve --min-commits 3

Exit code 0 when the graph rendered (with enough commits), 1 when it did not, 2 on bad input (no index.html, no
Chromium).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import re
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


# Runs in the served page: the largest number of distinct x positions with a finite value in one series of the
# main graph, written to <body data-relubench-points>; --dump-dom shows it.
PROBE = (
    b"<script>setInterval(function () {"
    b" var plot = window.jQuery && jQuery('#main-graph').data('plot'); if (!plot) return; var most = 0;"
    b" plot.getData().forEach(function (s) { var xs = {};"
    b" (s.data || []).forEach(function (p) { if (p && p[1] !== null && isFinite(p[1])) xs[p[0]] = 1; });"
    b" most = Math.max(most, Object.keys(xs).length); });"
    b" document.body.setAttribute('data-relubench-points', String(most)); }, 250);</script>"
)


def drawn_commits(dom: str) -> int:
    """Most commits drawn on one line of the main graph, as the probe saw them (0 when no graph was drawn)."""
    match = re.search(r'data-relubench-points="(\d+)"', dom)
    return int(match.group(1)) if match else 0


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def send_head(self) -> io.BytesIO | object | None:
        """index.html with the probe before </body>; every other file as it is."""
        path = self.translate_path(self.path)
        if not path.endswith("index.html") and not self.path.split("?", 1)[0].split("#", 1)[0].endswith("/"):
            return super().send_head()
        try:
            body = Path(path if path.endswith("index.html") else f"{path}/index.html").read_bytes()
        except OSError:
            return super().send_head()
        body = body.replace(b"</body>", PROBE + b"</body>", 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("html_dir")
    ap.add_argument("benchmark", help="benchmark name, e.g. bench_solvers.AccuracySuite.track_relative_gap")
    ap.add_argument("--png", type=Path, help="also save a screenshot here")
    ap.add_argument("--min-commits", type=int, default=0, help="require a line drawn with at least this many commits")
    args = ap.parse_args()
    root = Path(args.html_dir)
    if not (root / "index.html").is_file():
        print(f"check_asv_offline: error: {root}/index.html not found; run asv publish first", file=sys.stderr)
        return 2
    try:
        drawn, dom = render(root, args.benchmark, args.png)
    except FileNotFoundError as exc:
        print(f"check_asv_offline: error: {exc}", file=sys.stderr)
        return 2
    commits = drawn_commits(dom)
    enough = commits >= args.min_commits
    print(f"{args.benchmark}: graph {'rendered' if drawn else 'NOT rendered'}, {commits} commits on its longest line")
    if drawn and not enough:
        print(f"fewer than --min-commits {args.min_commits}")
    return 0 if drawn and enough else 1


if __name__ == "__main__":
    sys.exit(main())
