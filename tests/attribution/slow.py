"""Helpers of the slow reference loops (LRP, RevealCancel): layers as explicit matrices."""

from __future__ import annotations

import torch
from torch import nn


def dense(layer: nn.Module, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """A linear layer as a matrix W (out, in) and bias b (out,), read off its outputs on the unit vectors."""
    size = int(torch.tensor(shape).prod())
    with torch.no_grad():
        bias = layer(torch.zeros(1, *shape)).flatten()
        basis = torch.eye(size).reshape(size, *shape)
        weight = (layer(basis).reshape(size, -1) - bias).T
    return weight, bias
