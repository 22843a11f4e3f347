"""Scoring a trained classifier the way the deck's Tables 1-4 do: accuracy, then for each CAM
method AD, AG, AI, insertion and deletion (lab 4's metrics), plus the pointing game on the
shapes dataset's ground-truth masks.

Conventions: the maps explain the *ground-truth* class of each test image (the class the
loss trained); scores are softmax probabilities; AD, AG, AI, INS, DEL and the pointing game
are percentages (insertion and deletion AUCs times 100, as in the deck). Insertion and
deletion change ``pixels_per_step`` pixels per step (the deck does not say how many).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labkit.experiments import grad_cam_table
from labkit.guards import model_guard
from labkit.interpretable.data import Data
from labkit.metrics import pointing_game
from labkit.reference.training import accuracy

#: The deck's methods (lab 4's table without LayerCAM); Axiom-CAM is XGrad-CAM (Fu et al., 2020).
METHODS: dict[str, Callable[..., torch.Tensor]] = {
    name: method for name, method in grad_cam_table.METHODS.items() if name != "LayerCAM"
}


def method_scores(
    model: nn.Module,
    data: Data,
    method: str,
    layer: str,
    *,
    n_images: int = 200,
    pixels_per_step: int = 32,
) -> dict[str, float]:
    """AD, AG, AI, INS, DEL and pointing-game hits (percent) of ``method`` on the first ``n_images`` test images.

    The model is scored in eval mode and left as it was found (modes and ``requires_grad``
    restored, also on error). PG is NaN for data without object masks (CIFAR-100)."""
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    inputs = data.preprocess(data.test.images[:n_images])
    labels = data.test.labels[:n_images]
    with model_guard(model):
        maps = METHODS[method](model, inputs, labels, layer=layer).cpu()
        scores = grad_cam_table.faithfulness_scores(
            model, inputs, maps, preprocess=data.preprocess, pixels_per_step=pixels_per_step, targets=labels
        )
    if data.test.masks is None:
        return scores | {"PG": float("nan")}
    return scores | {"PG": float(pointing_game(maps, data.test.masks[:n_images]).mean() * 100)}


def accuracy_percent(model: nn.Module, data: Data) -> float:
    """Top-1 accuracy on the test split, in percent."""
    return 100 * accuracy(model, data.test.images, data.test.labels, preprocess=data.preprocess)
