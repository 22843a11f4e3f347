"""LRP through a whole network: the rule each module gets, attached by labkit's backward-rule mechanism.

:class:`Propagation` is one :class:`labkit.attribution.backward_rules.Rule` for every module type LRP
handles; :func:`labkit.attribution.backward_rules.backward_rules` attaches it during the forward pass
(module hooks, and a torch function mode for ``F.relu`` and the like) and removes it afterwards.

- Convolution / linear layer: its composite rule; a batch norm that reads its output is merged into it
  (the rule is attached at the batch norm's output, with the merged weights of :mod:`.units`). Pairs
  are found in module order, as zennit's canonizer finds them, and checked on the data: the batch
  norm must read exactly the tensor the layer returned, or a RuntimeError says so.
- Batch norm on its own (after an activation, as in DenseNet), average pooling: the epsilon rule with
  the composite's stabilizer (they are linear layers: scale and shift, or fixed weights 1/k).
- timm's ``BatchNormAct2d`` (batch norm, dropout and activation in one module, as in EfficientNet-Lite0):
  recomputed from its input as its batch norm (merged or alone, as above) followed by its activation's
  rule; dropout is the identity in eval mode.
- ReLU, ReLU6, Hardtanh: relevance passes unchanged, R_x = R_y (zennit's ``Pass``), so c_x = c_y y / x
  (0 where x = 0). For ReLU that is the ordinary gradient; for ReLU6 it also passes where x > 6.
- Max pooling: the ordinary gradient, winner takes all (the window's relevance goes to its maximum).
- Anything else between the layers (residual additions, concatenation, flatten, dropout in eval mode):
  the ordinary gradient of the modified-gradient formulation, which splits a sum a + b in proportion
  R_a = a / (a + b) R (no stabilizer: exactly conserved).
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from labkit.attribution.backward_rules import RELU_LIKE, replace_backward
from labkit.attribution.lrp.composite import Composite
from labkit.attribution.lrp.rules import scale_gradient
from labkit.attribution.lrp.units import LINEAR_LAYERS, NORMS, PADDED_CONVOLUTIONS, LinearUnit, norm_affine, own_forward

POOLS = (nn.AvgPool2d, nn.AdaptiveAvgPool2d)
#: Batch norms with their activation inside (timm): recomputed as the two (see the module's doc).
FUSED_NORMS = ("BatchNormAct2d",)
CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
#: Module types with an LRP rule (attached by :class:`Propagation`).
RULE_TYPES = (*LINEAR_LAYERS, *NORMS, *POOLS, *RELU_LIKE)
#: Modules that pass relevance as their gradient does (no rule needed).
GRADIENT_TYPES = (
    nn.MaxPool2d,
    nn.AdaptiveMaxPool2d,
    nn.Dropout,
    nn.Dropout2d,
    nn.Flatten,
    nn.Unflatten,
    nn.Identity,
)


def check_supported(model: nn.Module) -> None:
    """A ValueError naming the modules LRP has no rule for (or that replace a supported layer's forward)."""
    problems = set()
    for module in model.modules():
        base = next((kind for kind in (*RULE_TYPES, *GRADIENT_TYPES) if isinstance(module, kind)), None)
        if base is None:
            own_parameters = list(module.parameters(recurse=False))
            leaf = not list(module.children()) and not isinstance(module, CONTAINERS)  # an empty Sequential passes x
            if leaf and (own_parameters or type(module).__module__.startswith("torch.nn")):
                problems.add(type(module).__name__)
        elif own_forward(module, base) and base not in RELU_LIKE and not _known_forward(module):
            problems.add(f"{type(module).__name__} (its own forward)")
    if problems:
        raise ValueError(
            "LRP has rules for Conv2d, Linear, BatchNorm (merged into the layer before it, or on its own), average "
            "and max pooling, ReLU/ReLU6/Hardtanh, Dropout, Flatten and Identity; this model also has "
            f"{', '.join(sorted(problems))}. Use a gradient method (saliency, integrated_gradients) for it."
        )


def _known_forward(module: nn.Module) -> bool:
    """A layer whose own forward LRP knows: timm's ``Conv2dSame``, or a fused batch norm whose dropout and
    activation have rules here."""
    name = type(module).__name__
    if name in FUSED_NORMS:
        drop, act = getattr(module, "drop", None), getattr(module, "act", None)
        return isinstance(drop, (nn.Identity, nn.Dropout)) and isinstance(act, (nn.Identity, *RELU_LIKE))
    return name in PADDED_CONVOLUTIONS


def merged_norms(model: nn.Module) -> dict[nn.Module, nn.Module]:
    """Linear layer -> the batch norm registered right after it (the pairs LRP merges)."""
    leaves = [module for module in model.modules() if not list(module.children()) or isinstance(module, NORMS)]
    return {
        layer: norm
        for layer, norm in pairwise(leaves)
        if isinstance(layer, LINEAR_LAYERS) and isinstance(norm, NORMS) and layer.weight.shape[0] == norm.num_features
    }


def _reads_input(x: torch.Tensor) -> bool:
    """Whether ``x`` is the model's input: the one leaf that requires gradients (the parameters do not)."""
    return x.requires_grad and x.grad_fn is None


def _limits(module: nn.Module) -> tuple[float, float | None]:
    """(min, max) of a ReLU-like module's output: it is a clamp."""
    return (module.min_val, module.max_val) if isinstance(module, nn.Hardtanh) else (0.0, None)


def _passing_ratio(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """y / x where x != 0, else 0: c_x = c_y * y / x makes R_x = x c_x = y c_y = R_y."""
    return torch.where(x != 0, y / torch.where(x != 0, x, torch.ones_like(x)), torch.zeros_like(x))


class Propagation:
    """The rule :func:`backward_rules` attaches to every module of :data:`RULE_TYPES` (see the module's doc).

    ``extra`` collects what input rules (z^B, flat, w^2) give the model's input beyond x * c."""

    reads_input = True

    def __init__(self, model: nn.Module, composite: Composite) -> None:
        self.composite = composite
        self.norm_of = merged_norms(model)
        self.layer_of = {norm: layer for layer, norm in self.norm_of.items()}
        self.pending: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}
        self.extra: list[torch.Tensor] = []
        self.input_layers = 0

    def attach(self, module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        if isinstance(module, nn.ReLU):  # y / x is its derivative: the ordinary gradient
            return output
        if isinstance(module, RELU_LIKE):
            with torch.no_grad():
                ratio = _passing_ratio(x, output)
            return replace_backward(x, output, ratio.mul).clone()
        if isinstance(module, POOLS):
            return scale_gradient(output, self.composite.stabilizer)
        if isinstance(module, NORMS):
            if type(module).__name__ in FUSED_NORMS:
                return self._fused_norm(module, x)
            return self._norm(module, x, output)
        if module in self.norm_of:
            self.pending[module] = (x, output)
            return output
        return self._linear(LinearUnit.of(module), x, output)

    def _norm(self, module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """A batch norm's output with its rule: merged into the layer before it, or epsilon on its own."""
        layer = self.layer_of.get(module)
        if layer is None:
            return scale_gradient(output, self.composite.stabilizer)
        layer_input, layer_output = self.pending.pop(layer, (None, None))
        if layer_output is not x:
            raise RuntimeError(
                f"LRP merges {module} into the layer registered before it ({layer}), but it does not read that "
                "layer's output. Register the modules in the order the forward pass uses them."
            )
        return self._linear(LinearUnit.of(layer, module), layer_input, output)

    def _fused_norm(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """timm's BatchNormAct2d as its batch norm and its activation, each with its rule (the module's own
        output, computed the same way, is left unused)."""
        scale, shift = norm_affine(module)
        normed = self._norm(module, x, x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1))
        act = module.act
        if isinstance(act, RELU_LIKE):
            return self.attach(act, normed, torch.clamp(normed, *_limits(act)))
        return normed

    def _linear(self, unit: LinearUnit, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        reads_input = _reads_input(x)
        self.input_layers += reads_input
        rule = self.composite.rule_for(unit.module, reads_input)
        return rule.attach(unit, x, z, self.extra.append)
