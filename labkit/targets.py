"""Which class to explain for each image: given, or the predicted one."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

Targets = int | Sequence[int] | torch.Tensor | None


def given_targets(targets: int | Sequence[int] | torch.Tensor, batch: int, device: torch.device) -> torch.Tensor:
    """``targets`` as a (B,) long tensor on ``device``: one int for every image, or one class per image.

    The range is checked against the model's outputs by :func:`check_range`.
    """
    tensor = torch.as_tensor(targets, device=device)
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise TypeError(f"Targets must be class indices (integers), got dtype {tensor.dtype}.")
    tensor = tensor.long().reshape(-1)
    if tensor.numel() == 1:
        tensor = tensor.expand(batch)
    if tensor.numel() != batch:
        raise ValueError(
            f"Got {tensor.numel()} targets for {batch} images: give one per image "
            "(one class index per image, or a single int for all of them)."
        )
    return tensor


def check_range(targets: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``targets`` if every class index is in [0, ``n_classes``), else a ValueError."""
    bad = (targets < 0) | (targets >= n_classes)
    if bool(bad.any()):
        raise ValueError(
            f"Target class {int(targets[bad][0])} is out of range: the model has {n_classes} "
            f"classes (0 to {n_classes - 1})."
        )
    return targets


def resolve_targets(outputs: torch.Tensor, targets: Targets) -> torch.Tensor:
    """A (B,) long tensor on the outputs' device: ``targets`` checked, or the argmax class.

    ``outputs`` are the model's (B, n_classes) outputs on the unperturbed inputs. One int
    is used for every image; a sequence or tensor must hold one class per image.
    """
    batch, n_classes = outputs.shape
    if targets is None:
        return outputs.argmax(dim=1)
    return check_range(given_targets(targets, batch, outputs.device), n_classes)


def targets_for(model: nn.Module, inputs: torch.Tensor, targets: Targets) -> torch.Tensor:
    """(B,) targets for ``inputs``: the given ones (their range is checked later, on the first outputs),
    or the predicted classes (one forward pass without gradients)."""
    if targets is not None:
        return given_targets(targets, len(inputs), inputs.device)
    with torch.no_grad():
        return model(inputs).argmax(dim=1)
