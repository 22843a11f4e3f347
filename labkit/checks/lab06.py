"""Checks behind lab 6's autograded exercises (Integrated Gradients with the right Riemann sum).

The rule taught: alpha_k = k / m for k = 1, ..., m (the paper's sum), each weighted 1 / m.
Each ``check_*`` runs the student's function on toy networks and random inputs the notebook
never shows, with the labkit references forbidden, and compares with labkit. The cases include the
boundary sizes (one step, a one-pixel image) and a model handed over in train mode with batch norm and
dropout (:func:`labkit.toy_models.toy_mode_classifier`): the answer must compute in eval mode and give the
model back in train mode.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.attribution.ig_path import completeness_gap, path_points, path_profile
from labkit.attribution.integrated_gradients import integrated_gradients, path_nodes
from labkit.checks.common import assert_close, assert_mode_kept, call_student, modes
from labkit.toy_models import toy_classifier, toy_mode_classifier

#: (height, width, n_steps) of the toy cases: one step, a one-pixel image, odd and non-square sizes
CASES = [(6, 5, 1), (8, 8, 3), (5, 9, 7), (7, 7, 12), (1, 1, 2)]
#: (height, width, n_steps) of the cases with a model in train mode (batch norm and dropout)
MODE_CASES = [(6, 7, 4), (3, 2, 1)]


def _model(seed: int, train_mode: bool) -> torch.nn.Module:
    """A toy CNN in eval mode, or (``train_mode``) one with batch norm and dropout handed over in train mode."""
    return toy_mode_classifier(seed) if train_mode else toy_classifier(seed)


def _model_cases(offset: int) -> list[tuple[int, int, int, int, bool]]:
    """(seed, height, width, n_steps, train_mode) of every model case."""
    plain = [(offset + seed, h, w, n, False) for seed, (h, w, n) in enumerate(CASES)]
    mode = [(offset + 50 + seed, h, w, n, True) for seed, (h, w, n) in enumerate(MODE_CASES)]
    return plain + mode
FORBIDDEN = (integrated_gradients, path_nodes, path_points, path_profile, completeness_gap)


def _case(seed: int, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random input and a random baseline (3, height, width)."""
    generator = torch.Generator().manual_seed(600 + seed)
    return torch.randn(3, height, width, generator=generator), torch.randn(3, height, width, generator=generator) / 2


def _what(name: str, train_mode: bool, height: int, width: int, target: int) -> str:
    """The case, as the failure message names it."""
    mode = " in train mode (batch norm, dropout)" if train_mode else ""
    return f"{name} on a toy CNN{mode}, {height}x{width} input, target {target}"


def check_path_inputs(student: Callable) -> None:
    """``student(x, baseline, n_steps)`` -> (n_steps, 3, H, W) points at alpha = 1/m, 2/m, ..., 1."""
    for seed, (height, width, n_steps) in enumerate(CASES):
        x, baseline = _case(seed, height, width)
        expected = path_points(x, baseline, path_nodes(n_steps, "riemann_right")[0])
        got = call_student(student, (x, baseline, n_steps), FORBIDDEN)
        assert_close(
            got,
            expected,
            f"path_inputs for a {height}x{width} input with n_steps={n_steps}",
            "The points are baseline + alpha * (x - baseline) with alpha = 1/m, 2/m, ..., m/m = 1 "
            "(the right Riemann sum: the last point is x itself, the baseline is not among them).",
        )


def check_integrated_gradients(student: Callable) -> None:
    """``student(model, x, baseline, target, n_steps)`` -> (3, H, W) IG of the target's logit, in eval mode."""
    for seed, height, width, n_steps, train_mode in _model_cases(0):
        model = _model(seed, train_mode)
        before = modes(model)
        x, baseline = _case(seed, height, width)
        target = (seed + 1) % 4
        expected = integrated_gradients(
            model, x[None], target, baseline=baseline, n_steps=n_steps, method="riemann_right", reduce="none"
        )[0]
        got = call_student(student, (model, x, baseline, target, n_steps), FORBIDDEN)
        what = _what("integrated_gradients", train_mode, height, width, target) + f", n_steps={n_steps}"
        assert_mode_kept(model, before, what)
        assert_close(
            got,
            expected,
            what,
            "Average (sum / m) the gradients of the target's logit (not its probability) at "
            "alpha = 1/m, ..., 1, then multiply by (x - baseline), not by x; compute in eval mode.",
            atol=1e-4,
        )


def check_completeness_gap(student: Callable) -> None:
    """``student(model, x, baseline, target, attributions)`` -> sum(attributions) - (S_c(x) - S_c(x')), in eval
    mode."""
    for seed, height, width, _, train_mode in _model_cases(10):
        model = _model(seed, train_mode)
        before = modes(model)
        x, baseline = _case(seed, height, width)
        target = seed % 4
        attributions = torch.randn(3, height, width, generator=torch.Generator().manual_seed(700 + seed)) / 10
        expected = completeness_gap(model, x[None], baseline, target, attributions[None])[0]
        got = call_student(student, (model, x, baseline, target, attributions), FORBIDDEN)
        what = _what("completeness_gap", train_mode, height, width, target)
        assert_mode_kept(model, before, what)
        assert torch.as_tensor(got).numel() == 1, f"{what}: return one number (a float or a 0-d tensor)."
        got = torch.as_tensor(got, dtype=expected.dtype).reshape(expected.shape)
        assert_close(
            got,
            expected,
            what,
            "The gap is sum(attributions) - (S_c(x) - S_c(baseline)) with S_c the target's logit "
            "(not its probability): the sum minus the change in score, signed; compute in eval mode.",
            atol=1e-4,
        )
