import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from labkit.attribution import saliency
from labkit.gad import gad, gad_scores, mask_hulls, train_support_models
from labkit.gad.evaluation import hulls_by_method, least_activated
from labkit.gad.tables import table1, table2
from labkit.metrics import sensitivity_ratio
from labkit.viz.hulls import show_hull_grid


def test_mask_hulls_fill_and_keep_empty_masks_empty():
    masks = torch.zeros(2, 6, 6, dtype=torch.bool)
    masks[0, 1, 1] = masks[0, 1, 4] = masks[0, 4, 1] = masks[0, 4, 4] = True
    hulls = mask_hulls(masks)
    assert hulls.areas.tolist() == [16, 0]
    assert hulls.masks[0, 1:5, 1:5].all() and not hulls.masks[1].any()


def test_gad_scores(two_class_model, small_batch):
    inputs, labels = small_batch
    supports = [
        s.model
        for s in train_support_models(two_class_model, inputs, labels, alphas=(3.0,), epochs=2, lr=1e-2, progress=False)
    ]
    result = gad(saliency, two_class_model, supports, inputs, 0)
    scores = gad_scores(two_class_model, inputs, result)
    assert not (scores.gad_hull & ~scores.original_hull).any()  # GAD's hull lies inside the original's
    torch.testing.assert_close(scores.complexity_ratio, scores.gad_area.float() / scores.original_area.float())
    assert ((scores.complexity_ratio > 0) & (scores.complexity_ratio <= 1)).all()
    expected = sensitivity_ratio(two_class_model, inputs, scores.gad_hull, 0)
    torch.testing.assert_close(scores.rs_gad, expected)
    supplementary = scores.original_hull & ~scores.gad_hull
    torch.testing.assert_close(
        scores.rs_supplementary, sensitivity_ratio(two_class_model, inputs, supplementary, 0), equal_nan=True
    )


def test_tables_by_hand():
    results = pd.DataFrame(
        {
            "method": ["S", "S", "IG", "IG", "S", "IG"],
            "target": [0, 0, 0, 0, 1, 1],
            "rc": [0.5, 1.0, 0.2, 0.3, 1.2, 0.9],
            "rs_gad": [1.0, 3.0, 2.0, 2.0, 4.0, 1.0],
            "rs_sup": [0.5, math.nan, 1.0, 3.0, 2.0, 0.0],
        }
    )
    one = table1(results)
    assert list(one.columns) == ["S", "IG"] and list(one.index) == ["Orig. 1", "GAD 1", "Orig. 2", "GAD 2"]
    assert one.loc["GAD 1"].tolist() == [1, 2] and one.loc["Orig. 1"].tolist() == [1, 0]
    assert one.loc["GAD 2"].tolist() == [0, 1] and one.loc["Orig. 2"].tolist() == [1, 0]
    two = table2(results)
    assert two.loc["GAD 1"].tolist() == [200.0, 200.0]
    assert two.loc["Sup. 1"].tolist() == [50.0, 200.0]  # NaN (empty region) left out
    assert two.loc["Sup. 2"].tolist() == [200.0, 0.0]


def test_least_activated_picks_the_lowest_own_output_of_each_class():
    logits = torch.tensor([[5.0, 0.0], [1.0, 0.0], [0.0, 3.0], [3.0, 0.0], [0.0, -2.0], [0.0, 9.0]])
    labels = torch.tensor([0, 0, 1, 0, 1, 1])
    assert least_activated(logits, labels, per_class=2).tolist() == [1, 3, 4, 2]
    assert least_activated(logits, labels, per_class=1).tolist() == [1, 4]
    with pytest.raises(ValueError, match=r"\(N, K\) logits"):
        least_activated(logits[:, 0], labels)
    with pytest.raises(ValueError, match="per_class"):
        least_activated(logits, labels, per_class=0)


def test_hulls_by_method_passes_the_rule_to_gad(two_class_model, small_batch):
    inputs, labels = small_batch
    supports = train_support_models(two_class_model, inputs, labels, alphas=(3.0,), epochs=1, progress=False)
    rule = {"threshold": 0.1, "procedure": "half"}
    results = hulls_by_method(
        two_class_model, supports, inputs[:3], labels[:3], methods=("S", "IG"), ig_steps=2, **rule
    )
    assert list(results) == ["S", "IG"]
    maps, scores = results["S"]
    expected = gad(saliency, two_class_model, [supports[0].model], inputs[:3], labels[:3], alphas=[3.0], **rule)
    assert torch.equal(maps.mask, expected.mask) and maps.procedure == "half"
    assert scores.complexity_ratio.shape == (3,)
    figure = show_hull_grid(inputs[:3], results, column_titles=["a", "b", "c"])
    assert len(figure.axes) == 2 * 3 and figure.axes[0].get_title().startswith("a\nS: RC=")
    plt.close(figure)
