"""Dropdowns for the class to explain (one of the image's top-k) and the method (labs 4 and 5)."""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from labkit.models import Classifier
from labkit.targets import Method
from labkit.viz import show_heatmap
from labkit.widgets.slider_plot import SliderPlot


def class_explorer(
    classifier: Classifier, image: torch.Tensor, methods: Mapping[str, Method], *, k: int = 5
) -> SliderPlot:
    """A class dropdown (the ``k`` most probable classes of ``image``) and a method dropdown over a map.

    A class-discriminative method shows a different region for each class; ``image`` is
    (3, H, W) in [0, 1], ``methods`` maps a name to a labkit-style method.
    """
    if not methods:
        raise ValueError("Give at least one method, e.g. {'Grad-CAM': labkit.attribution.grad_cam}.")
    inputs = classifier.preprocess(image)[None].to(classifier.device)
    top = classifier.top_k(image, k)[0]
    options = [(f"{name} ({index}), p = {p:.2f}", index) for index, name, p in top]

    def compute(model: torch.nn.Module, target: int, method: str) -> torch.Tensor:
        return methods[method](model, inputs, target)[0].detach().cpu()

    def draw(saliency: torch.Tensor, target: int, method: str) -> Figure:
        figure = Figure(figsize=(4.2, 3.9))
        figure.subplots_adjust(left=0.02, right=0.86, bottom=0.02, top=0.93)
        ax = figure.subplots()
        show_heatmap(image, saliency, ax, title=f"{method} for {classifier.classes[target]}", colorbar=True)
        return figure

    return SliderPlot(
        compute,
        draw,
        state=classifier.model,
        target=widgets.Dropdown(options=options, value=top[0][0], description="class"),
        method=widgets.Dropdown(options=list(methods), description="method"),
    )
