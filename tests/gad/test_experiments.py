import copy
import json

import pandas as pd
import pytest
import torch

from labkit.gad import train_support_models
from labkit.gad.checkpoints import load_support_models, save_support_models
from labkit.gad.experiments import evaluate, evaluate_procedures, load_data, load_results, main, results_name, write
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
    save_support_models(supports, two_class_model, "toy", {"command": "test"}, tmp_path)
    assert json.loads((tmp_path / "toy.json").read_text())["alphas"] == [2.0, 4.0]
    loaded = load_support_models(two_class_model, "toy", tmp_path)
    assert [s.alpha for s in loaded] == [2.0, 4.0] and loaded[1].losses == pytest.approx(supports[1].losses, abs=1e-4)
    original = two_class_model.state_dict()
    for saved, back in zip(supports, loaded):
        for key, value in saved.model.state_dict().items():
            restored = back.model.state_dict()[key]
            if value.is_floating_point():  # 8-bit change: at most half a step of max |change| / 127
                step = (value - original[key]).abs().max() / 127
                assert (restored - value).abs().max() <= step / 2 + 1e-7, key
            else:
                assert torch.equal(restored, value), key
        torch.testing.assert_close(back.model(inputs), saved.model(inputs), atol=1e-3, rtol=1e-3)
    with pytest.raises(FileNotFoundError, match="train --model missing"):
        load_support_models(two_class_model, "missing", tmp_path)
    other = copy.deepcopy(two_class_model)
    with torch.no_grad():
        next(other.parameters()).add_(1e-3)
    with pytest.raises(ValueError, match="other weights.*Re-train them with"):
        load_support_models(other, "toy", tmp_path)


def test_results_names_say_the_model_the_rule_and_the_procedure():
    assert results_name("shapes", procedure="half") == "shapes_half"
    assert results_name("shapes", threshold=0.1) == "shapes_thr10"
    assert results_name("shapes", 0.5, "half", model="shapes_resnet18") == "shapes_resnet18_half"
    with pytest.raises(ValueError, match="shapes_resnet18"):
        load_data("shapes", 4, 4, 0, model="resnet50")


def test_train_then_run_with_the_stored_models_and_a_threshold(tmp_path, capsys):
    models, out = tmp_path / "models", tmp_path / "results"
    small = ["--train-images", "8", "--epochs", "1", "--alphas", "2", "--models-dir", str(models)]
    main(["train", *small])
    assert json.loads((models / "shapes_mobilenet_v2.json").read_text())["command"].endswith(str(models))
    argv = ["run", "--load-models", "--images", "4", "--ig-steps", "2", "--threshold", "0.1", "--procedure", "half"]
    main([*argv, *small, "--out", str(out)])
    assert "Table 2" in capsys.readouterr().out
    frame, record = load_results("shapes", out, procedure="half", threshold=0.1)
    assert len(frame) == 5 * 2 * 4 and record["threshold"] == 0.1 and record["fraction"] is None
    assert record["command"] == "python -m labkit.gad.experiments " + " ".join([*argv, *small, "--out", str(out)])
    with pytest.raises(FileNotFoundError, match="--threshold 0.1"):
        load_results("shapes", out, threshold=0.1)  # the intersection was not run
    with pytest.raises(SystemExit):
        main(["run", "--fraction", "0.1", "--threshold", "0.1", "--out", str(out)])


def test_several_procedures_from_one_set_of_maps_equal_separate_runs(two_class_model, small_batch, tmp_path, capsys):
    inputs, labels = small_batch
    supports = train_support_models(two_class_model, inputs, labels, alphas=(2.0, 4.0), epochs=1, progress=False)
    options = {"methods": ("GB", "IG"), "ig_steps": 2, "batch_size": 3, "progress": False, "fraction": 0.1}
    both = evaluate_procedures(two_class_model, supports, inputs[:5], labels[:5], ("intersection", "half"), **options)
    for procedure in ("intersection", "half"):
        alone = evaluate(two_class_model, supports, inputs[:5], labels[:5], procedure=procedure, **options)
        pd.testing.assert_frame_equal(both[procedure], alone)
    assert not both["intersection"]["rc"].equals(both["half"]["rc"])  # the procedures do differ
    models, out = tmp_path / "models", tmp_path / "results"
    small = ["--train-images", "8", "--epochs", "1", "--alphas", "2", "--models-dir", str(models)]
    main(["train", *small])
    argv = ["run", "--load-models", "--images", "4", "--ig-steps", "2", "--procedure", "intersection", "half"]
    main([*argv, *small, "--out", str(out)])
    printed = capsys.readouterr().out
    assert "--- procedure intersection" in printed and "--- procedure half" in printed
    for procedure in ("intersection", "half"):
        frame, record = load_results("shapes", out, procedure=procedure)
        assert record["procedure"] == procedure and record["procedures_of_the_command"] == ["intersection", "half"]
        assert record["command"].endswith("--procedure intersection half " + " ".join(small) + f" --out {out}")
        assert len(frame) == 5 * 2 * 4
