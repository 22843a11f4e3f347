"""Reference inputs ("baselines") of Integrated Gradients and DeepLIFT, checked against the inputs."""

from __future__ import annotations

import torch

from labkit.images import check_finite


def as_baseline(baseline: float | torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """``baseline`` as a (B, 3, H, W) tensor on the inputs' device: a number, or a tensor of shape
    (3, 1, 1), (3, H, W), (1, 3, H, W) or (B, 3, H, W), in preprocessed units (0 = medium gray)."""
    tensor = torch.as_tensor(baseline, dtype=inputs.dtype, device=inputs.device)
    shape = tuple(tensor.shape)
    ok = tensor.ndim <= 4 and all(s in (1, t) for s, t in zip(shape[::-1], inputs.shape[::-1]))
    if not ok:
        raise ValueError(
            f"baseline of shape {shape} does not match inputs of shape {tuple(inputs.shape)}; give a number, "
            f"a (3, 1, 1) or (3, H, W) tensor for all images, or a (B, 3, H, W) tensor with one per image."
        )
    check_finite(tensor, "The baseline values")
    return tensor.expand_as(inputs)
