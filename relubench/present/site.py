"""One site over everything under a reports folder: ``reports/index.html`` links the asv pages, every sweep
report (newest first, with its headline numbers) and the figures beside them, with relative links only, so
the folder can be copied to any static host as it is.

Written by ``relubench publish [DIR]`` (``scripts/main.sh`` runs it after ``asv publish``). Only DIR/index.html
is written; everything it links is found, never made, here. asv's pages load their data with requests that
browsers refuse from ``file://``: serve the folder (``python3 -m http.server -d reports``) to browse them; the
sweep reports and this index also open from disk.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from urllib.parse import quote

from relubench.atomic import write_whole
from relubench.errors import InputError

FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".pdf")
STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "li{margin:.3em 0}.meta{color:#666;font-size:.9em}code{background:#f4f4f4;padding:0 .2em}"
)


def _href(path: Path, root: Path) -> str:
    return quote(path.relative_to(root).as_posix())


def _when(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")


def _headlines(folder: Path) -> list[str]:
    """``key: value`` lines of a report's headlines.json (a malformed file is named, not fatal)."""
    path = folder / "headlines.json"
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return ["headlines.json could not be read"]
    if not isinstance(data, dict):
        return ["headlines.json holds no table of headlines"]
    lines = []
    for section, values in sorted(data.items()):
        if isinstance(values, dict):
            shown = ", ".join(f"{k} = {_num(v)}" for k, v in sorted(values.items())[:6])
            lines.append(f"{section}: {shown}" + (" ..." if len(values) > 6 else ""))
        else:
            lines.append(f"{section}: {_num(values)}")
    return lines


def _num(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _figures(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FIGURE_SUFFIXES)


def site_contents(root: Path) -> dict[str, list[Path]]:
    """What the index links: the asv index, sweep report pages (newest first) and loose figures."""
    asv = [root / "asv" / "index.html"] if (root / "asv" / "index.html").is_file() else []
    reports = [
        p / "index.html"
        for p in root.iterdir()
        if p.is_dir() and p.name != "asv" and not p.name.startswith(".") and (p / "index.html").is_file()
    ]
    reports.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    figures = _figures(root) + (_figures(root / "figures") if (root / "figures").is_dir() else [])
    return {"asv": asv, "reports": reports, "figures": figures}


def write_site_index(root: str | Path) -> Path:
    """Write ROOT/index.html linking what ROOT holds; returns its path. InputError if ROOT is not a folder."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"reports folder not found: {root} (run scripts/main.sh or `relubench report` first)")
    found = site_contents(root)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>relubench results</title><style>{STYLE}"]
    parts.append("</style></head><body><h1>relubench results</h1>")
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts.append(f"<p class='meta'>Index written {stamp} by <code>relubench publish</code>.</p>")
    parts.append("<h2 id='asv'>Benchmarks over commits (asv)</h2>")
    if found["asv"]:
        page = found["asv"][0]
        parts.append(
            f"<p><a href='{_href(page, root)}'>asv: every benchmark over the commits measured</a> "
            f"<span class='meta'>(published {_when(page)}; served over http, e.g. "
            "<code>python3 -m http.server -d reports</code>: browsers refuse its data files from file://)</span></p>"
        )
    else:
        parts.append("<p>None yet: <code>bash scripts/main.sh</code> runs and publishes them.</p>")
    parts.append("<h2 id='reports'>Sweep reports (newest first)</h2>")
    if found["reports"]:
        parts.append("<ul>")
        for page in found["reports"]:
            folder = page.parent
            items = "".join(f"<li>{html.escape(line)}</li>" for line in _headlines(folder))
            figs = "".join(f"<li><a href='{_href(f, root)}'>{html.escape(f.name)}</a></li>" for f in _figures(folder))
            parts.append(
                f"<li><a href='{_href(page, root)}'>{html.escape(folder.name)}</a> "
                f"<span class='meta'>written {_when(page)}</span>"
                + (f"<ul>{items}</ul>" if items else "")
                + (f"<p class='meta'>figures:</p><ul>{figs}</ul>" if figs else "")
                + "</li>"
            )
        parts.append("</ul>")
    else:
        parts.append(
            "<p>None yet: <code>relubench sweep configs/quick.toml &amp;&amp; relubench report</code>, then "
            "<code>relubench publish</code>.</p>"
        )
    parts.append("<h2 id='figures'>Figures</h2>")
    if found["figures"]:
        parts.append("<ul>")
        parts.extend(f"<li><a href='{_href(f, root)}'>{html.escape(f.name)}</a></li>" for f in found["figures"])
        parts.append("</ul>")
    else:
        parts.append(
            "<p>None yet: e.g. <code>relubench path ... --figure reports/figures/path.png</code> lands here.</p>"
        )
    parts.append("</body></html>\n")
    out = root / "index.html"
    write_whole(out, lambda f: f.write("".join(parts)), binary=False)
    return out
