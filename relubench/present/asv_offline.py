"""Make ``asv publish`` output viewable offline.

asv's index.html loads jQuery, flot, Bootstrap, stupidtable and md5 from CDNs and renders blank without a
network. :func:`make_offline` copies the vendored copies in ``relubench/present/asv_vendor`` (licences in its
``licenses/`` folder) next to the published HTML and rewrites every CDN ``<script>``/``<link>`` to them.
Browsers block the JSON requests of a page opened as ``file://``: serve the folder (``asv preview`` or
``python -m http.server -d reports/asv``) and open it on localhost.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from relubench.errors import InputError

VENDOR = Path(__file__).parent / "asv_vendor"

# CDN file name -> vendored file
ASSETS = {
    "jquery-3.3.1.min.js": "jquery.min.js",
    "jquery.flot.min.js": "jquery.flot.js",
    "jquery.flot.time.min.js": "jquery.flot.time.js",
    "jquery.flot.selection.min.js": "jquery.flot.selection.js",
    "jquery.flot.categories.min.js": "jquery.flot.categories.js",
    "jquery.flot.orderBars.js": "jquery.flot.orderBars.js",
    "stupidtable.min.js": "stupidtable.min.js",
    "md5.min.js": "md5.min.js",
    "bootstrap.min.js": "bootstrap.min.js",
    "bootstrap.min.css": "bootstrap.min.css",
}

_TAG = re.compile(r"<(script|link)\b[^>]*?(?:src|href)=\"(https?://[^\"]+)\"[^>]*>", re.IGNORECASE)


def _rewrite(html: str) -> tuple[str, list[str]]:
    missing: list[str] = []

    def repl(m: re.Match[str]) -> str:
        kind, url = m.group(1).lower(), m.group(2)
        name = url.rsplit("/", 1)[-1]
        if name not in ASSETS:
            if kind == "script" or "stylesheet" in m.group(0):
                missing.append(url)
            return m.group(0)
        local = f"vendor/{ASSETS[name]}"
        if kind == "script":
            return f'<script src="{local}" onerror="js_load_failure()">'
        return f'<link rel="stylesheet" href="{local}">'

    return _TAG.sub(repl, html), missing


def make_offline(html_dir: str | Path) -> list[Path]:
    """Vendor the assets into ``html_dir`` and rewrite its HTML files. Returns the rewritten files."""
    root = Path(html_dir)
    index = root / "index.html"
    if not index.is_file():
        raise InputError(f"{root}: no index.html; run `asv publish` first")
    dest = root / "vendor"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(VENDOR, dest)
    changed = []
    for page in sorted(root.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        new, missing = _rewrite(text)
        if missing:
            raise InputError(f"{page}: no vendored copy of {', '.join(missing)}")
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed
