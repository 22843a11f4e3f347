"""DeepLIFT's RevealCancel rule: the paper's min example, a slow loop of its formulas, summation-to-delta."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from labkit.attribution import deeplift, deeplift_shap
from labkit.toy_models import toy_lrp_cnn

from .conftest import close
from .slow import dense


class MinNetwork(nn.Module):
    """o = i1 - ReLU(i1 - i2) = min(i1, i2) (the paper's Fig. 3 network), on channels 0 and 1 of a 1 x 1 image."""

    def __init__(self) -> None:
        super().__init__()
        self.difference = nn.Conv2d(3, 1, 1, bias=False)
        with torch.no_grad():
            self.difference.weight.copy_(torch.tensor([1.0, -1.0, 0.0]).reshape(1, 3, 1, 1))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x[:, :1] - self.relu(self.difference(x))).flatten(1)


@pytest.mark.parametrize(("i1", "i2"), [(3.0, 1.0), (1.0, 3.0), (2.0, 2.0)])
def test_the_min_example_where_rescale_and_reveal_cancel_differ(i1, i2):
    """Reference 0: Rescale gives min(i1, i2) to one input (all to i2 when i1 > i2, as the gradient does);
    RevealCancel gives half of it to each (the positive i1 and negative -i2 terms cancel inside the ReLU)."""
    model = MinNetwork().eval()
    x = torch.tensor([i1, i2, 0.0]).reshape(1, 3, 1, 1)
    low = min(i1, i2)
    rescale = deeplift(model, x, 0, reduce="none").flatten()[:2]
    reveal = deeplift(model, x, 0, rule="reveal_cancel", reduce="none").flatten()[:2]
    expected_rescale = torch.tensor([0.0, low]) if i1 > i2 else torch.tensor([low, 0.0])
    torch.testing.assert_close(rescale, expected_rescale)
    torch.testing.assert_close(reveal, torch.tensor([low / 2, low / 2]))


def _slow_reveal_cancel(blocks, head, image, reference, target):
    """The paper's formulas neuron by neuron: ``blocks`` are (linear layer, f, input shape) with y = f(W a + b);
    ``head`` a linear map on the last block's output. Returns the contributions m_x * (x - x0) (C, H, W)."""
    a, a_ref, cache = image.flatten(), reference.flatten(), []
    for layer, f, shape in blocks:
        weight, bias = dense(layer, shape)
        z, z_ref = weight @ a + bias, weight @ a_ref + bias
        cache.append((weight, a - a_ref, z, z_ref, f))
        a, a_ref = f(z), f(z_ref)
    head_weight, _ = dense(head, (len(a),))
    multiplier = head_weight[target].clone()
    for weight, delta, z, z_ref, f in reversed(cache):
        below = torch.zeros(len(delta))
        for j in range(len(z)):
            terms = weight[j] * delta
            up, down = float(terms[terms > 0].sum()), float(terms[terms < 0].sum())
            z0 = z_ref[j]
            y_up = 0.5 * (f(z0 + up) - f(z0)) + 0.5 * (f(z0 + down + up) - f(z0 + down))
            y_down = 0.5 * (f(z0 + down) - f(z0)) + 0.5 * (f(z0 + up + down) - f(z0 + up))
            slope = float(f(z[j] + 1e-4) - f(z[j] - 1e-4)) / 2e-4
            m_up = y_up / up if abs(up) >= 1e-10 else slope
            m_down = y_down / down if abs(down) >= 1e-10 else slope
            for i in range(len(delta)):
                if terms[i] > 0:
                    below[i] += weight[j, i] * multiplier[j] * m_up
                elif terms[i] < 0:
                    below[i] += weight[j, i] * multiplier[j] * m_down
                else:
                    below[i] += weight[j, i] * multiplier[j] * 0.5 * (m_up + m_down)
        multiplier = below
    return (multiplier * (image - reference).flatten()).reshape(image.shape)


def test_reveal_cancel_equals_a_slow_loop_of_the_paper():
    """conv + batch norm (merged) -> ReLU -> conv -> ReLU6 -> average pooling -> linear, on 5 x 5 inputs."""
    conv1, norm, relu, _pool, conv2, relu6, gap, flatten, linear = toy_lrp_cnn(3)
    model = nn.Sequential(conv1, norm, relu, conv2, relu6, gap, flatten, linear).eval()
    generator = torch.Generator().manual_seed(8)
    x = torch.randn(2, 3, 5, 5, generator=generator) * 2
    reference = torch.randn(2, 3, 5, 5, generator=generator) * 0.5
    targets = torch.tensor([1, 2])
    ours, gap_ = deeplift(model, x, targets, baseline=reference, rule="reveal_cancel", reduce="none", return_gap=True)
    blocks = [
        (nn.Sequential(conv1, norm), torch.relu, (3, 5, 5)),
        (conv2, lambda t: torch.clamp(t, 0, 6), (4, 5, 5)),
    ]
    head = nn.Sequential(nn.Unflatten(1, (5, 5, 5)), gap, flatten, linear)
    expected = torch.stack([_slow_reveal_cancel(blocks, head, x[b], reference[b], int(targets[b])) for b in range(2)])
    close(ours, expected, rtol=1e-4)
    assert float(gap_.abs().max()) < 1e-4
    rescale = deeplift(model, x, targets, baseline=reference, reduce="none")
    assert float((rescale - ours).abs().max()) > 1e-2 * float(ours.abs().max()), "the two rules should differ here"


def test_summation_to_delta(arch, inputs):
    """Also on networks where some ReLUs read residual sums (rescale there) and with max pooling."""
    _name, model = arch
    x = inputs[:, :, :32, :32]
    _attributions, gap = deeplift(model, x, baseline=torch.full_like(x, -0.2), rule="reveal_cancel", return_gap=True)
    with torch.no_grad():
        scale = model(x).abs().max()
    assert float(gap.abs().max()) < 1e-4 * float(scale) + 1e-5
    _, gap = deeplift_shap(model, x, references=torch.randn(2, 3, 32, 32), rule="reveal_cancel", return_gap=True)
    assert float(gap.abs().max()) < 1e-4 * float(scale) + 1e-5


def test_unknown_rule_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown DeepLIFT rule 'revealcancel'; use one of \('rescale', 'reveal_"):
        deeplift(MinNetwork().eval(), torch.ones(1, 3, 1, 1), 0, rule="revealcancel")
