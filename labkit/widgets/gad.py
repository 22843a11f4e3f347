"""An alpha slider for GAD (lab 9): the support model for each alpha, its map, and GAD's pixels so far."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from labkit.gad.evaluation import mask_hulls
from labkit.gad.maps import agreed, importance_maps, important_stack
from labkit.gad.support import SupportModel
from labkit.models import Classifier
from labkit.targets import Method
from labkit.viz.hulls import show_hulls
from labkit.viz.maps import show_heatmap
from labkit.widgets.slider_plot import SliderPlot


def gad_explorer(
    classifier: Classifier,
    supports: Sequence[SupportModel],
    image: torch.Tensor,
    target: int,
    method: Method,
    *,
    fraction: float = 0.5,
    **options,
) -> SliderPlot:
    """A slider over alpha (0 = the original model, then each support model's alpha).

    For the chosen alpha the figure shows that model's importance map |method| for output
    ``target`` over ``image`` (3, H, W) in [0, 1], its important pixels (top ``fraction``),
    and GAD's pixels using the models up to this alpha (the intersection so far) with the
    hulls of the original (red) and of GAD (green). ``options`` go to ``method``.
    """
    inputs = classifier.preprocess(image)[None].to(classifier.device)
    models = {0.0: classifier.model, **{s.alpha: s.model for s in supports}}
    alphas = list(models)
    targets = torch.tensor([target])
    label = classifier.classes[target]

    def compute(models: dict[float, torch.nn.Module], alpha: float) -> dict:
        used = [models[a] for a in alphas[: alphas.index(alpha) + 1]]
        maps = importance_maps(method, used, inputs, targets, **options)[:, 0][:, None]
        important = important_stack(maps, fraction)
        selected = agreed(important)
        return {
            "map": maps[-1, 0],
            "important": important[-1, 0],
            "original_hull": mask_hulls(important[0]).masks[0],
            "gad_hull": mask_hulls(selected).masks[0],
            "gad": selected[0],
        }

    def draw(result: dict, alpha: float) -> Figure:
        figure = Figure(figsize=(9, 3.2))
        axes = figure.subplots(1, 3)
        name = "original model" if alpha == 0 else f"support model alpha={alpha:g}"
        show_heatmap(image, result["map"], axes[0], title=f"{name}: |map| for {label}")
        axes[1].imshow(result["important"].numpy(), cmap="gray_r")
        axes[1].set_title(f"its top {fraction:.0%} pixels", fontsize=9)
        axes[1].axis("off")
        kept = int(result["gad"].sum())
        show_hulls(
            image, result["original_hull"], result["gad_hull"], axes[2], title=f"GAD up to alpha={alpha:g}: {kept} px"
        )
        figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9, wspace=0.08)
        return figure

    slider = widgets.SelectionSlider(options=alphas, value=0.0, description="alpha")
    return SliderPlot(compute, draw, state=models, alpha=slider)
