"""Insertion and deletion curves (score against the fraction of changed pixels), one line per method."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from labkit.metrics import Curves


def show_curves(curves: Mapping[str, Curves], ax: Axes | None = None, *, image: int = 0, title: str = "") -> Axes:
    """Plot each method's curve for ``image``, with its AUC in the legend."""
    ax = ax if ax is not None else plt.gca()
    for name, curve in curves.items():
        ax.plot(
            curve.fractions.cpu(),
            curve.scores[image].cpu(),
            label=f"{name} (AUC {float(curve.auc[image]):.2f})",
        )
    ax.set_xlabel("fraction of pixels changed")
    ax.set_ylabel("probability of the class")
    ax.set_xlim(0, 1)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return ax
