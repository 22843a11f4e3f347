"""Guided Grad-CAM (Selvaraju et al., ICCV 2017): guided backpropagation times the upsampled Grad-CAM map,

    G(x) = GuidedBP(x) (B, 3, H, W)  *  Up(Grad-CAM) (B, 1, H, W),

high-resolution and class-discriminative.
"""

from __future__ import annotations

import torch
from torch import nn

from labkit.attribution.backward_rules import guided_rule, rule_gradients
from labkit.attribution.cam import grad_cam
from labkit.attribution.channels import check_reduce, reduce_channels
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.targets import Targets, targets_from_model


@reference
def guided_grad_cam(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    layer: str | nn.Module | None = None,
    reduce: str = "max_abs",
) -> torch.Tensor:
    """Guided Grad-CAM maps (B, H, W) (``reduce="none"``: (B, 3, H, W)). Equal to Captum's
    ``GuidedGradCam`` with ``interpolate_mode="bilinear"`` on ReLU networks."""
    check_reduce(reduce)
    inputs = as_batch(inputs).to(model_device(model))
    with model_guard(model):
        resolved = targets_from_model(model, inputs, targets)
    maps = grad_cam(model, inputs, resolved, layer=layer)
    guided = rule_gradients(model, inputs, resolved, guided_rule, "guided_grad_cam")
    return reduce_channels(guided * maps[:, None], reduce)
