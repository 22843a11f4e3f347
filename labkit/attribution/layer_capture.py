"""The one base mechanism for "activations and gradients of a layer".

A forward hook on the layer records its output ``A`` (B, K, h, w). When gradients are
needed, the recorded tensor is cut from the graph below it (``A.detach().requires_grad_()``,
so the backward pass stops at the layer) and the model continues with a copy of it, so a
later in-place operation (``ReLU(inplace=True)``) cannot change the recorded values. The
gradient of the target scores is then ``dS/dA = autograd.grad(sum_b S_b, A)``. A layer
that runs more than once per forward pass (a reused module) is refused with a clear error,
since "its activations" would be ambiguous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from labkit.guards import Hooks
from labkit.layers import default_layer, get_layer
from labkit.targets import Targets, targets_from_outputs

Edit = Callable[[torch.Tensor], torch.Tensor]


class LayerRecorder:
    """Records one layer's output in the forward passes of :meth:`run` (other passes are left alone)."""

    def __init__(self, hooks: Hooks, layer: nn.Module, name: str, *, gradients: bool = False) -> None:
        self.name = name
        self.gradients = gradients
        self.edit: Edit | None = None
        self.outputs: list[torch.Tensor] = []
        self.armed = False
        hooks.forward(layer, self._hook)

    def _hook(self, _module: nn.Module, _inputs: tuple, output: object) -> torch.Tensor | None:
        if not self.armed:
            return None
        if not isinstance(output, torch.Tensor) or output.ndim != 4:
            shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
            raise ValueError(
                f"Layer {self.name!r} gives {shape}, not a (B, K, h, w) feature map; choose a convolutional "
                f"layer (labkit.layer_names(model) lists them)."
            )
        if self.outputs:
            raise ValueError(
                f"Layer {self.name!r} runs more than once in one forward pass (a reused module); choose a layer "
                f"that runs once, e.g. the block that contains it."
            )
        if self.gradients:
            output = output.detach().requires_grad_()
        self.outputs.append(output)
        return self.edit(output) if self.edit is not None else output.clone()

    def run(
        self, model: nn.Module, inputs: torch.Tensor, edit: Edit | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(model outputs, layer activations) for ``inputs``, the activations replaced by ``edit`` if given."""
        self.outputs.clear()
        self.edit, self.armed = edit, True
        try:
            outputs = model(inputs)
        finally:
            self.edit, self.armed = None, False
        if not self.outputs:
            raise ValueError(f"Layer {self.name!r} did not run in the forward pass; choose a layer the model uses.")
        return outputs, self.outputs.pop()


def resolve_layer(model: nn.Module, layer: str | nn.Module | None, inputs: torch.Tensor) -> tuple[nn.Module, str]:
    """The layer module and a name for messages; ``None`` picks :func:`labkit.layers.default_layer`."""
    if layer is None:
        layer = default_layer(model, inputs)
    module = get_layer(model, layer)
    name = layer if isinstance(layer, str) else type(layer).__name__
    return module, name


@dataclass
class LayerState:
    """What a CAM variant may use: the model, its inputs, the targets and the layer's A, dS/dA and S."""

    model: nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor
    recorder: LayerRecorder
    outputs: torch.Tensor
    activations: torch.Tensor
    gradients: torch.Tensor | None
    batch_size: int | None
    progress: bool

    @property
    def scores(self) -> torch.Tensor:
        """The target logits S_c (B,)."""
        return self.outputs.gather(1, self.targets[:, None])[:, 0]


def layer_state(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets,
    recorder: LayerRecorder,
    *,
    batch_size: int | None = None,
    progress: bool = False,
) -> LayerState:
    """One forward pass (and, if the recorder wants gradients, one backward pass down to the layer)."""
    with torch.set_grad_enabled(recorder.gradients):
        outputs, activations = recorder.run(model, inputs)
    resolved = targets_from_outputs(outputs.detach(), targets)
    gradients = None
    if recorder.gradients:
        scores = outputs.gather(1, resolved[:, None]).sum()
        (gradients,) = torch.autograd.grad(scores, activations)
    return LayerState(
        model, inputs, resolved, recorder, outputs.detach(), activations.detach(), gradients, batch_size, progress
    )
