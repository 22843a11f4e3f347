"""Grad-CAM++ (Chattopadhay et al., "Grad-CAM++: Generalized Gradient-Based Visual
Explanations for Deep Convolutional Networks", WACV 2018)."""

from __future__ import annotations

import torch

from labkit.attribution.cam.base import cam_method
from labkit.attribution.layer_capture import LayerState

EPS = 1e-6


@cam_method(gradients=True)
def grad_cam_pp(state: LayerState) -> torch.Tensor:
    """Grad-CAM++ maps: positive gradients weighted per position (the paper's Eq. 19, with
    the exponential score, so higher derivatives are powers of the first):

        a_k,ij = g^2 / (2 g^2 + sum_ab A_k,ab g^3),   g = dS_c/dA_k,ij (a = 0 where g = 0),
        w_k = sum_ij a_k,ij ReLU(g),   M = ReLU(sum_k w_k A_k).

    ``EPS`` (1e-6) is added to the denominator, as pytorch-grad-cam does.
    """
    grads = state.gradients
    squared = grads.pow(2)
    total = state.activations.sum(dim=(2, 3), keepdim=True)
    alphas = squared / (2 * squared + total * squared * grads + EPS)
    alphas = torch.where(grads != 0, alphas, torch.zeros_like(alphas))
    return (alphas * grads.clamp(min=0)).sum(dim=(2, 3), keepdim=True)
