"""Functions that run a caller's model in eval mode leave its train/eval modes and ``requires_grad`` as they were,
also when they raise."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from labkit.guards import hook_count
from labkit.interpretable.evaluate import method_scores
from labkit.metrics import cascading_randomization
from labkit.toy_models import tiny_train_cnn
from labkit.widgets.interpretable import model_maps
from tests.interpretable.test_evaluate import tiny_data


def _state(model: nn.Module) -> tuple:
    return hook_count(model), [m.training for m in model.modules()], [p.requires_grad for p in model.parameters()]


def _sanity(model: nn.Module, fail: bool) -> None:
    def gradient(model, inputs, targets):
        inputs = inputs.clone().requires_grad_(True)
        model(inputs).gather(1, targets[:, None]).sum().backward()
        return inputs.grad.abs().amax(1)

    method = (lambda model, inputs, targets: inputs) if fail else gradient  # (B, 3, H, W) maps are refused
    cascading_randomization(model, torch.rand(2, 3, 8, 8), {"method": method})


def _model_maps(model: nn.Module, fail: bool) -> None:
    model_maps(model, torch.randn(2, 3, 8, 8), torch.tensor([0, 7 if fail else 1]), "guided gradient", "3")


def _method_scores(model: nn.Module, fail: bool) -> None:
    method_scores(model, tiny_data(masks=True), "Grad-CAM", "nope" if fail else "3", n_images=2, pixels_per_step=16)


CALLS: dict[str, Callable[[nn.Module, bool], None]] = {
    "cascading_randomization": _sanity,
    "model_maps": _model_maps,
    "method_scores": _method_scores,
}


@pytest.mark.parametrize("fail", [False, True], ids=["returns", "raises"])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_caller_model_state_is_restored(call, fail):
    model = tiny_train_cnn().train()
    model[1].eval()  # modes are restored module by module, not set from the top
    model[0].weight.requires_grad_(False)
    before = _state(model)
    if fail:
        with pytest.raises(ValueError):
            CALLS[call](model, fail)
    else:
        CALLS[call](model, fail)
    assert _state(model) == before
