"""The deck's tables as printed, and our rows' changes judged by paired differences over the same images."""

import numpy as np
import pandas as pd
import pytest

from labkit.interpretable.compare import described, paired_changes, recorded_images
from labkit.interpretable.deck_tables import METRICS, deck_accuracy, deck_errors, deck_lambdas, deck_methods
from labkit.metrics.bootstrap import mean_interval


def test_the_decks_tables_agree_with_each_other_where_they_share_a_row():
    methods = deck_methods().set_index(["MODEL", "METHOD", "ERROR"]).sort_index()
    errors, lambdas = deck_errors().set_index("ERROR"), deck_lambdas().set_index("LAMBDA")
    grad_cam = methods.loc[("resnet18", "Grad-CAM")]
    for metric in METRICS:
        assert grad_cam.loc["Baseline", metric] == errors.loc["Baseline", metric] == lambdas.loc[0.0, metric]
        assert grad_cam.loc["Ours (cosine)", metric] == pytest.approx(errors.loc["cosine", metric], abs=0.011)
        assert errors.loc["cosine", metric] == pytest.approx(lambdas.loc[7.5e-3, metric], abs=0.011)
    accuracy = deck_accuracy().set_index(["MODEL", "ERROR"])["ACC"]
    assert accuracy["resnet18", "Baseline"] == errors.loc["Baseline", "ACC"] == lambdas.loc[0.0, "ACC"]


def per_image(shift: dict[str, float], n: int = 80) -> pd.DataFrame:
    """Two rows scored on the same n images that differ a lot from image to image; the regularised row is the
    baseline moved by ``shift`` (plus a little noise) on every image."""
    rng = np.random.default_rng(0)
    base = {metric: 40 + 15 * rng.normal(size=n) for metric in ["ACC", *METRICS]}
    moved = {metric: values + shift.get(metric, 0.0) + 0.2 * rng.normal(size=n) for metric, values in base.items()}
    rows = [
        pd.DataFrame({"ERROR": label, "image": range(n), **values})
        for label, values in (("Baseline", base), ("cosine", moved))
    ]
    return pd.concat(rows, ignore_index=True).sample(frac=1, random_state=0)  # any order of lines


def test_a_paired_change_is_judged_by_the_interval_of_the_per_image_difference():
    images = per_image({"AD": -1.0, "AG": -1.0, "INS": 0.0})
    table = paired_changes(images, "ERROR", "Baseline", "cosine", deck_errors().set_index("ERROR"))
    baseline, cosine = (images[images.ERROR == label].AD for label in ("Baseline", "cosine"))
    unpaired = [mean_interval(values.to_numpy()) for values in (baseline, cosine)]
    assert unpaired[1][2] > unpaired[0][1], "the rows' own intervals overlap: overlap alone would say 'noise'"
    assert table.loc["AD", "ours"] == "better"  # lower AD on every image
    assert table.loc["AG", "ours"] == "worse" and table.loc["INS", "ours"] == "within the noise"
    assert table.loc["AD", "low"] < table.loc["AD", "our change"] < table.loc["AD", "high"] < 0
    assert table.loc["AD", "deck"] == "better" and table.loc["AD", "deck change"] == pytest.approx(28.09 - 30.16)
    assert table.loc["DEL", "deck"] == "worse"  # deletion rose from 17.47 to 17.57: lower is better
    assert list(table.index) == ["ACC", *METRICS]


def test_rows_on_different_images_are_refused():
    images = per_image({})
    images = images[~((images.ERROR == "cosine") & (images.image == 3))]
    with pytest.raises(ValueError, match="same images"):
        paired_changes(images, "ERROR", "Baseline", "cosine")


def test_the_decks_axiom_cam_and_grad_cam_rows_differ_only_where_the_seed_prints_other_digits():
    methods = deck_methods().set_index(["MODEL", "METHOD", "ERROR"])[METRICS]
    differences = {
        (model, label, metric): (grad, axiom)
        for model in ("resnet18", "mobilenet_v2")
        for label in ("Baseline", "Ours (cosine)")
        for metric, grad, axiom in zip(
            METRICS, methods.loc[(model, "Grad-CAM", label)], methods.loc[(model, "Axiom-CAM", label)], strict=True
        )
        if grad != axiom
    }
    assert differences == {
        ("resnet18", "Baseline", "AI"): (29.99, 29.98),
        ("resnet18", "Ours (cosine)", "AG"): (16.19, 16.20),
        ("mobilenet_v2", "Baseline", "AD"): (44.64, 44.65),
        ("mobilenet_v2", "Baseline", "DEL"): (14.34, 15.27),
    }


def test_described_changes_give_the_interval_the_verdict_and_the_decks_word():
    table = paired_changes(per_image({"AD": -1.0}), "ERROR", "Baseline", "cosine", deck_errors().set_index("ERROR"))
    text = described(table)
    low, high = table.loc["AD", "low"], table.loc["AD", "high"]
    assert text["AD"] == f"{table.loc['AD', 'our change']:+.1f} [{low:+.1f}, {high:+.1f}] better (deck: better)"
    assert described(paired_changes(per_image({}), "ERROR", "Baseline", "cosine"))["AD"].endswith("within the noise")


def test_missing_per_image_values_name_the_command_that_makes_them():
    with pytest.raises(FileNotFoundError, match=r"experiments methods --arch nothing"):
        recorded_images("accuracy", "nothing")
