"""GroupedConv2d: the same values, gradients and second derivatives as PyTorch's own grouped convolution."""

import pytest
import torch
from torch import nn

from labkit.interpretable.gradients import gradient_pair
from labkit.interpretable.grouped_conv import GroupedConv2d, batched_grouped_convolutions
from labkit.interpretable.loss import interpretable_gradient_loss, interpretable_loss
from labkit.reference.architectures import ARCHITECTURES

SETTINGS = [  # (channels in, out, kernel, stride, padding, dilation, groups, bias)
    (4, 4, 3, 1, 1, 1, 4, False),  # depthwise, MobileNet-V2's stride-1 layers
    (4, 4, 3, 2, 1, 1, 4, True),  # depthwise with stride 2 (an odd input size: output_padding)
    (4, 8, 3, 1, 2, 2, 4, True),  # two filters per channel, dilated
    (6, 4, (3, 1), (2, 1), (1, 0), 1, 2, False),  # two groups of three channels, a non-square kernel
]


@pytest.mark.parametrize("setting", SETTINGS)
def test_values_gradients_and_second_derivatives_match_pytorch(setting):
    c_in, c_out, kernel, stride, padding, dilation, groups, bias = setting
    torch.manual_seed(0)
    conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, dilation, groups, bias).double()
    x = torch.randn(2, c_in, 7, 7, dtype=torch.double, requires_grad=True)
    parameters = (conv.weight, conv.bias) if bias else (conv.weight,)

    def grouped(x, weight, bias=None):
        return GroupedConv2d.apply(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)

    assert torch.allclose(grouped(x, *parameters), conv(x))
    assert torch.autograd.gradcheck(grouped, (x, *parameters))
    assert torch.autograd.gradgradcheck(grouped, (x, *parameters))


def weight_gradients(model, loss):
    model.zero_grad()
    loss.backward()
    return [p.grad.clone() for p in model.parameters()]


def test_the_regularised_loss_gets_the_same_weight_gradients_with_the_swap():
    """Double backpropagation through MobileNet-V2 (depthwise layers, stride 1 and 2), in train mode."""
    torch.manual_seed(0)
    model = ARCHITECTURES["mobilenet_v2"][0](10).double().train()
    for module in model.modules():
        if isinstance(module, nn.Dropout):  # the same function each time: batch statistics, no dropout
            module.eval()
    inputs, targets = torch.randn(4, 3, 32, 32, dtype=torch.double), torch.tensor([0, 1, 2, 3])
    guided = gradient_pair(model, inputs, targets, create_graph=False).guided
    native = weight_gradients(model, interpretable_loss(model, inputs, targets, guided, "cosine", 1.0))
    with batched_grouped_convolutions(model):
        swapped = weight_gradients(model, interpretable_loss(model, inputs, targets, guided, "cosine", 1.0))
    trained = weight_gradients(model, interpretable_gradient_loss(model, inputs, targets, "cosine", 1.0).loss)
    for a, b, c in zip(native, swapped, trained, strict=True):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)
        assert torch.allclose(a, c, rtol=1e-9, atol=1e-12)
    assert all("forward" not in vars(module) for module in model.modules())


def test_the_modules_get_their_own_forward_back_also_on_error():
    model = nn.Sequential(nn.Conv2d(4, 4, 3, groups=4), nn.Conv2d(4, 4, 3))
    with pytest.raises(RuntimeError), batched_grouped_convolutions(model):
        assert "forward" in vars(model[0]) and "forward" not in vars(model[1])  # only the grouped one
        raise RuntimeError("fails inside")
    assert "forward" not in vars(model[0])
