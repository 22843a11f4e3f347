"""Ablation-CAM (Desai & Ramaswamy, "Ablation-CAM: Visual Explanations for Deep Convolutional
Network via Gradient-free Localization", WACV 2020)."""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from labkit.attribution.cam.base import cam_method
from labkit.attribution.layer_capture import LayerState
from labkit.batching import chosen_batch_size


def _ablate(channels: torch.Tensor):
    """An edit of the layer's output (1, K, h, w): one copy per channel, that channel set to 0."""

    def edit(output: torch.Tensor) -> torch.Tensor:
        copies = output.expand(len(channels), -1, -1, -1).clone()
        copies[torch.arange(len(channels), device=copies.device), channels] = 0
        return copies

    return edit


@cam_method(gradients=False)
def ablation_cam(state: LayerState) -> torch.Tensor:
    """Ablation-CAM maps: each feature map weighted by the score drop when it is set to zero,

        w_k = (y_c - y_c^k) / y_c,   M = ReLU(sum_k w_k A_k),

    y_c the target logit, y_c^k the logit with A_k = 0. The layers below the chosen one run
    once per image: the ablated copies of its output (``batch_size`` at a time) go through
    the layers above only. This assumes the network after the layer uses only the layer's
    output (true of the default layers; a skip connection around the layer would see one
    unablated copy broadcast). Equal to pytorch-grad-cam's ``AblationCAM`` on layers whose
    activations reach 0 (after a ReLU), where that library ablates to 0 too.
    """
    activations, targets = state.activations, state.targets
    n_images, n_channels = activations.shape[:2]
    batch_size = chosen_batch_size(state.batch_size, state.model, state.inputs[:1], limit=n_channels)
    ablated = torch.empty(n_images, n_channels, device=activations.device)
    steps = [(image, start) for image in range(n_images) for start in range(0, n_channels, batch_size)]
    with torch.no_grad():
        for image, start in tqdm(steps, desc="ablation_cam", disable=not state.progress, leave=False):
            channels = torch.arange(start, min(start + batch_size, n_channels), device=activations.device)
            outputs, _ = state.recorder.run(state.model, state.inputs[image : image + 1], _ablate(channels))
            ablated[image, channels] = outputs.index_select(1, targets[image : image + 1])[:, 0]
    original = state.scores[:, None]
    return ((original - ablated) / original)[:, :, None, None]
