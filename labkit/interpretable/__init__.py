"""Training for interpretable gradients (Torres Figueroa et al., "A Learning Paradigm for Interpretable Gradients").

The loss pulls the standard input gradient towards the guided-backprop gradient:
L = CE(f(X), T) + lambda * mean_i error(delta_i, delta'_i). One idea per module:
:mod:`~labkit.interpretable.errors` (MAE, MSE, cosine, histogram intersection),
:mod:`~labkit.interpretable.gradients` (both gradients from one forward pass),
:mod:`~labkit.interpretable.loss`, :mod:`~labkit.interpretable.trainer` (seeded, resumable),
:mod:`~labkit.interpretable.evaluate` (accuracy, CAM metrics, pointing game, per image),
:mod:`~labkit.interpretable.experiments` (the deck's Tables 1-4 as CSV files, with bootstrap intervals),
:mod:`~labkit.interpretable.deck_tables` (the deck's own numbers) and
:mod:`~labkit.interpretable.compare` (our changes beside the deck's, judged by paired differences over the same images).
"""

from labkit.interpretable.errors import (
    ERRORS,
    cosine_error,
    error_function,
    histogram_intersection_error,
    mae_error,
    mse_error,
)
from labkit.interpretable.gradients import GradientPair, gradient_pair
from labkit.interpretable.loss import LossParts, interpretable_gradient_loss, interpretable_loss

__all__ = [
    "ERRORS",
    "GradientPair",
    "LossParts",
    "cosine_error",
    "error_function",
    "gradient_pair",
    "histogram_intersection_error",
    "interpretable_gradient_loss",
    "interpretable_loss",
    "mae_error",
    "mse_error",
]
