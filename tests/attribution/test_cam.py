"""The CAM family against Captum, pytorch-grad-cam, the papers' formulas and analytic identities."""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F
from captum.attr import LayerAttribution, LayerGradCam
from pytorch_grad_cam import AblationCAM, GradCAM, GradCAMPlusPlus, LayerCAM, ScoreCAM, XGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from labkit.attribution import ablation_cam, cam, grad_cam, grad_cam_pp, layer_cam, score_cam, xgrad_cam
from labkit.attribution.cam import upsample_maps
from labkit.layers import default_layer, get_layer

from .conftest import CAM_LAYERS, close, targets_of

LIBRARY = {
    grad_cam: GradCAM,
    grad_cam_pp: GradCAMPlusPlus,
    xgrad_cam: XGradCAM,
    layer_cam: LayerCAM,
}


def normalised(maps: torch.Tensor) -> torch.Tensor:
    """pytorch-grad-cam's per-image scaling: (m - min) / (1e-7 + max(m - min))."""
    flat = maps.flatten(1)
    low = flat.amin(dim=1)[:, None, None]
    shifted = maps - low
    return shifted / (1e-7 + shifted.flatten(1).amax(dim=1)[:, None, None])


def library_maps(cls, model: nn.Module, layer: str, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    method = cls(model=model, target_layers=[get_layer(model, layer)])
    result = method(input_tensor=inputs, targets=[ClassifierOutputTarget(int(t)) for t in targets])
    return torch.from_numpy(result)


@pytest.mark.parametrize("method", list(LIBRARY), ids=lambda m: m.__name__)
def test_equals_pytorch_grad_cam(method, arch, inputs):
    name, model = arch
    targets = targets_of(model, inputs)
    ours = method(model, inputs, targets, layer=CAM_LAYERS[name])
    theirs = library_maps(LIBRARY[method], model, CAM_LAYERS[name], inputs, targets)
    close(normalised(ours), theirs, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(("name", "layer", "size"), [("tiny", "4", 32), ("resnet18", "layer3", 32)])
def test_ablation_cam_equals_pytorch_grad_cam(name, layer, size, request, inputs):
    """One small image (the library runs the whole network once per channel)."""
    model = request.getfixturevalue(name)
    inputs = inputs[:1, :, :size, :size]
    targets = targets_of(model, inputs)
    ours = ablation_cam(model, inputs, targets, layer=layer)
    theirs = library_maps(AblationCAM, model, layer, inputs, targets)
    close(normalised(ours), theirs, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(("name", "layer", "size"), [("tiny", "4", 32), ("resnet18", "layer3", 32)])
def test_score_cam_equals_pytorch_grad_cam_in_its_variant(name, layer, size, request, inputs, monkeypatch):
    """pytorch-grad-cam: softmax over channels of the logits, masks upsampled with align_corners=True."""
    model = request.getfixturevalue(name)
    inputs = inputs[:1, :, :size, :size]
    targets = targets_of(model, inputs)
    ours = score_cam(model, inputs, targets, layer=layer, score="logit", channel_softmax=True)
    # Our masks use align_corners=False (as the Score-CAM authors' code); align the library to compare.
    monkeypatch.setattr(
        nn, "UpsamplingBilinear2d", lambda size: lambda x: F.interpolate(x, size, mode="bilinear", align_corners=False)
    )
    theirs = library_maps(ScoreCAM, model, layer, inputs, targets)
    close(normalised(ours), theirs, rtol=1e-3, atol=1e-3)


def test_grad_cam_equals_captum(arch, inputs):
    name, model = arch
    targets = targets_of(model, inputs)
    layer = get_layer(model, CAM_LAYERS[name])
    raw = LayerGradCam(model, layer).attribute(inputs, target=targets, relu_attributions=True)
    theirs = LayerAttribution.interpolate(raw, inputs.shape[-2:], interpolate_mode="bilinear")[:, 0]
    close(grad_cam(model, inputs, targets, layer=layer), theirs)
    close(grad_cam(model, inputs, targets, layer=layer, upsample=False), raw[:, 0])


def _slow_cam(model, inputs, target, layer, weights_of):
    """One image, a loop over channels: M = ReLU(sum_k w_k A_k) with w_k from the paper's formula."""
    store = {}
    handle = get_layer(model, layer).register_forward_hook(lambda m, i, o: store.update(a=o))
    try:
        leaf = inputs[None].clone().requires_grad_()
        score = model(leaf)[0, target]
        activations = store["a"][0]
        gradients = torch.autograd.grad(score, store["a"])[0][0]
    finally:
        handle.remove()
    total = torch.zeros(activations.shape[1:])
    for k in range(activations.shape[0]):
        total += weights_of(activations[k].detach(), gradients[k]) * activations[k].detach()
    return total.clamp(min=0)


FORMULAS = {
    grad_cam: lambda a, g: g.mean(),
    xgrad_cam: lambda a, g: (g * a / (a.sum() + 1e-7)).sum(),
    layer_cam: lambda a, g: g.clamp(min=0),
    grad_cam_pp: lambda a, g: (
        torch.where(g != 0, g**2 / (2 * g**2 + a.sum() * g**3 + 1e-6), 0.0) * g.clamp(min=0)
    ).sum(),
}


@pytest.mark.parametrize("method", list(FORMULAS), ids=lambda m: m.__name__)
def test_matches_slow_paper_formula(method, efficientnet, inputs):
    targets = targets_of(efficientnet, inputs)
    ours = method(efficientnet, inputs, targets, layer="bn2", upsample=False)
    for b in range(len(inputs)):
        close(ours[b], _slow_cam(efficientnet, inputs[b], int(targets[b]), "bn2", FORMULAS[method]), rtol=1e-3)


def test_score_cam_matches_the_paper_loop(tiny, inputs):
    """w_k = p_c(X * H_k) - p_c(X_b), one channel at a time."""
    inputs = inputs[:1, :, :32, :32]
    target = int(targets_of(tiny, inputs)[0])
    store = {}
    handle = tiny[4].register_forward_hook(lambda m, i, o: store.update(a=o))
    with torch.no_grad():
        tiny(inputs)
        handle.remove()
        activations = store["a"][0]
        baseline = tiny(torch.zeros_like(inputs)).softmax(1)[0, target]
        expected = torch.zeros(activations.shape[1:])
        for k in range(activations.shape[0]):
            up = F.interpolate(activations[k][None, None], inputs.shape[-2:], mode="bilinear")[0, 0]
            mask = (up - up.min()) / (up.max() - up.min() + 1e-8)
            weight = tiny(inputs * mask).softmax(1)[0, target] - baseline
            expected += weight * activations[k]
    close(score_cam(tiny, inputs, target, layer="4", upsample=False, batch_size=5)[0], expected.clamp(min=0))


def test_ablation_cam_matches_the_paper_loop(tiny, inputs):
    """w_k = (y_c - y_c^k) / y_c with A_k set to 0, one channel at a time, full forward passes."""
    inputs = inputs[:2, :, :32, :32]
    layer = tiny[4]
    for b in range(2):
        with torch.no_grad():
            store = {}
            handle = layer.register_forward_hook(lambda m, i, o, s=store: s.update(a=o.clone()))
            y = tiny(inputs[b : b + 1])[0, 3]
            handle.remove()
            activations = store["a"][0]
            expected = torch.zeros(activations.shape[1:])
            for k in range(activations.shape[0]):
                ablated = activations.clone()
                ablated[k] = 0
                handle = layer.register_forward_hook(lambda m, i, o, a=ablated: a[None])
                y_k = tiny(inputs[b : b + 1])[0, 3]
                handle.remove()
                expected += (y - y_k) / y * activations[k]
        ours = ablation_cam(tiny, inputs, 3, layer=layer, upsample=False, relu=False, batch_size=5)
        close(ours[b], expected, rtol=1e-3)


def test_cam_equals_grad_cam_times_z_on_a_gap_linear_head(efficientnet, inputs):
    targets = targets_of(efficientnet, inputs)
    cams = cam(efficientnet, inputs, targets, upsample=False)
    z = cams.shape[-1] * cams.shape[-2]
    close(grad_cam(efficientnet, inputs, targets, upsample=False) * z, cams)


@pytest.mark.parametrize("name", ["efficientnet", "resnet18"])
def test_cam_spatial_mean_plus_bias_is_the_logit(name, request, inputs):
    model = request.getfixturevalue(name)
    targets = targets_of(model, inputs)
    maps = cam(model, inputs, targets, upsample=False, relu=False)
    head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        logits = model(inputs).gather(1, targets[:, None])[:, 0]
    close(maps.mean(dim=(1, 2)) + head.bias[targets], logits)


def test_cam_refuses_a_model_without_gap_linear_head(vgg11, inputs):
    with pytest.raises(ValueError, match="global-average-pooling"):
        cam(vgg11, inputs)


def test_maps_are_relud_and_upsampled_bilinearly(resnet18, inputs):
    raw = grad_cam(resnet18, inputs, upsample=False, relu=False)
    maps = grad_cam(resnet18, inputs)
    assert maps.shape == (2, *inputs.shape[-2:])
    close(maps, upsample_maps(raw.clamp(min=0), tuple(inputs.shape[-2:])))


def test_default_layer_is_the_cam_layer_of_the_loaded_models(efficientnet, resnet18):
    import torchvision

    assert default_layer(efficientnet) == "bn2"
    assert default_layer(resnet18) == "layer4"
    assert default_layer(torchvision.models.vgg16(weights=None)) == "features.29"


def test_layer_as_module_or_name_agree(resnet18, inputs):
    close(grad_cam(resnet18, inputs, layer=resnet18.layer3), grad_cam(resnet18, inputs, layer="layer3"))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"layer": "layer9"}, ValueError, "no layer named 'layer9'.*layer4"),
        ({"layer": "layer1.0.relu"}, ValueError, "more than once"),
        ({"layer": "fc"}, ValueError, "not a \\(B, K, h, w\\) feature map"),
        ({"targets": 1000}, ValueError, "out of range"),
        ({"targets": [1, 2, 3]}, ValueError, "one per image"),
    ],
)
def test_clear_errors(resnet18, inputs, kwargs, error, match):
    with pytest.raises(error, match=match):
        grad_cam(resnet18, inputs, **kwargs)


def test_score_cam_rejects_unknown_score(resnet18, inputs):
    with pytest.raises(ValueError, match="score must be one of"):
        score_cam(resnet18, inputs, score="softmax")


def test_each_variant_shows_its_own_options_in_its_signature():
    options = inspect.signature(score_cam).parameters
    assert options["score"].default == "probability" and options["channel_softmax"].default is False
    assert options["score"].kind is inspect.Parameter.KEYWORD_ONLY
    assert {"layer", "upsample", "relu", "batch_size", "progress"} <= set(options)
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in options.values())
    assert "score" not in inspect.signature(grad_cam).parameters
