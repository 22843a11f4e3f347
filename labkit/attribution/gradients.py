"""Pixel-space gradients: saliency, gradient x input and SmoothGrad.

The score S_c is the target class's logit; x the preprocessed input.

- Saliency (Simonyan et al., "Deep Inside Convolutional Networks", ICLR 2014 workshop):
  M_ij = max_c |dS_c/dx_c,ij| (``reduce="max_abs"``; ``"signed"`` keeps the sign).
- Gradient x input (Shrikumar et al. 2016): A = x * dS_c/dx, summed over the channels.
- SmoothGrad (Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017):
  the gradient averaged over n noisy copies x + N(0, sigma^2), sigma = noise_level *
  (max(x) - min(x)) per image, then reduced like saliency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn
from tqdm.auto import tqdm

from labkit.attribution.channels import check_reduce, reduce_channels
from labkit.batching import chosen_batch_size
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.targets import Targets, check_range, targets_from_model, targets_from_outputs

#: index (N,) of copies -> (their inputs (N, 3, H, W), their target classes (N,))
MakeCopies = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def input_gradients(model: nn.Module, inputs: torch.Tensor, targets: Targets) -> tuple[torch.Tensor, torch.Tensor]:
    """(dS/dx (B, 3, H, W), resolved targets (B,)): one forward and one backward pass."""
    leaf = inputs.detach().requires_grad_()
    with torch.enable_grad():
        outputs = model(leaf)
        resolved = targets_from_outputs(outputs.detach(), targets)
        (gradients,) = torch.autograd.grad(outputs.gather(1, resolved[:, None]).sum(), leaf)
    return gradients, resolved


def copy_gradients(
    model: nn.Module, make: MakeCopies, n_copies: int, batch_size: int, *, progress: bool = False, desc: str = ""
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(index, dS/dx) for perturbed copies of the inputs, ``batch_size`` copies per pass.

    The targets' range is checked on the first pass (the only host synchronisation)."""
    device = model_device(model)
    starts = range(0, n_copies, batch_size)
    for start in tqdm(starts, desc=desc, disable=not progress, leave=False):
        index = torch.arange(start, min(start + batch_size, n_copies), device=device)
        copies, targets = make(index)
        leaf = copies.detach().requires_grad_()
        with torch.enable_grad():
            outputs = model(leaf)
            if start == 0:
                check_range(targets, outputs.shape[1])
            (gradients,) = torch.autograd.grad(outputs.gather(1, targets[:, None]).sum(), leaf)
        yield index, gradients


@reference
def saliency(
    model: nn.Module, inputs: torch.Tensor, targets: Targets = None, *, reduce: str = "max_abs"
) -> torch.Tensor:
    """Saliency maps (B, H, W): max over RGB of |dS_c/dx| (``reduce="signed"``: the signed
    gradient of that channel; ``"none"``: the (B, 3, H, W) gradient). One forward/backward pass.
    Equal to Captum's ``Saliency`` (its per-channel |gradient|, reduced)."""
    check_reduce(reduce)
    inputs = as_batch(inputs).to(model_device(model))
    with model_guard(model):
        gradients, _ = input_gradients(model, inputs, targets)
    return reduce_channels(gradients, reduce)


@reference
def gradient_x_input(
    model: nn.Module, inputs: torch.Tensor, targets: Targets = None, *, reduce: str = "sum"
) -> torch.Tensor:
    """Gradient x input maps (B, H, W): sum over RGB of x * dS_c/dx. Equal to Captum's ``InputXGradient``."""
    check_reduce(reduce)
    inputs = as_batch(inputs).to(model_device(model))
    with model_guard(model):
        gradients, _ = input_gradients(model, inputs, targets)
    return reduce_channels(gradients * inputs, reduce)


@reference
def smoothgrad(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    n_samples: int = 50,
    noise_level: float = 0.15,
    reduce: str = "max_abs",
    generator: torch.Generator | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """SmoothGrad maps (B, H, W): the gradient averaged over ``n_samples`` noisy copies, reduced.

    sigma = ``noise_level`` * (max(x) - min(x)) per image (Smilkov et al. found 10-20 %
    best). Noise is drawn from ``generator`` (a generator on the model's device; default:
    torch's global generator, so ``torch.manual_seed`` fixes it), copies in image-major order
    (as Captum's ``NoiseTunnel``); ``batch_size`` copies per pass (default: what fits).
    """
    check_reduce(reduce)
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}.")
    if not noise_level >= 0:  # also NaN
        raise ValueError(f"noise_level must be >= 0 (a fraction of the input range), got {noise_level}.")
    inputs = as_batch(inputs).to(model_device(model))
    n_images = len(inputs)
    sigma = noise_level * (inputs.flatten(1).amax(dim=1) - inputs.flatten(1).amin(dim=1))
    total = torch.zeros_like(inputs)
    with model_guard(model):
        resolved = targets_from_model(model, inputs, targets)

        def make(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            images = index // n_samples
            shape = (len(index), *inputs.shape[1:])
            noise = torch.randn(shape, generator=generator, device=inputs.device, dtype=inputs.dtype)
            return inputs[images] + noise * sigma[images, None, None, None], resolved[images]

        n_copies = n_images * n_samples
        size = chosen_batch_size(batch_size, model, inputs[:1], with_grad=True, limit=n_copies)
        for index, gradients in copy_gradients(model, make, n_copies, size, progress=progress, desc="smoothgrad"):
            total.index_add_(0, index // n_samples, gradients)
    return reduce_channels(total / n_samples, reduce)
