"""Fixtures shared by the whole suite: the offline default model is loaded once."""

import matplotlib
import pytest
import torch

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def classifier():
    import labkit

    return labkit.load_model()


@pytest.fixture()
def toy_model():
    """A tiny CNN with in-place ReLU and a GAP + linear head (3 classes); random but seeded."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(inplace=True),
        torch.nn.Conv2d(4, 5, 3, padding=1),
        torch.nn.ReLU(inplace=True),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(5, 3),
    )
