"""Error functions between the standard gradient delta and the guided gradient delta'.

Torres Figueroa et al., "A Learning Paradigm for Interpretable Gradients" (the deck's
"Regularization" slide). Each function takes two gradient tensors of shape (B, ...) and
returns one error per image, (B,); the loss averages them over the batch. With m the number
of elements of one image's gradient (all channels and pixels, C x H x W: every element is a
"bin"; no channel reduction, no binning of values):

    MAE      (1/m) ||delta - delta'||_1
    MSE      (1/m) ||delta - delta'||_2^2
    cosine   1 - <delta, delta'> / (||delta||_2 ||delta'||_2)
    HI       1 - sum_i min(|delta_i| / ||delta||_1, |delta'_i| / ||delta'||_1)

Choices the deck leaves open, and what is done here:

- Cosine: the deck writes the similarity itself; as a loss to *minimise* it is used as
  1 - cos (0 when the gradients point the same way, 2 when opposite), as in the paper.
- Histogram intersection: the deck writes -sum_i min(|delta_i|, |delta'_i|) / (||delta||_1
  ||delta'||_1). Taken literally the value depends on the gradients' scale (for delta =
  delta' it is -1/||delta||_1, so the loss could fall by inflating the gradient). We read the
  denominator as the usual normalisation of each histogram by its own mass (Swain & Ballard,
  1991): the absolute gradients become distributions p, q (each sums to 1) and the
  intersection sum_i min(p_i, q_i) lies in [0, 1]. The error is 1 - intersection, which has
  the same gradients as the deck's negative sign and is 0 for proportional gradients.
- MAE and MSE compare the raw gradients (no normalisation), as the deck's formulas do.
- A zero gradient (a dead network) has no direction: cosine and HI then divide by a small
  ``EPS`` instead of zero and give an error of 1 rather than NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.grader.references import reference

#: Added to norms in denominators (cosine, histogram intersection).
EPS = 1e-12

ErrorFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _flat(delta: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(delta, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError("The error functions take two torch tensors of shape (B, ...): delta and delta'.")
    if delta.shape != target.shape:
        raise ValueError(
            f"delta {tuple(delta.shape)} and delta' {tuple(target.shape)} must have the same shape: "
            "both are gradients of the same logits w.r.t. the same inputs."
        )
    if delta.ndim < 2:
        raise ValueError(f"Expected a batch of gradients (B, ...), got shape {tuple(delta.shape)}; add a batch axis.")
    return delta.flatten(1), target.flatten(1)


@reference
def mae_error(delta: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) mean absolute error per image: (1/m) ||delta - delta'||_1."""
    delta, target = _flat(delta, target)
    return (delta - target).abs().mean(1)


@reference
def mse_error(delta: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) mean squared error per image: (1/m) ||delta - delta'||_2^2."""
    delta, target = _flat(delta, target)
    return (delta - target).pow(2).mean(1)


@reference
def cosine_error(delta: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) cosine error per image: 1 - <delta, delta'> / (||delta||_2 ||delta'||_2), in [0, 2]."""
    delta, target = _flat(delta, target)
    norms = delta.norm(dim=1) * target.norm(dim=1)
    return 1 - (delta * target).sum(1) / norms.clamp_min(EPS)


@reference
def histogram_intersection_error(delta: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) 1 - sum_i min(p_i, q_i) with p = |delta| / ||delta||_1, q = |delta'| / ||delta'||_1, in [0, 1]."""
    delta, target = _flat(delta, target)
    p = delta.abs() / delta.abs().sum(1, keepdim=True).clamp_min(EPS)
    q = target.abs() / target.abs().sum(1, keepdim=True).clamp_min(EPS)
    return 1 - torch.minimum(p, q).sum(1)


#: name -> error function (the names the trainer, the experiments and the CSVs use).
ERRORS: dict[str, ErrorFunction] = {
    "mae": mae_error,
    "mse": mse_error,
    "cosine": cosine_error,
    "histogram": histogram_intersection_error,
}


def error_function(error: str | ErrorFunction) -> ErrorFunction:
    """The error function named ``error`` (one of :data:`ERRORS`), or ``error`` itself if callable."""
    if callable(error):
        return error
    if error not in ERRORS:
        raise ValueError(f"Unknown error function {error!r}; choose one of {', '.join(ERRORS)} or pass a function.")
    return ERRORS[error]
