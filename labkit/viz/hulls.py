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


def show_hull_grid(
    images: torch.Tensor, results: dict, *, column_titles: list[str] | None = None, size: float = 1.7
) -> plt.Figure:
    """One row per method, one column per image of ``images`` (B, 3, H, W): the original's hull (red) and
    GAD's (green) with RC in the title. ``results`` maps a method's name to its (GAD maps, scores), as
    :func:`labkit.gad.evaluation.hulls_by_method` returns them."""
    shape = len(results), len(images)
    fig, axes = plt.subplots(*shape, figsize=(size * shape[1], size * shape[0]), squeeze=False)
    for row, (name, (_maps, scores)) in enumerate(results.items()):
        for col, image in enumerate(images):
            title = f"{name}: RC={scores.complexity_ratio[col]:.2f}"
            if row == 0 and column_titles:
                title = f"{column_titles[col]}\n{title}"
            show_hulls(image, scores.original_hull[col], scores.gad_hull[col], axes[row, col], title=title)
    fig.tight_layout()
    return fig
