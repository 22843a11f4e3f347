"""Percentile bootstrap intervals over images (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13).

A table's mean over n images is re-computed on ``resamples`` samples of n images drawn with
replacement; the 95 % interval is the 2.5th to 97.5th percentile of those means. The draws
depend only on n and the seed, so two tables (or two models) scored on the same images are
resampled with the same draws: their intervals are paired.

Two rows scored on the same images are compared by :func:`paired_difference`: the interval of the mean
of the per-image differences, not the overlap of the two rows' own intervals (which ignores that both
rows move together with the images and so calls real differences "within the noise").
"""

from __future__ import annotations

import numpy as np
import torch

#: Resamples and level of every recorded interval.
RESAMPLES = 2000
LEVEL = 0.95


def resample_indices(n: int, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """(resamples, n) image indices drawn with replacement; the same for the same ``n`` and ``seed``."""
    if n < 1:
        raise ValueError(f"A bootstrap needs at least one value, got {n}.")
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _as_array(values: np.ndarray | torch.Tensor | list[float]) -> np.ndarray:
    return values.detach().cpu().double().numpy() if isinstance(values, torch.Tensor) else np.asarray(values, float)


def mean_interval(
    values: np.ndarray | torch.Tensor | list[float],
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(mean, low, high): the mean of ``values`` (one per image; NaN values are left out) and its
    percentile bootstrap interval at ``level``."""
    if not 0 < level < 1:
        raise ValueError(f"level is a probability in (0, 1), got {level}.")
    array = _as_array(values)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return (float("nan"),) * 3
    means = array[resample_indices(array.size, resamples, seed)].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(array.mean()), float(low), float(high)


def paired_difference(
    first: np.ndarray | torch.Tensor | list[float],
    second: np.ndarray | torch.Tensor | list[float],
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(mean, low, high) of the per-image difference ``second - first`` with its percentile bootstrap interval.

    ``first[i]`` and ``second[i]`` are two scores of image ``i`` (two methods, or a model before and after
    training); an image missing from either (NaN) is left out of both. The bootstrap draws images, so the
    interval is that of mean(second_i - first_i) over resampled image sets (Efron & Tibshirani 1993, §14).
    """
    a, b = _as_array(first), _as_array(second)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"A paired difference needs one score per image in each row, in the same order: got shapes "
            f"{a.shape} and {b.shape}."
        )
    return mean_interval(b - a, resamples=resamples, level=level, seed=seed)


def verdict(interval: tuple[float, float, float], higher_is_better: bool = True) -> str:
    """"better", "worse" or "within the noise" for ``second`` against ``first`` from a :func:`paired_difference`:
    a direction is claimed only when the interval excludes 0."""
    _, low, high = interval
    if np.isnan(low) or np.isnan(high) or low <= 0 <= high:
        return "within the noise"
    return "better" if (low > 0) == higher_is_better else "worse"
