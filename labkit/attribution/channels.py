"""From per-channel attributions (B, 3, H, W) to maps (B, H, W).

``"sum"`` adds the channels (keeps completeness: the map sums to the same total),
``"max_abs"`` takes max_c |a_c| (Simonyan et al.'s saliency map), ``"signed"`` takes the
value a_c of the channel with the largest |a_c| (keeps its sign), ``"none"`` returns the
(B, 3, H, W) attributions unchanged.
"""

from __future__ import annotations

import torch

REDUCTIONS = ("sum", "max_abs", "signed", "none")


def check_reduce(reduce: str) -> None:
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}.")


def reduce_channels(attributions: torch.Tensor, reduce: str) -> torch.Tensor:
    """Reduce (B, C, H, W) attributions over C as ``reduce`` says (see the module's doc).
    The result is contiguous, whatever the layout the model's passes left the attributions in."""
    check_reduce(reduce)
    if reduce == "sum":
        reduced = attributions.sum(dim=1)
    elif reduce == "max_abs":
        reduced = attributions.abs().amax(dim=1)
    elif reduce == "signed":
        reduced = attributions.gather(1, attributions.abs().argmax(dim=1, keepdim=True))[:, 0]
    else:
        reduced = attributions
    return reduced.contiguous()
