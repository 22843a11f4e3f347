"""A tiny two-output CNN and a few images for GAD's tests."""

import pytest
import torch

from labkit.toy_models import toy_classifier


@pytest.fixture()
def two_class_model():
    return toy_classifier(0, classes=2)


@pytest.fixture()
def small_batch():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(8, 3, 10, 10, generator=generator), torch.tensor([0, 1] * 4)
