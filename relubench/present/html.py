"""HTML building blocks of the reports: embedded PNG figures, escaped tables and captions."""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import pandas as pd
from matplotlib.figure import Figure


def subplots(*args: Any, figsize: tuple[float, float] = (5.5, 3.6), **kwargs: Any) -> tuple[Figure, Any]:
    """A figure and its axes (``Figure.subplots`` arguments), drawn without pyplot: no GUI backend, no global state."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def png(fig: Figure) -> str:
    """The figure as an <img> with an embedded PNG (the page opens offline)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def table_html(df: pd.DataFrame) -> str:
    """An HTML table of the frame; every cell escaped, floats to 3 significant digits, NaN as '-'."""

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return "-" if math.isnan(v) else (f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}")
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>" for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def caption(text: str) -> str:
    return f"<p class='caption'>{html.escape(text)}</p>"
