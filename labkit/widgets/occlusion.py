"""Sliders for occlusion's patch size and stride (lab 1)."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from labkit.attribution.occlusion import occlusion
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
    Stride starts at 8 px, where one map takes a few seconds on a laptop CPU.
    """
    inputs = classifier.preprocess(image)[None].to(classifier.device)
    if target is None:
        target = int(classifier.probabilities(image).argmax())
    label = classifier.classes[target]

    def compute(patch: int, stride: int) -> torch.Tensor:
        return occlusion(classifier.model, inputs, target, patch=patch, stride=stride)[0].cpu()

    def draw(saliency: torch.Tensor, patch: int, stride: int) -> Figure:
        figure, ax = plt.subplots(figsize=(4.2, 4.2))
        show_heatmap(image, saliency, ax, title=f"drop of p({label}), patch {patch}, stride {stride}", colorbar=True)
        return figure

    return SliderPlot(
        compute,
        draw,
        patch=widgets.IntSlider(patch, min=16, max=112, step=8, description="patch"),
        stride=widgets.IntSlider(stride, min=8, max=56, step=8, description="stride"),
    )
