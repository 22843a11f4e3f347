"""Layer-wise relevance propagation (LRP): the method, its rules, and composites that map layers to rules.

- :mod:`.rules`: the rules for one linear layer (epsilon, gamma, z+, z^B, flat, w^2), as modified gradients
- :mod:`.units`: a convolution or linear layer with the batch norm after it merged in
- :mod:`.composite`: which rule each layer type gets; zennit's named composites
- :mod:`.propagation`: the rule every module gets in a whole network (activations, pooling, residuals)
- :mod:`.method`: :func:`lrp`, with labkit's shared call shape
"""

from labkit.attribution.lrp.composite import (
    COMPOSITES,
    Composite,
    epsilon_composite,
    epsilon_gamma_box,
    epsilon_plus,
    epsilon_plus_flat,
)
from labkit.attribution.lrp.method import lrp
from labkit.attribution.lrp.rules import Epsilon, Flat, Gamma, LinearRule, WSquare, ZBox, ZPlus

__all__ = [
    "COMPOSITES",
    "Composite",
    "Epsilon",
    "Flat",
    "Gamma",
    "LinearRule",
    "WSquare",
    "ZBox",
    "ZPlus",
    "epsilon_composite",
    "epsilon_gamma_box",
    "epsilon_plus",
    "epsilon_plus_flat",
    "lrp",
]
