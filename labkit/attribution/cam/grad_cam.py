"""Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017)."""

from __future__ import annotations

import torch

from labkit.attribution.cam.base import cam_method
from labkit.attribution.layer_capture import LayerState


@cam_method(gradients=True)
def grad_cam(state: LayerState) -> torch.Tensor:
    """Grad-CAM maps: the feature maps weighted by their average gradient.

        w_k = 1/Z sum_ij dS_c/dA_k,ij,    M = ReLU(sum_k w_k A_k).

    On a GAP + linear head it equals CAM divided by Z = h * w.
    """
    return state.gradients.mean(dim=(2, 3), keepdim=True)
