"""The CAM family scored like Table 2 of the interpretable-gradients deck (lab 4).

For every method and image: the map for the predicted class, then

- AD, AG, AI (percent, :func:`labkit.metrics.confidence_scores`): the image kept where the
  min-max normalised map is high, E(x) = x * s;
- INS, DEL (percent, :func:`labkit.metrics.insertion` / :func:`~labkit.metrics.deletion`): the
  area under the probability curve when the pixels are put back into a blurred copy, or set
  to gray (0), most salient first.

Lower AD and DEL, higher AG, AI and INS are better. The command computes the table on random
crops of scikit-image's photos and writes it under ``assets/results/`` with a side JSON that
records how it was made::

    python -m labkit.experiments.grad_cam_table --images 8 --steps 50
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from labkit.attribution import ablation_cam, grad_cam, grad_cam_pp, layer_cam, score_cam, xgrad_cam
from labkit.images import Normalization, photo_crops
from labkit.metrics import confidence_scores, deletion, insertion
from labkit.metrics.confidence import confidence_per_image
from labkit.models import load_model
from labkit.paths import RESULTS
from labkit.targets import Targets

#: The methods of the deck's Table 2 (Axiom-CAM is XGrad-CAM), plus LayerCAM.
METHODS: dict[str, Callable[..., torch.Tensor]] = {
    "Grad-CAM": grad_cam,
    "Grad-CAM++": grad_cam_pp,
    "Score-CAM": score_cam,
    "Ablation-CAM": ablation_cam,
    "Axiom-CAM": xgrad_cam,
    "LayerCAM": layer_cam,
}
COLUMNS = ("AD", "AG", "AI", "INS", "DEL")
CSV_NAME = "grad_cam_table.csv"


def faithfulness_per_image(
    model: nn.Module,
    inputs: torch.Tensor,
    maps: torch.Tensor,
    *,
    preprocess: Normalization,
    pixels_per_step: int,
    targets: Targets = None,
) -> dict[str, torch.Tensor]:
    """Each image's AD, AG, AI terms (:mod:`labkit.metrics.confidence`) and insertion/deletion AUCs
    (:mod:`labkit.metrics.insertion_deletion`), in percent, (B,) each, for ``targets`` (default: the
    predicted classes)."""
    confidence = confidence_scores(model, inputs, maps, targets, preprocess=preprocess)
    per_image = confidence_per_image(confidence.original, confidence.explained)
    inserted = insertion(model, inputs, maps, targets, pixels_per_step=pixels_per_step)
    deleted = deletion(model, inputs, maps, targets, pixels_per_step=pixels_per_step)
    return {
        "AD": per_image["AD"],
        "AG": per_image["AG"],
        "AI": per_image["AI"],
        "INS": inserted.auc * 100,
        "DEL": deleted.auc * 100,
    }


def faithfulness_scores(
    model: nn.Module,
    inputs: torch.Tensor,
    maps: torch.Tensor,
    *,
    preprocess: Normalization,
    pixels_per_step: int,
    targets: Targets = None,
) -> dict[str, float]:
    """The means of :func:`faithfulness_per_image`: AD, AG, AI, INS, DEL in percent."""
    per_image = faithfulness_per_image(
        model, inputs, maps, preprocess=preprocess, pixels_per_step=pixels_per_step, targets=targets
    )
    return {name: float(values.mean()) for name, values in per_image.items()}


def evaluation_table(
    model: nn.Module,
    inputs: torch.Tensor,
    methods: Mapping[str, Callable[..., torch.Tensor]],
    *,
    preprocess: Normalization,
    steps: int = 50,
    progress: bool = False,
) -> pd.DataFrame:
    """One row per method (index ``method``), columns AD, AG, AI, INS, DEL, on preprocessed ``inputs``.

    ``steps`` insertion/deletion steps of ``ceil(H W / steps)`` pixels each (RISE's reference code
    changes 224 pixels per step on 224 x 224 images, ``steps=224``; the interpretable-gradients
    authors' code 224 x 8, ``steps=28``); the class explained and scored is each image's predicted class.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    pixels_per_step = -(-inputs.shape[-2] * inputs.shape[-1] // steps)
    rows = {}
    for name, method in methods.items():
        started = time.perf_counter()
        maps = method(model, inputs, progress=progress)
        rows[name] = faithfulness_scores(model, inputs, maps, preprocess=preprocess, pixels_per_step=pixels_per_step)
        if progress:
            print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS)).rename_axis("method")


def recorded_table(path: Path = RESULTS / CSV_NAME) -> tuple[pd.DataFrame, dict]:
    """The table the command wrote (index ``method``) and its side JSON (command, images, time, ...)."""
    if not path.exists():
        raise FileNotFoundError(f"No recorded table at {path}; make it with `python -m {__name__}`.")
    return pd.read_csv(path, index_col="method"), json.loads(path.with_suffix(".json").read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=8, help="number of random photo crops (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the crops (default 0)")
    parser.add_argument("--steps", type=int, default=50, help="insertion/deletion steps (default 50)")
    parser.add_argument("--out", type=Path, default=RESULTS / CSV_NAME, help="CSV to write")
    args = parser.parse_args(argv)
    classifier = load_model()
    crops = photo_crops(args.images, seed=args.seed)
    inputs = classifier.preprocess(crops).to(classifier.device)
    started = time.perf_counter()
    table = evaluation_table(
        classifier.model, inputs, METHODS, preprocess=classifier.preprocess, steps=args.steps, progress=True
    )
    seconds = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.round(2).to_csv(args.out)
    given = argv if argv is not None else sys.argv[1:]
    record = {
        "command": " ".join(["python -m labkit.experiments.grad_cam_table", *given]),
        "model": classifier.name,
        "layer": classifier.cam_layer,
        "images": f"{args.images} random crops of scikit-image's photos (labkit.images.photo_crops, seed {args.seed})",
        "class": "predicted",
        "steps": args.steps,
        "seconds": round(seconds),
        "device": str(classifier.device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "platform": platform.platform(),
    }
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(table.round(2).to_string())


if __name__ == "__main__":
    main()
