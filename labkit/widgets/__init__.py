"""Widgets of the labs: a cached slider-driven figure, and one explorer per lab that needs one."""

from labkit.widgets.occlusion import occlusion_explorer
from labkit.widgets.slider_plot import SliderPlot

__all__ = ["SliderPlot", "occlusion_explorer"]
