"""Maximally activating patches (Zeiler & Fergus 2014; Springenberg et al. 2015).

Pick a layer and a channel, run many images through the network, keep the spatial units
of that channel with the largest activations, and show the image region each unit sees.
The region is the unit's receptive field on that image, measured rather than computed
from kernel sizes: the bounding box of the input pixels where the gradient of the unit's
activation is non-zero (works for any architecture, padding and stride).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from labkit.batching import chosen_batch_size
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.layers import get_layer


@dataclass(frozen=True)
class Patch:
    """One strongly activated unit: where it is and the input box (top, left, bottom, right) it sees."""

    image_index: int
    activation: float
    row: int
    col: int
    box: tuple[int, int, int, int]

    def crop(self, images: torch.Tensor) -> torch.Tensor:
        """The (3, h, w) region of ``images[image_index]`` this unit sees."""
        top, left, bottom, right = self.box
        return images[self.image_index, :, top:bottom, left:right]


def _layer_output(model: nn.Module, layer: nn.Module, inputs: torch.Tensor, hooks) -> torch.Tensor:
    captured: list[torch.Tensor] = []
    hooks.forward(layer, lambda _m, _i, output: captured.append(output))
    try:
        model(inputs)
    finally:
        hooks.remove()
    if not captured or not isinstance(captured[0], torch.Tensor) or captured[0].ndim != 4:
        raise ValueError("The chosen layer does not output a (B, C, H, W) feature map; pick a convolutional layer.")
    return captured[0]


def max_activating_patches(
    model: nn.Module,
    inputs: torch.Tensor,
    layer: str | nn.Module,
    channel: int,
    k: int = 9,
    *,
    batch_size: int | None = None,
    progress: bool = False,
) -> list[Patch]:
    """The ``k`` units of ``channel`` in ``layer`` with the largest activations over all ``inputs``.

    At most one unit per image is kept (the image's strongest), so the patches show ``k``
    different images when there are at least ``k``. ``inputs`` are preprocessed
    (B, 3, H, W); they are run ``batch_size`` at a time on the model's device.
    """
    module = get_layer(model, layer)
    device = model_device(model)
    inputs = as_batch(inputs)
    with model_guard(model) as hooks:
        batch_size = chosen_batch_size(batch_size, model, inputs[:1].to(device), limit=len(inputs))
        channel_maps = []
        for chunk in tqdm(inputs.split(batch_size), desc="activations", disable=not progress, leave=False):
            with torch.no_grad():
                features = _layer_output(model, module, chunk.to(device), hooks)
            if not 0 <= channel < features.shape[1]:
                raise ValueError(f"channel must be in 0..{features.shape[1] - 1} for this layer, got {channel}.")
            channel_maps.append(features[:, channel])
        units = strongest_units(torch.cat(channel_maps), k)
        top_images, rows, cols = units.unbind(dim=1)
        chosen = inputs[top_images.cpu()].to(device).requires_grad_(True)
        features = _layer_output(model, module, chosen, hooks)
        picked = features[torch.arange(len(chosen), device=device), channel, rows, cols]
        (gradient,) = torch.autograd.grad(picked.sum(), chosen)
    boxes = [_support_box(g) for g in gradient.abs().sum(dim=1)]
    return [
        Patch(int(i), float(v), int(r), int(c), box)
        for i, v, r, c, box in zip(top_images.tolist(), picked.tolist(), rows.tolist(), cols.tolist(), boxes)
    ]


@reference
def strongest_units(maps: torch.Tensor, k: int) -> torch.Tensor:
    """(k, 3) long tensor of (image, row, col): the k images whose channel ``maps`` (N, h, w) peak highest.

    Each image contributes its single strongest unit (its argmax: the first maximum in raster
    order); rows are sorted by decreasing activation, equal maxima by increasing image index
    (a stable sort). ``k`` larger than N gives N rows.
    """
    if maps.ndim != 3:
        raise ValueError(f"Expected the maps of one channel, shape (N, h, w), got {tuple(maps.shape)}.")
    peaks, positions = maps.flatten(1).max(dim=1)
    images = peaks.argsort(descending=True, stable=True)[:k]
    width = maps.shape[-1]
    return torch.stack([images, positions[images] // width, positions[images] % width], dim=1)


def _support_box(weights: torch.Tensor) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), bottom/right exclusive, of the non-zero entries of a 2-D map."""
    rows = torch.nonzero(weights.sum(dim=1)).flatten()
    cols = torch.nonzero(weights.sum(dim=0)).flatten()
    if len(rows) == 0:
        return (0, 0, weights.shape[0], weights.shape[1])
    return (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
