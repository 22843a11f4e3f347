import copy

import pytest
import torch

from labkit.gad import artificial_targets, fit_regression, train_support_models
from labkit.gad.support import model_outputs
from labkit.guards import hook_count


def test_support_models_approach_their_targets(two_class_model, small_batch):
    inputs, labels = small_batch
    supports = train_support_models(
        two_class_model, inputs, labels, alphas=(1.0, 3.0), epochs=20, lr=3e-2, batch_size=4, progress=False
    )
    assert [s.alpha for s in supports] == [1.0, 3.0]
    for support in supports:
        # the untouched copy gives the original outputs: the MSE starts at alpha^2 / 2 (two outputs)
        assert support.losses[0] == pytest.approx(support.alpha**2 / 2, rel=1e-5)
        assert support.losses[-1] < 0.6 * support.losses[0]
        targets = artificial_targets(model_outputs(two_class_model, inputs), labels, 0, 1, support.alpha)
        final = torch.nn.functional.mse_loss(model_outputs(support.model, inputs), targets)
        assert final < 0.6 * support.losses[0]
        assert not support.model.training


def test_the_original_model_is_untouched(two_class_model, small_batch):
    inputs, labels = small_batch
    two_class_model.train()
    two_class_model[0].weight.requires_grad_(False)
    before = copy.deepcopy(two_class_model.state_dict())
    supports = train_support_models(two_class_model, inputs, labels, alphas=(2.0,), epochs=2, lr=1e-2, progress=False)
    after = two_class_model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert two_class_model.training and not two_class_model[0].weight.requires_grad
    assert two_class_model[2].weight.requires_grad and hook_count(two_class_model) == 0
    assert supports[0].model is not two_class_model
    assert not torch.equal(supports[0].model[0].weight, two_class_model[0].weight)  # every layer is fine-tuned


def test_fit_regression_is_seeded(two_class_model, small_batch):
    inputs, _labels = small_batch
    targets = torch.randn(len(inputs), 2, generator=torch.Generator().manual_seed(1))
    first, second = copy.deepcopy(two_class_model), copy.deepcopy(two_class_model)
    losses = fit_regression(first, inputs, targets, epochs=2, lr=1e-3, batch_size=3, seed=5, progress=False)
    again = fit_regression(second, inputs, targets, epochs=2, lr=1e-3, batch_size=3, seed=5, progress=False)
    assert losses == again and len(losses) == 3


def test_support_errors(two_class_model, small_batch):
    inputs, labels = small_batch
    with pytest.raises(ValueError, match="alpha 0 is the original"):
        train_support_models(two_class_model, inputs, labels, alphas=(0.0, 2.0), progress=False)
    with pytest.raises(ValueError, match="one target row per input"):
        fit_regression(two_class_model, inputs, torch.zeros(3, 2), progress=False)
