"""Support for autograding: a student's exercise must not just call labkit's reference.

Reference implementations are decorated with :func:`reference`. A hidden test computes the
expected result first, then runs the student's function inside :func:`forbid`; if the
student's code calls the forbidden reference (however it was imported), that call raises
:class:`ReferenceUsedError` and the test fails.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

F = TypeVar("F", bound=Callable)

_FORBIDDEN: set[Callable] = set()


class ReferenceUsedError(AssertionError):
    """Raised when an exercise calls the labkit function it is meant to re-implement."""


def reference(function: F) -> F:
    """Mark ``function`` as a reference implementation that :func:`forbid` can switch off."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if wrapper in _FORBIDDEN:
            raise ReferenceUsedError(
                f"This exercise asks you to write the method yourself: your answer calls "
                f"labkit's {function.__module__}.{function.__name__}, which earns no points."
            )
        return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextmanager
def forbid(*functions: Callable) -> Iterator[None]:
    """Inside the block, calling any of the given reference functions raises ReferenceUsedError."""
    added = [f for f in functions if f not in _FORBIDDEN]
    _FORBIDDEN.update(added)
    try:
        yield
    finally:
        _FORBIDDEN.difference_update(added)
