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
    assert important_pixels(ties, fraction=0.25).tolist() == [[[True, False], [False, False]]]  # raster order
    assert important_pixels(ties, threshold=0.9).all()  # constant map: every pixel


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
    assert convex_hulls(torch.zeros(1, 6, 6), fraction=0.5).areas.tolist() == [18]  # first three rows
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
