"""Each error function's value on hand-made vectors."""

import math

import pytest
import torch

from labkit.interpretable import ERRORS, cosine_error, histogram_intersection_error, mae_error, mse_error

DELTA = torch.tensor([[1.0, -2.0, 0.0, 3.0]])
TARGET = torch.tensor([[0.0, 2.0, 1.0, 1.0]])


def test_mae_and_mse():
    assert mae_error(DELTA, TARGET).item() == pytest.approx((1 + 4 + 1 + 2) / 4)
    assert mse_error(DELTA, TARGET).item() == pytest.approx((1 + 16 + 1 + 4) / 4)


def test_cosine_is_one_minus_cos():
    cos = (0 - 4 + 0 + 3) / (math.sqrt(14) * math.sqrt(6))
    assert cosine_error(DELTA, TARGET).item() == pytest.approx(1 - cos)
    assert cosine_error(DELTA, 3 * DELTA).item() == pytest.approx(0, abs=1e-6)
    assert cosine_error(DELTA, -DELTA).item() == pytest.approx(2)


def test_histogram_intersection_normalises_each_histogram():
    p, q = torch.tensor([1, 2, 0, 3]) / 6, torch.tensor([0, 2, 1, 1]) / 4
    expected = 1 - torch.minimum(p, q).sum().item()  # min(1/6,0) + min(1/3,1/2) + min(0,1/4) + min(1/2,1/4)
    assert histogram_intersection_error(DELTA, TARGET).item() == pytest.approx(expected)
    assert expected == pytest.approx(1 - (1 / 3 + 1 / 4))
    assert histogram_intersection_error(DELTA, -5 * DELTA).item() == pytest.approx(0, abs=1e-6)


def test_per_image_over_every_element():
    delta, target = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4)
    for error in ERRORS.values():
        values = error(delta, target)
        assert values.shape == (3,)
        assert torch.allclose(values[1], error(delta[1:2], target[1:2])[0])


def test_zero_gradient_gives_a_finite_error():
    zero = torch.zeros(1, 4)
    assert cosine_error(zero, TARGET).item() == 1
    assert histogram_intersection_error(zero, TARGET).item() == 1


def test_bad_shapes_are_explained():
    with pytest.raises(ValueError, match="same shape"):
        cosine_error(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="batch"):
        mae_error(torch.zeros(3), torch.zeros(3))
