"""The trainer: an interrupted run resumes to the same result; checkpoints belong to one configuration."""

import json

import pytest
import torch

from labkit.data.dataset import SHAPES_NORMALIZATION
from labkit.interpretable.data import Data, Split
from labkit.interpretable.trainer import build_model, make_optimizer, recipe, set_training_mode, train


@pytest.fixture()
def tiny_data():
    generator = torch.Generator().manual_seed(0)

    def split(n: int) -> Split:
        return Split(torch.rand(n, 3, 8, 8, generator=generator), torch.randint(0, 3, (n,), generator=generator))

    return Data(split(12), split(4), split(4), ["a", "b", "c"], SHAPES_NORMALIZATION)


def config(**changes):
    """ResNet-18 from scratch on 8 px images (cheap), 3 classes, steps of 6 images, random crops and flips."""
    base = {"arch": "resnet18", "init": None, "epochs": 2, "batch_size": 6, "lam": 1.0, "milestones": (1,)}
    base["augment"] = True
    return recipe("shapes", **(base | changes))


def test_interrupted_run_resumes_to_the_same_result(tiny_data, tmp_path):
    whole = train(config(), tmp_path / "whole", data=tiny_data, device="cpu", progress=False)
    first = train(config(), tmp_path / "split", data=tiny_data, device="cpu", progress=False, stop_after=1)
    assert not first.finished and (tmp_path / "split" / "checkpoint.pt").is_file()
    resumed = train(config(), tmp_path / "split", data=tiny_data, device="cpu", progress=False)
    assert resumed.finished and whole.finished
    for (name, expected), got in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(got, expected), name
    assert resumed.log == whole.log | {"seconds": resumed.log["seconds"]}
    record = json.loads((tmp_path / "split" / "record.json").read_text())
    assert record["config"]["lam"] == 1.0 and len(record["seconds_per_epoch"]) == 2


def test_a_checkpoint_of_another_configuration_is_refused(tiny_data, tmp_path):
    train(config(epochs=1, lam=0.0), tmp_path, data=tiny_data, device="cpu", progress=False)
    with pytest.raises(ValueError, match="another configuration"):
        train(config(epochs=1, lam=0.5), tmp_path, data=tiny_data, device="cpu", progress=False)


def test_recipes():
    paper = recipe("paper")
    assert (paper.epochs, paper.batch_size, paper.lr, paper.momentum, paper.weight_decay) == (200, 128, 0.1, 0.9, 5e-4)
    assert paper.milestones == (60, 120, 160) and paper.dataset == "cifar100"
    with pytest.raises(ValueError, match="Unknown recipe"):
        recipe("imagenet")
    with pytest.raises(ValueError, match="Unknown error"):
        recipe(error="l3")


def test_adam_and_frozen_batchnorm_resume_to_the_same_result(tiny_data, tmp_path):
    changes = {"optimizer": "adam", "frozen_batchnorm": True, "lr": 1e-3}
    whole = train(config(**changes), tmp_path / "whole", data=tiny_data, device="cpu", progress=False)
    train(config(**changes), tmp_path / "split", data=tiny_data, device="cpu", progress=False, stop_after=1)
    resumed = train(config(**changes), tmp_path / "split", data=tiny_data, device="cpu", progress=False)
    for (name, expected), got in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(got, expected), name


def test_frozen_batchnorm_keeps_the_running_statistics_and_each_images_gradient_its_own(tiny_data):
    frozen = config(frozen_batchnorm=True, epochs=1)
    model = build_model(frozen, 3)
    statistics = {name: value.clone() for name, value in model.state_dict().items() if "running" in name}
    train_result = train(frozen, None, data=tiny_data, device="cpu", progress=False)
    for name, value in train_result.model.state_dict().items():
        if "running" in name:
            assert torch.equal(value, statistics[name]), f"{name} changed although BatchNorm is frozen"
    set_training_mode(model, frozen.frozen_batchnorm)
    assert model.training and not model.bn1.training and model.fc.training
    images = tiny_data.train.images[:4].requires_grad_()
    model(images)[:, 0].sum().backward()
    alone = images[:1].detach().requires_grad_()
    model(alone)[:, 0].sum().backward()
    torch.testing.assert_close(images.grad[:1], alone.grad)


def test_the_optimizer_is_the_configured_one():
    model = torch.nn.Linear(2, 2)
    assert isinstance(make_optimizer(model, config(optimizer="adam")), torch.optim.Adam)
    assert isinstance(make_optimizer(model, config(optimizer="sgd")), torch.optim.SGD)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        config(optimizer="lbfgs")
