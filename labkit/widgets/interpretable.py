"""A method selector comparing the maps of several models on the same images (lab 8)."""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from labkit.attribution.channels import reduce_channels
from labkit.guards import model_guard
from labkit.images import Normalization
from labkit.interpretable.evaluate import METHODS
from labkit.interpretable.gradients import gradient_pair
from labkit.viz import show_heatmap
from labkit.widgets.slider_plot import SliderPlot

#: The pixel-space gradients the loss compares, then the CAM methods of the deck's tables.
MAP_KINDS = ("gradient", "guided gradient", *METHODS)


def model_maps(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, kind: str, layer: str) -> torch.Tensor:
    """(B, H, W) maps of ``kind`` (one of :data:`MAP_KINDS`) for ``model`` in eval mode, on the CPU.

    The model's modes and ``requires_grad`` flags are restored afterwards, also on error."""
    if kind not in MAP_KINDS:
        raise ValueError(f"Unknown map kind {kind!r}; choose one of {', '.join(MAP_KINDS)}.")
    if kind in METHODS:
        return METHODS[kind](model, inputs, targets, layer=layer).detach().cpu()
    with model_guard(model):
        pair = gradient_pair(model, inputs, targets, create_graph=False)
    gradients = pair.standard if kind == "gradient" else pair.guided
    return reduce_channels(gradients.detach(), "max_abs").cpu()


def model_comparison_explorer(
    models: Mapping[str, nn.Module],
    images: torch.Tensor,
    targets: torch.Tensor,
    *,
    preprocess: Normalization,
    layer: str,
    kind: str = "gradient",
) -> widgets.VBox:
    """A dropdown of map kinds; one row of maps per model over ``images`` (B, 3, H, W) in [0, 1].

    Maps explain ``targets`` (B,); CAM methods use ``layer``. Each kind is computed once and cached.
    """
    inputs = preprocess(images)

    def compute(models: dict[str, nn.Module], kind: str) -> dict[str, torch.Tensor]:
        return {name: model_maps(model, inputs, targets, kind, layer) for name, model in models.items()}

    def draw(maps: dict[str, torch.Tensor], kind: str) -> Figure:
        figure = Figure(figsize=(1.6 * len(images), 1.7 * len(maps)))
        axes = figure.subplots(len(maps), len(images), squeeze=False)
        for row, (name, model_maps_) in enumerate(maps.items()):
            for column, (image, saliency) in enumerate(zip(images, model_maps_)):
                show_heatmap(image, saliency, axes[row, column], title=name if column == 0 else None)
        figure.suptitle(kind, fontsize=10)
        figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.86, wspace=0.05, hspace=0.25)
        return figure

    menu = widgets.Dropdown(options=MAP_KINDS, value=kind, description="maps")
    return SliderPlot(compute, draw, state=dict(models), kind=menu)
