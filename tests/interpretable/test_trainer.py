"""The trainer: an interrupted run resumes to the same result; checkpoints belong to one configuration."""

import json

import pytest
import torch

from labkit.data.dataset import SHAPES_NORMALIZATION
from labkit.interpretable.data import Data, Split
from labkit.interpretable.trainer import recipe, train


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
