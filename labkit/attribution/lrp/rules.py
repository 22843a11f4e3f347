"""LRP's rules for one linear layer z_k = sum_j x_j w_jk + b_k, written as the gradient they pass down.

Layer-wise relevance propagation (Bach et al., "On Pixel-Wise Explanations for Non-Linear Classifier
Decisions by Layer-Wise Relevance Propagation", PLoS ONE 2015; Montavon et al., "Layer-Wise Relevance
Propagation: An Overview", 2019) sends the relevance R_k of each output back to the inputs. With
stab(t) = t + e * sign(t) (sign(0) = +1; e the rule's small *stabilizer*):

    epsilon   R_j = sum_k x_j w_jk / stab_eps(z_k) * R_k                 (eps = 0: LRP-0)
    gamma     R_j = sum_k x_j (w_jk + gamma w_jk^+) / stab(z_k^gamma) * R_k     (for x >= 0, z_k > 0)
    z+        R_j = sum_k x_j w_jk^+ / stab(sum_j x_j w_jk^+ + b_k^+) * R_k      (for x >= 0)
    z^B       R_j = sum_k (x_j w_jk - l_j w_jk^+ - h_j w_jk^-) / stab(sum_j (...)) * R_k,  l <= x <= h
    flat      R_j = sum_k 1 / stab(#inputs of k) * R_k
    w^2       R_j = sum_k w_jk^2 / stab(sum_j w_jk^2) * R_k

The overview's sums run over j = 0 too, the bias (x_0 = 1, w_0k = b_k): the denominators of epsilon,
gamma and z+ include the (modified) bias, which absorbs its share of R_k. z^B, flat and w^2 have
bias-free denominators. Gamma and z+ are written for any sign of x and z, as zennit writes them
(Andéol et al. 2021): positive outputs redistribute with the positive contributions x^+ (w + gamma w^+) and
x^- (w + gamma w^-), negative outputs with the negative ones; on a ReLU network's non-negative
inputs, where z_k > 0, this is the overview's rule.

**As gradients.** Every rule but the last three gives R_j = x_j * c_j; labkit propagates c (a
*modified gradient*, Ancona et al. 2018) instead of R, so that what lies between the layers
(residual additions, concatenations, reshapes, max pooling) needs no rule of its own: the ordinary
gradient of a bias-free linear map splits relevance in proportion to the contributions, which is
LRP-0 there. The relevance of a tensor t is t * c_t; at the model's output c is one-hot, so R = S_c
at the target logit. z^B, flat and w^2 do not give x * c: they are *input rules*, for the layer that
reads the model's input, and add their relevance to the input's directly (``extra``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch

from labkit.attribution.backward_rules import replace_backward
from labkit.attribution.lrp.units import LinearUnit, by_sign

#: Where an input rule puts the relevance it gives the model's input.
Sink = Callable[[torch.Tensor], None]


def stabilize(t: torch.Tensor, epsilon: float) -> torch.Tensor:
    """t + epsilon * sign(t), sign(0) = +1 (zennit's and Captum's convention): never 0 for epsilon > 0."""
    return torch.where(t >= 0, t + epsilon, t - epsilon)


def check_stabilizer(value: float, name: str) -> float:
    if not value >= 0:  # also NaN
        raise ValueError(f"{name} must be a number >= 0 (added to the denominators), got {value}.")
    return float(value)


def scale_gradient(output: torch.Tensor, epsilon: float) -> torch.Tensor:
    """``output`` z whose incoming gradient c is multiplied by z / stab(z): the epsilon rule on the layer
    that computed z, when the layer's own backward (W^T) follows. Also average pooling's rule."""
    if output.requires_grad:
        with torch.no_grad():
            factor = output / stabilize(output, epsilon)
        output.register_hook(factor.mul)
    return output


class LinearRule(ABC):
    """A rule for a :class:`LinearUnit`. ``input_only``: its relevance is not x * c (z^B, flat, w^2), so
    it may only be the rule of a layer that reads the model's input."""

    input_only: ClassVar[bool] = False

    @abstractmethod
    def gradient(self, unit: LinearUnit, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(c_x, extra): given the output's modified gradient c (its relevance R_z = z * c), the input's
        relevance is x * c_x + extra (extra is None for the rules with R_j = x_j c_j)."""

    def attach(self, unit: LinearUnit, x: torch.Tensor, z: torch.Tensor, sink: Sink) -> torch.Tensor:
        """``z`` whose gradient reaches ``x`` as this rule's c_x (and hands ``extra`` to ``sink``)."""
        version = x._version

        def backward(c: torch.Tensor) -> torch.Tensor:
            if x._version != version:
                raise RuntimeError(
                    f"LRP: the input of {unit.module} was changed in place after the layer read it, so its rule "
                    "cannot be applied. Run the model with out-of-place operations there."
                )
            with torch.no_grad():
                gradient, extra = self.gradient(unit, x, c)
            if extra is not None:
                sink(extra)
            return gradient

        return replace_backward(x, z, backward).clone()  # a copy the model may change in place (``out += identity``)

    @staticmethod
    def relevance(unit: LinearUnit, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """R_z = z * c, with z recomputed from the (merged) weights."""
        return unit.forward(x, unit.weight, unit.bias) * c


@dataclass(frozen=True)
class Epsilon(LinearRule):
    """LRP-epsilon (Bach et al. 2015): R_j = sum_k x_j w_jk / (z_k + epsilon sign z_k) R_k.

    epsilon absorbs a share epsilon / |z_k| of weak outputs' relevance (less noise, less conservation);
    epsilon = 0 is LRP-0 (gradient x input on a ReLU network)."""

    epsilon: float = 1e-6

    def __post_init__(self) -> None:
        check_stabilizer(self.epsilon, "epsilon")

    def gradient(self, unit: LinearUnit, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, None]:
        z = unit.forward(x, unit.weight, unit.bias)
        return unit.transpose(c * z / stabilize(z, self.epsilon), unit.weight, x), None

    def attach(self, unit: LinearUnit, x: torch.Tensor, z: torch.Tensor, sink: Sink) -> torch.Tensor:
        """The layer's own backward is W^T: only c * z / stab(z) is new (no second forward pass)."""
        return scale_gradient(z, self.epsilon)


@dataclass(frozen=True)
class Gamma(LinearRule):
    """LRP-gamma (Montavon et al. 2019, §10.2.2): positive contributions favoured by gamma; gamma -> inf is z+.

    With W_p = W + gamma W^+, W_n = W + gamma W^- (biases alike):
    outputs z > 0 share R over x^+ W_p + x^- W_n (+ b_p), outputs z < 0 over x^+ W_n + x^- W_p (+ b_n)."""

    gamma: float = 0.25
    stabilizer: float = 1e-6

    def __post_init__(self) -> None:
        if not self.gamma >= 0:
            raise ValueError(f"gamma must be >= 0, got {self.gamma}.")
        check_stabilizer(self.stabilizer, "stabilizer")

    def gradient(self, unit: LinearUnit, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, None]:
        w, b, g = unit.weight, unit.bias, self.gamma
        w_p, w_n = w + g * w.clamp(min=0), w + g * w.clamp(max=0)
        b_p, b_n = b + g * b.clamp(min=0), b + g * b.clamp(max=0)
        x_p, x_n = x.clamp(min=0), x.clamp(max=0)
        z = unit.forward(x, w, b)
        r = z * c
        up = r * (z > 0) / stabilize(unit.forward(x_p, w_p, b_p) + unit.forward(x_n, w_n), self.stabilizer)
        down = r * (z < 0) / stabilize(unit.forward(x_p, w_n, b_n) + unit.forward(x_n, w_p), self.stabilizer)
        t = unit.transpose
        positive = t(up, w_p, x) + t(down, w_n, x)
        negative = t(up, w_n, x) + t(down, w_p, x)
        return by_sign(x, positive, negative), None


@dataclass(frozen=True)
class ZPlus(LinearRule):
    """LRP-z+ (alpha = 1, beta = 0; Montavon et al. 2017's deep Taylor rule for ReLU layers): only the
    positive contributions x^+ w^+ and x^- w^- (and b^+) share R_k."""

    stabilizer: float = 1e-6

    def __post_init__(self) -> None:
        check_stabilizer(self.stabilizer, "stabilizer")

    def gradient(self, unit: LinearUnit, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, None]:
        w_p, w_n = unit.weight.clamp(min=0), unit.weight.clamp(max=0)
        x_p, x_n = x.clamp(min=0), x.clamp(max=0)
        positive = unit.forward(x_p, w_p, unit.bias.clamp(min=0)) + unit.forward(x_n, w_n)
        s = self.relevance(unit, x, c) / stabilize(positive, self.stabilizer)
        return by_sign(x, unit.transpose(s, w_p, x), unit.transpose(s, w_n, x)), None


class InputRule(LinearRule):
    """A rule whose relevance is not x * c: only for a layer that reads the model's input."""

    input_only = True


@dataclass(frozen=True)
class ZBox(InputRule):
    """LRP-z^B (Montavon et al. 2017) for inputs bounded by low <= x <= high (pixels): the denominator
    sum_j x_j w_jk - l_j w_jk^+ - h_j w_jk^- is >= 0, so relevance keeps its sign.

    ``low``/``high``: numbers or tensors that broadcast to the input (e.g. (3, 1, 1) per channel), in the
    model's preprocessed units."""

    low: float | torch.Tensor
    high: float | torch.Tensor
    stabilizer: float = 1e-6

    def __post_init__(self) -> None:
        check_stabilizer(self.stabilizer, "stabilizer")
        low, high = torch.as_tensor(self.low), torch.as_tensor(self.high)
        if not bool(torch.isfinite(low).all() and torch.isfinite(high).all()) or bool((low > high).any()):
            raise ValueError(
                f"z^B needs finite bounds with low <= high (the lowest and highest input values), got low={self.low}"
                f", high={self.high}."
            )

    def gradient(self, unit: LinearUnit, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        w, w_p, w_n = unit.weight, unit.weight.clamp(min=0), unit.weight.clamp(max=0)
        low = torch.as_tensor(self.low, dtype=x.dtype, device=x.device).expand_as(x)
        high = torch.as_tensor(self.high, dtype=x.dtype, device=x.device).expand_as(x)
        denominator = unit.forward(x, w) - unit.forward(low, w_p) - unit.forward(high, w_n)
        s = self.relevance(unit, x, c) / stabilize(denominator, self.stabilizer)
        t = unit.transpose
        return t(s, w, x), -low * t(s, w_p, x) - high * t(s, w_n, x)


@dataclass(frozen=True)
class Flat(InputRule):
    """LRP-flat (Lapuschkin et al. 2019): every input in an output's receptive field gets an equal share."""

    stabilizer: float = 1e-6

    def __post_init__(self) -> None:
        check_stabilizer(self.stabilizer, "stabilizer")

    def weights(self, unit: LinearUnit) -> torch.Tensor:
        return torch.ones_like(unit.weight)

    def gradient(self, unit: LinearUnit, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.weights(unit)
        s = self.relevance(unit, x, c) / stabilize(unit.forward(torch.ones_like(x), w), self.stabilizer)
        return torch.zeros_like(x), unit.transpose(s, w, x)


@dataclass(frozen=True)
class WSquare(Flat):
    """LRP-w^2 (Montavon et al. 2017): shares in proportion to w_jk^2, whatever the input (bias-free, as
    the overview writes it; zennit's ``WSquare`` also squares the bias into the denominator)."""

    def weights(self, unit: LinearUnit) -> torch.Tensor:
        return unit.weight**2
