"""CAM's score identity: mean of the raw map plus the bias gives back the logit, on GAP + linear heads only."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from labkit.attribution.cam.identity import cam_identity, scores_from_cam
from labkit.guards import hook_count


def test_identity_holds_on_a_gap_linear_head(efficientnet):
    inputs = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    efficientnet.train()  # cam_identity evaluates in eval mode and restores the mode
    try:
        from_cam, from_model = cam_identity(efficientnet, inputs, [3, 500], layer="bn2")
        assert efficientnet.training and hook_count(efficientnet) == 0
    finally:
        efficientnet.eval()
    torch.testing.assert_close(from_cam, from_model, rtol=1e-4, atol=1e-4)


def test_identity_refuses_a_layer_that_does_not_feed_the_pooling(efficientnet):
    with pytest.raises(ValueError, match="global-average-pooling \\+ linear head"):
        cam_identity(efficientnet, torch.randn(1, 3, 64, 64), layer="conv_head")
    assert hook_count(efficientnet) == 0


def test_identity_on_a_head_without_bias():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3, bias=False)
    )
    from_cam, from_model = cam_identity(model, torch.randn(2, 3, 9, 9), layer="1")
    torch.testing.assert_close(from_cam, from_model, rtol=1e-5, atol=1e-6)


def test_scores_from_cam_checks_shapes():
    maps = torch.tensor([[[1.0, 2.0], [3.0, 6.0]]])
    assert torch.equal(scores_from_cam(maps, torch.tensor([0.5])), torch.tensor([3.5]))
    with pytest.raises(ValueError, match="one bias per map"):
        scores_from_cam(maps, torch.zeros(1000))
