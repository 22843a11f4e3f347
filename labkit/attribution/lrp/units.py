"""Linear layers as LRP sees them: z = W x + b, with the batch norm that follows a layer merged in.

A convolution (``nn.Conv2d``) or ``nn.Linear`` followed by ``nn.BatchNorm2d``/``nn.BatchNorm1d`` in eval
mode computes one affine map, BN(conv(x)) = W' x + b' with, per output channel,

    s = gamma / sqrt(running_var + eps),   W' = s * W,   b' = s * (b - running_mean) + beta.

LRP's rules that change the weights (gamma, z+, z^B, w^2) must see W', not W: (s W)^+ is not
s W^+ where s < 0. Merging is what zennit's ``SequentialMergeBatchNorm`` canonizer does; here the
merged weights are computed for the call and the model's own parameters are never touched.

timm's ``Conv2dSame`` (TensorFlow's asymmetric "same" padding, in EfficientNet-Lite0's strided layers)
is a convolution whose own forward pads first: it runs through that forward with the rule's weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.stateless import _reparametrize_module

#: The layers with weights that LRP's rules redistribute through.
LINEAR_LAYERS = (nn.Conv2d, nn.Linear)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
#: Convolutions with a forward of their own that is still x -> conv(pad(x), weight) + bias: run through it.
PADDED_CONVOLUTIONS = ("Conv2dSame",)


def own_forward(module: nn.Module, base: type[nn.Module]) -> bool:
    """Whether ``module`` replaces the forward of ``base`` (the layer type it is an instance of)."""
    return type(module).forward is not base.forward


def norm_affine(norm: nn.modules.batchnorm._BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) per channel of a batch norm in eval mode: BN(x) = scale * x + shift."""
    if norm.running_mean is None or norm.running_var is None:
        raise ValueError(
            f"LRP merges batch norm into the layer before it using its running statistics; {norm} keeps none "
            "(track_running_stats=False). Use a gradient method (saliency, integrated_gradients) for this model."
        )
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -norm.running_mean * scale
    if norm.bias is not None:
        shift = shift + norm.bias
    return scale.detach(), shift.detach()


@dataclass
class LinearUnit:
    """``module`` (a convolution or linear layer) with effective ``weight`` and ``bias`` (zeros when it has none)."""

    module: nn.Conv2d | nn.Linear
    weight: torch.Tensor
    bias: torch.Tensor

    @classmethod
    def of(cls, module: nn.Conv2d | nn.Linear, norm: nn.modules.batchnorm._BatchNorm | None = None) -> LinearUnit:
        """The unit of ``module``, with ``norm`` (the batch norm that reads its output) merged in."""
        if isinstance(module, nn.Conv2d) and module.padding_mode != "zeros":
            raise ValueError(
                f"LRP supports convolutions with zero padding only; {module} pads with {module.padding_mode!r}."
            )
        weight = module.weight.detach()
        bias = module.bias.detach() if module.bias is not None else weight.new_zeros(weight.shape[0])
        if norm is not None:
            scale, shift = norm_affine(norm)
            weight = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
            bias = bias * scale + shift
        return cls(module, weight, bias)

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """The layer's map with other parameters: W x + b (a convolution with the module's stride, padding, ...)."""
        module = self.module
        if isinstance(module, nn.Linear):
            return F.linear(x, weight, bias)
        if not own_forward(module, nn.Conv2d):
            return F.conv2d(x, weight, bias, module.stride, module.padding, module.dilation, module.groups)
        swapped = (
            {"weight": weight} if module.bias is None else {"weight": weight, "bias": torch.zeros_like(module.bias)}
        )
        with _reparametrize_module(module, swapped):
            output = type(module).forward(module, x)  # not module(x): no hooks
        return output if bias is None else output + bias.reshape(1, -1, 1, 1)

    def transpose(self, s: torch.Tensor, weight: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """W^T s, shaped like the layer's input ``like``: the vector-Jacobian product of the linear map x -> W x."""
        module = self.module
        if isinstance(module, nn.Linear):
            return s @ weight
        if not own_forward(module, nn.Conv2d) and not isinstance(module.padding, str):  # no forward pass needed
            return torch.nn.grad.conv2d_input(
                like.shape, weight, s, module.stride, module.padding, module.dilation, module.groups
            )
        leaf = torch.zeros_like(like).requires_grad_()
        with torch.enable_grad():
            (result,) = torch.autograd.grad(self.forward(leaf, weight), leaf, s)
        return result


def by_sign(
    x: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, zero: torch.Tensor | None = None
) -> torch.Tensor:
    """``positive`` where x > 0, ``negative`` where x < 0, ``zero`` (default 0) where x = 0: a rule that treats
    an input's positive and negative parts apart (LRP's gamma and z+, DeepLIFT's RevealCancel)."""
    zero = torch.zeros_like(positive) if zero is None else zero
    return torch.where(x > 0, positive, torch.where(x < 0, negative, zero))
