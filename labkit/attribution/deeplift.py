"""DeepLIFT with the rescale rule (Shrikumar et al., "Learning Important Features Through
Propagating Activation Differences", ICML 2017) and DeepLIFT-SHAP (Lundberg & Lee, NeurIPS 2017).

The input x and the reference x' run through the network together. Linear layers
(convolutions, batch norm in eval mode, average pooling, linear) keep their gradient;
each nonlinearity y = f(x) back-propagates the multiplier

    m = (f(x) - f(x')) / (x - x')          (rescale rule; f'(x) where |x - x'| < 1e-10)

instead of f'(x), and max pooling distributes the multiplier of the pooled difference to
the winning positions (Captum's rule). The attributions C = (x - x') * m_chain satisfy
summation-to-delta: sum_i C_i = S_c(x) - S_c(x'), whatever the network (the *gap* is 0 up
to float error). DeepLIFT-SHAP averages DeepLIFT over a set of references.

Covered: ReLU, ReLU6/Hardtanh, MaxPool2d modules (also in place or reused). Functional
activations are not seen (they keep their gradient, and summation-to-delta then fails:
the gap shows it); other activation modules raise a clear error.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from labkit.attribution.backward_rules import RELU_LIKE, ReplacingRule, backward_rules, passing
from labkit.attribution.baselines import as_baseline
from labkit.attribution.channels import check_reduce, reduce_channels
from labkit.attribution.gradients import copy_gradients
from labkit.attribution.integrated_gradients import target_scores
from labkit.batching import auto_batch_size
from labkit.device import model_device
from labkit.grading import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.targets import Targets, targets_for

EPS = 1e-10


def _halves(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs' half, references' half) of a batch that holds the inputs then the references."""
    return tensor.chunk(2)


@reference
def rescale_multiplier(
    x: torch.Tensor, x_ref: torch.Tensor, y: torch.Tensor, y_ref: torch.Tensor, grad: torch.Tensor
) -> torch.Tensor:
    """The rescale rule's multiplier of y = f(x): (y - y_ref) / (x - x_ref), or ``grad`` = f'(x) where
    |x - x_ref| < EPS (there the secant is undefined and tends to the derivative)."""
    delta = x - x_ref
    multiplier = (y - y_ref).div_(delta)
    return torch.where(delta.abs_() < EPS, grad, multiplier)


def rescale_rule(module: nn.Module, inputs: torch.Tensor, output: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    x, reference_x = _halves(inputs)
    y, reference_y = _halves(output)
    multiplier = rescale_multiplier(x, reference_x, y, reference_y, passing(module, y))
    return (grad.unflatten(0, (2, -1)) * multiplier).flatten(0, 1)


def _pool_backward(module: nn.MaxPool2d, inputs: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """The ordinary max-pooling backward (scatter-add to the winners) of ``grad``."""
    with torch.enable_grad():
        leaf = inputs.detach().requires_grad_()
        pooled = F.max_pool2d(
            leaf, module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode
        )
        return torch.autograd.grad(pooled, leaf, grad)[0]


def maxpool_rule(module: nn.Module, inputs: torch.Tensor, output: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    x, reference_x = _halves(inputs)
    y, reference_y = _halves(output)
    delta = torch.cat([x - reference_x] * 2)
    highest = torch.max(y, reference_y)
    spread = _pool_backward(module, inputs, grad * torch.cat([highest - reference_y, y - highest]))
    spread = sum(_halves(spread))
    ordinary = _pool_backward(module, inputs, grad)
    return torch.where(delta.abs() < EPS, ordinary, torch.cat([spread, spread]) / delta)


RULES = {**dict.fromkeys(RELU_LIKE, ReplacingRule(rescale_rule)), nn.MaxPool2d: ReplacingRule(maxpool_rule)}


def _deeplift_pairs(
    model: nn.Module,
    inputs: torch.Tensor,
    references: torch.Tensor,
    targets: torch.Tensor,
    pairs: tuple[torch.Tensor, torch.Tensor],
    batch_size: int,
    progress: bool,
) -> torch.Tensor:
    """Summed DeepLIFT attributions per image (B, 3, H, W) over the (image, reference) ``pairs``."""
    images, refs = pairs
    total = torch.zeros_like(inputs)

    def make(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        both = torch.cat([inputs[images[index]], references[refs[index]]])
        return both, torch.cat([targets[images[index]]] * 2)

    half = max(batch_size // 2, 1)
    for index, gradients in copy_gradients(model, make, len(images), half, progress=progress, desc="deeplift"):
        ours, _reference_half = _halves(gradients)
        contributions = ours * (inputs[images[index]] - references[refs[index]])
        total.index_add_(0, images[index], contributions)
    return total


def _run(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets,
    references: torch.Tensor,
    pairs_of: str,
    reduce: str,
    return_gap: bool,
    batch_size: int | None,
    progress: bool,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    check_reduce(reduce)
    n_images, n_references = len(inputs), len(references)
    device = inputs.device
    if pairs_of == "own":
        pairs = (torch.arange(n_images, device=device), torch.arange(n_images, device=device))
    else:
        pairs = (
            torch.arange(n_images, device=device).repeat_interleave(n_references),
            torch.arange(n_references, device=device).repeat(n_images),
        )
    with model_guard(model) as hooks:
        resolved = targets_for(model, inputs, targets)
        size = batch_size or auto_batch_size(model, inputs[:1], with_grad=True, limit=2 * len(pairs[0]))
        with backward_rules(model, hooks, RULES, "DeepLIFT"):
            total = _deeplift_pairs(model, inputs, references, resolved, pairs, size, progress)
        attributions = total / (1 if pairs_of == "own" else n_references)
        if not return_gap:
            return reduce_channels(attributions, reduce)
        reference_scores = target_scores(model, references[pairs[1]], resolved[pairs[0]])
        summed = torch.zeros(n_images, device=device).index_add_(0, pairs[0], reference_scores)
        change = target_scores(model, inputs, resolved) - summed / (len(pairs[0]) // n_images)
    return reduce_channels(attributions, reduce), attributions.flatten(1).sum(dim=1) - change


@reference
def deeplift(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    baseline: float | torch.Tensor = 0.0,
    reduce: str = "sum",
    return_gap: bool = False,
    batch_size: int | None = None,
    progress: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """DeepLIFT (rescale rule) maps (B, H, W), summed over RGB (``reduce``); with
    ``return_gap=True`` also the summation-to-delta gap (B,) = sum C - (S_c(x) - S_c(x')).

    ``baseline`` (the reference x') is a number or a tensor (3, 1, 1), (3, H, W) or
    (B, 3, H, W), in preprocessed units. Equal to Captum's ``DeepLift`` on networks of ReLU
    without max pooling; Captum has no ReLU6 rule, and its max-pooling rule does not keep
    summation-to-delta (its delta is about 1e-3 of the score on VGG-11; ours is float error).
    """
    inputs = as_batch(inputs).to(model_device(model))
    references = as_baseline(baseline, inputs)
    return _run(model, inputs, targets, references, "own", reduce, return_gap, batch_size, progress)


@reference
def deeplift_shap(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    references: torch.Tensor,
    reduce: str = "sum",
    return_gap: bool = False,
    batch_size: int | None = None,
    progress: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """DeepLIFT-SHAP maps (B, H, W): DeepLIFT averaged over the R ``references`` (R, 3, H, W)
    (e.g. a few real images, or noise), every image with every reference, ``batch_size``
    pairs at a time. The gap compares with S_c(x) - mean_r S_c(x'_r). Equal to Captum's
    ``DeepLiftShap``."""
    inputs = as_batch(inputs).to(model_device(model))
    references = torch.as_tensor(references, dtype=inputs.dtype, device=inputs.device)
    if references.ndim != 4 or references.shape[1:] != inputs.shape[1:] or len(references) < 1:
        raise ValueError(
            f"references must be a (R, 3, H, W) tensor of reference inputs shaped like the inputs "
            f"{tuple(inputs.shape[1:])}, got {tuple(references.shape)}."
        )
    return _run(model, inputs, targets, references, "all", reduce, return_gap, batch_size, progress)
