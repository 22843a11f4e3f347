"""Sanity check by cascading model randomisation (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018).

The layers of a copy of the model are re-initialised one after another from the top (the
output) down; after each one, every method's maps are computed again and compared with
the maps of the trained model by Spearman's rank correlation (per image, ties ranked by
their average, as ``scipy.stats.spearmanr``):

    rho = Pearson(rank(m_trained), rank(m_randomised))

A method whose maps stay highly correlated while the weights they explain are destroyed
does not explain the model (Adebayo et al. find this for Guided Backprop). By default the
absolute values of the maps are compared, as in the paper's figures.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from labkit.device import model_device
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.layers import get_layer
from labkit.targets import Method, Targets, targets_from_outputs


def spearman(first: torch.Tensor, second: torch.Tensor) -> np.ndarray:
    """Spearman's rank correlation (B,) between maps (B, H, W); NaN where a map is constant."""
    from scipy.stats import rankdata  # here: importing scipy.stats costs a second

    a = rankdata(first.detach().flatten(1).float().cpu().numpy(), axis=1)
    b = rankdata(second.detach().flatten(1).float().cpu().numpy(), axis=1)
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    norm = np.sqrt((a**2).sum(1) * (b**2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(1) / norm


def top_down_layers(model: nn.Module) -> list[str]:
    """The model's direct children that hold parameters, from the output back to the input."""
    return [name for name, child in model.named_children() if any(True for _ in child.parameters())][::-1]


def randomise(module: nn.Module) -> None:
    """Re-initialise every sub-module of ``module`` that has ``reset_parameters`` (its default init)."""
    for sub in module.modules():
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()


def cascading_randomization(
    model: nn.Module,
    inputs: torch.Tensor,
    methods: Mapping[str, Method],
    targets: Targets = None,
    *,
    layers: Sequence[str] | None = None,
    absolute: bool = True,
    seed: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Rank correlation between each method's maps before and after randomising the layers top-down.

    ``methods`` maps a name to ``method(model, inputs, targets) -> (B, H, W)``; ``layers``
    are the names randomised cumulatively in that order (default: :func:`top_down_layers`).
    Targets are fixed on the trained model (default: its predicted classes). Maps are made
    in eval mode, of the trained model and of the randomised one alike. The model itself is
    left as it was found (mode and ``requires_grad`` restored; a deep copy is randomised,
    with ``seed``). Returns one row per
    (layer, method, image) with columns ``layer`` (``"trained"`` first), ``method``,
    ``image`` and ``spearman``; ``df.groupby(["layer", "method"], sort=False).spearman.mean()``
    gives the curve of the paper.
    """
    inputs = as_batch(inputs).to(model_device(model))
    layers = top_down_layers(model) if layers is None else list(layers)
    for name in layers:
        get_layer(model, name)  # clear error for a wrong name, before any work
    with model_guard(model):
        with torch.no_grad():
            classes = targets_from_outputs(model(inputs), targets)
        reference = {name: _maps(method, model, inputs, classes, absolute) for name, method in methods.items()}
    rows = [_rows("trained", name, spearman(maps, maps)) for name, maps in reference.items()]
    randomised = copy.deepcopy(model).eval()
    with torch.random.fork_rng(devices=[inputs.device] if inputs.device.type == "cuda" else []):
        torch.manual_seed(seed)
        for layer in tqdm(layers, desc="randomising", disable=not progress, leave=False):
            randomise(get_layer(randomised, layer))
            for name, method in methods.items():
                maps = _maps(method, randomised, inputs, classes, absolute)
                rows.append(_rows(layer, name, spearman(reference[name], maps)))
    return pd.concat(rows, ignore_index=True)


def _maps(method: Method, model: nn.Module, inputs: torch.Tensor, classes: torch.Tensor, absolute: bool):
    maps = method(model, inputs, classes)
    if maps.ndim != 3 or maps.shape[0] != inputs.shape[0]:
        raise ValueError(f"A method must return maps of shape (B, H, W); got {tuple(maps.shape)}.")
    return maps.abs() if absolute else maps


def _rows(layer: str, method: str, values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"layer": layer, "method": method, "image": np.arange(len(values)), "spearman": values})
