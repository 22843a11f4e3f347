"""Percentile bootstrap intervals of a mean over images."""

import numpy as np
import pytest
import torch

from labkit.metrics.bootstrap import mean_interval, resample_indices


def test_interval_of_a_mean_matches_the_normal_approximation():
    values = np.random.default_rng(1).normal(5.0, 2.0, size=400)
    mean, low, high = mean_interval(values)
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert mean == pytest.approx(values.mean())
    assert low < mean < high
    assert (high - low) / 2 == pytest.approx(half_width, rel=0.1)


def test_a_constant_has_a_zero_width_interval_and_nans_are_left_out():
    assert mean_interval([3.0, float("nan"), 3.0, 3.0]) == (3.0, 3.0, 3.0)
    assert all(np.isnan(mean_interval([float("nan")])))


def test_tensors_are_accepted_and_the_draws_are_the_same_for_the_same_number_of_images():
    values = torch.arange(50, dtype=torch.float32)
    assert mean_interval(values) == mean_interval(values.numpy())
    np.testing.assert_array_equal(resample_indices(50), resample_indices(50))


def test_a_wider_level_gives_a_wider_interval_and_bad_levels_are_refused():
    values = np.random.default_rng(2).uniform(size=100)
    _, low_90, high_90 = mean_interval(values, level=0.9)
    _, low_99, high_99 = mean_interval(values, level=0.99)
    assert low_99 < low_90 and high_90 < high_99
    with pytest.raises(ValueError, match="level"):
        mean_interval(values, level=95)
