"""A tiny CNN with BatchNorm and in-place ReLUs, and a few random images, for the interpretable-gradient tests."""

import pytest
import torch
from torch import nn


def tiny_net(seed: int = 0, dtype: torch.dtype = torch.float32, batch_norm: bool = True) -> nn.Module:
    torch.manual_seed(seed)
    layers = [nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4) if batch_norm else nn.Identity(), nn.ReLU(inplace=True)]
    layers += [nn.Conv2d(4, 5, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 3)]
    return nn.Sequential(*layers).to(dtype)


@pytest.fixture()
def batch():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(4, 3, 6, 6, generator=generator), torch.tensor([0, 2, 1, 2])
