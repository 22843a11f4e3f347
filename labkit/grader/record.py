"""What a hidden test keeps of the student's answer: the values returned on the hidden inputs, nothing else.

While nbgrader autogrades (``NBGRADER_EXECUTION`` is set), every call of a student's function made by a check
of ``labkit.checks`` (through :func:`labkit.checks.common.call_student`) publishes the returned value as an
output of the test cell, with the MIME type :data:`MIME`: ``{"check": "labkit.checks.lab04.check_grad_cam",
"call": 0, "answer": base64(torch.save(...))}``. nbgrader's process reads these outputs back
(:mod:`labkit.grader.preprocessors`) and a fresh process replays the check with them
(:mod:`labkit.grader.verdict`).

Only plain data travels: tensors (detached, on the CPU, plain ``torch.Tensor``), numbers, strings, ``None``,
lists, tuples, dicts, numpy arrays (as tensors, marked; TensorFlow tensors as numpy arrays); anything else
becomes an :class:`Opaque` marker that no check accepts. The reader uses ``torch.load(weights_only=True)``,
which builds nothing else.

An answer that must stay differentiable (lab 8's loss) also records its gradients with respect to every
tensor the check passed that requires gradients (module parameters included): :func:`surrogate` rebuilds a
tensor with the recorded value and exactly these gradients, so the check's ``backward()`` sees what the
student's graph would have given.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from labkit.grader import MIME

#: A recorded answer larger than this (bytes, before base64) is replaced by an Opaque marker.
MAX_BYTES = 16 * 2**20
_OPAQUE = "__labkit_opaque__"
_NDARRAY = "__labkit_ndarray__"
_calls: dict[str, itertools.count] = {}


class Opaque:
    """Stands for an answer that could not be recorded (an object, a function, a huge tensor): no check accepts it."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<not recorded: {self.what}>"


def portable(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data that ``torch.load(weights_only=True)`` can read back (see the module's docstring)."""
    if depth > 16:
        return (_OPAQUE, "a structure nested more than 16 levels deep")
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
        if tensor.layout != torch.strided:
            tensor = tensor.to_dense()
        return tensor.to("cpu").clone().as_subclass(torch.Tensor)
    if value is None or type(value) in (bool, int, float, complex, str):
        return value
    for plain in (bool, int, float, complex, str):  # subclasses: numpy.float64, IntEnum, ...
        if isinstance(value, plain):
            return plain(value)
    module = type(value).__module__
    if module.startswith("tensorflow") and callable(getattr(value, "numpy", None)):  # a TensorFlow tensor (lab 10)
        return portable(value.numpy(), depth + 1)
    if module == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return portable(value.item(), depth + 1)
    if module == "numpy" and type(value).__name__ == "ndarray":
        try:
            return (_NDARRAY, torch.from_numpy(value.copy()))
        except TypeError:
            return (_OPAQUE, f"a numpy array of dtype {value.dtype}")
    if isinstance(value, dict):
        if all(key is None or type(key) in (bool, int, float, str) for key in value):
            return {key: portable(item, depth + 1) for key, item in value.items()}
        return (_OPAQUE, "a dict whose keys are not numbers or strings")
    if isinstance(value, (list, tuple)):
        items = [portable(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return (_OPAQUE, f"an object of type {type(value).__module__}.{type(value).__qualname__}")


def restore(value: Any) -> Any:
    """The inverse of :func:`portable` on what ``torch.load`` read: markers become Opaque or numpy arrays."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == _OPAQUE:
        return Opaque(str(value[1]))
    if isinstance(value, tuple) and len(value) == 2 and value[0] == _NDARRAY and isinstance(value[1], torch.Tensor):
        return value[1].numpy()
    if isinstance(value, dict):
        return {key: restore(item) for key, item in value.items()}
    if isinstance(value, list):
        return [restore(item) for item in value]
    if isinstance(value, tuple):
        return tuple(restore(item) for item in value)
    return value


def gradient_leaves(args: tuple) -> list[torch.Tensor]:
    """The tensors of ``args`` an answer may be differentiated against: module parameters, tensors that need grad."""
    leaves = []
    for arg in args:
        if isinstance(arg, nn.Module):
            leaves.extend(arg.parameters())
        elif isinstance(arg, torch.Tensor) and arg.requires_grad:
            leaves.append(arg)
    return leaves


def _gradients(answer: Any, args: tuple) -> list[torch.Tensor | None] | None:
    """d sum(answer) / d leaf for each of :func:`gradient_leaves`, when the answer is a differentiable tensor."""
    if not isinstance(answer, torch.Tensor) or not answer.requires_grad:
        return None
    leaves = gradient_leaves(args)
    wanted = [leaf for leaf in leaves if leaf.requires_grad]
    try:
        found = torch.autograd.grad(answer.sum(), wanted, retain_graph=True, allow_unused=True) if wanted else ()
    except RuntimeError:
        found = [None] * len(wanted)
    by_leaf = dict(zip(map(id, wanted), found))
    return [portable(by_leaf.get(id(leaf))) for leaf in leaves]


def encode(answer: Any, args: tuple) -> str:
    """The answer (and its gradients, if differentiable) as base64 text, at most :data:`MAX_BYTES`."""
    payload = {"value": portable(answer), "grads": _gradients(answer, args)}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    if buffer.tell() > MAX_BYTES:
        buffer = io.BytesIO()
        torch.save({"value": (_OPAQUE, f"an answer of {buffer.tell()} bytes"), "grads": None}, buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode(text: str) -> dict[str, Any]:
    """``{"value": ..., "grads": [...] | None}`` read back safely (``weights_only=True``: plain data only)."""
    payload = torch.load(io.BytesIO(base64.b64decode(text, validate=True)), weights_only=True)
    if not isinstance(payload, dict) or set(payload) != {"value", "grads"}:
        raise ValueError("a recorded answer must be a dict with the keys 'value' and 'grads'")
    return {"value": restore(payload["value"]), "grads": payload["grads"]}


def surrogate(value: Any, grads: list | None, args: tuple) -> Any:
    """The recorded ``value``; for a differentiable answer, a tensor with that value and the recorded gradients.

    ``value + sum_i <leaf_i, g_i> - (the same, detached)``: the value is unchanged, and the gradient with
    respect to ``leaf_i`` is ``g_i`` (for a scalar answer, exactly the student's gradient).
    """
    if grads is None or not isinstance(value, torch.Tensor):
        return value
    leaves = gradient_leaves(args)
    if len(leaves) != len(grads):
        raise AssertionError("the recorded gradients do not match the check's inputs")
    terms = [
        (leaf * grad.to(leaf.dtype)).sum()
        for leaf, grad in zip(leaves, grads)
        if isinstance(grad, torch.Tensor) and grad.shape == leaf.shape
    ]
    rebuilt = value.detach().clone().requires_grad_(value.is_floating_point() or value.is_complex())
    if not terms:
        return rebuilt
    linear = torch.stack(terms).sum()
    return value.detach() + (linear - linear.detach()).to(value.dtype) / value.numel()


def current_check() -> str | None:
    """``module.check_name`` of the ``labkit.checks.labNN`` check running now, found on the call stack."""
    import sys

    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("labkit.checks.lab") and frame.f_code.co_name.startswith("check_"):
            return f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back
    return None


def _publish(data: dict[str, Any]) -> None:
    from IPython.display import publish_display_data

    publish_display_data({MIME: data})


#: Where answers go: set while autograding in a kernel; tests may put a list's ``append`` here.
publisher: Callable[[dict[str, Any]], None] | None = None


def record(answer: Any, args: tuple) -> None:
    """Publish ``answer`` (the student's return value for ``args``) for the verdict, if grading is on."""
    send = publisher
    if send is None:
        if not os.environ.get("NBGRADER_EXECUTION"):
            return
        try:
            from IPython import get_ipython
        except ImportError:
            return
        if get_ipython() is None:
            return
        send = _publish
    check = current_check()
    if check is None:
        return
    counter = _calls.setdefault(check, itertools.count())
    send({"check": check, "call": next(counter), "answer": encode(answer, args)})
