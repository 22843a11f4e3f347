"""Integrated Gradients (Sundararajan et al., "Axiomatic Attribution for Deep Networks", ICML 2017).

    IG_i(x) = (x_i - x'_i) * integral_0^1 dS_c(x' + a (x - x'))/dx_i da
            ~ (x_i - x'_i) * sum_s w_s dS_c(x' + a_s (x - x'))/dx_i

along the straight path from the baseline x' to x. Completeness: sum_i IG_i = S_c(x) - S_c(x')
for the exact integral; the *gap* sum_i IG_i - (S_c(x) - S_c(x')) measures the quadrature
error and shrinks as ``n_steps`` grows. Rules (Captum's names and nodes):
``riemann_left|right|middle|trapezoid`` and ``gausslegendre`` (Gauss-Legendre on [0, 1]).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from labkit.attribution.baselines import as_baseline
from labkit.attribution.channels import check_reduce, reduce_channels
from labkit.attribution.gradients import copy_gradients
from labkit.batching import chosen_batch_size
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.targets import Targets, target_scores, targets_from_model

RULES = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")


@reference
def path_nodes(n_steps: int, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(alphas, weights) of the quadrature rule on [0, 1], float64, each (n_steps,)."""
    if method not in RULES:
        raise ValueError(f"method must be one of {RULES}, got {method!r}.")
    if n_steps < 1 or (method == "riemann_trapezoid" and n_steps < 2):
        raise ValueError(f"n_steps must be at least {2 if method == 'riemann_trapezoid' else 1}, got {n_steps}.")
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n_steps)
        return torch.from_numpy((nodes + 1) / 2), torch.from_numpy(weights / 2)
    weights = torch.full((n_steps,), 1 / n_steps, dtype=torch.float64)
    if method == "riemann_trapezoid":
        weights = torch.full((n_steps,), 1 / (n_steps - 1), dtype=torch.float64)
        weights[[0, -1]] /= 2
        return torch.linspace(0, 1, n_steps, dtype=torch.float64), weights
    first = {"riemann_left": 0.0, "riemann_right": 1 / n_steps, "riemann_middle": 1 / (2 * n_steps)}[method]
    return torch.linspace(first, first + 1 - 1 / n_steps, n_steps, dtype=torch.float64), weights


@reference
def integrated_gradients(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    baseline: float | torch.Tensor = 0.0,
    n_steps: int = 50,
    method: str = "gausslegendre",
    reduce: str = "sum",
    return_gap: bool = False,
    batch_size: int | None = None,
    progress: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Integrated Gradients maps (B, H, W), summed over RGB (``reduce``), and with
    ``return_gap=True`` also the completeness gap (B,) = sum IG - (S_c(x) - S_c(x')).

    ``baseline`` x' is a number or a tensor (3, 1, 1), (3, H, W) or (B, 3, H, W) in
    preprocessed units (default 0: medium gray). The B * ``n_steps`` path points run
    ``batch_size`` at a time (default: as many as fit). Equal to Captum's ``IntegratedGradients``.
    """
    check_reduce(reduce)
    alphas, weights = path_nodes(n_steps, method)
    inputs = as_batch(inputs).to(model_device(model))
    baselines = as_baseline(baseline, inputs)
    alphas, weights = alphas.to(inputs.dtype).to(inputs.device), weights.to(inputs.dtype).to(inputs.device)
    n_images = len(inputs)
    delta = inputs - baselines
    total = torch.zeros_like(inputs)
    with model_guard(model):
        resolved = targets_from_model(model, inputs, targets)

        def make(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            steps, images = index // n_images, index % n_images
            points = baselines[images] + alphas[steps, None, None, None] * delta[images]
            return points, resolved[images]

        n_copies = n_images * n_steps
        size = chosen_batch_size(batch_size, model, inputs[:1], with_grad=True, limit=n_copies)
        for index, gradients in copy_gradients(model, make, n_copies, size, progress=progress, desc="integrated"):
            total.index_add_(0, index % n_images, gradients * weights[index // n_images, None, None, None])
        attributions = total * delta
        if not return_gap:
            return reduce_channels(attributions, reduce)
        change = target_scores(model, inputs, resolved) - target_scores(model, baselines, resolved)
    return reduce_channels(attributions, reduce), attributions.flatten(1).sum(dim=1) - change
