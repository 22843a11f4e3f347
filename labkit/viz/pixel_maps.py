"""Pixel-level attribution maps made readable: absolute values clipped at a high percentile, and
maps from several references (baselines) under the references themselves.

Pixel attributions (IG, DeepLIFT, gradient x input) have a few extreme values that squeeze a
min-max colour scale; Sundararajan et al. (2017) and Smilkov et al. (2017) show |A| clipped
at its 99th percentile. This does only that, for display; the numbers keep their meaning elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from labkit.viz.maps import show_heatmap, to_numpy_image


def clipped_magnitude(saliency: torch.Tensor, percentile: float = 99.0) -> torch.Tensor:
    """|``saliency``| (h, w) divided by its ``percentile``-th percentile and clipped to [0, 1] (CPU, float)."""
    if saliency.ndim != 2:
        raise ValueError(f"Expected one (h, w) map, got shape {tuple(saliency.shape)}; sum the channels first.")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}.")
    magnitude = saliency.detach().float().abs().cpu()
    top = torch.quantile(magnitude.flatten(), percentile / 100)
    return (magnitude / top).clamp(max=1) if top > 0 else magnitude


def show_reference_maps(
    image: torch.Tensor, references: torch.Tensor, maps: torch.Tensor, names: Sequence[str], method: str
) -> Figure:
    """Two rows: each reference (baseline) image (R, 3, H, W) in [0, 1] above |its map| (R, h, w) over ``image``,
    the maps shown with :func:`clipped_magnitude`; ``names`` the R references, ``method`` for the titles."""
    if not len(references) == len(maps) == len(names):
        raise ValueError(f"Got {len(references)} references, {len(maps)} maps and {len(names)} names; give one each.")
    figure, axes = plt.subplots(2, len(names), figsize=(2.5 * len(names), 5.2), squeeze=False)
    for column, (name, reference, saliency) in enumerate(zip(names, references, maps)):
        axes[0, column].imshow(to_numpy_image(reference))
        axes[0, column].set_title(f"reference: {name}", fontsize=9)
        axes[0, column].axis("off")
        show_heatmap(image, clipped_magnitude(saliency), axes[1, column], title=f"|{method}| from {name}")
    figure.tight_layout()
    return figure
