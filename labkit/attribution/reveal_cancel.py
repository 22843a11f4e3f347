"""DeepLIFT's RevealCancel rule (Shrikumar et al., "Learning Important Features Through Propagating
Activation Differences", ICML 2017, §3.5.3) for a nonlinearity y = f(z) that reads a linear layer
z = sum_i w_i a_i + b (a convolution or linear layer, with a batch norm after it merged in).

The Rescale rule gives the whole difference Delta z = z - z0 one multiplier (Delta y / Delta z). RevealCancel
splits Delta z into the sums of its positive and negative terms (the linear rule, §3.5.1),

    Delta z+ = sum_i 1[w_i Delta a_i > 0] w_i Delta a_i,        Delta z- = sum_i 1[w_i Delta a_i < 0] w_i Delta a_i,

and gives each the average of its effect with and without the other (a two-player Shapley value):

    Delta y+ = 1/2 (f(z0 + Delta z+) - f(z0)) + 1/2 (f(z0 + Delta z- + Delta z+) - f(z0 + Delta z-))
    Delta y- = 1/2 (f(z0 + Delta z-) - f(z0)) + 1/2 (f(z0 + Delta z+ + Delta z-) - f(z0 + Delta z+))
    m+ = Delta y+ / Delta z+,     m- = Delta y- / Delta z-       (f'(z) where |Delta z+-| < EPS)

Delta y+ + Delta y- = Delta y, so summation-to-delta holds. Back through the layer, an input's multiplier
collects, over the outputs j it feeds, w_ji m+_j where its term w_ji Delta a_i is positive and w_ji m-_j
where it is negative (half of each where it is 0): for Delta a_i > 0 that is W+^T m+ + W-^T m-, for
Delta a_i < 0 it is W-^T m+ + W+^T m-. Where positive and negative terms cancel (a ReLU that stays off,
a min or max built from ReLUs), Rescale gives all the credit to one side; RevealCancel reveals both.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labkit.attribution.lrp.units import LinearUnit, by_sign

EPS = 1e-10


def activation(module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """The elementwise function of a ReLU-like module (a clamp: it calls no hooks)."""
    if isinstance(module, nn.Hardtanh):
        return lambda t: t.clamp(module.min_val, module.max_val)
    return lambda t: t.clamp(min=0)


def split_difference(unit: LinearUnit, delta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(Delta z+, Delta z-): the sums of the positive and of the negative terms w_i Delta a_i of each output."""
    w_p, w_n = unit.weight.clamp(min=0), unit.weight.clamp(max=0)
    d_p, d_n = delta.clamp(min=0), delta.clamp(max=0)
    return unit.forward(d_p, w_p) + unit.forward(d_n, w_n), unit.forward(d_n, w_p) + unit.forward(d_p, w_n)


def reveal_cancel_multipliers(
    f: Callable[[torch.Tensor], torch.Tensor],
    z_ref: torch.Tensor,
    up: torch.Tensor,
    down: torch.Tensor,
    y: torch.Tensor,
    y_ref: torch.Tensor,
    derivative: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(m+, m-) of y = f(z) given z0 = ``z_ref``, Delta z+ = ``up``, Delta z- = ``down`` (see the module's doc).

    f(z0) and f(z0 + Delta z+ + Delta z-) are the recorded ``y_ref`` and ``y``, so Delta y+ + Delta y- is
    exactly y - y_ref; ``derivative`` f'(z) stands where a part is smaller than EPS."""
    y_up, y_down = f(z_ref + up), f(z_ref + down)
    gain_up = 0.5 * ((y_up - y_ref) + (y - y_down))
    gain_down = 0.5 * ((y_down - y_ref) + (y - y_up))
    m_up = torch.where(up.abs() < EPS, derivative, gain_up / torch.where(up.abs() < EPS, 1.0, up))
    m_down = torch.where(down.abs() < EPS, derivative, gain_down / torch.where(down.abs() < EPS, 1.0, down))
    return m_up, m_down


def reveal_cancel_backward(
    module: nn.Module,
    unit: LinearUnit,
    a: torch.Tensor,
    a_ref: torch.Tensor,
    z: torch.Tensor,
    z_ref: torch.Tensor,
    y: torch.Tensor,
    y_ref: torch.Tensor,
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The backward from the nonlinearity's output y straight to the linear layer's input a: g -> m_a."""
    delta = a - a_ref
    up, down = split_difference(unit, delta)
    f = activation(module)
    low, high = (module.min_val, module.max_val) if isinstance(module, nn.Hardtanh) else (0.0, float("inf"))
    derivative = ((z > low) & (z < high)).to(z.dtype)
    m_up, m_down = reveal_cancel_multipliers(f, z_ref, up, down, y, y_ref, derivative)
    w_p, w_n = unit.weight.clamp(min=0), unit.weight.clamp(max=0)

    def backward(grad: torch.Tensor) -> torch.Tensor:
        p, n = grad * m_up, grad * m_down
        t = unit.transpose
        positive = t(p, w_p, a) + t(n, w_n, a)
        negative = t(p, w_n, a) + t(n, w_p, a)
        return by_sign(delta, positive, negative, 0.5 * t(p + n, unit.weight, a))

    return backward
