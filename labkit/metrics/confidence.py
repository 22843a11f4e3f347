"""Average Drop, Average Increase (Increase in Confidence) and Average Gain.

Average Drop and Increase in Confidence come from Grad-CAM++ (Chattopadhay et al., WACV
2018); Average Gain from the interpretable-gradients work (Torres Figueroa et al.). The
explanation map keeps the image where the saliency is high:

    E(x) = x * s,   s = min-max normalised saliency (per image), in [0, 1] pixel space,

then re-normalised for the model. With Y = p_c(x) and O = p_c(E(x)) (softmax):

    AD = mean max(0, Y - O) / Y * 100
    AI = mean 1[O > Y] * 100
    AG = mean max(0, O - Y) / (1 - Y) * 100

Lower AD, higher AI and AG are better.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from labkit.grader.references import reference
from labkit.images import Normalization
from labkit.metrics.common import check_maps, minmax, resolved, scores_of, target_source
from labkit.targets import Targets


@dataclass
class ConfidenceScores:
    """AD, AI, AG (percent) and the per-image Y = p(x), O = p(E(x)) they come from.

    ``target_source`` says whether the classes were ``"given"`` or ``"predicted"``.
    """

    average_drop: float
    average_increase: float
    average_gain: float
    original: torch.Tensor
    explained: torch.Tensor
    targets: torch.Tensor
    target_source: str

    def as_dict(self) -> dict[str, float]:
        return {"AD": self.average_drop, "AI": self.average_increase, "AG": self.average_gain}


def confidence_per_image(original: torch.Tensor, explained: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each image's share of AD, AI and AG (percent, (B,) each): their means are the metrics."""
    limits = torch.finfo(original.dtype)
    drop = (original - explained).clamp_min(0) / original.clamp_min(limits.tiny)
    gain = (explained - original).clamp_min(0) / (1 - original).clamp_min(limits.eps)
    return {"AD": drop * 100, "AI": (explained > original).to(original.dtype) * 100, "AG": gain * 100}


@reference
def confidence_metrics(original: torch.Tensor, explained: torch.Tensor) -> dict[str, float]:
    """AD, AI and AG (percent) from the scores Y = ``original`` (B,) and O = ``explained`` (B,)."""
    return {name: float(values.mean()) for name, values in confidence_per_image(original, explained).items()}


def explanation_inputs(inputs: torch.Tensor, maps: torch.Tensor, preprocess: Normalization) -> torch.Tensor:
    """E(x): the images (in [0, 1]) times their min-max normalised maps, re-normalised for the model."""
    return preprocess(preprocess.inverse(inputs) * minmax(maps)[:, None])


def confidence_scores(
    model: nn.Module,
    inputs: torch.Tensor,
    maps: torch.Tensor,
    targets: Targets = None,
    *,
    preprocess: Normalization,
    batch_size: int | None = None,
    progress: bool = False,
) -> ConfidenceScores:
    """AD, AI and AG of ``maps`` (B, H, W) for preprocessed ``inputs`` (B, 3, H, W).

    ``targets``: one class per image (default: the predicted class, as the result records);
    ``preprocess``: the model's :class:`Normalization` (masking happens in pixel space).
    """
    inputs, targets_, original = resolved(model, inputs, targets)
    maps = check_maps(maps, inputs)
    explained_inputs = explanation_inputs(inputs, maps, preprocess)
    explained = scores_of(
        model, lambda index: explained_inputs[index], targets_, batch_size=batch_size, progress=progress, desc="E(x)"
    )
    metrics = confidence_metrics(original, explained)
    return ConfidenceScores(
        average_drop=metrics["AD"],
        average_increase=metrics["AI"],
        average_gain=metrics["AG"],
        original=original,
        explained=explained,
        targets=targets_,
        target_source=target_source(targets),
    )
