"""Grouped (depthwise) convolutions whose double backward runs batched on a CPU.

The interpretable-gradient loss differentiates the input gradient delta = dS/dx with
respect to the weights (double backpropagation). PyTorch differentiates a convolution's
backward with ``_convolution_double_backward``, which on a CPU runs one convolution per
group when ``groups > 1``: a depthwise layer of C channels becomes C tiny convolutions, and
MobileNet-V2's regularised step cost 5.8 plain steps (``python -m bench.interpretable_step``,
batch 32 at 32 px, 2 CPU cores); with this module 3.6-3.9 with BatchNorm in training mode (the
rest is mostly the double backward of its 52 batch-norm layers, about a quarter of the step)
and 3.1-3.3 with BatchNorm frozen, as the shapes recipe trains (ResNet-18: 2.0-2.8 and 2.3-2.4).

:class:`GroupedConv2d` computes the same forward, ``conv2d(x, w, b)``, and writes its backward
with ordinary differentiable operations:

    dL/dx = conv_transpose2d(g, w)          (the adjoint of the convolution, same groups)
    dL/dw, dL/db = ATen's convolution_backward(g, x, w)

so differentiating dL/dx again only needs first-order (batched) convolution backward
passes. :func:`batched_grouped_convolutions` swaps it into a model's grouped ``nn.Conv2d``
modules for the duration of a block (values identical up to float rounding; checked
against PyTorch's own double backward in ``tests/interpretable/test_grouped_conv.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn


class GroupedConv2d(torch.autograd.Function):
    """``conv2d(x, weight, bias, stride, padding, dilation, groups)`` with a twice-differentiable,
    batched backward (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):  # type: ignore[override]
        ctx.save_for_backward(x, weight)
        ctx.options = (stride, padding, dilation, groups, bias is not None)
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        stride, padding, dilation, groups, has_bias = ctx.options
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        grad_x = grad_weight = grad_bias = None
        if need_x:
            output_padding = [
                x.shape[2 + i]
                - ((grad.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (weight.shape[2 + i] - 1) + 1)
                for i in range(2)
            ]
            grad_x = F.conv_transpose2d(grad, weight, None, stride, padding, output_padding, groups, dilation)
        if need_weight or (need_bias and has_bias):
            _, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
                grad,
                x,
                weight,
                [weight.shape[0]] if has_bias else None,
                list(stride),
                list(padding),
                list(dilation),
                False,
                [0, 0],
                groups,
                [False, bool(need_weight), bool(need_bias and has_bias)],
            )
        return grad_x, grad_weight, grad_bias, None, None, None, None


def swappable(module: nn.Module) -> bool:
    """A grouped ``nn.Conv2d`` with zero padding given as numbers (``padding="same"`` and
    other padding modes keep PyTorch's own convolution)."""
    return (
        type(module) is nn.Conv2d
        and module.groups > 1
        and module.padding_mode == "zeros"
        and not isinstance(module.padding, str)
    )


@contextmanager
def batched_grouped_convolutions(model: nn.Module) -> Iterator[None]:
    """Inside the block, every grouped ``nn.Conv2d`` of ``model`` runs :class:`GroupedConv2d`.

    The graph built inside keeps it for the backward passes made later (``loss.backward()``
    after the block). The modules get their own ``forward`` back on exit, also on error.
    """
    swapped = [module for module in model.modules() if swappable(module)]
    for module in swapped:
        module.forward = _grouped_forward(module)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for module in swapped:
            del module.forward


def _grouped_forward(module: nn.Conv2d):
    def forward(x: torch.Tensor) -> torch.Tensor:
        return GroupedConv2d.apply(
            x, module.weight, module.bias, module.stride, module.padding, module.dilation, module.groups
        )

    return forward
