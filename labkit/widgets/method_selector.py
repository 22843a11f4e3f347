"""A method selector: Dropdowns that pick an attribution method and a photo, one map at a time (lab 2 on).

Every method has labkit's call shape ``method(model, inputs, targets) -> (B, H, W)``, so any of
them (with its options bound, e.g. ``functools.partial(smoothgrad, n_samples=16)``) can be compared
on the same photo; maps already seen are redrawn from the cache.
"""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from labkit.models import Classifier
from labkit.targets import Method
from labkit.viz import show_heatmap, to_numpy_image
from labkit.widgets.slider_plot import SliderPlot


def method_explorer(
    classifier: Classifier, images: Mapping[str, torch.Tensor], methods: Mapping[str, Method]
) -> SliderPlot:
    """Dropdowns for the method (``methods``: name -> method) and the photo (``images``: name -> (3, H, W) in [0, 1]).

    The map is for each photo's predicted class; the figure shows the photo and the map over it.
    """
    if not images or not methods:
        raise ValueError("method_explorer needs at least one image and one method (two dicts: name -> value).")
    predicted = {name: int(classifier.probabilities(image).argmax()) for name, image in images.items()}

    def compute(model: torch.nn.Module, method: str, image: str) -> torch.Tensor:
        inputs = classifier.preprocess(images[image])[None].to(classifier.device)
        return methods[method](model, inputs, [predicted[image]])[0].detach().cpu()

    def draw(saliency: torch.Tensor, method: str, image: str) -> Figure:
        figure = Figure(figsize=(7, 3.6))
        ax_image, ax_map = figure.subplots(1, 2)
        ax_image.imshow(to_numpy_image(images[image]))
        ax_image.set_title(image, fontsize=9)
        ax_image.axis("off")
        label = classifier.classes[predicted[image]]
        show_heatmap(images[image], saliency, ax_map, title=f"{method}: {label}", colorbar=True)
        return figure

    return SliderPlot(
        compute,
        draw,
        state=classifier.model,
        method=widgets.Dropdown(options=list(methods), description="method"),
        image=widgets.Dropdown(options=list(images), description="image"),
    )
