"""Backward rules for ReLU-like modules, and guided backpropagation and deconvnet with them.

The seminar deck's table of backward rules for a ReLU y = max(0, x), with g = dS/dy:

    gradient                 dS/dx = g * 1[x > 0]
    deconvnet (Zeiler & Fergus 2014)              R = ReLU(g)
    guided backpropagation (Springenberg et al. 2015, "Striving for Simplicity")
                                                  R = ReLU(g) * 1[x > 0]

ReLU6 (and any ``nn.Hardtanh``) passes where min < x < max, so its guided rule is
ReLU(g) * 1[min < x < max]. The mechanism: while rules are active, a forward hook attaches
its rule to each ReLU-like module's output. Guided
backpropagation only clips the incoming gradient (a tensor hook on the output) and keeps
the module's own backward, which applies 1[x > 0]; deconvnet and DeepLIFT route the output
through an autograd function whose backward replaces the module's (:func:`replace_backward`;
deconvnet's clips g). Neither guided backpropagation nor deconvnet costs more than a plain
gradient. A forward hook fires on every call, so a module reused several times in a network
(torchvision ResNet's ``relu``) gets the rule at each use; ``inplace=True`` modules are
switched to out of place for the call (where the rule reads the module's input: deconvnet,
DeepLIFT) and restored after.

Activations called as functions (``F.relu``, ``torch.relu``, ``F.relu6``, ``F.hardtanh`` in a
``forward``, as in torchvision's DenseNet) are invisible to hooks; a torch function mode
(:mod:`labkit.attribution.functional_activations`) attaches the same rules to them during the
forward pass. Other activations (GELU, SiLU, Sigmoid, ..., as modules or as functions) have
no rule here and raise a clear error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

import torch
from torch import nn

from labkit.attribution.channels import reduce_channels
from labkit.attribution.functional_activations import FunctionalActivations
from labkit.attribution.gradients import input_gradients
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import Hooks, model_guard
from labkit.images import as_batch
from labkit.targets import Targets

T = TypeVar("T")

RELU_LIKE = (nn.ReLU, nn.Hardtanh)  # nn.ReLU6 is an nn.Hardtanh
OTHER_ACTIVATIONS = (
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.ELU,
    nn.CELU,
    nn.SELU,
    nn.LeakyReLU,
    nn.PReLU,
    nn.RReLU,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Mish,
    nn.Softplus,
)


@reference
def passing(module: nn.Module, output: torch.Tensor) -> torch.Tensor:
    """Where the activation passes its input (its derivative, 0 or 1), read from its output."""
    if isinstance(module, nn.Hardtanh):
        return ((output > module.min_val) & (output < module.max_val)).to(output.dtype)
    return (output > 0).to(output.dtype)


def _clip_negative(grad: torch.Tensor) -> torch.Tensor:
    return grad.clamp(min=0)


class Rule(Protocol):
    """A backward rule for a module: ``attach`` returns the tensor the module's caller gets
    in place of ``output``, wired so that its backward applies the rule. ``reads_input``: the
    rule needs the module's input as it was (its values, or its node in the autograd graph to skip
    the module's backward), so an ``inplace=True`` module runs out of place."""

    reads_input: bool

    def attach(self, module: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> torch.Tensor: ...


class GuidedRule:
    """R = ReLU(g) * 1[x > 0]: clip g on the output, then the module's own backward masks it."""

    reads_input = False

    def attach(self, module: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        output.register_hook(_clip_negative)
        return output


class _ReplacedBackward(torch.autograd.Function):
    """The module's output, unchanged, whose backward sends ``backward(g)`` to the module's input."""

    @staticmethod
    def forward(ctx, inputs: torch.Tensor, output: torch.Tensor, backward: Callable) -> torch.Tensor:
        ctx.backward_rule = backward
        return output

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return ctx.backward_rule(grad), None, None


def replace_backward(
    inputs: torch.Tensor, output: torch.Tensor, backward: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """``output`` (same values and storage) whose gradient reaches ``inputs`` as ``backward(g)``
    instead of through the module's own backward (for rules such as DeepLIFT's). The module's
    own graph node is dropped, and with it what it saved for its backward (its input)."""
    return _ReplacedBackward.apply(inputs, output.detach(), backward)


class DeconvnetRule:
    """R = ReLU(g): the output, whose backward sends the clipped g straight to the input."""

    reads_input = True

    def attach(self, module: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return replace_backward(inputs, output, _clip_negative)


guided_rule = GuidedRule()
deconvnet_rule = DeconvnetRule()


def rule_for(module: nn.Module, rules: dict[type[nn.Module], T]) -> T:
    """The entry of ``rules`` for the first type ``module`` is an instance of (subclasses included)."""
    return next(rule for kind, rule in rules.items() if isinstance(module, kind))


@contextmanager
def backward_rules(model: nn.Module, rules: dict[type[nn.Module], Rule], method: str) -> Iterator[None]:
    """Inside the block, modules of the types in ``rules`` back-propagate with their rule, and so do
    the same activations called as functions in the model's forward (``F.relu``, ...).

    Activations without a rule (modules, or functions met during a forward pass) raise a
    ValueError naming them; the hooks are removed and ``inplace`` flags restored on exit, also
    when an exception is raised.
    """
    unsupported = sorted(
        {
            type(module).__name__
            for module in model.modules()
            if isinstance(module, OTHER_ACTIVATIONS) and not isinstance(module, tuple(rules))
        }
    )
    if unsupported:
        raise ValueError(
            f"{method} has backward rules for {', '.join(t.__name__ for t in rules)} only; this model also uses "
            f"{', '.join(unsupported)}. Use a gradient method (saliency, integrated_gradients) for it."
        )
    rule_of = {module: rule_for(module, rules) for module in model.modules() if isinstance(module, tuple(rules))}
    inplace = {
        module: module.inplace for module, rule in rule_of.items() if rule.reads_input and hasattr(module, "inplace")
    }
    functional = FunctionalActivations(
        tuple(rules),
        lambda module, inputs, output: rule_for(module, rules).attach(module, inputs, output),
        lambda module: rule_for(module, rules).reads_input,
        method,
    )
    hooks = Hooks()

    def enter_forward(_model: nn.Module, _inputs: tuple) -> None:
        functional.forward_depth += 1

    def leave_forward(_model: nn.Module, _inputs: tuple, _output: object) -> None:
        functional.forward_depth -= 1
        if not functional.forward_depth:  # a rule module's forward that raised left its count behind
            functional.module_depth = 0

    def enter_rule_module(_module: nn.Module, _inputs: tuple) -> None:
        functional.module_depth += 1

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        try:  # the rule's own torch calls are not the model's
            return rule_of[module].attach(module, inputs[0], output)
        finally:
            functional.module_depth -= 1

    try:
        hooks.forward_pre(model, enter_forward)
        hooks.forward(model, leave_forward, always_call=True)
        for module in rule_of:
            if module in inplace:
                module.inplace = False
            hooks.forward_pre(module, enter_rule_module)
            hooks.forward(module, hook)
        with functional:
            yield
    finally:
        hooks.remove()
        for module, flag in inplace.items():
            module.inplace = flag


def rule_gradients(model: nn.Module, inputs: torch.Tensor, targets: Targets, rule: Rule, method: str) -> torch.Tensor:
    """dS/dx (B, 3, H, W) with ``rule`` at every ReLU-like module (one forward and one backward pass)."""
    inputs = as_batch(inputs).to(model_device(model))
    with model_guard(model), backward_rules(model, dict.fromkeys(RELU_LIKE, rule), method):
        gradients, _targets = input_gradients(model, inputs, targets)
    return gradients


@reference
def guided_backprop(
    model: nn.Module, inputs: torch.Tensor, targets: Targets = None, *, reduce: str = "max_abs"
) -> torch.Tensor:
    """Guided backpropagation maps (B, H, W): the input gradient with the guided ReLU rule
    ReLU(g) * 1[x > 0] (ReLU6: 1[0 < x < 6]) at every ReLU-like module.

    ``reduce`` turns the (B, 3, H, W) gradient into maps (see :mod:`labkit.attribution.channels`;
    ``"none"`` keeps the channels). Equal to Captum's ``GuidedBackprop`` on ReLU networks.
    """
    return reduce_channels(rule_gradients(model, inputs, targets, guided_rule, "guided_backprop"), reduce)


@reference
def deconvnet(
    model: nn.Module, inputs: torch.Tensor, targets: Targets = None, *, reduce: str = "max_abs"
) -> torch.Tensor:
    """Deconvnet maps (B, H, W): the input "gradient" with the rule ReLU(g) at every ReLU-like
    module (Zeiler & Fergus 2014). Equal to Captum's ``Deconvolution`` on ReLU networks."""
    return reduce_channels(rule_gradients(model, inputs, targets, deconvnet_rule, "deconvnet"), reduce)
