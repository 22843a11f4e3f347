"""CAM (Zhou et al., "Learning Deep Features for Discriminative Localization", CVPR 2016)."""

from __future__ import annotations

import torch
from torch import nn

from labkit.attribution.cam.base import cam_method
from labkit.attribution.layer_capture import LayerState
from labkit.layers import last_linear


def linear_head(model: nn.Module, state: LayerState) -> nn.Linear:
    """The model's last ``nn.Linear``, checked to be a GAP + linear head on the layer's maps:
    the logits must equal ``W mean_ij(A) + b`` (else CAM is undefined and a clear error is raised)."""
    channels = state.activations.shape[1]
    head = last_linear(model)
    if head is not None and head.in_features == channels:
        pooled = state.activations.mean(dim=(2, 3))
        logits = nn.functional.linear(pooled, head.weight, head.bias)
        if torch.allclose(logits, state.outputs, rtol=1e-4, atol=1e-4 * float(state.outputs.abs().max()) + 1e-5):
            return head
    raise ValueError(
        f"CAM needs a global-average-pooling + linear head right after layer {state.recorder.name!r} "
        f"(logits = W mean(A) + b); this model/layer does not have one. Use grad_cam, which equals CAM on "
        f"such heads and works on any network."
    )


@cam_method(gradients=False)
def cam(state: LayerState) -> torch.Tensor:
    """CAM maps: the feature maps weighted by the head's weights of the target class,

    M_c = ReLU(sum_k W_c,k A_k),   and (with ``relu=False``)  S_c = 1/Z sum_ij M_c,ij + b_c.
    """
    head = linear_head(state.model, state)
    return head.weight[state.targets][:, :, None, None]
