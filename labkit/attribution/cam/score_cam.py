"""Score-CAM (Wang et al., "Score-CAM: Score-Weighted Visual Explanations for Convolutional
Neural Networks", CVPR Workshops 2020)."""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from labkit.attribution.cam.base import cam_method, upsample_maps
from labkit.attribution.layer_capture import LayerState
from labkit.batching import chosen_batch_size
from labkit.targets import check_score, select_score

EPS = 1e-8


def channel_masks(activations: torch.Tensor, images: torch.Tensor, channels: torch.Tensor, size) -> torch.Tensor:
    """H_k: the maps A[images, channels] upsampled to ``size`` and min-max normalised to [0, 1]."""
    maps = upsample_maps(activations[images, channels], size)
    low = maps.flatten(1).amin(dim=1)[:, None, None]
    high = maps.flatten(1).amax(dim=1)[:, None, None]
    return (maps - low) / (high - low + EPS)


@cam_method(gradients=False)
def score_cam(state: LayerState, *, score: str = "probability", channel_softmax: bool = False) -> torch.Tensor:
    """Score-CAM maps: each feature map weighted by how much it alone raises the class score.

        H_k = normalise(Up(A_k)) in [0, 1],
        w_k = f_c(X * H_k) - f_c(X_b),   M = ReLU(sum_k w_k A_k),

    as in the paper: f_c is the softmax probability (``score="probability"``; or the logit),
    X * H_k keeps the input where the map is high and sets the rest to 0 (medium gray
    after preprocessing), and the baseline X_b is the all-gray input. Channels whose map is
    constant give X * H_k = X_b, so w_k = 0 without running them.

    pytorch-grad-cam's ``ScoreCAM`` differs: it applies a softmax over the channels to the
    logits f_c(X * H_k) (``score="logit", channel_softmax=True`` here, where the baseline
    cancels) and upsamples the masks with ``align_corners=True``. The masked copies run
    ``batch_size`` at a time (default: as many as fit in memory).
    """
    check_score(score)
    inputs, activations, targets = state.inputs, state.activations, state.targets
    n_images, n_channels = activations.shape[:2]
    size = tuple(inputs.shape[-2:])
    with torch.no_grad():
        baseline = select_score(state.model(torch.zeros_like(inputs)), targets, score)
        scores = baseline[:, None].repeat(1, n_channels).flatten()
        flat = activations.flatten(2)
        active = (flat.amax(dim=2) > flat.amin(dim=2)).flatten().nonzero()[:, 0]
        batch_size = chosen_batch_size(state.batch_size, state.model, inputs[:1], limit=max(len(active), 1))
        starts = range(0, len(active), batch_size)
        for start in tqdm(starts, desc="score_cam", disable=not state.progress, leave=False):
            index = active[start : start + batch_size]
            images, channels = index // n_channels, index % n_channels
            masked = inputs[images] * channel_masks(activations, images, channels, size)[:, None]
            scores[index] = select_score(state.model(masked), targets[images], score)
    scores = scores.view(n_images, n_channels)
    weights = scores.softmax(dim=1) if channel_softmax else scores - baseline[:, None]
    return weights[:, :, None, None]
