"""Table 1's wins and left-out images, Table 2's intervals and paired differences, by hand; the paper's tables;
the support models' within-class ranking."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from labkit.gad.support import within_class_rank_correlation
from labkit.gad.tables import (
    left_out,
    paired_rs,
    paired_summary,
    paper_left_out,
    paper_table1_with_left_out,
    paper_tables,
    table1,
    table2,
    table2_with_intervals,
)
from labkit.metrics.bootstrap import paired_difference


def results() -> pd.DataFrame:
    rows = []
    for image in range(40):
        for target in (0, 1):
            rows.append(
                {"method": "S", "image": image, "target": target, "rs_gad": 0.01 * (image % 5), "rs_sup": 0.002}
            )
    return pd.DataFrame(rows)


def test_table2_with_intervals_has_the_same_means_and_brackets_them():
    frame = results()
    means, with_intervals = table2(frame), table2_with_intervals(frame)
    pd.testing.assert_series_equal(means["S"], with_intervals.loc[means.index, "S"].astype(float), check_names=False)
    assert (with_intervals["S_low"] <= with_intervals["S"]).all() and (
        with_intervals["S"] <= with_intervals["S_high"]
    ).all()
    # a constant RS has a zero-width interval; a varying one does not
    assert with_intervals.loc["Sup. 1", "S_low"] == pytest.approx(0.2) == with_intervals.loc["Sup. 1", "S_high"]
    assert with_intervals.loc["GAD 1", "S_high"] - with_intervals.loc["GAD 1", "S_low"] > 0.1


def test_within_class_rank_correlation():
    original = torch.tensor([[3.0, 0.0], [2.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    labels = torch.tensor([0, 0, 0, 1, 1])
    moved = original - torch.tensor([[0.0, 8.0]] * 3 + [[8.0, 0.0]] * 2)  # the other logit lowered: ranks kept
    assert within_class_rank_correlation(original, moved, labels) == pytest.approx(1.0)
    swapped = original.clone()
    swapped[:3, 0] = torch.tensor([1.0, 2.0, 3.0])  # class 0 reversed, class 1 kept
    assert within_class_rank_correlation(original, swapped, labels) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="Expected two"):
        within_class_rank_correlation(original, original[:, :1], labels)


def test_an_empty_gad_selection_is_not_a_win_but_left_out():
    """The paper counts a win as 0 < RC < 1: RC = 0 (GAD kept no pixel, no hull) is in neither row."""
    frame = pd.DataFrame(
        {"method": ["S"] * 5, "target": [0] * 5, "rc": [0.0, 0.5, 0.99, 1.0, 1.3], "rs_gad": 1.0, "rs_sup": 1.0}
    )
    one, out = table1(frame), left_out(frame)
    assert one.loc["GAD 1", "S"] == 2 and one.loc["Orig. 1", "S"] == 2
    assert out.loc["Left out 1", "S"] == 1
    assert one["S"].sum() + out["S"].sum() == len(frame)


def test_paired_rs_is_the_interval_of_the_per_image_difference():
    generator = np.random.default_rng(0)
    sup = generator.uniform(0, 1, 60)
    rows = {
        "method": ["GB"] * 60 + ["IG"] * 60,
        "target": [0] * 120,
        "rs_gad": np.concatenate([sup + 0.05 + 0.001 * generator.standard_normal(60), sup]),
        "rs_sup": np.concatenate([sup, sup + 0.002 * generator.standard_normal(60)]),
    }
    frame = pd.DataFrame(rows)
    frame.loc[3, "rs_sup"] = math.nan  # an empty supplementary region: that image is left out of the pair
    paired = paired_rs(frame)
    gb, ig = paired.loc[("1", "GB")], paired.loc[("1", "IG")]
    assert gb["images"] == 59 and ig["images"] == 60
    kept = frame[(frame["method"] == "GB")].dropna()
    expected = paired_difference(kept["rs_sup"] * 100, kept["rs_gad"] * 100)
    assert (gb["difference"], gb["low"], gb["high"]) == pytest.approx(expected)
    assert gb["difference"] == pytest.approx(5.0, abs=0.1) and gb["verdict"] == "better"
    # the unpaired intervals of GAD and Sup. overlap widely; the paired one excludes 0
    wide = table2_with_intervals(frame[frame["method"] == "GB"])
    assert wide.loc["GAD 1", "GB_low"] < wide.loc["Sup. 1", "GB_high"]
    assert ig["verdict"] == "within the noise" and ig["low"] < 0 < ig["high"]  # only noise of 0.2 (x 100) per image
    frame["rs_gad"] = frame["rs_sup"] - 0.3
    assert paired_rs(frame).loc[("1", "GB"), "verdict"] == "worse"
    text = paired_summary(paired)
    assert list(text.columns) == ["GB", "IG"] and text.loc["1", "GB"].endswith("better (n=59)")


def test_the_papers_tables_have_four_blocks_and_the_left_out_images():
    one, two = paper_tables()
    assert one.shape == (16, 5) and two.shape == (16, 5)
    assert one.loc[("Cat x Dog", "ResNet", "GAD 1"), "GB"] == 453  # the example: 10 + 453 = 463
    assert two.loc[("Birds", "VGG", "GAD 2"), "GB"] == pytest.approx(1.41)
    out = paper_left_out()
    assert out.loc[("Cat x Dog", "ResNet", "Left out 1"), "GB"] == 512 - 10 - 453
    assert (out >= 0).all().all() and out.shape == (8, 5)
    assert (out["D"] <= 2).all() and (out["GB"] >= 40).all()
    full = paper_table1_with_left_out()
    assert full.shape == (24, 5)
    for dataset, model in {index[:2] for index in full.index}:
        for target in (1, 2):
            rows = [(dataset, model, f"{row} {target}") for row in ("Orig.", "GAD", "Left out")]
            assert (full.loc[rows].sum() == 512).all()
