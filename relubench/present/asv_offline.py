"""Make ``asv publish`` output viewable offline.

asv's index.html loads jQuery, flot, Bootstrap, stupidtable and md5 from CDNs and renders blank without a
network. :func:`make_offline` copies the vendored copies in ``relubench/present/asv_vendor`` (licences in its
``licenses/`` folder) next to the published HTML and rewrites every CDN ``<script>``/``<link>`` to them.
Browsers block the JSON requests of a page opened as ``file://``: serve the folder (``asv preview`` or
``python -m http.server -d reports/asv``) and open it on localhost.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from relubench.atomic import write_whole
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
    """Vendor the assets into ``html_dir`` and rewrite its HTML files. Returns the rewritten files.

    Every page is read and rewritten in memory first: a page that is not UTF-8 or needs an asset with no
    vendored copy is an InputError before anything is changed. A ``vendor`` that is a link or not a folder is
    refused (it would be deleted or written through). Pages are then replaced whole (temporary file, rename).
    """
    root = Path(html_dir)
    if root.is_symlink() or not root.is_dir():
        raise InputError(f"{root}: not a folder (give the asv html_dir, e.g. reports/asv)")
    index = root / "index.html"
    if not index.is_file():
        raise InputError(f"{root}: no index.html; run `asv publish` first")
    dest = root / "vendor"
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise InputError(f"{dest}: exists and is not a plain folder; remove it first")
    rewritten: list[tuple[Path, str]] = []
    for page in sorted(root.glob("*.html")):
        if page.is_symlink() or not page.is_file():
            raise InputError(f"{page}: not a plain file")
        try:
            text = page.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{page}: not UTF-8 text") from None
        new, missing = _rewrite(text)
        if missing:
            raise InputError(f"{page}: no vendored copy of {', '.join(missing)}")
        if new != text:
            rewritten.append((page, new))
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-vendor-"))
    try:
        shutil.copytree(VENDOR, staging, dirs_exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for page, new in rewritten:
        write_whole(page, lambda fh, text=new: fh.write(text), binary=False)
    return [page for page, _ in rewritten]


def _read_index(html_dir: str | Path) -> dict | None:
    """asv's index.json (None when there is none); InputError for one that is not asv's."""
    path = Path(html_dir) / "index.json"
    if not path.exists():
        return None
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = None
    if not isinstance(index, dict) or not isinstance(index.get("benchmarks"), dict):
        raise InputError(f"{path}: not an index written by `asv publish`")
    return index


def unmeasured(html_dir: str | Path) -> list[str]:
    """Benchmarks asv's index.json lists that no commit has a result for (no summary graph was drawn)."""
    index = _read_index(html_dir)
    summary = Path(html_dir) / "graphs" / "summary"
    return [] if index is None else sorted(n for n in index["benchmarks"] if not (summary / f"{n}.json").is_file())


def drop_unmeasured(html_dir: str | Path) -> list[str]:
    """Leave the :func:`unmeasured` benchmarks out of asv's index.json (a run narrowed with ``--bench``: asv lists
    every benchmark it discovered, and its summary page then asks for graphs that were never drawn). Returns the
    names left out; InputError for an index.json that is not asv's."""
    gone = unmeasured(html_dir)
    if gone:
        index = _read_index(html_dir)
        assert index is not None
        index["benchmarks"] = {k: v for k, v in index["benchmarks"].items() if k not in gone}
        write_whole(Path(html_dir) / "index.json", lambda f: json.dump(index, f), binary=False)
    return gone
