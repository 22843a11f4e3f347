"""Percentile bootstrap intervals of a mean over images."""

import numpy as np
import pytest
import torch

from labkit.metrics.bootstrap import mean_interval, paired_difference, resample_indices, verdict


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


def test_paired_difference_equals_a_slow_loop_over_resampled_images():
    rng = np.random.default_rng(3)
    first = rng.normal(size=40)
    second = first + 0.3 + 0.1 * rng.normal(size=40)
    mean, low, high = paired_difference(first, second, resamples=500)
    slow = []
    for draw in resample_indices(40, 500):
        slow.append(sum(second[i] - first[i] for i in draw) / len(draw))
    assert mean == pytest.approx(float(np.mean(second - first)))
    assert (low, high) == pytest.approx(tuple(np.quantile(slow, [0.025, 0.975])))


def test_paired_difference_sees_a_shift_that_unpaired_intervals_call_noise():
    rng = np.random.default_rng(0)
    per_image = 10 * rng.normal(size=60)  # images differ a lot; the second row is 1 higher on every image
    first, second = per_image, per_image + 1 + 0.1 * rng.normal(size=60)
    high_first = mean_interval(first)[2]
    low_second = mean_interval(second)[1]
    assert low_second < high_first  # the rows' own intervals overlap
    difference = paired_difference(first, second)
    assert difference[1] > 0.9 and verdict(difference) == "better"
    assert verdict(difference, higher_is_better=False) == "worse"
    assert verdict(paired_difference(first, first + 0.01 * rng.normal(size=60))) == "within the noise"


def test_paired_difference_leaves_out_images_missing_from_either_row_and_refuses_unpaired_rows():
    assert paired_difference([1.0, float("nan"), 3.0], [2.0, 5.0, float("nan")])[0] == 1.0
    with pytest.raises(ValueError, match="same order"):
        paired_difference([1.0, 2.0], [1.0, 2.0, 3.0])
