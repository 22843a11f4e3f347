"""Composites: which LRP rule each layer gets (zennit's idea, Anders et al. 2021).

A :class:`Composite` maps layer types to rules (the first type a layer is an instance of wins, as in
:func:`labkit.attribution.backward_rules.rule_for`), names a rule for the layer that reads the model's
input (``first``: z^B, flat or w^2 are meant for pixels), and a ``stabilizer`` for what has no weights
to choose a rule for: average pooling and a batch norm that does not follow a convolution get the
epsilon rule with it. The named composites are zennit's:

    "epsilon"            epsilon for every convolution and linear layer (Captum's ``LRP`` default)
    "epsilon_plus"       z+ for convolutions, epsilon for linear layers
    "epsilon_gamma_box"  gamma for convolutions, epsilon for linear layers, z^B for the first layer
    "epsilon_plus_flat"  z+ for convolutions, epsilon for linear layers, flat for the first layer

Montavon et al. (2019, §10.3) recommend this layering: rules that favour positive evidence (gamma,
z+) near the input, where weights are shared and gradients noisy, epsilon above, LRP-0 at the top.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from labkit.attribution.lrp.rules import Epsilon, Flat, Gamma, LinearRule, ZBox, ZPlus, check_stabilizer


@dataclass(frozen=True)
class Composite:
    """``layers``: layer type -> rule; ``first``: the rule of a layer that reads the model's input (None: its
    type's rule); ``stabilizer``: epsilon of average pooling and of a batch norm on its own."""

    layers: Mapping[type[nn.Module], LinearRule] = field(default_factory=dict)
    first: LinearRule | None = None
    stabilizer: float = 1e-6

    def __post_init__(self) -> None:
        check_stabilizer(self.stabilizer, "stabilizer")
        for kind, rule in self.layers.items():
            if not isinstance(rule, LinearRule):
                raise TypeError(
                    f"The rule for {kind.__name__} must be an LRP rule (labkit.attribution.lrp), got {rule!r}"
                )
            if rule.input_only:
                raise ValueError(
                    f"{type(rule).__name__} is a rule for the layer that reads the model's input: pass it as "
                    f"first=..., not as the rule of every {kind.__name__}."
                )
        if self.first is not None and not isinstance(self.first, LinearRule):
            raise TypeError(f"first must be an LRP rule (labkit.attribution.lrp), got {self.first!r}.")

    def rule_for(self, module: nn.Module, reads_input: bool) -> LinearRule:
        """The rule of ``module`` (``first`` if it reads the model's input and one is set)."""
        if reads_input and self.first is not None:
            return self.first
        for kind, rule in self.layers.items():
            if isinstance(module, kind):
                return rule
        names = ", ".join(kind.__name__ for kind in self.layers) or "none"
        raise ValueError(f"The LRP composite has no rule for {type(module).__name__} (it has rules for {names}).")


def epsilon_composite(*, epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """Epsilon for every convolution and linear layer."""
    return Composite({nn.Conv2d: Epsilon(epsilon), nn.Linear: Epsilon(epsilon)}, stabilizer=stabilizer)


def epsilon_plus(*, epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """z+ for convolutions, epsilon for linear layers."""
    return Composite({nn.Conv2d: ZPlus(stabilizer), nn.Linear: Epsilon(epsilon)}, stabilizer=stabilizer)


def epsilon_gamma_box(
    *,
    bounds: tuple[float | torch.Tensor, float | torch.Tensor] | None = None,
    epsilon: float = 1e-6,
    gamma: float = 0.25,
    stabilizer: float = 1e-6,
) -> Composite:
    """Gamma for convolutions, epsilon for linear layers, z^B with ``bounds`` = (low, high) for the first layer."""
    if bounds is None or len(bounds) != 2:
        raise ValueError(
            "The epsilon_gamma_box composite needs bounds=(low, high): the lowest and highest values an input can "
            "take, in the model's preprocessed units (numbers, or (3, 1, 1) tensors per channel)."
        )
    return Composite(
        {nn.Conv2d: Gamma(gamma, stabilizer), nn.Linear: Epsilon(epsilon)},
        first=ZBox(bounds[0], bounds[1], stabilizer),
        stabilizer=stabilizer,
    )


def epsilon_plus_flat(*, epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """z+ for convolutions, epsilon for linear layers, flat for the first layer."""
    return Composite(
        {nn.Conv2d: ZPlus(stabilizer), nn.Linear: Epsilon(epsilon)}, first=Flat(stabilizer), stabilizer=stabilizer
    )


#: The named composites, by the name :func:`labkit.attribution.lrp` takes.
COMPOSITES: dict[str, Callable[..., Composite]] = {
    "epsilon": epsilon_composite,
    "epsilon_plus": epsilon_plus,
    "epsilon_gamma_box": epsilon_gamma_box,
    "epsilon_plus_flat": epsilon_plus_flat,
}


def make_composite(composite: Composite | str, **options: object) -> Composite:
    """``composite`` itself, or the named one built with the ``options`` that are not None."""
    given = {name: value for name, value in options.items() if value is not None}
    if isinstance(composite, Composite):
        if given:
            raise ValueError(
                f"Options {sorted(given)} are set inside a Composite; pass them to its rules, not to lrp()."
            )
        return composite
    if composite not in COMPOSITES:
        raise ValueError(f"Unknown LRP composite {composite!r}; use one of {sorted(COMPOSITES)} or a Composite.")
    builder = COMPOSITES[composite]
    accepted = builder.__kwdefaults__ or {}
    unused = sorted(set(given) - set(accepted))
    if unused:
        raise ValueError(f"The {composite!r} composite takes {sorted(accepted)}, not {unused}.")
    return builder(**given)
