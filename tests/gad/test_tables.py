"""Table 2's intervals, by hand; the support models' within-class ranking."""

import pandas as pd
import pytest
import torch

from labkit.gad.support import within_class_rank_correlation
from labkit.gad.tables import table2, table2_with_intervals


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
