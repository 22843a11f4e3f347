"""The recorded-tables command end to end on a tiny recipe: every table on the same images, with intervals and
every image's values beside it, and one alignment row per trained model (a later command updates rows instead of
repeating them)."""

import json
from dataclasses import replace

import pandas as pd
import pytest

from labkit.interpretable import experiments, trainer


@pytest.fixture()
def tiny_recipe(monkeypatch):
    tiny = replace(trainer.RECIPES["shapes"], epochs=1, train_size=16, eval_size=12, batch_size=8)
    monkeypatch.setitem(trainer.RECIPES, "shapes", tiny)


def test_methods_errors_lambdas_write_every_table_its_images_and_one_alignment_row_per_model(tiny_recipe, tmp_path):
    common = [
        "--arch",
        "mobilenet_v2",
        "--images",
        "6",
        "--pixels-per-step",
        "256",
        "--runs",
        str(tmp_path / "runs"),
        "--out",
        str(tmp_path),
    ]
    experiments.main(["methods", "--methods", "Grad-CAM", "Axiom-CAM", "--no-ship", *common])
    experiments.main(["errors", "--errors", "cosine", "mse", *common])
    experiments.main(["lambdas", "--lams", "1", "3", *common])
    keys = {"accuracy": ["MODEL", "ERROR", "LAMBDA"], "methods": ["METHOD", "ERROR"], "errors": ["ERROR", "LAMBDA"]}
    for name in ("accuracy", "methods", "errors", "lambdas"):
        table = pd.read_csv(tmp_path / f"{name}_mobilenet_v2.csv")
        side = json.loads((tmp_path / f"{name}_mobilenet_v2.json").read_text())
        assert side["images"] == 6 and side["command"].startswith("python -m labkit.interpretable.experiments")
        for metric in [column for column in table.columns if f"{column}_low" in table.columns]:
            assert (table[f"{metric}_low"] <= table[metric] + 1e-9).all(), (name, metric)
            assert (table[metric] <= table[f"{metric}_high"] + 1e-9).all(), (name, metric)
        images = pd.read_csv(tmp_path / side["per_image"])
        key = keys.get(name, ["LAMBDA"])
        assert len(images) == 6 * len(table), name
        assert images.groupby(key).image.apply(list).map(lambda order: order == list(range(6))).all(), name
        means = images.drop(columns="image").groupby(key, sort=False).mean().reset_index()
        shown = [column for column in table.columns if f"{column}_low" in table.columns]
        pd.testing.assert_frame_equal(means[key + shown], table[key + shown], atol=0.006, check_dtype=False)
    methods = pd.read_csv(tmp_path / "methods_mobilenet_v2.csv")
    errors = pd.read_csv(tmp_path / "errors_mobilenet_v2.csv").set_index("ERROR")
    grad_cam = methods[methods.METHOD == "Grad-CAM"].set_index("ERROR")
    assert grad_cam.loc["Baseline", "AD"] == errors.loc["Baseline", "AD"]  # the same images in both tables
    alignment = pd.read_csv(tmp_path / "alignment.csv")
    assert list(alignment.columns[:6]) == ["model", "error", "lambda", "accuracy", "mean_cosine_error", "seed"]
    assert list(zip(alignment.error, alignment["lambda"])) == [
        ("none", 0.0),
        ("cosine", 1.0),
        ("cosine", 3.0),
        ("mse", 3.0),
    ]
    assert (alignment.images == 12).all() and (alignment.mean_cosine_error_low <= alignment.mean_cosine_error).all()
