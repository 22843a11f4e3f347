"""The LRP attribution method with labkit's shared call shape."""

from __future__ import annotations

import torch
from torch import nn

from labkit.attribution.backward_rules import backward_rules
from labkit.attribution.channels import check_reduce, reduce_channels
from labkit.attribution.gradients import input_gradients
from labkit.attribution.lrp.composite import Composite, make_composite
from labkit.attribution.lrp.propagation import RULE_TYPES, Propagation, check_supported
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.targets import Targets, target_scores


@reference
def lrp(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    composite: Composite | str = "epsilon",
    epsilon: float | None = None,
    gamma: float | None = None,
    bounds: tuple[float | torch.Tensor, float | torch.Tensor] | None = None,
    stabilizer: float | None = None,
    reduce: str = "sum",
    return_gap: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Layer-wise relevance propagation maps (B, H, W) (Bach et al. 2015; Montavon et al. 2019), summed over
    RGB (``reduce``); with ``return_gap=True`` also the conservation gap (B,) = sum_i R_i - S_c(x).

    The target logit S_c is the relevance at the output; each layer passes it down with the rule its
    ``composite`` gives it (a :class:`Composite`, or a name of :data:`COMPOSITES` built with ``epsilon``,
    ``gamma``, ``bounds`` = (low, high) for z^B, and ``stabilizer``; rules in :mod:`.rules`, which
    module gets which in :mod:`.propagation`). One forward and one backward pass; the rules that change
    the weights (gamma, z+, z^B, flat, w^2) recompute their layer's forward in the backward pass.

    **What is conserved.** Each layer's rule keeps sum_j R_j = sum_k R_k up to what its denominator adds
    beyond the inputs' contributions: for epsilon, sum_j R_j = sum_k R_k (z_k - b_k) / stab(z_k) (the bias and
    epsilon absorb the rest); gamma and z+ likewise with their modified biases; z^B, flat and w^2 are
    bias-free (conserved up to the stabilizer). Residual additions, max pooling, ReLU, concatenation and
    reshapes conserve exactly. So on a network without biases (batch norm merged in included) and with
    a tiny epsilon, the gap is float error; otherwise it is the relevance the biases absorbed.

    **Against zennit and Captum.** Equal to zennit's composites of the same names (``EpsilonGammaBox``,
    ``EpsilonPlus``, ``EpsilonPlusFlat``; attr_output = one-hot * score, the same stabilizer, zennit's
    ``ResNetCanonizer``/``SequentialMergeBatchNorm``), except that (1) zennit's merge leaves each batch
    norm dividing by sqrt(1 + eps) (it resets the statistics to 0 and 1 but keeps eps), so its canonized
    network, and its relevance, is smaller by a factor (1 + eps)^(-1/2) per merged batch norm (4e-5
    relative on ResNet-18 with PyTorch's eps = 1e-5; equal to float error with eps = 0), where this merge
    is exact; (2) zennit stabilises a residual sum with its stabilizer (``Norm``) where this splits it
    exactly; (3) zennit's ``WSquare`` squares the bias into the denominator where the overview's w^2 rule
    has none; (4) zennit passes relevance through a batch norm that follows no layer unchanged (``Pass``:
    it ignores the scale), where this applies epsilon to it as the linear map it is.

    Equal to Captum's ``LRP`` (epsilon rule everywhere, epsilon = stabilizer = 1e-9) on networks whose
    layers are modules used once, without batch norm or residual additions (VGG): Captum has no
    canonizer, so it applies epsilon to batch norm on its own,
    and its gradient through ``out += identity`` copies the relevance to both branches (on ResNet-18 it
    runs but the relevance no longer sums to the score; here it does). Captum's ``GammaRule`` and
    ``Alpha1_Beta0_Rule`` use the whole input x with modified weights and the unmodified bias, so they
    differ from gamma and z+ here (and zennit) where inputs are negative or biases are not zero.

    Covered: :func:`.propagation.check_supported` names what is. Checked (conservation without biases):
    torchvision's AlexNet, VGG (with and without batch norm), ResNet, ResNeXt, Wide ResNet, DenseNet,
    MobileNet-V2, SqueezeNet, ShuffleNet-V2, MNASNet, GoogLeNet, RegNet-X, and timm's EfficientNet-Lite0
    (the course's default, with its fused BatchNormAct2d and Conv2dSame). Refused with a ValueError naming
    the layers: EfficientNet-B0 and RegNet-Y (SiLU, Sigmoid gates), MobileNet-V3 (Hardswish), ConvNeXt
    (GELU, LayerNorm), and any other layer without a rule here.
    """
    check_reduce(reduce)
    inputs = as_batch(inputs).to(model_device(model))
    check_supported(model)
    rules = make_composite(composite, epsilon=epsilon, gamma=gamma, bounds=bounds, stabilizer=stabilizer)
    with model_guard(model):
        propagation = Propagation(model, rules)
        with backward_rules(model, dict.fromkeys(RULE_TYPES, propagation), "LRP"):
            gradients, resolved = input_gradients(model, inputs, targets)
        if rules.first is not None and not propagation.input_layers:
            raise ValueError(
                f"The composite's first-layer rule ({type(rules.first).__name__}) found no convolution or linear "
                "layer that reads the model's input directly. Use a composite without a first-layer rule."
            )
        relevance = inputs * gradients + sum(propagation.extra, torch.zeros_like(inputs))
        if not return_gap:
            return reduce_channels(relevance, reduce)
        gap = relevance.flatten(1).sum(dim=1) - target_scores(model, inputs, resolved)
    return reduce_channels(relevance, reduce), gap
