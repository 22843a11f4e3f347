"""Scoring a model like the deck's tables, and the shipped checkpoints' round trip."""

import pytest
import torch

from labkit.data.dataset import SHAPES_NORMALIZATION
from labkit.interpretable.data import Data, Split
from labkit.interpretable.evaluate import METHODS, method_scores
from labkit.interpretable.shipped import load_shipped, save_shipped
from labkit.reference.architectures import small_mobilenet_v2
from labkit.toy_models import tiny_train_cnn


def tiny_data(masks: bool) -> Data:
    generator = torch.Generator().manual_seed(0)
    images, labels = torch.rand(4, 3, 8, 8, generator=generator), torch.tensor([0, 1, 2, 0])
    object_masks = torch.zeros(4, 8, 8, dtype=torch.bool)
    object_masks[:, 2:6, 2:6] = True
    split = Split(images, labels, object_masks if masks else None)
    return Data(split, split, split, ["a", "b", "c"], SHAPES_NORMALIZATION)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_gets_every_metric_in_percent(method):
    scores = method_scores(tiny_train_cnn().eval(), tiny_data(masks=True), method, "3", n_images=3, pixels_per_step=16)
    assert list(scores.columns) == ["AD", "AG", "AI", "INS", "DEL", "PG"] and len(scores) == 3
    assert ((scores >= 0) & (scores <= 100)).all().all(), scores


def test_no_pointing_game_without_masks():
    scores = method_scores(
        tiny_train_cnn().eval(), tiny_data(masks=False), "Grad-CAM", "3", n_images=2, pixels_per_step=16
    )
    assert scores["PG"].isna().all() and scores["AD"].notna().all()


def test_shipped_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = small_mobilenet_v2(3).eval()
    record = {"config": {"arch": "mobilenet_v2"}, "classes": ["a", "b", "c"]}
    save_shipped(model, record, "interpretable_mobilenet_v2_test", tmp_path)
    loaded, loaded_record, layer = load_shipped("interpretable_mobilenet_v2_test", tmp_path)
    assert loaded_record == record and layer == "features.13" and not loaded.training
    inputs = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(loaded(inputs), model(inputs), atol=1e-2, rtol=1e-2)  # float16 storage
    with pytest.raises(FileNotFoundError, match="experiments methods"):
        load_shipped("missing", tmp_path)
