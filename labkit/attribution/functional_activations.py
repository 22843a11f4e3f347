"""Activations a model calls as functions, made visible to the backward rules.

Module hooks see ``nn.ReLU``; they cannot see ``F.relu(x)`` written inside a ``forward``
(torchvision's DenseNet ends with ``F.relu(features, inplace=True)``). Peer libraries then
back-propagate the plain gradient there without a word (Captum does), so guided
backpropagation is no longer guided at that ReLU and DeepLIFT loses summation-to-delta.

:class:`FunctionalActivations` is a ``TorchFunctionMode``: while the model's forward pass runs,
every torch function call passes through it. A call of a ReLU-like function (``F.relu``,
``torch.relu``, ``Tensor.relu``, ``F.relu6``, ``F.hardtanh``, in place or not) is replaced by
the equivalent module (``nn.ReLU``, ``nn.ReLU6``, ``nn.Hardtanh(min, max)``), to which the
backward rule is attached exactly as a module hook would (DeepLIFT also gets functional max
pooling, as ``nn.MaxPool2d``). Calls made inside a module that already has a rule are left to
its hook. Other activations called as functions (``F.gelu``, ``torch.sigmoid``, ...) have no
rule: they raise a ValueError that names them, as the same activations as modules do.

Where the rule reads the activation's input (deconvnet, DeepLIFT), an in-place call runs out
of place and its result is what the model gets back: models that keep the returned tensor
(``x = F.relu(x, inplace=True)``, the usual form) are covered; a bare ``torch.relu_(x)`` whose
result is dropped is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode


def _relu(*_args: Any, **_kwargs: Any) -> nn.Module:
    return nn.ReLU()


def _relu6(*_args: Any, **_kwargs: Any) -> nn.Module:
    return nn.ReLU6()


def _hardtanh(_input: Any, min_val: float = -1.0, max_val: float = 1.0, *_args: Any, **_kwargs: Any) -> nn.Module:
    return nn.Hardtanh(min_val, max_val)


def _max_pool2d(
    _input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> nn.Module:
    return nn.MaxPool2d(kernel_size, stride, padding, dilation, return_indices, ceil_mode)


#: Function -> the module that computes the same, built from the call's arguments.
AS_MODULE: dict[Callable, Callable[..., nn.Module]] = {
    **dict.fromkeys((F.relu, F.relu_, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_), _relu),
    F.relu6: _relu6,
    **dict.fromkeys((F.hardtanh, F.hardtanh_), _hardtanh),
    **dict.fromkeys((F.max_pool2d, F.max_pool2d_with_indices, torch.max_pool2d), _max_pool2d),
}

#: Activations with no backward rule here, when called as functions.
OTHER_FUNCTIONS: frozenset[Callable] = frozenset(
    {
        F.gelu,
        F.silu,
        F.mish,
        F.elu,
        F.celu,
        F.selu,
        F.leaky_relu,
        F.prelu,
        F.rrelu,
        F.hardswish,
        F.hardsigmoid,
        F.softplus,
        F.logsigmoid,
        torch.sigmoid,
        torch.tanh,
        torch.Tensor.sigmoid,
        torch.Tensor.tanh,
        torch.Tensor.sigmoid_,
        torch.Tensor.tanh_,
    }
)


def _name(function: Callable) -> str:
    """How the model's code most likely spelled ``function``: ``F.gelu``, ``torch.sigmoid``, ``Tensor.tanh``."""
    for prefix, namespace in (("F", F), ("torch", torch), ("Tensor", torch.Tensor)):
        name = getattr(function, "__name__", "")
        if getattr(namespace, name, None) is function:
            return f"{prefix}.{name}"
    return getattr(function, "__name__", repr(function))


class FunctionalActivations(TorchFunctionMode):
    """Inside the model's forward pass, applies ``attach(module, input, output)`` to each ReLU-like
    function call (see the module's doc) whose equivalent module is an instance of ``covered``.

    ``forward_depth`` counts the model's forward passes in progress and ``module_depth`` the
    covered modules' own forwards in progress (their hooks handle those calls); the owner
    (:func:`labkit.attribution.backward_rules.backward_rules`) keeps both up to date.
    """

    def __init__(
        self,
        covered: tuple[type[nn.Module], ...],
        attach: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor],
        reads_input: Callable[[nn.Module], bool],
        method: str,
    ) -> None:
        super().__init__()
        self.covered, self.attach, self.reads_input, self.method = covered, attach, reads_input, method
        self.forward_depth = 0
        self.module_depth = 0

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if not self.forward_depth or self.module_depth:
            return func(*args, **kwargs)
        if func in OTHER_FUNCTIONS:
            raise ValueError(
                f"{self.method} has backward rules for ReLU, ReLU6 and Hardtanh only; this model calls "
                f"{_name(func)} in its forward. Use a gradient method (saliency, integrated_gradients) for it."
            )
        as_module = AS_MODULE.get(func)
        if as_module is None:
            return func(*args, **kwargs)
        module = as_module(*args, **kwargs)
        if not isinstance(module, self.covered):
            return func(*args, **kwargs)
        if getattr(module, "return_indices", False):
            raise ValueError(f"{self.method} has no rule for max pooling that returns its indices ({_name(func)}).")
        inputs = args[0]
        output = module(inputs) if self.reads_input(module) else func(*args, **kwargs)
        return self.attach(module, inputs, output)
