"""Checks behind lab 6's autograded exercises (Integrated Gradients with the right Riemann sum).

The rule taught: alpha_k = k / m for k = 1, ..., m (the paper's sum), each weighted 1 / m.
Each ``check_*`` runs the student's function on toy networks and random inputs the notebook
never shows, with the labkit references forbidden, and compares with labkit.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.attribution.ig_path import completeness_gap, path_points, path_profile
from labkit.attribution.integrated_gradients import integrated_gradients, path_nodes
from labkit.checks.common import assert_close, call_student
from labkit.toy_models import toy_classifier

#: (height, width, n_steps) of the toy cases
CASES = [(6, 5, 1), (8, 8, 3), (5, 9, 7), (7, 7, 12)]
FORBIDDEN = (integrated_gradients, path_nodes, path_points, path_profile, completeness_gap)


def _case(seed: int, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random input and a random baseline (3, height, width)."""
    generator = torch.Generator().manual_seed(600 + seed)
    return torch.randn(3, height, width, generator=generator), torch.randn(3, height, width, generator=generator) / 2


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
    """``student(model, x, baseline, target, n_steps)`` -> (3, H, W) IG of the target's logit."""
    for seed, (height, width, n_steps) in enumerate(CASES):
        model = toy_classifier(seed)
        x, baseline = _case(seed, height, width)
        target = (seed + 1) % 4
        expected = integrated_gradients(
            model, x[None], target, baseline=baseline, n_steps=n_steps, method="riemann_right", reduce="none"
        )[0]
        got = call_student(student, (model, x, baseline, target, n_steps), FORBIDDEN)
        assert_close(
            got,
            expected,
            f"integrated_gradients on a toy CNN, {height}x{width} input, target {target}, n_steps={n_steps}",
            "Average (sum / m) the gradients of the target's logit (not its probability) at "
            "alpha = 1/m, ..., 1, then multiply by (x - baseline), not by x.",
            atol=1e-4,
        )


def check_completeness_gap(student: Callable) -> None:
    """``student(model, x, baseline, target, attributions)`` -> sum(attributions) - (S_c(x) - S_c(x'))."""
    for seed, (height, width, _) in enumerate(CASES):
        model = toy_classifier(10 + seed)
        x, baseline = _case(10 + seed, height, width)
        target = seed % 4
        attributions = torch.randn(3, height, width, generator=torch.Generator().manual_seed(700 + seed)) / 10
        expected = completeness_gap(model, x[None], baseline, target, attributions[None])[0]
        got = call_student(student, (model, x, baseline, target, attributions), FORBIDDEN)
        got = torch.as_tensor(got, dtype=expected.dtype).reshape(expected.shape)
        assert_close(
            got,
            expected,
            f"completeness_gap on a toy CNN, {height}x{width} input, target {target}",
            "The gap is sum(attributions) - (S_c(x) - S_c(baseline)) with S_c the target's logit "
            "(not its probability): the sum minus the change in score, signed.",
            atol=1e-4,
        )
