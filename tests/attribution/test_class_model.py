"""Class model visualisation: gradient ascent with an L2 penalty."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from labkit.attribution import class_model

from .conftest import close


def test_one_step_is_the_update_formula():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 6)).eval()
    start = torch.randn(2, 3, 4, 4)
    image = class_model(model, [2, 5], size=(4, 4), steps=1, lr=0.5, l2=0.1, initial=start)
    gradient = model[1].weight[[2, 5]].view(2, 3, 4, 4)
    close(image, start + 0.5 * (gradient - 2 * 0.1 * start))


def test_the_class_score_rises(efficientnet):
    # A random bias-free network is dead at the zero image (all activations 0): start from noise.
    initial = 0.1 * torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    images = class_model(efficientnet, [1, 7], size=(64, 64), steps=5, lr=0.5, l2=1e-3, initial=initial)
    with torch.no_grad():
        scores = efficientnet(images)
        start = efficientnet(initial)
    assert bool((scores[[0, 1], [1, 7]] > start[[0, 1], [1, 7]]).all())


def test_l2_penalty_keeps_the_image_small():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 6)).eval()
    weak = class_model(model, 1, size=(4, 4), steps=50, lr=0.1, l2=0.0)
    strong = class_model(model, 1, size=(4, 4), steps=50, lr=0.1, l2=1.0)
    assert strong.norm() < weak.norm()


def test_clear_errors(efficientnet):
    with pytest.raises(ValueError, match="steps"):
        class_model(efficientnet, 1, steps=0)
    with pytest.raises(ValueError, match="lr > 0"):
        class_model(efficientnet, 1, steps=1, lr=float("nan"))
    with pytest.raises(ValueError, match="out of range"):
        class_model(efficientnet, 1000, size=(32, 32), steps=1)
