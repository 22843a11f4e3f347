"""Pixel-level attribution maps made readable: absolute values clipped at a high percentile.

Pixel attributions (IG, DeepLIFT, gradient x input) have a few extreme values that squeeze a
min-max colour scale; Sundararajan et al. (2017) and Smilkov et al. (2017) show |A| clipped
at its 99th percentile. This does only that, for display; the numbers keep their meaning elsewhere.
"""

from __future__ import annotations

import torch


def clipped_magnitude(saliency: torch.Tensor, percentile: float = 99.0) -> torch.Tensor:
    """|``saliency``| (h, w) divided by its ``percentile``-th percentile and clipped to [0, 1] (CPU, float)."""
    if saliency.ndim != 2:
        raise ValueError(f"Expected one (h, w) map, got shape {tuple(saliency.shape)}; sum the channels first.")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}.")
    magnitude = saliency.detach().float().abs().cpu()
    top = torch.quantile(magnitude.flatten(), percentile / 100)
    return (magnitude / top).clamp(max=1) if top > 0 else magnitude
