"""GAD's complexity and sensitivity (Rodrigues et al., "GAD: Gradient Artificial Distancing").

The most important pixels of a map (the top ``fraction`` of them, or those reaching
``threshold`` times the map's maximum) are wrapped in their convex hull (scikit-image's
``convex_hull_image``); its binary mask M holds the hull's inner and boundary pixels and its
area A(CH) is their number.

    Complexity ratio   RC = A(CH_GAD) / A(CH_orig)            (< 1: GAD's region is smaller)
    Sensitivity ratio  RS(I, M, a) = |N_a(I) - N_a(I * (1 - M))| / sum(M)

N_a is the network's output a (the raw output by default, as GAD's regression models are
linear) and I * (1 - M) sets the hull to 0 in the model's input space (the mean gray).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from skimage.morphology import convex_hull_image
from torch import nn

from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.metrics.common import check_finite_maps, check_maps, minmax
from labkit.targets import Targets, select_score, targets_from_outputs

#: GAD keeps the most important half of the pixels.
GAD_FRACTION = 0.5


@dataclass
class Hulls:
    """Convex hulls of the important pixels: masks (B, H, W) bool, areas (B,) in pixels, and those pixels."""

    masks: torch.Tensor
    areas: torch.Tensor
    important: torch.Tensor


@reference
def important_pixels(maps: torch.Tensor, *, fraction: float | None = None, threshold: float | None = None):
    """(B, H, W) bool: the ``fraction`` most important pixels, or those >= ``threshold`` * max.

    Give one of the two (default: ``fraction=GAD_FRACTION``). With ``fraction`` exactly
    k = max(1, round(fraction * H W)) pixels are kept; pixels of equal value are ranked by
    :func:`tie_break_order` (a fixed random order of the H W positions, the same for every map
    of that size), so that a plateau (the exact zeros of guided backprop, deconvnet or a
    saturated ReLU6) is cut without a spatial bias, the same way in every map. With
    ``threshold`` (in [0, 1], as in GAD's Figure 4 with 0.1) the map is min-max normalised
    first, so a constant map keeps every pixel.
    """
    if maps.ndim != 3:
        raise ValueError(f"Expected maps of shape (B, H, W), got {tuple(maps.shape)}.")
    check_finite_maps(maps)
    if fraction is not None and threshold is not None:
        raise ValueError("Give either fraction or threshold, not both.")
    if threshold is not None:
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold is a fraction of the map's maximum in [0, 1], got {threshold}.")
        return minmax(maps) >= threshold
    fraction = GAD_FRACTION if fraction is None else fraction
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}.")
    flat = maps.flatten(1)
    keep = max(1, round(fraction * flat.shape[1]))
    shuffle = tie_break_order(flat.shape[1]).to(flat.device)
    order = shuffle[flat[:, shuffle].argsort(dim=1, descending=True, stable=True)[:, :keep]]
    chosen = torch.zeros_like(flat, dtype=torch.bool).scatter_(1, order, True)
    return chosen.view_as(maps)


#: Seed of the order in which :func:`important_pixels` breaks ties.
TIE_BREAK_SEED = 0


def tie_break_order(n: int) -> torch.Tensor:
    """(n,) a fixed random permutation of the n pixel positions (seed :data:`TIE_BREAK_SEED`): equal values
    are kept in this order, not in raster order (which would favour the top rows of a plateau)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(TIE_BREAK_SEED))


def convex_hulls(maps: torch.Tensor, *, fraction: float | None = None, threshold: float | None = None) -> Hulls:
    """The convex hull of each map's important pixels (see :func:`important_pixels`).

    A map with no important pixel (possible with a threshold only) has an empty hull of area 0.
    """
    important = important_pixels(maps, fraction=fraction, threshold=threshold)
    masks = np.stack([_hull(mask) for mask in important.cpu().numpy()])
    masks = torch.from_numpy(masks).to(maps.device)
    return Hulls(masks, masks.flatten(1).sum(1), important)


def _hull(mask: np.ndarray) -> np.ndarray:
    if not mask.any():
        return np.zeros_like(mask)
    return convex_hull_image(mask)


def complexity_ratio(
    gad_maps: torch.Tensor,
    original_maps: torch.Tensor,
    *,
    fraction: float | None = None,
    threshold: float | None = None,
) -> torch.Tensor:
    """RC (B,) = A(CH_GAD) / A(CH_orig): hull areas of GAD's maps over those of the original maps."""
    if gad_maps.shape != original_maps.shape:
        raise ValueError(
            f"GAD's maps {tuple(gad_maps.shape)} and the original maps {tuple(original_maps.shape)} "
            "must have the same shape (B, H, W)."
        )
    gad = convex_hulls(gad_maps, fraction=fraction, threshold=threshold).areas
    original = convex_hulls(original_maps, fraction=fraction, threshold=threshold).areas
    if bool((original == 0).any()):
        raise ValueError("An original map has an empty hull (no pixel reaches the threshold); RC is undefined.")
    return gad.float() / original.float()


@reference
def sensitivity_ratio(
    model: nn.Module,
    inputs: torch.Tensor,
    masks: torch.Tensor,
    outputs: Targets = None,
    *,
    score: str = "logit",
) -> torch.Tensor:
    """RS(I, M, a) (B,) = |N_a(I) - N_a(I * (1 - M))| / sum(M) for preprocessed ``inputs``.

    ``masks`` (B, H, W) are the occlusion masks (e.g. ``convex_hulls(...).masks``, or
    M_orig minus M_GAD for GAD's supplementary region); ``outputs`` the output a per image
    (default: the predicted class); ``score`` ``"logit"`` (raw output) or ``"probability"``.
    An empty mask gives NaN (nothing was occluded).
    """
    device = model_device(model)
    inputs = as_batch(inputs).to(device)
    masks = check_maps(masks, inputs)
    if not bool(((masks == 0) | (masks == 1)).all()):
        raise ValueError("The masks must be binary (0/1 or bool): the convex hull's pixels are 1.")
    occluded = inputs * (1 - masks[:, None])
    with model_guard(model), torch.no_grad():
        clean = model(inputs)
        classes = targets_from_outputs(clean, outputs)
        before = select_score(clean, classes, score)
        after = select_score(model(occluded), classes, score)
    area = masks.flatten(1).sum(1)
    return (before - after).abs().float() / area
