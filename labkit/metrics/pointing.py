"""Pointing game and energy-based pointing game: does a map point at the object's mask?

*Pointing game* (Zhang et al., "Top-down neural attention by excitation backprop", ECCV
2016): a hit when the map's maximum lies on the object (within ``tolerance`` pixels).
Several pixels may share the maximum (a constant map: all of them); the score is then the
fraction of those pixels that hit, i.e. the expected hit of picking one at random:

    hit = |argmax(m) ∩ dilate(G, tolerance)| / |argmax(m)|

*Energy-based pointing game* (Wang et al., "Score-CAM", CVPR-W 2020): the share of the
map's energy on the object, after min-max normalisation (so negative maps are allowed):

    proportion = sum_{(i,j) in G} m_ij / sum_{i,j} m_ij

A map spread evenly scores the object's area fraction; higher is better for both.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from labkit.metrics.common import check_finite_maps, minmax


def _check(maps: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if maps.ndim != 3:
        raise ValueError(f"Expected maps of shape (B, H, W), got {tuple(maps.shape)}.")
    if masks.shape != maps.shape:
        raise ValueError(
            f"The ground-truth masks {tuple(masks.shape)} must match the maps {tuple(maps.shape)}: one "
            "(H, W) mask per map. Upsample the maps to the image size first."
        )
    check_finite_maps(maps)
    masks = masks.to(maps.device).bool()
    if not bool(masks.flatten(1).any(1).all()):
        raise ValueError("A ground-truth mask is empty: there is no object to point at.")
    return maps.detach().float(), masks


def pointing_game(maps: torch.Tensor, masks: torch.Tensor, *, tolerance: int = 0) -> torch.Tensor:
    """Hits (B,) in [0, 1]: the share of each map's maximal pixels inside its mask dilated by ``tolerance`` px.

    Zhang et al. use a 15 px tolerance on 224 px images.
    """
    maps, masks = _check(maps, masks)
    if tolerance < 0:
        raise ValueError(f"tolerance is a number of pixels >= 0, got {tolerance}.")
    if tolerance:
        offsets = torch.arange(-tolerance, tolerance + 1, device=maps.device, dtype=torch.float32)
        disk = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= tolerance**2).float()
        masks = F.conv2d(masks[:, None].float(), disk[None, None], padding=tolerance)[:, 0] > 0
    peaks = maps == maps.flatten(1).amax(1)[:, None, None]
    return (peaks & masks).flatten(1).sum(1).float() / peaks.flatten(1).sum(1).float()


def energy_pointing_game(maps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Proportions (B,) in [0, 1] of each min-max normalised map's energy inside its mask."""
    maps, masks = _check(maps, masks)
    energy = minmax(maps)
    return (energy * masks).flatten(1).sum(1) / energy.flatten(1).sum(1)
