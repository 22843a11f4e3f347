"""DeepLIFT with the rescale or the RevealCancel rule (Shrikumar et al., "Learning Important Features
Through Propagating Activation Differences", ICML 2017) and DeepLIFT-SHAP (Lundberg & Lee, NeurIPS 2017).

The references x' run through the network first, without gradients, and each
nonlinearity's input and output are recorded; then the inputs x run forward and backward.
Linear layers (convolutions, batch norm in eval mode, average pooling, linear) keep their
gradient; each nonlinearity y = f(x) back-propagates the multiplier

    m = (f(x) - f(x')) / (x - x')          (rescale rule; f'(x) where |x - x'| < 1e-10)

instead of f'(x) (``rule="reveal_cancel"``: the positive and negative parts of the difference get
multipliers of their own where the nonlinearity reads a convolution or linear layer; see
:mod:`labkit.attribution.reveal_cancel`), and max pooling distributes the multiplier of the pooled difference to
the winning positions (Captum's rule, with the inputs' multipliers on both sides). The
attributions C = (x - x') * m_chain satisfy summation-to-delta: sum_i C_i = S_c(x) - S_c(x'),
whatever the network (the *gap* is 0 up to float error). DeepLIFT-SHAP averages DeepLIFT
over a set of references. Each (input, reference) pair costs one forward pass without
gradients and one forward/backward pass (Captum back-propagates both halves of a batch).

Covered: ReLU, ReLU6/Hardtanh, MaxPool2d modules (also in place or reused) and the same
operations called as functions in a ``forward`` (``F.relu``, ``F.max_pool2d``, ...; see
:mod:`labkit.attribution.functional_activations`); other activations raise a clear error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from labkit.attribution.backward_rules import RELU_LIKE, backward_rules, replace_backward, rule_for
from labkit.attribution.baselines import as_baseline
from labkit.attribution.channels import check_reduce, reduce_channels
from labkit.attribution.gradients import copy_gradients
from labkit.attribution.lrp.units import LINEAR_LAYERS, NORMS, LinearUnit, own_forward
from labkit.attribution.reveal_cancel import reveal_cancel_backward
from labkit.batching import auto_batch_size, check_batch_size
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch, check_finite
from labkit.targets import Targets, target_scores, targets_from_model

EPS = 1e-10
#: DeepLIFT's rules for nonlinearities (§3.5.2 and §3.5.3 of the paper).
RULES = ("rescale", "reveal_cancel")

#: (the gradient reaching a module's output) -> the gradient DeepLIFT passes to its input.
Backward = Callable[[torch.Tensor], torch.Tensor]


@reference
def rescale_multiplier(
    x: torch.Tensor, x_ref: torch.Tensor, y: torch.Tensor, y_ref: torch.Tensor, grad: torch.Tensor
) -> torch.Tensor:
    """The rescale rule's multiplier of y = f(x): (y - y_ref) / (x - x_ref), or ``grad`` = f'(x) where
    |x - x_ref| < EPS (there the secant is undefined and tends to the derivative)."""
    delta = x - x_ref
    multiplier = (y - y_ref).div_(delta)
    return torch.where(delta.abs_() < EPS, grad, multiplier)


def _own_backward(module: nn.Module, x: torch.Tensor, y: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """grad * f'(x) for a ReLU-like module, written into ``grad``: its own backward kernel (one pass)."""
    if isinstance(module, nn.Hardtanh):
        return torch.ops.aten.hardtanh_backward.grad_input(grad, x, module.min_val, module.max_val, grad_input=grad)
    return torch.ops.aten.threshold_backward.grad_input(grad, y, 0, grad_input=grad)


def _shift_small(delta: torch.Tensor) -> torch.Tensor:
    """s = 1[|delta| < EPS] as a float tensor (one pass, no booleans); ``delta`` becomes delta + s."""
    small = torch.ops.aten.hardtanh_backward(delta.new_ones(()).expand_as(delta), delta, -EPS, EPS)
    delta.add_(small)
    return small


def rescale_backward(
    module: nn.Module, x: torch.Tensor, y: torch.Tensor, x_ref: torch.Tensor, y_ref: torch.Tensor
) -> Backward:
    """A ReLU-like module's backward under the rescale rule: g -> g * m, with m =
    :func:`rescale_multiplier` computed as (y - y_ref) / (x - x_ref + s) + s * f'(x), s = 1[|x - x_ref| < EPS].

    Where s = 1 the first term is |y - y_ref| < EPS (0 where x = x_ref). This runs on every
    activation, so it is written for a CPU's costs: seven elementwise passes, one new tensor (it
    ends as m), no boolean tensors or ``torch.where``. It overwrites ``x_ref`` and ``y_ref`` (see
    :meth:`ReferenceRule.record`), and the backward multiplies g into m, so it runs once."""
    delta = torch.sub(x, x_ref, out=x_ref)
    small = _shift_small(delta)
    multiplier = _own_backward(module, x, y, small)
    return multiplier.addcdiv_(torch.sub(y, y_ref, out=y_ref), delta).mul_


def maxpool_backward(
    module: nn.Module, x: torch.Tensor, y: torch.Tensor, x_ref: torch.Tensor, y_ref: torch.Tensor
) -> Backward:
    """Max pooling's backward: the output's difference y - y' is split at h = max(y, y') into
    h - y' (sent to the input's winner) and y - h (to the reference's winner); each position's
    multiplier is what it received over its own x - x' (the ordinary gradient where that is < EPS).

    Computed as received / (x - x' + s) + s * (ordinary gradient), s = 1[|x - x'| < EPS]: the
    same, since a position with x = x' receives nothing (its windows' shares are 0). Winners are
    found once per batch and the backward scatters to them directly. Overwrites ``x_ref``."""
    pool = (module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode)
    winners = F.max_pool2d(x, *pool, return_indices=True)[1]
    reference_winners = F.max_pool2d(x_ref, *pool, return_indices=True)[1]
    highest = torch.max(y, y_ref)
    to_input = highest - y_ref
    to_reference = torch.sub(y, highest, out=highest)
    delta = torch.sub(x, x_ref, out=x_ref)
    small = _shift_small(delta)

    def scatter(grad: torch.Tensor, to: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten.max_pool2d_with_indices_backward(grad, x, *pool, to)

    def backward(grad: torch.Tensor) -> torch.Tensor:
        received = scatter(grad * to_input, winners).add_(scatter(grad * to_reference, reference_winners))
        return received.div_(delta).addcmul_(small, scatter(grad, winners))

    return backward


#: Module type -> its DeepLIFT backward, built from (module, x, y, x_ref, y_ref).
BACKWARDS: dict[type[nn.Module], Callable[..., Backward]] = {
    **dict.fromkeys(RELU_LIKE, rescale_backward),
    nn.MaxPool2d: maxpool_backward,
}


def _memory(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage().data_ptr()


def _handed_over(tensors: list[torch.Tensor]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(x_ref, y_ref) pairs from the flat list, each released by the list once handed over (the
    rules overwrite them with what they keep, so the reference pass's memory is freed as it goes)."""
    tensors.reverse()
    while tensors:
        yield tensors.pop(), tensors.pop()


class ReferenceRule:
    """DeepLIFT as a backward rule, two passes per batch of (input, reference) pairs.

    :meth:`record` runs the references through the model without gradients, keeping each
    rule module's input and output (in call order, so a reused module gets one entry per
    use). On the inputs' pass that follows, ``attach`` replaces each module's backward with
    its DeepLIFT rule against the recorded reference activations. Only the inputs are
    back-propagated: half the backward work of running inputs and references as one batch.
    """

    reads_input = True

    def __init__(self, rule: str = "rescale") -> None:
        if rule not in RULES:
            raise ValueError(
                f"Unknown DeepLIFT rule {rule!r}; use one of {RULES} (rescale: one multiplier per nonlinearity; "
                "reveal_cancel: separate ones for the positive and negative parts of its input's difference)."
            )
        self.reveal_cancel = rule == "reveal_cancel"
        self.recorded: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.replay: Iterator[tuple[torch.Tensor, torch.Tensor]] | None = None
        #: RevealCancel: id(a linear layer's output) -> (that output, its unit, the layer's input a and a_ref, whether
        #: a batch norm is merged in already)
        self.units: dict[int, tuple[torch.Tensor, LinearUnit, torch.Tensor, torch.Tensor, bool]] = {}

    @property
    def modules(self) -> tuple[type[nn.Module], ...]:
        """The module types this rule is attached to (RevealCancel also watches the linear layers)."""
        return (*BACKWARDS, *LINEAR_LAYERS, *NORMS) if self.reveal_cancel else tuple(BACKWARDS)

    def record(self, model: nn.Module, references: torch.Tensor) -> None:
        """Run the references, then make every recorded tensor the rule's own to overwrite: one whose
        memory a later record, a parameter, a buffer or ``references`` also uses is copied."""
        self.recorded, self.replay, self.units = [], None, {}
        with torch.no_grad():
            model(references)
        shared = {_memory(t) for t in (references, *model.parameters(), *model.buffers())}
        tensors = [tensor for pair in self.recorded for tensor in pair]
        for index in reversed(range(len(tensors))):
            memory = _memory(tensors[index])
            if memory in shared:
                tensors[index] = tensors[index].clone()
            shared.add(memory)
        self.recorded, self.replay = [], _handed_over(tensors)

    def attach(self, module: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        if self.replay is None:
            self.recorded.append((inputs, output))
            return output
        x_ref, y_ref = next(self.replay, (None, None))
        if x_ref is None or x_ref.shape != inputs.shape:
            raise RuntimeError(
                f"DeepLIFT: the inputs' forward pass reached {type(module).__name__} in a different order or "
                "shape than the references' pass. DeepLIFT needs a forward pass that does not depend on the data."
            )
        if isinstance(module, (*LINEAR_LAYERS, *NORMS)):
            self._note_unit(module, inputs, output, x_ref)
            return output
        produced = self.units.get(id(inputs)) if self.reveal_cancel else None
        if produced is not None and produced[0] is inputs and isinstance(module, RELU_LIKE):
            _, unit, a, a_ref, _merged = produced
            with torch.no_grad():
                backward = reveal_cancel_backward(module, unit, a, a_ref, inputs, x_ref, output, y_ref)
            return replace_backward(a, output, backward)
        with torch.no_grad():
            backward = rule_for(module, BACKWARDS)(module, inputs, output, x_ref, y_ref)
        return replace_backward(inputs, output, backward)

    def _note_unit(self, module: nn.Module, inputs: torch.Tensor, output: torch.Tensor, x_ref: torch.Tensor) -> None:
        """Remember a linear layer's output (or a batch norm's, merged with the layer whose output it reads),
        with its input on both passes, for a nonlinearity that reads it (RevealCancel)."""
        if isinstance(module, LINEAR_LAYERS):
            if not isinstance(module, nn.Conv2d) or module.padding_mode == "zeros":
                self.units[id(output)] = (output, LinearUnit.of(module), inputs, x_ref, False)
            return
        layer = self.units.get(id(inputs))
        fused = own_forward(module, nn.BatchNorm1d if isinstance(module, nn.BatchNorm1d) else nn.BatchNorm2d)
        if layer is not None and layer[0] is inputs and not layer[4] and not fused:  # timm's BatchNormAct2d: rescale
            _, unit, a, a_ref, _merged = layer
            self.units[id(output)] = (output, LinearUnit.of(unit.module, module), a, a_ref, True)


def pairs_per_pass(model: nn.Module, sample: torch.Tensor, n_pairs: int) -> int:
    """(input, reference) pairs per pass: half a gradient batch, since a pair also holds its reference's
    recorded activations (4 for EfficientNet-Lite0 on a CPU, the fastest), at most ``n_pairs``."""
    return min(max(auto_batch_size(model, sample, with_grad=True) // 2, 1), n_pairs)


def _deeplift_pairs(
    model: nn.Module,
    rule: ReferenceRule,
    inputs: torch.Tensor,
    references: torch.Tensor,
    targets: torch.Tensor,
    pairs: tuple[torch.Tensor, torch.Tensor],
    batch_size: int,
    progress: bool,
) -> torch.Tensor:
    """Summed DeepLIFT attributions per image (B, 3, H, W) over the (image, reference) ``pairs``."""
    images, refs = pairs
    total = torch.zeros_like(inputs)

    def make(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rule.record(model, references[refs[index]])
        return inputs[images[index]], targets[images[index]]

    for index, gradients in copy_gradients(model, make, len(images), batch_size, progress=progress, desc="deeplift"):
        total.index_add_(0, images[index], gradients * (inputs[images[index]] - references[refs[index]]))
    return total


def _run(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets,
    references: torch.Tensor,
    pairs_of: str,
    rule_name: str,
    reduce: str,
    return_gap: bool,
    batch_size: int | None,
    progress: bool,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    check_reduce(reduce)
    check_batch_size(batch_size)
    rule = ReferenceRule(rule_name)
    n_images, n_references = len(inputs), len(references)
    device = inputs.device
    if pairs_of == "own":
        pairs = (torch.arange(n_images, device=device), torch.arange(n_images, device=device))
    else:
        pairs = (
            torch.arange(n_images, device=device).repeat_interleave(n_references),
            torch.arange(n_references, device=device).repeat(n_images),
        )
    with model_guard(model):
        resolved = targets_from_model(model, inputs, targets)
        size = batch_size or pairs_per_pass(model, inputs[:1], len(pairs[0]))
        with backward_rules(model, dict.fromkeys(rule.modules, rule), "DeepLIFT"):
            total = _deeplift_pairs(model, rule, inputs, references, resolved, pairs, size, progress)
        attributions = total / (1 if pairs_of == "own" else n_references)
        if not return_gap:
            return reduce_channels(attributions, reduce)
        reference_scores = target_scores(model, references[pairs[1]], resolved[pairs[0]])
        summed = torch.zeros(n_images, device=device).index_add_(0, pairs[0], reference_scores)
        change = target_scores(model, inputs, resolved) - summed / (len(pairs[0]) // n_images)
    return reduce_channels(attributions, reduce), attributions.flatten(1).sum(dim=1) - change


@reference
def deeplift(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    baseline: float | torch.Tensor = 0.0,
    rule: str = "rescale",
    reduce: str = "sum",
    return_gap: bool = False,
    batch_size: int | None = None,
    progress: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """DeepLIFT (rescale rule) maps (B, H, W), summed over RGB (``reduce``); with
    ``return_gap=True`` also the summation-to-delta gap (B,) = sum C - (S_c(x) - S_c(x')).

    ``baseline`` (the reference x') is a number or a tensor (3, 1, 1), (3, H, W) or
    (B, 3, H, W), in preprocessed units. Equal to Captum's ``DeepLift`` on networks of ReLU
    without max pooling; Captum has no ReLU6 rule, and its max-pooling rule does not keep
    summation-to-delta (its delta is about 1e-3 of the score on VGG-11; ours is float error).

    ``rule``: ``"rescale"`` (the default, Captum's) or ``"reveal_cancel"`` (§3.5.3; see
    :mod:`labkit.attribution.reveal_cancel`): at a ReLU/ReLU6 that reads a convolution or linear layer (a batch
    norm between them merged in), the positive and negative terms of its input's difference get multipliers
    of their own; a nonlinearity that reads anything else (a residual sum) keeps the rescale rule, which is
    RevealCancel with the difference as one term. Summation-to-delta holds with either. RevealCancel costs
    four convolutions forward and five backward per such nonlinearity on top of Rescale's passes.
    """
    inputs = as_batch(inputs).to(model_device(model))
    references = as_baseline(baseline, inputs)
    return _run(model, inputs, targets, references, "own", rule, reduce, return_gap, batch_size, progress)


@reference
def deeplift_shap(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    references: torch.Tensor,
    rule: str = "rescale",
    reduce: str = "sum",
    return_gap: bool = False,
    batch_size: int | None = None,
    progress: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """DeepLIFT-SHAP maps (B, H, W): DeepLIFT averaged over the R ``references`` (R, 3, H, W)
    (e.g. a few real images, or noise), every image with every reference, ``batch_size``
    pairs at a time. The gap compares with S_c(x) - mean_r S_c(x'_r). Equal to Captum's
    ``DeepLiftShap``. ``rule`` as for :func:`deeplift`."""
    inputs = as_batch(inputs).to(model_device(model))
    references = torch.as_tensor(references, dtype=inputs.dtype, device=inputs.device)
    if references.ndim != 4 or references.shape[1:] != inputs.shape[1:] or len(references) < 1:
        raise ValueError(
            f"references must be a (R, 3, H, W) tensor of reference inputs shaped like the inputs "
            f"{tuple(inputs.shape[1:])}, got {tuple(references.shape)}."
        )
    check_finite(references, "The references")
    return _run(model, inputs, targets, references, "all", rule, reduce, return_gap, batch_size, progress)
