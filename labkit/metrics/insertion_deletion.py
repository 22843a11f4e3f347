"""Insertion and deletion curves (Petsiuk et al., "RISE", BMVC 2018).

Pixels are taken in decreasing saliency order (ties: in raster order), ``pixels_per_step``
at a time. *Deletion* starts from the input and sets the next pixels to 0 in normalised
space (the mean gray); *insertion* starts from a Gaussian-blurred input and puts the next
pixels back. After k steps a fraction f_k = min(k * pixels_per_step, H W) / (H W) of the
pixels has changed; the curve is the softmax probability of the class at f_0, ..., f_n = 1
and its area is the trapezoid rule on [0, 1]:

    AUC = sum_k (f_{k+1} - f_k) (p_k + p_{k+1}) / 2.

A good map has a low deletion AUC (the score falls fast) and a high insertion AUC. All
(images x steps) perturbed inputs run in batches on the model's device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from labkit.metrics.common import check_finite_maps, check_maps, resolved, scores_of, target_source
from labkit.targets import Targets

#: RISE blurs with a Gaussian of sigma 5 px (kernel 11 px) on 224 px images.
BLUR_SIGMA = 5.0


@dataclass
class Curves:
    """Scores (B, n + 1) at fractions (n + 1,) of changed pixels, and the AUC (B,) of each curve."""

    fractions: torch.Tensor
    scores: torch.Tensor
    auc: torch.Tensor
    targets: torch.Tensor
    target_source: str


def blurred(inputs: torch.Tensor, sigma: float = BLUR_SIGMA) -> torch.Tensor:
    """Gaussian blur of (B, 3, H, W) inputs, kernel of 2 ceil(3 sigma) + 1 px (at most the image)."""
    if sigma <= 0:
        raise ValueError(f"blur_sigma must be positive, got {sigma}.")
    size = min(2 * math.ceil(3 * sigma) + 1, 2 * ((min(inputs.shape[-2:]) - 1) // 2) + 1)
    import torchvision.transforms.functional as TF  # here: importing torchvision costs seconds

    return TF.gaussian_blur(inputs, kernel_size=[size, size], sigma=[sigma, sigma])


def saliency_ranks(maps: torch.Tensor) -> torch.Tensor:
    """(B, H W) rank of each pixel: 0 for the most salient; ties keep raster order."""
    check_finite_maps(maps)
    order = maps.flatten(1).argsort(dim=1, descending=True, stable=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(order.shape[1], device=order.device).expand_as(order))
    return ranks


def _curves(
    model: nn.Module,
    inputs: torch.Tensor,
    maps: torch.Tensor,
    targets: Targets,
    blur_sigma: float | None,
    *,
    pixels_per_step: int | None,
    batch_size: int | None,
    progress: bool,
    desc: str,
) -> Curves:
    """Deletion (``blur_sigma=None``: pixels go from the inputs to 0) or insertion (blurred to inputs)."""
    inputs, classes, _ = resolved(model, inputs, targets)
    maps = check_maps(maps, inputs)
    n_images, _, height, width = inputs.shape
    n_pixels = height * width
    if pixels_per_step is None:
        pixels_per_step = max(1, n_pixels // 100)
    if not 1 <= pixels_per_step <= n_pixels:
        raise ValueError(f"pixels_per_step must be between 1 and {n_pixels} (H x W), got {pixels_per_step}.")
    n_steps = math.ceil(n_pixels / pixels_per_step)
    ranks = saliency_ranks(maps).view(n_images, 1, height, width)
    if blur_sigma is None:
        first, last = inputs, torch.zeros_like(inputs)
    else:
        first, last = blurred(inputs, blur_sigma), inputs
    counts = (torch.arange(n_steps + 1, device=inputs.device) * pixels_per_step).clamp_max(n_pixels)

    def build(index: torch.Tensor) -> torch.Tensor:
        image, step = index // (n_steps + 1), index % (n_steps + 1)
        changed = ranks[image] < counts[step].view(-1, 1, 1, 1)
        return torch.where(changed, last[image], first[image])

    scores = scores_of(
        model,
        build,
        classes.repeat_interleave(n_steps + 1),
        batch_size=batch_size,
        progress=progress,
        desc=desc,
    ).view(n_images, n_steps + 1)
    fractions = counts.float() / n_pixels
    return Curves(fractions, scores, torch.trapezoid(scores, fractions, dim=1), classes, target_source(targets))


def deletion(
    model: nn.Module,
    inputs: torch.Tensor,
    maps: torch.Tensor,
    targets: Targets = None,
    *,
    pixels_per_step: int | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> Curves:
    """Deletion curves of ``maps`` (B, H, W) on preprocessed ``inputs``: pixels go to 0 (lower AUC is better).

    ``pixels_per_step`` defaults to 1 % of the pixels; ``targets`` to the predicted classes.
    """
    return _curves(
        model,
        inputs,
        maps,
        targets,
        None,
        pixels_per_step=pixels_per_step,
        batch_size=batch_size,
        progress=progress,
        desc="deletion",
    )


def insertion(
    model: nn.Module,
    inputs: torch.Tensor,
    maps: torch.Tensor,
    targets: Targets = None,
    *,
    pixels_per_step: int | None = None,
    blur_sigma: float = BLUR_SIGMA,
    batch_size: int | None = None,
    progress: bool = False,
) -> Curves:
    """Insertion curves: from the blurred inputs, pixels are put back (higher AUC is better).

    Same arguments as :func:`deletion`, plus the blur's ``blur_sigma`` in pixels.
    """
    return _curves(
        model,
        inputs,
        maps,
        targets,
        blur_sigma,
        pixels_per_step=pixels_per_step,
        batch_size=batch_size,
        progress=progress,
        desc="insertion",
    )
