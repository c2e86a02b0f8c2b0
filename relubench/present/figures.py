"""Stand-alone figures written to a file the user names (PNG, written whole: temporary file, then rename)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from relubench.atomic import write_whole
from relubench.present.html import subplots


def write_path_figure(rows: list[dict[str, Any]], path: str | Path, title: str) -> None:
    """Held-out accuracy (else held-out loss per row, else the objective) and active neurons against beta."""
    metric, label = next(
        ((k, lab) for k, lab in (("test_accuracy", "held-out accuracy"), ("test_loss", "held-out loss per row"))
         if any(r.get(k) is not None for r in rows)),
        ("objective", "objective"),
    )  # fmt: skip
    beta = np.array([r["beta"] for r in rows], dtype=float)
    value = np.array([np.nan if r.get(metric) is None else r[metric] for r in rows], dtype=float)
    neurons = np.array([r["active_neurons"] for r in rows], dtype=float)
    fig, (ax1, ax2) = subplots(1, 2, figsize=(10, 3.6))
    ax1.plot(beta, value, marker="o")
    ax1.set_ylabel(label)
    ax2.plot(beta, neurons, marker="o")
    ax2.set_ylabel("active neurons")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel("beta")
    fig.suptitle(title, fontsize=9)
    write_whole(path, lambda fh: fig.savefig(fh, format="png", dpi=90, bbox_inches="tight"))
