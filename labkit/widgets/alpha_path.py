"""An alpha slider along the straight path of Integrated Gradients (lab 6).

Shows the counterfactual image x' + alpha (x - x') (with the default baseline 0 this is the
image faded towards gray, Sundararajan et al.'s "alpha x"), its class score, and the score
curve from alpha = 0 up to the slider: where it flattens, the gradients vanish.
"""

from __future__ import annotations

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from labkit.attribution.ig_path import path_points, path_scores
from labkit.models import Classifier
from labkit.viz.maps import to_numpy_image
from labkit.widgets.slider_plot import SliderPlot


def alpha_explorer(
    classifier: Classifier,
    image: torch.Tensor,
    target: int | None = None,
    *,
    baseline: float | torch.Tensor = 0.0,
    step: float = 0.05,
    alpha: float = 1.0,
) -> SliderPlot:
    """An ``alpha`` slider (0 to 1 by ``step``) over ``image`` (3, H, W) in [0, 1].

    ``baseline`` is in preprocessed units (0: gray). The curve needs the score at alpha = 0,
    step, ..., alpha: forward passes only, each point computed once (the figure first shown has
    them all up to ``alpha``), so a move costs at most the points not seen yet and the drawing.
    """
    if not 0 < step <= 1:
        raise ValueError(f"step must be in (0, 1], got {step}.")
    x = classifier.preprocess(image).to(classifier.device)
    if target is None:
        target = int(classifier.probabilities(image).argmax())
    label = classifier.classes[target]

    known: dict[int, tuple[float, float]] = {}  # point i of the grid (alpha = i * step) -> (score, probability)

    def compute(model: torch.nn.Module, alpha: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        points = range(round(alpha / step) + 1)
        missing = [i for i in points if i not in known]
        if missing:
            scores, probabilities = path_scores(model, x, target, torch.tensor(missing) * step, baseline=baseline)
            known.update(zip(missing, zip(scores.tolist(), probabilities.tolist())))
        alphas = torch.tensor([i * step for i in points])
        scores, probabilities = torch.tensor([known[i] for i in points]).T
        shown = classifier.preprocess.inverse(path_points(x, baseline, alphas[-1:])[0]).cpu()
        return alphas, scores, probabilities, shown

    def draw(result: tuple, alpha: float) -> Figure:
        alphas, scores, probabilities, shown = result
        figure = Figure(figsize=(7.5, 3.2))
        ax_image, ax_curve = figure.subplots(1, 2)
        ax_image.imshow(to_numpy_image(shown))
        ax_image.set_title(f"alpha = {alpha:.2f}: S = {scores[-1]:.2f}, p = {probabilities[-1]:.2f}", fontsize=9)
        ax_image.axis("off")
        ax_curve.plot(alphas, scores, "o-", color="tab:blue", markersize=3)
        ax_curve.set(xlim=(0, 1), xlabel="alpha", ylabel=f"logit of {label}")
        ax_prob = ax_curve.twinx()
        ax_prob.plot(alphas, probabilities, "s--", color="tab:orange", markersize=3)
        ax_prob.set(ylim=(0, 1), ylabel="probability")
        ax_curve.set_title("the path so far (blue: logit, orange: probability)", fontsize=9)
        figure.subplots_adjust(left=0.01, right=0.88, bottom=0.16, top=0.9, wspace=0.3)
        return figure

    slider = widgets.FloatSlider(alpha, min=0.0, max=1.0, step=step, description="alpha")
    return SliderPlot(compute, draw, state=classifier.model, alpha=slider)
