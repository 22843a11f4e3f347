"""XGrad-CAM / Axiom-CAM (Fu et al., "Axiom-based Grad-CAM: Towards Accurate Visualization
and Explanation of CNNs", BMVC 2020)."""

from __future__ import annotations

import torch

from labkit.attribution.cam.base import cam_method
from labkit.attribution.layer_capture import LayerState

EPS = 1e-7


@cam_method(gradients=True)
def xgrad_cam(state: LayerState) -> torch.Tensor:
    """XGrad-CAM maps: gradients averaged with the activations as weights (sensitivity and
    conservation axioms):

        w_k = sum_ij (A_k,ij / sum_ab A_k,ab) dS_c/dA_k,ij,   M = ReLU(sum_k w_k A_k).

    ``EPS`` (1e-7) is added to the denominator, as pytorch-grad-cam does.
    """
    total = state.activations.sum(dim=(2, 3), keepdim=True) + EPS
    return (state.gradients * state.activations / total).sum(dim=(2, 3), keepdim=True)
