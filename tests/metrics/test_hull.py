import math

import pytest
import torch

from labkit.guards import hook_count
from labkit.metrics import complexity_ratio, convex_hulls, important_pixels, sensitivity_ratio


def square_map(top: int, left: int, side: int, size: int = 8) -> torch.Tensor:
    maps = torch.zeros(1, size, size)
    maps[0, top : top + side, left : left + side] = 1.0
    return maps


def test_important_pixels_by_fraction_and_threshold():
    maps = torch.tensor([[[0.0, 1.0], [2.0, 3.0]]])
    assert important_pixels(maps, fraction=0.5).tolist() == [[[False, False], [True, True]]]
    assert important_pixels(maps, threshold=0.5).tolist() == [[[False, False], [True, True]]]  # >= 1.5
    assert important_pixels(maps, threshold=0.3).tolist() == [[[False, True], [True, True]]]
    ties = torch.ones(1, 2, 2)
    assert important_pixels(ties, fraction=0.25).sum() == 1  # exactly one of the tied pixels
    assert important_pixels(ties, threshold=0.9).all()  # constant map: every pixel


def test_ties_are_broken_without_a_spatial_bias():
    """A plateau of exact zeros (guided backprop, deconvnet, saturated ReLU6) cut by the top half: the kept zeros
    are spread over the map (raster order would keep the top rows), the same pixels in every map and image."""
    maps = torch.zeros(2, 32, 32)
    maps[:, 16:, :8] = torch.rand(2, 16, 8, generator=torch.Generator().manual_seed(0)) + 0.1  # 128 positive pixels
    kept = important_pixels(maps, fraction=0.5)
    assert kept.flatten(1).sum(1).tolist() == [512, 512]
    assert kept[:, 16:, :8].all()  # every positive pixel first
    zeros = kept & (maps == 0)  # 384 kept of the 896 zeros: the top half of the rows holds 512 of the 896
    top_share = zeros[:, :16].flatten(1).sum(1) / zeros.flatten(1).sum(1)
    assert ((top_share - 512 / 896).abs() < 0.08).all(), f"share of the kept zeros in the top rows: {top_share}"
    left_share = zeros[:, :, :16].flatten(1).sum(1) / zeros.flatten(1).sum(1)
    assert ((left_share - 384 / 896).abs() < 0.08).all(), f"share of the kept zeros in the left columns: {left_share}"
    assert torch.equal(zeros[0], zeros[1])  # the same order for every map of this size
    assert torch.equal(important_pixels(maps, fraction=0.5), kept)  # and on every call


def test_hull_of_a_triangle_of_points():
    maps = torch.zeros(1, 8, 8)
    maps[0, 1, 1] = maps[0, 1, 5] = maps[0, 5, 1] = 1.0
    hulls = convex_hulls(maps, threshold=0.5)
    # the right triangle with legs of 5 pixels holds 5 + 4 + 3 + 2 + 1 pixels
    assert hulls.areas.tolist() == [15]
    assert hulls.masks[0, 1:6, 1].all() and hulls.masks[0, 1, 1:6].all() and not hulls.masks[0, 5, 5]
    assert hulls.important.sum() == 3


def test_edge_cases_of_hulls():
    one_pixel = torch.zeros(1, 6, 6)
    one_pixel[0, 2, 3] = 4.0
    assert convex_hulls(one_pixel, fraction=1 / 36).areas.tolist() == [1]
    assert convex_hulls(torch.zeros(1, 6, 6), threshold=0.5).areas.tolist() == [36]  # constant: everything
    assert convex_hulls(torch.zeros(1, 6, 6), fraction=0.5).important.sum() == 18  # half of the tied pixels
    with pytest.raises(ValueError, match="either fraction or threshold"):
        convex_hulls(one_pixel, fraction=0.5, threshold=0.5)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        important_pixels(one_pixel, fraction=0)
    with pytest.raises(ValueError, match=r"shape \(B, H, W\)"):
        important_pixels(one_pixel[0])


def test_complexity_ratio_by_hand():
    gad = torch.cat([square_map(0, 0, 2), square_map(2, 2, 4)])
    original = torch.cat([square_map(0, 0, 4), square_map(2, 2, 2)])
    ratio = complexity_ratio(gad, original, threshold=0.5)
    torch.testing.assert_close(ratio, torch.tensor([4 / 16, 16 / 4]))
    with pytest.raises(ValueError, match="same shape"):
        complexity_ratio(gad, original[:1])


def test_sensitivity_ratio_by_hand(sum_red, images):
    # N_0 is the sum of the red channel, so RS = sum(I * M) / sum(M), the mean red over the mask
    x = images([[0.8, 0.4], [0.2, 0.6]], [[0.1, 0.3], [0.5, 0.3]])
    masks = torch.tensor([[[1, 1], [0, 0]], [[0, 0], [0, 1]]], dtype=torch.bool)
    rs = sensitivity_ratio(sum_red, x, masks, outputs=0)
    torch.testing.assert_close(rs, torch.tensor([0.6, 0.3]))
    empty = sensitivity_ratio(sum_red, x[:1], torch.zeros(1, 2, 2), outputs=0)
    assert math.isnan(empty.item())


def test_sensitivity_ratio_errors(sum_red, images):
    x = images([[0.8, 0.4], [0.2, 0.6]])
    with pytest.raises(ValueError, match="binary"):
        sensitivity_ratio(sum_red, x, torch.full((1, 2, 2), 0.5))
    with pytest.raises(ValueError, match=r"got maps of shape \(1, 3, 3\)"):
        sensitivity_ratio(sum_red, x, torch.ones(1, 3, 3))
    assert hook_count(sum_red) == 0
    assert all(p.requires_grad for p in sum_red.parameters())
