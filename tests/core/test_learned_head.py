import pytest
import torch

from labkit.attribution.cam.learned_head import fit_gap_head


def slow_fit(pooled, labels, n_classes, steps, lr):
    """Gradient descent written with autograd and torch's cross-entropy, one step at a time."""
    weights = torch.zeros(n_classes, pooled.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(pooled.double() @ weights.T + bias, labels)
        grad_w, grad_b = torch.autograd.grad(loss, (weights, bias))
        with torch.no_grad():
            weights -= lr * grad_w
            bias -= lr * grad_b
    return weights.detach(), bias.detach()


@pytest.mark.parametrize(
    ("n", "k", "classes", "steps", "lr"), [(20, 7, 4, 30, 0.5), (1, 3, 3, 5, 1.0), (6, 1, 5, 8, 0.2)]
)
def test_fit_gap_head_matches_autograd_gradient_descent(n, k, classes, steps, lr):
    generator = torch.Generator().manual_seed(n + k)
    pooled = 2 * torch.rand(n, k, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, min(classes, 3), (n,), generator=generator)
    weights, bias = fit_gap_head(pooled, labels, classes, steps=steps, lr=lr)
    slow_weights, slow_bias = slow_fit(pooled, labels, classes, steps, lr)
    assert weights.shape == (classes, k) and bias.shape == (classes,)
    assert torch.allclose(weights, slow_weights, atol=1e-10) and torch.allclose(bias, slow_bias, atol=1e-10)


@pytest.mark.parametrize(
    ("pooled", "labels", "classes", "message"),
    [
        (torch.zeros(4, 3, 2), torch.zeros(4, dtype=torch.long), 2, r"\(N, K\)"),
        (torch.zeros(4, 3), torch.zeros(3, dtype=torch.long), 2, "one per image"),
        (torch.zeros(4, 3), torch.zeros(4), 2, "integer"),
        (torch.zeros(4, 3), torch.full((4,), 2), 2, "0..1"),
    ],
)
def test_fit_gap_head_refuses_bad_inputs(pooled, labels, classes, message):
    with pytest.raises(ValueError, match=message):
        fit_gap_head(pooled, labels, classes)
