"""The loss against a slow per-image reference; lambda = 0 is plain training; the guided target is detached."""

import pytest
import torch
import torch.nn.functional as F

from labkit.attribution import guided_backprop
from labkit.guards import hook_count
from labkit.interpretable import ERRORS, gradient_pair, interpretable_gradient_loss, interpretable_loss
from labkit.toy_models import tiny_train_cnn


def slow_loss(model, images, targets, error, lam):
    """CE + lam * mean_i error(delta_i, delta'_i), one image at a time (labkit's guided backprop)."""
    errors = []
    for image, target in zip(images, targets):
        leaf = image[None].clone().requires_grad_()
        (delta,) = torch.autograd.grad(model(leaf)[0, target], leaf, create_graph=True)
        guided = guided_backprop(model, image[None], int(target), reduce="none")
        errors.append(ERRORS[error](delta, guided)[0])
    return F.cross_entropy(model(images), targets) + lam * torch.stack(errors).mean()


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_loss_and_its_parameter_gradients_match_a_per_image_loop(batch, error):
    images, targets = batch
    model = tiny_train_cnn(batch_norm=False, dtype=torch.float64)
    images = images.double()
    fast = interpretable_gradient_loss(model, images, targets, error, lam=0.7).loss
    fast_grads = torch.autograd.grad(fast, list(model.parameters()))
    slow = slow_loss(model, images, targets, error, lam=0.7)
    slow_grads = torch.autograd.grad(slow, list(model.parameters()))
    assert fast.item() == pytest.approx(slow.item(), rel=1e-10)
    for got, expected in zip(fast_grads, slow_grads):
        torch.testing.assert_close(got, expected, rtol=1e-8, atol=1e-10)


def test_double_backprop_gradient_matches_finite_differences(batch):
    """d/dtheta of error(delta(theta), delta' fixed): the regulariser reaches the weights."""
    images, targets = batch
    model = tiny_train_cnn(batch_norm=False, dtype=torch.float64)
    images = images.double()
    guided = gradient_pair(model, images, targets).guided
    weight = model[0].weight

    def regulariser() -> torch.Tensor:
        delta = gradient_pair(model, images, targets).standard
        return ERRORS["cosine"](delta, guided).mean()

    (analytic,) = torch.autograd.grad(regulariser(), weight)
    index, eps = (1, 2, 0, 1), 1e-6
    with torch.no_grad():
        weight[index] += eps
        up = regulariser().item()
        weight[index] -= 2 * eps
        down = regulariser().item()
        weight[index] += eps
    assert analytic[index].item() == pytest.approx((up - down) / (2 * eps), rel=1e-5)
    assert analytic.abs().sum() > 0


def test_lambda_zero_is_plain_cross_entropy_training(batch):
    images, targets = batch
    plain, ours = tiny_train_cnn(), tiny_train_cnn()
    for model in (plain, ours):
        model.train()
    opt_plain = torch.optim.SGD(plain.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    opt_ours = torch.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    for _ in range(2):
        opt_plain.zero_grad()
        F.cross_entropy(plain(images), targets).backward()
        opt_plain.step()
        opt_ours.zero_grad()
        interpretable_gradient_loss(ours, images, targets, "cosine", lam=0).loss.backward()
        opt_ours.step()
    for (name, expected), got in zip(plain.state_dict().items(), ours.state_dict().values()):
        assert torch.equal(got, expected), name


def test_guided_target_carries_no_gradient(batch):
    images, targets = batch
    model = tiny_train_cnn().train()
    pair = gradient_pair(model, images, targets)
    assert pair.standard.requires_grad and not pair.guided.requires_grad
    guided = pair.guided.clone().requires_grad_()
    interpretable_loss(model, images, targets, guided, "cosine", 1.0).backward()
    assert guided.grad is None


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_textbook_loss_with_the_guided_gradient_given_is_the_same_loss(batch, error):
    images, targets = batch
    model = tiny_train_cnn(batch_norm=False, dtype=torch.float64)
    images = images.double()
    guided = gradient_pair(model, images, targets).guided
    textbook = interpretable_loss(model, images, targets, guided, error, 0.3)
    fast = interpretable_gradient_loss(model, images, targets, error, 0.3).loss
    assert textbook.item() == pytest.approx(fast.item(), rel=1e-12)


def test_guided_gradient_is_guided_backprop_in_the_current_mode(batch):
    images, targets = batch
    model = tiny_train_cnn().eval()
    pair = gradient_pair(model, images, targets)
    torch.testing.assert_close(pair.guided, guided_backprop(model, images, targets, reduce="none"))


def test_model_state_and_hooks_are_restored_and_batch_norm_updates_once(batch):
    images, targets = batch
    model, plain = tiny_train_cnn().train(), tiny_train_cnn().train()
    flags = [p.requires_grad for p in model.parameters()]
    interpretable_gradient_loss(model, images, targets, "mse", lam=1.0).loss.backward()
    plain(images)
    assert model.training and hook_count(model) == 0 and model[2].inplace
    assert [p.requires_grad for p in model.parameters()] == flags
    torch.testing.assert_close(model[1].running_mean, plain[1].running_mean)
    assert int(model[1].num_batches_tracked) == 1
    with pytest.raises(ValueError, match="one class index per image"):
        gradient_pair(model, images, targets[:2])
    assert hook_count(model) == 0 and model[2].inplace


def test_bad_lambda_and_error_are_explained(batch):
    images, targets = batch
    with pytest.raises(ValueError, match=">= 0"):
        interpretable_gradient_loss(tiny_train_cnn(), images, targets, "cosine", lam=-1)
    with pytest.raises(ValueError, match="Unknown error function"):
        interpretable_gradient_loss(tiny_train_cnn(), images, targets, "l3", lam=1)
