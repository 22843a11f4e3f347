"""Toy models whose outputs are known in closed form, for metrics computed by hand."""

import pytest
import torch
from torch import nn

from labkit.images import Normalization

#: Model inputs equal images (mean 0, std 1), so masking in pixel and input space coincide.
IDENTITY = Normalization(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))


class MeanRed(nn.Module):
    """Two classes with softmax probabilities (m, 1 - m), m = the mean of channel 0.

    The logits are log(m) and log(1 - m), so p_0(x) = m exactly.
    """

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = (x[:, 0] * self.scale).flatten(1).mean(1).clamp(1e-12, 1 - 1e-12)
        return torch.stack([m.log(), (1 - m).log()], dim=1)


class SumRed(nn.Module):
    """One output (and a constant second one): the sum of channel 0, a linear "logit"."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = (x[:, 0] * self.scale).flatten(1).sum(1)
        return torch.stack([total, torch.zeros_like(total)], dim=1)


@pytest.fixture
def mean_red() -> MeanRed:
    return MeanRed()


@pytest.fixture
def sum_red() -> SumRed:
    return SumRed()


def red_images(*values: list[list[float]]) -> torch.Tensor:
    """A batch whose channel 0 holds the given (H, W) grids, the other channels 0.5."""
    red = torch.tensor(values, dtype=torch.float32)
    return torch.stack([red, torch.full_like(red, 0.5), torch.full_like(red, 0.5)], dim=1)


@pytest.fixture
def images():
    return red_images


@pytest.fixture
def identity() -> Normalization:
    return IDENTITY
