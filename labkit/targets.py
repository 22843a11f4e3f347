"""Which class to explain for each image: given, or the predicted one."""

from __future__ import annotations

from collections.abc import Sequence

import torch

Targets = int | Sequence[int] | torch.Tensor | None


def resolve_targets(outputs: torch.Tensor, targets: Targets) -> torch.Tensor:
    """A (B,) long tensor on the outputs' device: ``targets`` checked, or the argmax class.

    ``outputs`` are the model's (B, n_classes) outputs on the unperturbed inputs. One int
    is used for every image; a sequence or tensor must hold one class per image.
    """
    batch, n_classes = outputs.shape
    if targets is None:
        return outputs.argmax(dim=1)
    tensor = torch.as_tensor(targets, device=outputs.device)
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise TypeError(f"Targets must be class indices (integers), got dtype {tensor.dtype}.")
    tensor = tensor.long().reshape(-1)
    if tensor.numel() == 1:
        tensor = tensor.expand(batch)
    if tensor.numel() != batch:
        raise ValueError(f"Got {tensor.numel()} targets for {batch} images; give one per image.")
    bad = (tensor < 0) | (tensor >= n_classes)
    if bool(bad.any()):
        raise ValueError(
            f"Target class {int(tensor[bad][0])} is out of range: the model has {n_classes} "
            f"classes (0 to {n_classes - 1})."
        )
    return tensor
