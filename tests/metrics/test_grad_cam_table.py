"""The lab 4 table: its columns from labkit's metrics, the styled view, the curves and the recorded run."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from labkit.attribution import grad_cam, layer_cam
from labkit.experiments.grad_cam_table import COLUMNS, METHODS, evaluation_table, recorded_table
from labkit.metrics import confidence_scores, deletion, insertion
from labkit.metrics.confidence import confidence_metrics
from labkit.viz.curves import show_curves
from labkit.viz.tables import style_metrics


def test_table_rows_match_the_metrics(classifier):
    import labkit

    inputs = classifier.preprocess(labkit.sample_batch(["coffee", "rocket"]))
    table = evaluation_table(
        classifier.model,
        inputs,
        {"Grad-CAM": grad_cam, "LayerCAM": layer_cam},
        preprocess=classifier.preprocess,
        steps=8,
    )
    assert list(table.columns) == list(COLUMNS) and list(table.index) == ["Grad-CAM", "LayerCAM"]
    maps = grad_cam(classifier.model, inputs)
    confidence = confidence_scores(classifier.model, inputs, maps, preprocess=classifier.preprocess)
    step = 224 * 224 // 8
    assert table.loc["Grad-CAM", "AD"] == pytest.approx(confidence.average_drop, abs=1e-4)
    assert table.loc["Grad-CAM", "AG"] == pytest.approx(confidence.average_gain, abs=1e-4)
    assert table.loc["Grad-CAM", "INS"] == pytest.approx(
        float(insertion(classifier.model, inputs, maps, pixels_per_step=step).auc.mean() * 100), abs=1e-3
    )
    assert table.loc["Grad-CAM", "DEL"] == pytest.approx(
        float(deletion(classifier.model, inputs, maps, pixels_per_step=step).auc.mean() * 100), abs=1e-3
    )
    html = style_metrics(table, caption="two photos").to_html()
    assert "AD ↓" in html and "INS ↑" in html and "font-weight: bold" in html
    curves = {"Grad-CAM": insertion(classifier.model, inputs, maps, pixels_per_step=step)}
    assert len(show_curves(curves, title="insertion").lines) == 1
    plt.close("all")


def test_steps_must_be_positive(classifier):
    with pytest.raises(ValueError, match="steps"):
        evaluation_table(classifier.model, torch.zeros(1, 3, 8, 8), {}, preprocess=classifier.preprocess, steps=0)


def test_confidence_metrics_by_hand():
    metrics = confidence_metrics(torch.tensor([0.5, 0.8]), torch.tensor([0.25, 0.9]))
    assert metrics == pytest.approx({"AD": 25.0, "AI": 50.0, "AG": 25.0})


def test_recorded_table_has_every_method_and_its_command():
    table, record = recorded_table()
    assert list(table.index) == list(METHODS) and list(table.columns) == list(COLUMNS)
    assert record["command"].startswith("python -m labkit.experiments.grad_cam_table")
    assert table.notna().all().all()


def test_missing_recording_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m labkit.experiments.grad_cam_table"):
        recorded_table(tmp_path / "none.csv")


def test_a_metric_with_an_interval_is_shown_with_it_and_the_best_mean_is_bold():
    table = pd.DataFrame(
        {"AD": [30.0, 28.0], "AD_low": [27.0, 25.5], "AD_high": [33.0, 30.5], "INS": [58.0, 59.0]},
        index=["Baseline", "Ours"],
    )
    html = style_metrics(table).to_html()
    assert "28.00 [25.50, 30.50]" in html and "58.00" in html and "AD_low" not in html
    assert html.count("font-weight: bold") == 1 and "row1_col0" in html.split("font-weight")[0]
