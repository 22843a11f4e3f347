"""What every attribution method is called with and scores: ``method(model, inputs, targets=None, **options)``.

The class explained for each image is given, or the predicted one (the argmax of the
model's outputs); its score is the softmax probability or the logit of that class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

Targets = int | Sequence[int] | torch.Tensor | None

#: An attribution method: ``method(model, inputs (B, 3, H, W), targets, **options) -> maps (B, H, W)``.
Method = Callable[..., torch.Tensor]

#: The class scores the perturbation methods and metrics compare: softmax probability or logit.
SCORES = ("probability", "logit")


def _class_indices(targets: int | Sequence[int] | torch.Tensor, batch: int, device: torch.device) -> torch.Tensor:
    """``targets`` as a (B,) long tensor on ``device``: one int for every image, or one class per image."""
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


def targets_from_outputs(outputs: torch.Tensor, targets: Targets) -> torch.Tensor:
    """A (B,) long tensor on the outputs' device: ``targets`` checked, or the argmax class.

    ``outputs`` are the model's (B, n_classes) outputs on the unperturbed inputs. One int
    is used for every image; a sequence or tensor must hold one class per image.
    """
    batch, n_classes = outputs.shape
    if targets is None:
        return outputs.argmax(dim=1)
    return check_range(_class_indices(targets, batch, outputs.device), n_classes)


def targets_from_model(model: nn.Module, inputs: torch.Tensor, targets: Targets) -> torch.Tensor:
    """(B,) targets for ``inputs`` before any forward pass of the method: the given ones (their range is
    checked later, with :func:`check_range` on the first outputs), or the predicted classes (one forward
    pass without gradients)."""
    if targets is not None:
        return _class_indices(targets, len(inputs), inputs.device)
    with torch.no_grad():
        return model(inputs).argmax(dim=1)


def check_score(score: str) -> str:
    """``score`` if it names one of :data:`SCORES`, else a ValueError."""
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}.")
    return score


def select_score(outputs: torch.Tensor, targets: torch.Tensor, score: str) -> torch.Tensor:
    """The score (B,) of each image's target class: ``softmax(outputs)[b, t_b]`` or the logit ``outputs[b, t_b]``."""
    if check_score(score) == "probability":
        outputs = outputs.softmax(dim=1)
    return outputs.gather(1, targets[:, None])[:, 0]


def target_scores(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The logit S_c (B,) of each input's target class, without gradients."""
    with torch.no_grad():
        return select_score(model(inputs), targets, "logit")
