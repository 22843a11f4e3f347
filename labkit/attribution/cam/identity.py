"""CAM's identity: on a GAP + linear head, the class score is the mean of the raw class activation map plus the bias.

With A_k (h x w) the feature maps right before global average pooling and Z = h * w,

    S_c = sum_k w_k^c (1/Z) sum_ij A_k,ij + b_c = (1/Z) sum_ij M_c,ij + b_c,   M_c = sum_k w_k^c A_k,

so the CAM map M_c (before any ReLU) splits the logit among the positions (Zhou et al.,
"Learning Deep Features for Discriminative Localization", CVPR 2016, section 2).
"""

from __future__ import annotations

import torch
from torch import nn

from labkit.attribution.cam.cam import cam
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.layers import last_linear
from labkit.targets import Targets, targets_from_outputs


@reference
def scores_from_cam(maps: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """S_c (B,) = (1/Z) sum_ij M_c,ij + b_c from raw CAM maps (B, h, w) and the target classes' biases (B,)."""
    if maps.ndim != 3 or bias.shape != maps.shape[:1]:
        raise ValueError(
            f"Expected raw CAM maps (B, h, w) and one bias per map (B,); got {tuple(maps.shape)} and "
            f"{tuple(bias.shape)}. Index the head's bias with the target classes: head.bias[targets]."
        )
    return maps.flatten(1).mean(dim=1) + bias


def cam_identity(
    model: nn.Module, inputs: torch.Tensor, targets: Targets = None, *, layer: str | nn.Module | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(S_c recomputed from the raw CAM maps of ``layer``, S_c from the model), both (B,), for the targets.

    The two agree (to float precision) exactly when ``layer`` feeds a GAP + linear head; otherwise
    :func:`labkit.attribution.cam` raises a ValueError that says so.
    """
    inputs = as_batch(inputs).to(model_device(model))
    with model_guard(model), torch.no_grad():
        logits = model(inputs)
        resolved = targets_from_outputs(logits, targets)
        maps = cam(model, inputs, resolved, layer=layer, relu=False, upsample=False)
    head = last_linear(model)  # cam() has checked it is the GAP + linear head
    bias = head.bias[resolved] if head.bias is not None else torch.zeros(len(resolved), device=maps.device)
    return scores_from_cam(maps, bias.detach()), logits.gather(1, resolved[:, None])[:, 0]
