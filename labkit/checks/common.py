"""Helpers shared by the labs' checks: running a student's code, comparing.

The toy models live in :mod:`labkit.toy_models`; ``toy_classifier`` is also importable from
here, where the solution notebooks import it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.grader.record import record
from labkit.grading import forbid
from labkit.toy_models import toy_classifier

__all__ = ["assert_close", "assert_mode_kept", "call_student", "modes", "toy_classifier"]


def call_student(student: Callable, args: tuple, forbidden: tuple[Callable, ...]) -> object:
    """``student(*args)`` with the ``forbidden`` labkit references switched off during the call.

    Tensor arguments are passed as copies, and the call fails if the student's code changed
    them in place. While nbgrader autogrades, the result is recorded (:func:`labkit.grader.record.record`)
    so that a process the student's code never touched can replay the check and decide
    (:mod:`labkit.grader.verdict`).
    """
    copies = tuple(arg.clone() if isinstance(arg, torch.Tensor) else arg for arg in args)
    with forbid(*forbidden):
        result = student(*copies)
    record(result, args)
    for given, original in zip(copies, args):
        if isinstance(original, torch.Tensor):
            assert torch.equal(given, original), (
                "Your function changed its input tensor in place; work on a copy (x.clone())."
            )
    return result


def assert_close(got: object, expected: torch.Tensor, what: str, hint: str, atol: float = 1e-5) -> None:
    """``got`` equals ``expected`` (shape and values, to ``atol``), or an AssertionError that explains."""
    assert isinstance(got, torch.Tensor), f"{what}: expected a torch tensor, got {type(got).__name__}."
    got = got.detach().to("cpu", expected.dtype)
    assert got.shape == expected.shape, (
        f"{what}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}. {hint}"
    )
    error = float((got - expected.cpu()).abs().max())
    assert error <= atol, f"{what}: values differ from the reference by up to {error:.3g}. {hint}"


def modes(model: torch.nn.Module) -> list[bool]:
    """Each module's ``training`` flag, in the order of ``model.modules()``."""
    return [module.training for module in model.modules()]


def assert_mode_kept(model: torch.nn.Module, before: list[bool], what: str) -> None:
    """The model's modes are those recorded in ``before`` (:func:`modes`), or an AssertionError that explains."""
    assert modes(model) == before, (
        f"{what}: your function changed the model's mode (train/eval). Note `mode = model.training` first, "
        "compute in eval mode (`model.eval()`), and give the model back as you found it (`model.train(mode)`)."
    )
