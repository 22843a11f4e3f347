"""Sliders for occlusion's patch size and stride (lab 1)."""

from __future__ import annotations

import math

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from labkit.attribution.occlusion import occlusion, occlusion_scores
from labkit.models import Classifier
from labkit.viz import show_heatmap
from labkit.widgets.slider_plot import SliderPlot


def occlusion_explorer(
    classifier: Classifier,
    image: torch.Tensor,
    target: int | None = None,
    *,
    patch: int = 48,
    stride: int = 16,
) -> SliderPlot:
    """Sliders for the occlusion patch size and stride over ``image`` (3, H, W) in [0, 1].

    The map shows the drop in the target's probability (default: the predicted class).
    Stride starts at 8 px, where one map takes a few seconds on a laptop CPU. A setting made
    in the browser first shows a preview: the drops of at most 3 x 3 squares of the chosen
    size (stride ``preview_stride``), drawn coarse, until the map at the chosen stride is ready.
    """
    inputs = classifier.preprocess(image)[None].to(classifier.device)
    if target is None:
        target = int(classifier.probabilities(image).argmax())
    label = classifier.classes[target]

    def compute(model: torch.nn.Module, patch: int, stride: int) -> torch.Tensor:
        return occlusion(model, inputs, target, patch=patch, stride=stride)[0].cpu()

    def preview(model: torch.nn.Module, patch: int, stride: int) -> torch.Tensor | None:
        coarse = preview_stride(inputs.shape[-1], patch, stride)
        if coarse == stride:
            return None
        scores, full = occlusion_scores(model, inputs, target, patch=patch, stride=coarse)
        return (full[:, None, None] - scores)[0].cpu()  # one drop per square, resized over the image

    def draw(saliency: torch.Tensor, patch: int, stride: int) -> Figure:
        figure = Figure(figsize=(4.2, 3.9))
        figure.subplots_adjust(left=0.02, right=0.86, bottom=0.02, top=0.93)
        ax = figure.subplots()
        show_heatmap(image, saliency, ax, title=f"drop of p({label}), patch {patch}, stride {stride}", colorbar=True)
        return figure

    return SliderPlot(
        compute,
        draw,
        state=classifier.model,
        preview=preview,
        patch=widgets.IntSlider(patch, min=16, max=112, step=8, description="patch"),
        stride=widgets.IntSlider(stride, min=8, max=56, step=8, description="stride"),
    )


def preview_stride(size: int, patch: int, stride: int, per_axis: int = 3) -> int:
    """The smallest stride >= ``stride`` that puts at most ``per_axis`` squares along a side of ``size`` px.

    Positions per axis are ``ceil((size - patch) / stride) + 1`` (labkit's occlusion grid).
    """
    return max(stride, math.ceil((size - patch) / (per_axis - 1)))
