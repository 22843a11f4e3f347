"""Convex hulls of important pixels over an image, as in the GAD paper's Figure 6 (original red, GAD green)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes

from labkit.viz.maps import to_numpy_image


def show_hulls(
    image: torch.Tensor,
    original_hull: torch.Tensor,
    gad_hull: torch.Tensor | None = None,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Axes:
    """Outline the (H, W) bool hull masks over ``image`` (3, H, W): the original's in red, GAD's in green."""
    ax = ax if ax is not None else plt.gca()
    ax.imshow(to_numpy_image(image), interpolation="nearest")
    for mask, colour in ((original_hull, "red"), (gad_hull, "lime")):
        if mask is not None and bool(mask.any()):
            ax.contour(mask.float().cpu().numpy(), levels=[0.5], colors=colour, linewidths=1.5)
    if title:
        ax.set_title(title, fontsize=9)
    ax.axis("off")
    return ax
