"""LRP: a slow loop of the paper's epsilon rule, conservation, and equality with zennit and Captum."""

from __future__ import annotations

import pytest
import timm
import torch
import torchvision
from captum.attr import LRP
from torch import nn
from zennit.attribution import Gradient
from zennit.composites import (
    EpsilonGammaBox,
    EpsilonPlus,
    EpsilonPlusFlat,
    LayerMapComposite,
    SpecialFirstLayerMapComposite,
    layer_map_base,
)
from zennit.rules import Epsilon as ZennitEpsilon
from zennit.rules import WSquare as ZennitWSquare
from zennit.torchvision import ResNetCanonizer, VGGCanonizer
from zennit.types import Convolution

from labkit.attribution import gradient_x_input, lrp
from labkit.attribution.lrp import Composite, Epsilon, Flat, Gamma, WSquare, ZBox, ZPlus
from labkit.guards import hook_count
from labkit.toy_models import tiny_cnn, toy_lrp_cnn

from .conftest import close, targets_of
from .slow import dense
from .test_state import _state

#: Tiny stabilizers on both sides, so that the comparisons test the rules, not 1e-6 vs 1e-9.
TINY = 1e-9


# ---------------------------------------------------------------- the slow reference (Bach et al. 2015)


def _epsilon_loop(a: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, r_out: torch.Tensor, eps: float):
    """R_i = sum_j a_i w_ji / (z_j + eps sign z_j) R_j, one weight at a time; also the layer's conservation."""
    z = weight @ a + bias
    r_in = torch.zeros_like(a)
    for j in range(len(z)):
        denominator = z[j] + (eps if z[j] >= 0 else -eps)
        for i in range(len(a)):
            r_in[i] += a[i] * weight[j, i] / denominator * r_out[j]
    expected_total = sum(r_out[j] * (z[j] - bias[j]) / (z[j] + (eps if z[j] >= 0 else -eps)) for j in range(len(z)))
    torch.testing.assert_close(r_in.sum(), torch.as_tensor(expected_total, dtype=r_in.dtype), rtol=1e-5, atol=1e-6)
    return r_in


def _winner_takes_all(a: torch.Tensor, r_out: torch.Tensor, size: int) -> torch.Tensor:
    """Max pooling: each window's relevance goes to its maximum (C, H, W)."""
    r_in = torch.zeros_like(a)
    for c in range(a.shape[0]):
        for i in range(r_out.shape[1]):
            for j in range(r_out.shape[2]):
                window = a[c, i * size : (i + 1) * size, j * size : (j + 1) * size]
                di, dj = divmod(int(window.argmax()), size)
                r_in[c, i * size + di, j * size + dj] += r_out[c, i, j]
    return r_in


def slow_epsilon_lrp(model: nn.Sequential, image: torch.Tensor, target: int, eps: float, stabilizer: float):
    """LRP-epsilon on :func:`toy_lrp_cnn` as Bach et al. write it: relevance R = S_c at the target, then
    layer by layer down (batch norm merged into the convolution, activations passing R unchanged,
    max pooling winner-takes-all, average pooling a linear layer with ``stabilizer``)."""
    conv1, norm, _relu, pool, conv2, _relu6, gap, _flatten, linear = model
    merged = nn.Sequential(conv1, norm)
    a0 = image
    with torch.no_grad():
        a1 = torch.relu(merged(a0[None]))[0]
        a2 = pool(a1[None])[0]
        a3 = torch.clamp(conv2(a2[None]), 0, 6)[0]
        a4 = gap(a3[None]).flatten()
        scores = linear(a4[None])[0]
    r = torch.zeros_like(scores)
    r[target] = scores[target]
    r = _epsilon_loop(a4, *dense(linear, a4.shape), r, eps)
    r = _epsilon_loop(a3.flatten(), *dense(gap, a3.shape), r, stabilizer).reshape(a3.shape)
    r = _epsilon_loop(a2.flatten(), *dense(conv2, a2.shape), r.flatten(), eps).reshape(a2.shape)
    r = _winner_takes_all(a1, r, 2)
    return _epsilon_loop(a0.flatten(), *dense(merged, a0.shape), r.flatten(), eps).reshape(a0.shape)


@pytest.mark.parametrize("eps", [1e-6, 0.05])
def test_epsilon_rule_equals_a_slow_loop_of_the_paper(eps):
    model = toy_lrp_cnn(2)
    x = torch.randn(3, 3, 6, 6, generator=torch.Generator().manual_seed(4))
    targets = torch.tensor([0, 2, 1])
    ours, gap = lrp(model, x, targets, epsilon=eps, stabilizer=1e-4, reduce="none", return_gap=True)
    expected = torch.stack([slow_epsilon_lrp(model, x[b], int(targets[b]), eps, 1e-4) for b in range(3)])
    close(ours, expected, rtol=1e-4)
    with torch.no_grad():
        scores = model(x).gather(1, targets[:, None])[:, 0]
    torch.testing.assert_close(gap, expected.flatten(1).sum(1) - scores, rtol=1e-4, atol=1e-6)
    assert float(gap.abs().max()) > 1e-2, "the toy's biases absorb relevance: a gap of 0 would mean they were ignored"


# ---------------------------------------------------------------- conservation


@pytest.fixture(scope="module")
def resnet18_unbiased() -> nn.Module:
    """ResNet-18 with random weights and no bias anywhere (fresh batch norms merge to bias 0; fc's is zeroed)."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    with torch.no_grad():
        model.fc.bias.zero_()
    return model


@pytest.mark.parametrize(
    "options",
    [
        {"composite": "epsilon"},
        {"composite": "epsilon_plus"},
        {"composite": "epsilon_gamma_box", "bounds": (-4.0, 4.0)},
        {"composite": "epsilon_plus_flat"},
    ],
    ids=lambda options: options["composite"],
)
def test_relevance_sums_to_the_score_without_biases(resnet18_unbiased, options):
    """Without biases and with tiny stabilizers every rule conserves: sum_i R_i = S_c up to float error,
    through residual additions (split in proportion), max pooling and merged batch norms."""
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    maps, gap = lrp(resnet18_unbiased, x, epsilon=TINY, stabilizer=TINY, return_gap=True, **options)
    with torch.no_grad():
        scores = resnet18_unbiased(x).amax(dim=1)
    assert float(gap.abs().max()) < 1e-4 * float(scores.abs().max())
    torch.testing.assert_close(maps.flatten(1).sum(1), scores, rtol=1e-4, atol=1e-6)


def test_lrp_0_is_gradient_times_input_on_a_relu_network_without_biases(resnet18_unbiased):
    """Ancona et al. (2018): with epsilon -> 0 and no biases, LRP-epsilon on a ReLU network is gradient x input."""
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(9))
    close(lrp(resnet18_unbiased, x, 7, epsilon=1e-30, stabilizer=1e-30), gradient_x_input(resnet18_unbiased, x, 7))


def test_epsilon_absorbs_relevance():
    """A larger epsilon keeps less of the score (Montavon et al. 2019: it absorbs weak, contradictory relevance)."""
    model = tiny_cnn(1).eval()
    with torch.no_grad():
        for module in model:
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()
    x = torch.randn(2, 3, 10, 10, generator=torch.Generator().manual_seed(6))
    gaps = [lrp(model, x, epsilon=eps, return_gap=True)[1].abs().max() for eps in (1e-9, 0.1, 10.0)]
    assert float(gaps[0]) < 1e-5 < float(gaps[1]) < float(gaps[2])


# ---------------------------------------------------------------- zennit and Captum


@pytest.fixture(scope="module")
def vgg16() -> nn.Module:
    torch.manual_seed(0)
    return torchvision.models.vgg16(weights=None).eval()


def zennit_relevance(model: nn.Module, x: torch.Tensor, targets: torch.Tensor, composite) -> torch.Tensor:
    """zennit's attribution with the relevance S_c at the target (attr_output = one-hot * score)."""

    def score_at_target(output: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(output).scatter(1, targets[:, None], output.gather(1, targets[:, None]))

    with Gradient(model=model, composite=composite) as attributor:
        _output, relevance = attributor(x, score_at_target)
    return relevance


def zennit_composite(name: str, canonizers: list):
    if name == "epsilon":
        rules = [(Convolution, ZennitEpsilon(TINY)), (nn.Linear, ZennitEpsilon(TINY))]
        return LayerMapComposite(layer_map_base(TINY) + rules, canonizers=canonizers)
    if name == "wsquare":
        rules = [(Convolution, ZennitEpsilon(0.1)), (nn.Linear, ZennitEpsilon(0.1))]
        first = [(Convolution, ZennitWSquare(TINY, zero_params=["bias"]))]
        return SpecialFirstLayerMapComposite(layer_map_base(TINY) + rules, first, canonizers=canonizers)
    options = {"epsilon": 0.1, "stabilizer": TINY, "canonizers": canonizers}
    if name == "epsilon_gamma_box":
        return EpsilonGammaBox(low=-3.0, high=3.0, gamma=0.25, **options)
    return {"epsilon_plus": EpsilonPlus, "epsilon_plus_flat": EpsilonPlusFlat}[name](**options)


def ours(name: str) -> dict:
    if name == "epsilon":
        return {"epsilon": TINY, "stabilizer": TINY}
    if name == "wsquare":
        layers = {nn.Conv2d: Epsilon(0.1), nn.Linear: Epsilon(0.1)}
        return {"composite": Composite(layers, first=WSquare(TINY), stabilizer=TINY)}
    options = {"composite": name, "epsilon": 0.1, "stabilizer": TINY}
    return {**options, "bounds": (-3.0, 3.0)} if name == "epsilon_gamma_box" else options


CASES = [
    *[("vgg11", name) for name in ("epsilon", "epsilon_plus", "epsilon_gamma_box", "epsilon_plus_flat", "wsquare")],
    *[("vgg16", name) for name in ("epsilon", "epsilon_gamma_box")],
    *[("resnet18", name) for name in ("epsilon", "epsilon_plus", "epsilon_gamma_box", "epsilon_plus_flat")],
]


@pytest.fixture(scope="module")
def resnet18_exact_norms(resnet18) -> nn.Module:
    """ResNet-18 whose batch norms have eps = 0: zennit's merge leaves each batch norm dividing by sqrt(1 + eps)
    (it sets the statistics to 0 and 1 but keeps eps), which scales its relevance by 5e-6 per merged batch norm
    (4e-5 on ResNet-18); with eps = 0 its merge is exact, like labkit's."""
    import copy

    model = copy.deepcopy(resnet18)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eps = 0.0
    return model


@pytest.mark.parametrize(("arch", "name"), CASES)
def test_equals_zennit(arch, name, request, inputs):
    """zennit 0.5 (the release pip resolves for Python 3.11.7; 1.0 needs 3.11.11) with its canonizers."""
    model = request.getfixturevalue("resnet18_exact_norms" if arch == "resnet18" else arch)
    x = inputs[:, :, :32, :32]
    targets = targets_of(model, x)
    canonizers = [ResNetCanonizer()] if arch == "resnet18" else [VGGCanonizer()]
    theirs = zennit_relevance(model, x, targets, zennit_composite(name, canonizers))
    close(lrp(model, x, targets, reduce="none", **ours(name)), theirs)


@pytest.mark.parametrize("arch", ["vgg11", "vgg16"])
def test_equals_captum(arch, request, inputs):
    """Captum's LRP: the epsilon rule (1e-9) on every layer, max pooling included (there it is winner-takes-all)."""
    model = request.getfixturevalue(arch)
    x = inputs[:, :, :32, :32]
    targets = targets_of(model, x)
    theirs = LRP(model).attribute(x.clone(), target=targets).detach()
    close(lrp(model, x, targets, epsilon=TINY, stabilizer=TINY, reduce="none"), theirs, rtol=1e-3, atol=1e-5)


# ---------------------------------------------------------------- the call shape, the state, errors


def test_batched_with_different_targets_equals_one_at_a_time(resnet18, inputs):
    x = inputs[:, :, :32, :32]
    targets = torch.tensor([3, 917])
    both = lrp(resnet18, x, targets, composite="epsilon_gamma_box", bounds=(-3.0, 3.0))
    for b in range(2):
        alone = lrp(resnet18, x[b : b + 1], int(targets[b]), composite="epsilon_gamma_box", bounds=(-3.0, 3.0))
        close(both[b : b + 1], alone, rtol=1e-4)
    assert both.shape == (2, 32, 32)


@pytest.mark.parametrize("composite", ["epsilon", "epsilon_plus_flat"])
def test_model_is_left_as_found(resnet18, composite):
    resnet18.train()
    resnet18.conv1.weight.requires_grad_(False)
    try:
        before = _state(resnet18)
        weights = {name: value.clone() for name, value in resnet18.state_dict().items()}
        lrp(resnet18, torch.randn(2, 3, 32, 32), composite=composite)
        assert _state(resnet18) == before
        with pytest.raises(ValueError, match="out of range"):
            lrp(resnet18, torch.randn(2, 3, 32, 32), targets=5000, composite=composite)
        assert _state(resnet18) == before
        for name, value in resnet18.state_dict().items():
            assert torch.equal(value, weights[name]), name
    finally:
        resnet18.eval()
        resnet18.conv1.weight.requires_grad_(True)


class _ScaledInput(nn.Module):
    """Multiplies the input by 2 before its first convolution: no layer reads the input itself."""

    def __init__(self) -> None:
        super().__init__()
        self.body = tiny_cnn(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x * 2)


def test_clear_errors():
    model = toy_lrp_cnn(0)
    x = torch.randn(1, 3, 6, 6)
    with pytest.raises(ValueError, match="Unknown LRP composite 'epsilon_box'; use one of"):
        lrp(model, x, composite="epsilon_box")
    with pytest.raises(ValueError, match="needs bounds"):
        lrp(model, x, composite="epsilon_gamma_box")
    with pytest.raises(ValueError, match="low <= high"):
        lrp(model, x, composite="epsilon_gamma_box", bounds=(1.0, -1.0))
    with pytest.raises(ValueError, match="takes .* not \\['gamma'\\]"):
        lrp(model, x, composite="epsilon", gamma=0.5)
    with pytest.raises(ValueError, match="set inside a Composite"):
        lrp(model, x, composite=Composite({nn.Conv2d: ZPlus(), nn.Linear: Epsilon()}), epsilon=0.1)
    with pytest.raises(ValueError, match="pass it as first="):
        Composite({nn.Conv2d: Flat()})
    with pytest.raises(ValueError, match="epsilon must be a number >= 0"):
        Epsilon(float("nan"))
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        Gamma(-1.0)
    with pytest.raises(ValueError, match="no rule for Linear"):
        lrp(model, x, composite=Composite({nn.Conv2d: Epsilon()}))
    with pytest.raises(ValueError, match="NaN or infinite"):
        lrp(model, torch.full((1, 3, 6, 6), float("nan")))
    scaled = _ScaledInput().eval()
    with pytest.raises(ValueError, match="found no convolution or linear layer that reads the model's input"):
        box = Composite({nn.Conv2d: Epsilon(), nn.Linear: Epsilon()}, first=ZBox(-1, 1))
        lrp(scaled, torch.randn(1, 3, 8, 8), composite=box)
    assert hook_count(scaled) == 0


@pytest.mark.parametrize(
    ("build", "names"),
    [
        (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU(), nn.Flatten(), nn.Linear(4 * 14 * 14, 2)), "GELU"),
        (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.GroupNorm(2, 4), nn.ReLU()), "GroupNorm"),
        (lambda: timm.create_model("tf_efficientnet_b0", pretrained=False), "SiLU"),
        (lambda: torchvision.models.regnet_y_400mf(), "Sigmoid"),
    ],
    ids=["gelu", "groupnorm", "timm-silu", "squeeze-excitation"],
)
def test_models_without_rules_are_refused_by_name(build, names):
    model = build().eval()
    with pytest.raises(ValueError, match=f"this model also has .*{names}.*Use a gradient method"):
        lrp(model, torch.randn(1, 3, 16, 16))
    assert hook_count(model) == 0


def test_a_batch_norm_that_reads_another_tensor_is_refused():
    """Pairs are found in module order and checked on the data."""

    class Misordered(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.norm, self.other = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(3, 4, 3)
            self.head = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.conv(x) + self.norm(self.other(x))
            return self.head(h.mean(dim=(2, 3)))

    model = Misordered().eval()
    with pytest.raises(RuntimeError, match="does not read that layer's output"):
        lrp(model, torch.randn(1, 3, 8, 8))
    assert hook_count(model) == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_on_a_gpu_as_on_the_cpu(resnet18, inputs):
    x = inputs[:, :, :32, :32]
    cpu = lrp(resnet18, x, 1, composite="epsilon_gamma_box", bounds=(-3.0, 3.0))
    try:
        gpu = lrp(resnet18.cuda(), x.cuda(), 1, composite="epsilon_gamma_box", bounds=(-3.0, 3.0))
    finally:
        resnet18.cpu()
    assert gpu.device.type == "cuda"
    close(gpu.cpu(), cpu, rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------- timm's EfficientNet-Lite0 (the course's default)


def _unfused(model: nn.Module) -> nn.Module:
    """A copy with every BatchNormAct2d replaced by a plain BatchNorm2d followed by its activation."""
    import copy

    from timm.layers import BatchNormAct2d

    model = copy.deepcopy(model)
    for name, module in list(model.named_modules()):
        if isinstance(module, BatchNormAct2d):
            plain = nn.BatchNorm2d(module.num_features, module.eps)
            plain.load_state_dict(module.state_dict(), strict=False)
            parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
            setattr(parent, name.rpartition(".")[2], nn.Sequential(plain, copy.deepcopy(module.act)).eval())
    return model


def test_timm_fused_batch_norms_and_same_padding(efficientnet, inputs):
    """EfficientNet-Lite0 (ReLU6 inside timm's BatchNormAct2d, Conv2dSame): the same relevance as the network
    with plain BatchNorm2d + ReLU6 modules, and conserved where there are no biases (timm's initialisation)."""
    x = inputs[:, :, :48, :48]
    options = {"composite": "epsilon_gamma_box", "bounds": (-1.0, 1.0), "stabilizer": TINY, "epsilon": TINY}
    maps, gap = lrp(efficientnet, x, return_gap=True, **options)
    close(maps, lrp(_unfused(efficientnet), x, **options), rtol=1e-4)
    with torch.no_grad():
        scores = efficientnet(x).amax(dim=1)
    assert float(gap.abs().max()) < 1e-4 * float(scores.abs().max())


def test_same_padded_convolution_unit():
    """Conv2dSame runs through its own forward with the rule's weights; its transpose is the forward's VJP."""
    from timm.layers import Conv2dSame

    from labkit.attribution.lrp.units import LinearUnit

    torch.manual_seed(0)
    conv = Conv2dSame(3, 4, 3, stride=2, bias=True)
    x = torch.randn(2, 3, 9, 10)
    unit = LinearUnit.of(conv)
    torch.testing.assert_close(unit.forward(x, conv.weight, conv.bias), conv(x))
    weight = torch.randn_like(conv.weight)
    leaf = x.clone().requires_grad_()
    s = torch.randn_like(conv(x))
    (expected,) = torch.autograd.grad(
        nn.functional.conv2d(nn.functional.pad(leaf, (0, 1, 1, 1)), weight, stride=2), leaf, s
    )
    torch.testing.assert_close(unit.transpose(s, weight, x), expected)
