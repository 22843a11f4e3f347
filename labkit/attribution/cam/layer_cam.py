"""LayerCAM (Jiang et al., "LayerCAM: Exploring Hierarchical Class Activation Maps for
Localization", IEEE TIP 2021)."""

from __future__ import annotations

import torch

from labkit.attribution.cam.base import cam_method
from labkit.attribution.layer_capture import LayerState


@cam_method(gradients=True)
def layer_cam(state: LayerState) -> torch.Tensor:
    """LayerCAM maps: each activation weighted by its own positive gradient,

    M = ReLU(sum_k ReLU(dS_c/dA_k) * A_k)   (weights per channel and position).
    """
    return state.gradients.clamp(min=0)
