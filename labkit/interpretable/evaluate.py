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

import numpy as np
import pandas as pd
import torch
from torch import nn

from labkit.experiments import grad_cam_table
from labkit.guards import model_guard
from labkit.interpretable.data import Data
from labkit.interpretable.errors import cosine_error
from labkit.interpretable.gradients import gradient_pair
from labkit.metrics import pointing_game

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
) -> pd.DataFrame:
    """AD, AG, AI, INS, DEL and pointing-game hits (percent), one row per image, of ``method`` on the
    first ``n_images`` test images; the column means are the deck's table entries.

    The model is scored in eval mode and left as it was found (modes and ``requires_grad``
    restored, also on error). PG is NaN for data without object masks (CIFAR-100)."""
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    inputs = data.preprocess(data.test.images[:n_images])
    labels = data.test.labels[:n_images]
    with model_guard(model):
        maps = METHODS[method](model, inputs, labels, layer=layer).cpu()
        scores = grad_cam_table.faithfulness_per_image(
            model, inputs, maps, preprocess=data.preprocess, pixels_per_step=pixels_per_step, targets=labels
        )
    hits = (
        torch.full((len(labels),), float("nan"))
        if data.test.masks is None
        else pointing_game(maps, data.test.masks[:n_images]).float() * 100
    )
    return pd.DataFrame({name: values.cpu().numpy() for name, values in (scores | {"PG": hits}).items()})


def correct_per_image(model: nn.Module, data: Data, n_images: int | None = None) -> np.ndarray:
    """1.0 where the model's top-1 class is the label, per test image (the first ``n_images``; None: all)."""
    images, labels = data.test.images[:n_images], data.test.labels[:n_images]
    device = next(model.parameters()).device
    with model_guard(model), torch.no_grad():
        predicted = torch.cat([model(data.preprocess(batch.to(device))).argmax(1).cpu() for batch in images.split(256)])
    return (predicted == labels).double().numpy()


def mean_cosine_error(model: nn.Module, data: Data, n_images: int | None = None) -> np.ndarray:
    """1 - cos(delta, delta') per test image in eval mode: how far the standard input gradient of the label's
    logit is from the guided one (0: same direction; 1: orthogonal), the quantity the cosine loss lowers."""
    images, labels = data.test.images[:n_images], data.test.labels[:n_images]
    device, errors = next(model.parameters()).device, []
    with model_guard(model):
        for batch, targets in zip(images.split(128), labels.split(128), strict=True):
            pair = gradient_pair(model, data.preprocess(batch.to(device)), targets.to(device), create_graph=False)
            errors.append(cosine_error(pair.standard, pair.guided).detach().cpu())
    return torch.cat(errors).double().numpy()
