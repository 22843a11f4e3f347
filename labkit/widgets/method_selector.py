"""A method selector: Dropdowns that pick an attribution method and a photo, one map at a time (lab 2 on).

Every method has labkit's call shape ``method(model, inputs, targets) -> (B, H, W)``, so any of
them (with its options bound, e.g. ``functools.partial(smoothgrad, n_samples=16)``) can be compared
on the same photo; maps already seen are redrawn from the cache. A method that averages many
gradients (a ``n_samples`` or ``n_steps`` option above :data:`PREVIEW_STEPS`, such as SmoothGrad or
Integrated Gradients) first shows a preview made with :data:`PREVIEW_STEPS` of them.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from functools import partial

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from labkit.models import Classifier
from labkit.targets import Method
from labkit.viz import show_heatmap, to_numpy_image
from labkit.widgets.slider_plot import SliderPlot

#: Samples (SmoothGrad) or steps (Integrated Gradients) of a preview.
PREVIEW_STEPS = 4


def coarse(method: Method) -> Method | None:
    """``method`` with ``n_samples`` or ``n_steps`` set to :data:`PREVIEW_STEPS`, or None where it has
    no such option or already uses at most that many (its preview would not be quicker)."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):  # a callable whose signature cannot be read
        return None
    for name in ("n_samples", "n_steps"):
        default = parameters[name].default if name in parameters else None
        if isinstance(default, int) and default > PREVIEW_STEPS:
            return partial(method, **{name: PREVIEW_STEPS})
    return None


def method_explorer(
    classifier: Classifier, images: Mapping[str, torch.Tensor], methods: Mapping[str, Method]
) -> SliderPlot:
    """Dropdowns for the method (``methods``: name -> method) and the photo (``images``: name -> (3, H, W) in [0, 1]).

    The map is for each photo's predicted class; the figure shows the photo and the map over it.
    """
    if not images or not methods:
        raise ValueError("method_explorer needs at least one image and one method (two dicts: name -> value).")
    predicted = {name: int(classifier.probabilities(image).argmax()) for name, image in images.items()}

    previews = {name: coarse(method) for name, method in methods.items()}

    def map_of(method: Method, model: torch.nn.Module, image: str) -> torch.Tensor:
        inputs = classifier.preprocess(images[image])[None].to(classifier.device)
        return method(model, inputs, [predicted[image]])[0].detach().cpu()

    def compute(model: torch.nn.Module, method: str, image: str) -> torch.Tensor:
        return map_of(methods[method], model, image)

    def preview(model: torch.nn.Module, method: str, image: str) -> torch.Tensor | None:
        quick = previews[method]
        return None if quick is None else map_of(quick, model, image)

    def draw(saliency: torch.Tensor, method: str, image: str) -> Figure:
        figure = Figure(figsize=(7, 3.3))
        figure.subplots_adjust(left=0.01, right=0.92, bottom=0.02, top=0.93, wspace=0.1)
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
        preview=preview,
        method=widgets.Dropdown(options=list(methods), description="method"),
        image=widgets.Dropdown(options=list(images), description="image"),
    )
