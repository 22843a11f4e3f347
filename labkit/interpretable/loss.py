"""The interpretable gradient loss (Torres Figueroa et al., the deck's Algorithm 1).

For a batch (X, T) of n images with target classes t_i:

    L = CE(f(X), T) + lambda * (1/n) sum_i error(delta_i, delta'_i)

    delta_i  = d f(x_i)_{t_i} / d x_i           standard gradient, kept in the graph
                                                (double backpropagation: dL/dtheta sees it)
    delta'_i = guided-backprop gradient of the same logit, a constant target (detached)

The targets are the ground-truth labels T (the logit being trained), both gradients come
from one forward pass in the model's current mode (see :mod:`labkit.interpretable.gradients`),
and ``lam = 0`` is plain cross-entropy: the extra backward passes are skipped, so training
with ``lam = 0`` is exactly standard training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from labkit.grader.references import reference
from labkit.interpretable.errors import ErrorFunction, error_function
from labkit.interpretable.gradients import gradient_pair


@dataclass
class LossParts:
    """The loss and its parts (detached except ``loss``): CE, the mean error (0 when skipped), the logits."""

    loss: torch.Tensor
    cross_entropy: torch.Tensor
    error: torch.Tensor
    logits: torch.Tensor


@reference
def interpretable_loss(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    guided: torch.Tensor,
    error: str | ErrorFunction = "cosine",
    lam: float = 1.0,
) -> torch.Tensor:
    """L(X, T) with the guided gradient ``guided`` (B, 3, H, W) given: the textbook form of the loss.

    One forward pass; delta = d(target logits)/dX with ``create_graph=True`` so that the error
    term reaches the weights; ``guided`` is detached (a constant target). Equal to
    :func:`interpretable_gradient_loss` when ``guided`` is the guided gradient of the same model.
    """
    leaf = images.detach().requires_grad_()
    logits = model(leaf)
    (delta,) = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), leaf, create_graph=True)
    errors = error_function(error)(delta, guided.detach())
    return F.cross_entropy(logits, targets) + lam * errors.mean()


@reference
def interpretable_gradient_loss(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    error: str | ErrorFunction = "cosine",
    lam: float = 1.0,
) -> LossParts:
    """L(X, T) for model inputs ``images`` (B, 3, H, W) and labels ``targets`` (B,); call ``.loss.backward()``.

    ``error``: ``"mae"``, ``"mse"``, ``"cosine"``, ``"histogram"`` or a function (B, ...) x (B, ...) -> (B,).
    """
    if lam < 0:
        raise ValueError(f"lam weighs the error term and must be >= 0, got {lam}.")
    if lam == 0:
        logits = model(images)
        cross_entropy = F.cross_entropy(logits, targets)
        return LossParts(cross_entropy, cross_entropy.detach(), torch.zeros((), device=logits.device), logits.detach())
    function = error_function(error)
    pair = gradient_pair(model, images, targets, create_graph=torch.is_grad_enabled())
    cross_entropy = F.cross_entropy(pair.logits, pair.targets)
    mean_error = function(pair.standard, pair.guided).mean()
    loss = cross_entropy + lam * mean_error
    return LossParts(loss, cross_entropy.detach(), mean_error.detach(), pair.logits.detach())
