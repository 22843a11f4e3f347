"""Pictures of explanations: a map over its image, grids of maps, top-k bars, patches."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def to_numpy_image(image: torch.Tensor) -> np.ndarray:
    """A (3, H, W) image in [0, 1] as an (H, W, 3) array for ``imshow`` (clamped)."""
    return image.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def resize_map(saliency: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A (h, w) map bilinearly resized to ``size``."""
    saliency = saliency.detach().float()
    if tuple(saliency.shape) == tuple(size):
        return saliency
    return F.interpolate(saliency[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]


def show_heatmap(
    image: torch.Tensor,
    saliency: torch.Tensor,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    alpha: float = 0.5,
    cmap: str = "jet",
    colorbar: bool = False,
) -> Axes:
    """Draw ``saliency`` (h, w) over ``image`` (3, H, W) with transparency ``alpha``.

    The map is resized to the image; values are shown on their own scale (min to max),
    so positive and negative maps both read correctly with the colour bar.
    """
    if saliency.ndim != 2:
        raise ValueError(f"Expected one (h, w) map, got shape {tuple(saliency.shape)}.")
    ax = ax if ax is not None else plt.gca()
    ax.imshow(to_numpy_image(image))
    shown = ax.imshow(resize_map(saliency, tuple(image.shape[-2:])).cpu().numpy(), cmap=cmap, alpha=alpha)
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title, fontsize=9)
    ax.axis("off")
    return ax


def show_maps(
    images: torch.Tensor,
    maps: torch.Tensor | Sequence[torch.Tensor],
    titles: Sequence[str] | None = None,
    *,
    columns: int = 4,
    alpha: float = 0.5,
    cmap: str = "jet",
    size: float = 2.6,
) -> Figure:
    """A grid with each map of ``maps`` (B, h, w) over the matching image of ``images`` (B, 3, H, W).

    ``images`` may also be a single (3, H, W) image shown under every map (to compare methods).
    """
    maps = list(maps)
    if images.ndim == 3:
        images = images.expand(len(maps), *images.shape)
    if len(images) != len(maps):
        raise ValueError(f"Got {len(images)} images for {len(maps)} maps.")
    titles = list(titles) if titles is not None else [None] * len(maps)
    rows = -(-len(maps) // columns)
    cols = min(columns, len(maps))
    figure, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.flat[len(maps) :]:
        ax.axis("off")
    for ax, image, saliency, title in zip(axes.flat, images, maps, titles):
        show_heatmap(image, saliency, ax, title=title, alpha=alpha, cmap=cmap)
    figure.tight_layout()
    return figure


def show_topk(
    predictions: Sequence[tuple[int, str, float]], ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Horizontal bars of (index, name, probability) triples, most probable on top."""
    ax = ax if ax is not None else plt.gca()
    names = [f"{name} ({index})" for index, name, _ in predictions][::-1]
    probabilities = [p for _, _, p in predictions][::-1]
    ax.barh(names, probabilities, color="tab:blue")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    for y, p in enumerate(probabilities):
        ax.text(min(p + 0.02, 0.85), y, f"{p:.2f}", va="center", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def show_patches(images: torch.Tensor, patches: Sequence, *, columns: int = 9, size: float = 1.4) -> Figure:
    """The image regions of :class:`labkit.patches.Patch` objects, with their activations.

    ``images`` are in [0, 1] (B, 3, H, W), indexed like the inputs the patches came from.
    """
    rows = -(-len(patches) // columns)
    cols = min(columns, len(patches))
    figure, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, patch in zip(axes.flat, patches):
        ax.imshow(to_numpy_image(patch.crop(images)))
        ax.set_title(f"{patch.activation:.2f}", fontsize=8)
    figure.tight_layout()
    return figure
