import json

import pytest
import torch

from labkit.gad import train_support_models
from labkit.gad.checkpoints import load_support_models, save_support_models
from labkit.gad.experiments import evaluate, load_results, main, results_name, write
from labkit.gad.tables import COLUMNS


def test_evaluate_writes_tables_and_the_command(two_class_model, small_batch, tmp_path, capsys):
    inputs, labels = small_batch
    supports = train_support_models(two_class_model, inputs, labels, alphas=(2.0,), epochs=1, progress=False)
    results = evaluate(
        two_class_model, supports, inputs[:4], labels[:4], methods=("S", "IG"), ig_steps=2, progress=False
    )
    assert tuple(results.columns) == COLUMNS and len(results) == 2 * 2 * 4
    write(results, {"command": "python -m labkit.gad.experiments run --images 4"}, "shapes", tmp_path)
    loaded, record = load_results("shapes", tmp_path)
    assert record["command"].startswith("python -m labkit.gad.experiments") and len(loaded) == len(results)
    main(["table1", "--out", str(tmp_path)])
    assert "Orig. 1" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="python -m labkit.gad.experiments run --dataset pets"):
        load_results("pets", tmp_path)
    assert results_name("shapes") == "shapes" and results_name("shapes", 0.1) == "shapes_top10"


def test_support_checkpoints_round_trip(two_class_model, small_batch, tmp_path):
    inputs, labels = small_batch
    supports = train_support_models(two_class_model, inputs, labels, alphas=(2.0, 4.0), epochs=1, progress=False)
    save_support_models(supports, "toy", {"command": "test"}, tmp_path)
    assert json.loads((tmp_path / "toy.json").read_text())["alphas"] == [2.0, 4.0]
    loaded = load_support_models(two_class_model, "toy", tmp_path)
    assert [s.alpha for s in loaded] == [2.0, 4.0] and loaded[1].losses == pytest.approx(supports[1].losses, abs=1e-4)
    for saved, back in zip(supports, loaded):
        torch.testing.assert_close(back.model(inputs), saved.model(inputs), atol=1e-2, rtol=1e-2)  # float16 weights
    with pytest.raises(FileNotFoundError, match="--save-models"):
        load_support_models(two_class_model, "missing", tmp_path)
