"""Helpers shared by the labs' checks: running a student's code, comparing.

The toy models live in :mod:`labkit.toy_models`; ``toy_classifier`` is also importable from
here, where the solution notebooks import it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labkit.grader.record import record
from labkit.grader.references import forbid
from labkit.toy_models import toy_classifier, toy_mode_classifier

__all__ = [
    "assert_close",
    "assert_mode_kept",
    "call_student",
    "check_eval_mode_kept",
    "check_raises",
    "modes",
    "raised",
    "toy_classifier",
]


def call_student(
    student: Callable, args: tuple, forbidden: tuple[Callable, ...], raises: type[Exception] | None = None
) -> object:
    """``student(*args)`` with the ``forbidden`` labkit references switched off during the call.

    Tensor arguments are passed as copies, and the call fails if the student's code changed
    them in place. While nbgrader autogrades, the result is recorded (:func:`labkit.grader.record.record`)
    so that a process the student's code never touched can replay the check and decide
    (:mod:`labkit.grader.verdict`). ``raises``: an error the call is expected to raise; when it does, the
    result is the marker :func:`raised` of that error, recorded like an answer (the replay sees it too).
    """
    copies = tuple(arg.clone() if isinstance(arg, torch.Tensor) else arg for arg in args)
    with forbid(*forbidden):
        if raises is None:
            result = student(*copies)
        else:
            try:
                result = student(*copies)
            except raises:
                result = raised(raises)
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


def modes(model: nn.Module) -> list[bool]:
    """Every module's ``training`` flag, in ``model.modules()`` order."""
    return [module.training for module in model.modules()]


def assert_mode_kept(model: nn.Module, before: list[bool], what: str) -> None:
    """The model's modes are those recorded in ``before`` (:func:`modes`), or an AssertionError that explains."""
    assert modes(model) == before, (
        f"{what}: your function changed the model's mode (train/eval). Note `mode = model.training` first, "
        "compute in eval mode (`model.eval()`), and give the model back as you found it (`model.train(mode)`), "
        "also when an error is raised (try/finally)."
    )


def check_eval_mode_kept(
    run: Callable[[nn.Module], object],
    reference: Callable[[nn.Module], torch.Tensor],
    what: str,
    compare: Callable[..., None],
    atol: float = 1e-5,
) -> None:
    """``run(model)`` (the student's call) on :func:`labkit.toy_models.toy_mode_classifier` models in train mode and in
    eval mode equals ``reference(model)`` (labkit's, which computes in eval mode), and leaves every
    module's mode as it was found. ``compare``: the calling check module's ``assert_close``, so that a
    check compares all its cases one way."""
    for seed, train in ((11, True), (12, False)):
        model = toy_mode_classifier(seed).train(train)
        found = modes(model)
        expected = reference(model)
        got = run(model)
        assert_mode_kept(model, found, f"{what} (the model was given in {'train' if train else 'eval'} mode)")
        compare(
            got,
            expected,
            f"{what} on a model with batch normalisation and dropout, given in {'train' if train else 'eval'} mode",
            "Explanations are computed in eval mode: in train mode batch normalisation uses the batch's own "
            "statistics and dropout zeroes random units. Call model.eval() before the forward passes (and restore "
            "the mode the model had afterwards).",
            atol=atol * max(1.0, float(expected.abs().max())),
        )


def raised(error: type[Exception]) -> str:
    """The answer :func:`call_student` records for a call that raised ``error`` as expected."""
    return f"raised {error.__name__}"


def check_raises(
    student: Callable, args: tuple, forbidden: tuple[Callable, ...], error: type[Exception], what: str
) -> None:
    """``student(*args)`` raises ``error`` (bad input), or an AssertionError that says ``what`` was expected."""
    got = call_student(student, args, forbidden, raises=error)
    assert isinstance(got, str) and got == raised(error), f"{what}: raise a {error.__name__} that says so."
