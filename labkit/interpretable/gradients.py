"""The standard and the guided input gradients of the target logits, from ONE forward pass.

Guided backpropagation (Springenberg et al. 2015) changes only the *backward* pass of each
ReLU-like module: labkit's guided rule (``labkit.attribution.backward_rules``) clips the
gradient arriving at the module's output to ReLU(g) and lets the module's own backward apply
1[x > 0]. The forward pass is the network's own, so both gradients can come from the same
forward pass: :class:`SwitchableGuidedRule` attaches a clipping hook to every ReLU-like
output that is active only for the first (guided) backward pass, and the second one is the
ordinary gradient, through the modules' own (twice differentiable) backward, kept in the
graph for double backpropagation. The ReLU's mask is piecewise constant, so no second-order
term is lost.

This is cheaper than two forward passes, and it keeps the model's mode as it is: during
training, BatchNorm uses the batch statistics for *both* gradients (the guided target is the
guided gradient of the very function being trained) and updates its running statistics once
per step, as plain training does. Nothing here calls ``model.eval()`` or freezes the
parameters (unlike the attribution methods, which explain a fixed model): the trainer owns
the model's state; hooks and ``inplace`` flags are restored on exit, also on error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from labkit.attribution.backward_rules import RELU_LIKE, backward_rules
from labkit.grader.references import reference
from labkit.interpretable.grouped_conv import batched_grouped_convolutions
from labkit.targets import targets_from_outputs


class SwitchableGuidedRule:
    """A backward rule (``labkit.attribution.backward_rules.Rule``) that is guided inside :meth:`guiding`
    (the gradient at each ReLU-like output clipped to ReLU(g)) and the plain gradient elsewhere."""

    reads_input = False

    def __init__(self) -> None:
        self.guided = False

    def attach(self, module: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        if output.requires_grad:
            output.register_hook(self._clip)
        return output

    def _clip(self, grad: torch.Tensor) -> torch.Tensor | None:
        return grad.clamp(min=0) if self.guided else None

    @contextmanager
    def guiding(self) -> Iterator[None]:
        self.guided = True
        try:
            yield
        finally:
            self.guided = False


@dataclass
class GradientPair:
    """One forward pass: the logits (B, K), the standard gradient delta (in the graph when asked)
    and the guided gradient delta' (detached), both (B, 3, H, W), of the logits of ``targets`` (B,)."""

    logits: torch.Tensor
    standard: torch.Tensor
    guided: torch.Tensor
    targets: torch.Tensor


@reference
def gradient_pair(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, create_graph: bool = True
) -> GradientPair:
    """delta = dS/dx (kept in the graph if ``create_graph``) and delta' = guided dS/dx (detached).

    S = sum_i f(x_i)_{t_i}: each image's gradient is that of its own target logit (images do
    not interact except through BatchNorm's batch statistics in train mode, which both
    gradients share). The model is used in its current mode. With ``create_graph``, grouped
    convolutions run :class:`~labkit.interpretable.grouped_conv.GroupedConv2d` (the same
    values; a double backward that is batched on a CPU).
    """
    if inputs.ndim != 4:
        raise ValueError(f"Expected a batch of images (B, C, H, W), got shape {tuple(inputs.shape)}.")
    rule = SwitchableGuidedRule()
    batched = batched_grouped_convolutions(model) if create_graph else nullcontext()
    with backward_rules(model, dict.fromkeys(RELU_LIKE, rule), "interpretable_gradient_loss"), batched:
        leaf = inputs.detach().requires_grad_()
        with torch.enable_grad():
            logits = model(leaf)
            targets = targets_from_outputs(logits, targets)
            score = logits.gather(1, targets[:, None]).sum()
            with rule.guiding():
                (guided,) = torch.autograd.grad(score, leaf, retain_graph=True)
            (standard,) = torch.autograd.grad(score, leaf, create_graph=create_graph)
    return GradientPair(logits, standard, guided.detach(), targets)
