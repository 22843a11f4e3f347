"""The deck's tables as printed, and reading our tables' directions against them by their intervals."""

import pandas as pd
import pytest

from labkit.interpretable.compare import direction, directions
from labkit.interpretable.deck_tables import METRICS, deck_accuracy, deck_errors, deck_lambdas, deck_methods


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


def row(value: float, low: float, high: float) -> pd.Series:
    return pd.Series({"AD": value, "AD_low": low, "AD_high": high})


@pytest.mark.parametrize(
    ("regularised", "deck_change", "expected"),
    [
        (row(20, 18, 22), -2.0, "with the deck"),  # lower AD, apart, deck also lower
        (row(20, 18, 22), +2.0, "against the deck"),
        (row(29, 27, 31), -2.0, "within the noise"),  # overlapping intervals
        (row(40, 38, 42), -2.0, "against the deck"),
    ],
)
def test_a_direction_counts_only_where_the_intervals_are_apart(regularised, deck_change, expected):
    assert direction(row(30, 28, 32), regularised, deck_change, "AD") == expected


def test_directions_table_lists_every_shared_metric():
    deck = deck_errors().set_index("ERROR")
    ours = pd.DataFrame(
        {metric: [50.0, 60.0] for metric in ["ACC", *METRICS]}
        | {
            f"{m}_{end}": [50.0 + (1 if end == "high" else -1), 60.0 + (1 if end == "high" else -1)]
            for m in ["ACC", *METRICS]
            for end in ("low", "high")
        },
        index=["Baseline", "cosine"],
    )
    table = directions(ours, deck, "Baseline", "cosine")
    assert list(table.index) == ["ACC", *METRICS]
    assert table.loc["AD", "ours"] == "against the deck" and table.loc["AG", "ours"] == "with the deck"
