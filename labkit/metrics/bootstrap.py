"""Percentile bootstrap intervals over images (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13).

A table's mean over n images is re-computed on ``resamples`` samples of n images drawn with
replacement; the 95 % interval is the 2.5th to 97.5th percentile of those means. The draws
depend only on n and the seed, so two tables (or two models) scored on the same images are
resampled with the same draws: their intervals are paired.
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
    array = values.detach().cpu().double().numpy() if isinstance(values, torch.Tensor) else np.asarray(values, float)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return (float("nan"),) * 3
    means = array[resample_indices(array.size, resamples, seed)].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(array.mean()), float(low), float(high)
