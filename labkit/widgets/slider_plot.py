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
from matplotlib.figure import Figure


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
