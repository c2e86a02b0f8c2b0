"""Check the published site: serve a reports folder on loopback, open its index.html and every page and file it
links in headless Chromium (network off but loopback), and fail on any request the folder could not answer
(a missing page, script, style sheet, font, image or data file) or any link that leaves the folder.

    python scripts/check_site.py reports

Exit code 0 when every linked page loaded with all its assets, 1 otherwise, 2 on bad input (no index.html, no
Chromium).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import subprocess
import sys
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from check_asv_offline import CHROMIUM_FLAGS, find_chromium


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.extend(v for k, v in attrs if k == "href" and v)


def linked(index: Path) -> list[str]:
    """The href of every link on the page, in order."""
    parser = _Links()
    parser.feed(index.read_text(encoding="utf-8"))
    return parser.links


class _Recorder(http.server.SimpleHTTPRequestHandler):
    failures: list[str]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if self.path != "/favicon.ico":  # Chromium's own probe of every site, not an asset a page asked for
            self.failures.append(f"{code} {unquote(self.path)}")
        super().send_error(code, message, explain)


def check_site(root: Path) -> tuple[list[str], list[str]]:
    """(pages opened, problems): every link of root/index.html opened in Chromium from a loopback server."""
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found (Debian: apt-get install chromium)")
    problems: list[str] = []
    pages = ["index.html"]
    for href in linked(root / "index.html"):
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("/"):
            problems.append(f"link leaves the folder: {href}")
        else:
            pages.append(parts.path)
    handler_cls = type("Recorder", (_Recorder,), {"failures": problems})
    handler = functools.partial(handler_cls, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with tempfile.TemporaryDirectory() as profile:
            flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
            for page in pages:
                dom = subprocess.run(
                    [chromium, *flags, "--dump-dom", base + page], capture_output=True, text=True, timeout=120
                ).stdout
                if page.endswith(".html") and "<body" not in dom:
                    problems.append(f"{page} did not load")
    finally:
        server.shutdown()
    return pages, problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path, help="the reports folder (holds index.html written by `relubench publish`)")
    args = ap.parse_args()
    if not (args.root / "index.html").is_file():
        print(f"check_site: no index.html in {args.root} (run `relubench publish {args.root}`)", file=sys.stderr)
        return 2
    try:
        pages, problems = check_site(args.root)
    except FileNotFoundError as exc:
        print(f"check_site: {exc}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"FAILED: {p}")
    print(f"{len(pages)} page(s) opened, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
