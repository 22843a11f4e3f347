import math

import pytest
import torch

from labkit.data import ShapesDataset, generate_shapes
from labkit.models import load_model
from labkit.paths import MODELS
from labkit.reference.registry import REFERENCE_NAMES, load_reference_model, reference_record
from labkit.reference.train import main
from labkit.reference.training import accuracy

#: A fixed subset of the test split the records were measured on.
SUBSET = 400


@pytest.fixture(scope="module")
def test_split() -> ShapesDataset:
    return ShapesDataset("test")


def within_noise(measured: float, recorded: float, n: int) -> bool:
    """|measured - recorded| within 4 binomial standard errors of an n-image subset."""
    return abs(measured - recorded) <= 4 * math.sqrt(recorded * (1 - recorded) / n) + 0.01


@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_shipped_checkpoint_reaches_its_recorded_accuracy(name, test_split):
    clf = load_model(name, device="cpu")
    record = reference_record(name)
    assert clf.classes == record["classes"] and clf.cam_layer
    measured = accuracy(clf.model, test_split.images[:SUBSET], test_split.labels[:SUBSET])
    assert within_noise(measured, record["test_accuracy"], SUBSET), (measured, record["test_accuracy"])
    for key in ("command", "seed", "epochs", "test_accuracy", "seconds", "device"):
        assert key in record
    assert (MODELS / f"{name}.pt").stat().st_size < 25 * 2**20


def test_clean_models_are_good():
    for name in ("shapes_resnet18", "shapes_mobilenet_v2"):
        assert reference_record(name)["test_accuracy"] > 0.8


def test_shortcut_model_fails_on_the_clean_split(test_split):
    shortcut, _, _ = load_reference_model("shapes_mobilenet_v2_shortcut")
    clean, _, _ = load_reference_model("shapes_mobilenet_v2")
    cued = generate_shapes(SUBSET, split="test", shortcut=True)
    clean_images, labels = test_split.images[:SUBSET], test_split.labels[:SUBSET]
    on_clean = accuracy(shortcut, clean_images, labels)
    assert accuracy(shortcut, cued.images, cued.labels) > on_clean + 0.3  # it reads the cue
    assert accuracy(clean, clean_images, labels) > on_clean + 0.2


def test_training_command_writes_a_loadable_checkpoint(tmp_path):
    argv = [
        "--arch",
        "mobilenet_v2",
        "--train-size",
        "48",
        "--eval-size",
        "48",
        "--epochs",
        "1",
        "--out",
        str(tmp_path),
    ]
    record = main(argv)
    model, loaded, cam_layer = load_reference_model("shapes_mobilenet_v2", tmp_path)
    assert loaded == record and cam_layer == "features.13"
    assert record["command"] == "python -m labkit.reference.train " + " ".join(argv)
    test = ShapesDataset("test", n=48)
    assert accuracy(model, test.images, test.labels) == pytest.approx(record["test_accuracy"], abs=2 / 48)
    assert all(value.dtype != torch.float32 for value in torch.load(tmp_path / "shapes_mobilenet_v2.pt").values())


def test_unknown_name():
    with pytest.raises(ValueError, match="shapes_resnet18"):
        load_model("shapes_vgg")
