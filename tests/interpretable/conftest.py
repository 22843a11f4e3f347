"""A few random images for the interpretable-gradient tests (their model: labkit.toy_models.tiny_train_cnn)."""

import pytest
import torch


@pytest.fixture()
def batch():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(4, 3, 6, 6, generator=generator), torch.tensor([0, 2, 1, 2])
