"""Every method leaves the model as it found it: no hooks, same modes, flags and outputs, also after an error."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import labkit.attribution as attribution
from labkit.guards import hook_count

METHODS = [
    "saliency",
    "gradient_x_input",
    "smoothgrad",
    "guided_backprop",
    "deconvnet",
    "integrated_gradients",
    "deeplift",
    "deeplift_shap",
    "lrp",
    "cam",
    "grad_cam",
    "grad_cam_pp",
    "score_cam",
    "ablation_cam",
    "xgrad_cam",
    "layer_cam",
    "guided_grad_cam",
]
OPTIONS = {
    "smoothgrad": {"n_samples": 2},
    "integrated_gradients": {"n_steps": 2},
    "deeplift_shap": {"references": torch.zeros(2, 3, 32, 32)},
}


def _state(model: nn.Module) -> tuple:
    return (
        hook_count(model),
        [m.training for m in model.modules()],
        [p.requires_grad for p in model.parameters()],
        [getattr(m, "inplace", None) for m in model.modules()],
    )


@pytest.fixture
def training_resnet(resnet18):
    """ResNet-18 left in training mode with a frozen first layer: both must survive."""
    resnet18.train()
    resnet18.conv1.weight.requires_grad_(False)
    yield resnet18
    resnet18.eval()
    resnet18.conv1.weight.requires_grad_(True)


@pytest.mark.parametrize("name", METHODS)
def test_model_is_restored(name, training_resnet):
    model = training_resnet
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    before = _state(model)
    model.eval()
    with torch.no_grad():
        outputs = model(x)
    model.train()
    maps = getattr(attribution, name)(model, x, **OPTIONS.get(name, {}))
    assert maps.shape == (2, 32, 32)
    assert _state(model) == before
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), outputs)
    model.train()
    with pytest.raises(ValueError, match="Target class 5000 is out of range"):
        getattr(attribution, name)(model, x, targets=5000, **OPTIONS.get(name, {}))
    assert _state(model) == before


def test_restored_after_an_error_inside_the_backward_rules(resnet18):
    """An error raised mid-pass (here: a layer that fails) still removes hooks and restores inplace flags."""
    before = _state(resnet18)

    def fail(_module, _inputs, _output):
        raise RuntimeError("boom")

    handle = resnet18.layer2.register_forward_hook(fail)
    try:
        for name in ("guided_backprop", "deeplift", "grad_cam", "ablation_cam"):
            with pytest.raises(RuntimeError, match="boom"):
                getattr(attribution, name)(resnet18, torch.zeros(1, 3, 64, 64))
    finally:
        handle.remove()
    assert _state(resnet18) == before


#: Methods that run their passes in batches of copies or channels, so they take ``batch_size``.
BATCHED = ["smoothgrad", "integrated_gradients", "deeplift", "deeplift_shap", "score_cam", "ablation_cam"]


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_inputs_are_refused(name, bad, resnet18):
    x = torch.zeros(2, 3, 32, 32)
    x[1, 2, 5, 7] = bad
    before = _state(resnet18)
    with pytest.raises(ValueError, match="NaN or infinite"):
        getattr(attribution, name)(resnet18, x, **OPTIONS.get(name, {}))
    assert _state(resnet18) == before


@pytest.mark.parametrize("name", BATCHED)
@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_nonsensical_batch_sizes_are_refused(name, batch_size, resnet18):
    before = _state(resnet18)
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1"):
        getattr(attribution, name)(resnet18, torch.zeros(1, 3, 32, 32), batch_size=batch_size, **OPTIONS.get(name, {}))
    assert _state(resnet18) == before


@pytest.mark.parametrize(("name", "option"), [("integrated_gradients", "baseline"), ("deeplift", "baseline")])
def test_non_finite_baselines_are_refused(name, option, resnet18):
    with pytest.raises(ValueError, match="baseline values contain NaN"):
        getattr(attribution, name)(resnet18, torch.zeros(1, 3, 32, 32), **{option: float("nan")})
    with pytest.raises(ValueError, match="references contain NaN"):
        attribution.deeplift_shap(resnet18, torch.zeros(1, 3, 32, 32), references=torch.full((2, 3, 32, 32), torch.inf))
