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


@pytest.fixture(scope="session")
def shapes_resnet18_batch():
    """The shipped shapes ResNet-18 and 24 test images: (classifier, inputs, labels, masks)."""
    from labkit.data import ShapesDataset
    from labkit.models import load_model

    clf = load_model("shapes_resnet18", device="cpu")
    test = ShapesDataset("test", n=24)
    return clf, clf.preprocess(test.images), test.labels, test.masks


@pytest.fixture
def beats_random():
    """Check a method's energy-based pointing score against random maps', by a wide margin."""
    from labkit.metrics import energy_pointing_game

    def check(maps: torch.Tensor, masks: torch.Tensor) -> tuple[float, float]:
        generator = torch.Generator().manual_seed(0)
        score = energy_pointing_game(maps, masks).mean().item()
        chance = energy_pointing_game(torch.rand(maps.shape, generator=generator), masks).mean().item()
        assert score > 2 * chance, (score, chance)
        return score, chance

    return check
