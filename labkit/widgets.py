"""Sliders that redraw a figure, with results cached so that going back is instant.

Sliders update on release (``continuous_update=False``): a CPU computes one map per
settled value instead of one per pixel of slider travel, and every value already seen
is redrawn from the cache.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from labkit.attribution.occlusion import occlusion
from labkit.models import Classifier
from labkit.viz import show_heatmap


class SliderPlot(widgets.VBox):
    """Sliders above a figure: ``draw(compute(**values), **values)`` on every change.

    ``compute`` results are cached per combination of slider values.
    """

    def __init__(
        self,
        compute: Callable[..., Any],
        draw: Callable[..., Figure],
        **sliders: widgets.ValueWidget,
    ) -> None:
        self.compute, self.draw, self.sliders = compute, draw, sliders
        self.cache: dict[tuple, Any] = {}
        self.output = widgets.Output()
        for slider in sliders.values():
            slider.continuous_update = False
            slider.observe(lambda _change: self.redraw(), names="value")
        super().__init__([widgets.HBox(list(sliders.values())), self.output])
        self.redraw()

    @property
    def values(self) -> dict[str, Any]:
        return {name: slider.value for name, slider in self.sliders.items()}

    def result(self) -> Any:
        """The (cached) result for the current slider values."""
        values = self.values
        key = tuple(values.values())
        if key not in self.cache:
            self.cache[key] = self.compute(**values)
        return self.cache[key]

    def redraw(self) -> None:
        """Draw the figure for the current values and show it as a PNG in the output area."""
        figure = self.draw(self.result(), **self.values)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        plt.close(figure)
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        self.output.outputs = (
            {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<figure>"}, "metadata": {}},
        )


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
