"""The GAD paper's experiments as commands: Table 1 (complexity) and Table 2 (sensitivity).

    python -m labkit.gad.experiments run                 # shapes (offline), writes the CSVs
    python -m labkit.gad.experiments table1              # prints Table 1 from the recorded run
    python -m labkit.gad.experiments table2
    python -m labkit.gad.experiments run --dataset pets --train-images 2000 --images 512  # online, GPU
    python -m labkit.gad.experiments run --load-models --fraction 0.1   # the shipped support models, top 10 %
    python -m labkit.gad.experiments run --load-models --procedure half   # an alternative reading (GAD's own map)
    python -m labkit.gad.experiments run --load-models --procedure intersection half   # both, from one set of maps
    python -m labkit.gad.experiments run --load-models --threshold 0.1   # Figure 4: pixels above 10 % of the max
    python -m labkit.gad.experiments train --model shapes_resnet18       # only train and store the support models

``run`` trains the support models (alpha 2, 4, 6, 8; MSE, Adam 4e-5) on the training
images, explains test images balanced over the two classes for BOTH outputs with the five
methods (S, D, GxI, GB, IG) and every model, keeps GAD's pixels (``--procedure``:
``intersection``, the top half in all maps, the paper's rule; ``half``, the top half of GAD's own
map, an alternative reading we test, see :mod:`labkit.gad.maps`), and scores RC and RS. It writes
``assets/results/gad/<name>_per_image.csv``, ``<name>_table1.csv`` (with the images Table 1 leaves
out), ``<name>_table2.csv`` and ``<name>.json`` (the command, its
settings, the losses, the time), where ``<name>`` (:func:`results_name`) is the dataset, then
the architecture for a ``--model`` other than the default (``shapes_resnet18``), ``_top<percent>``
for a ``--fraction`` other than one half or ``_thr<percent>`` for a ``--threshold``, and ``_half``
for the ``half`` procedure. ``train`` only trains the support models and stores them
in ``assets/models/gad/`` (``--models-dir``); ``run --load-models`` uses those instead of training.
The paper used 512 images per dataset and 10 epochs on several thousand training images;
the recorded shapes run is smaller (see its JSON).

Datasets: ``shapes`` is the two-class ground-truth subset (``labkit.data.gad_dataset``,
circle vs triangle, 32 px) explained by a shipped shapes classifier (``--model``:
``shapes_mobilenet_v2``, the default, or ``shapes_resnet18``, the paper's second architecture)
restricted to those two outputs; ``pets`` is Oxford-IIIT Pet cats vs dogs (``labkit.data.oxford_pets``,
downloaded once) explained by torchvision's ImageNet ResNet-18 with its cat and dog classes
merged (``labkit.gad.two_class.pets_classifier``); pets needs the network the first time. That is a
closer setting than the shapes, not the paper's: the paper uses Kaggle's dogs-vs-cats data and CUB-200
warblers vs sparrows, with ResNet18 and VGG16 classifiers trained for the two classes.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from labkit.data.dataset import gad_dataset
from labkit.data.real import oxford_pets
from labkit.gad.checkpoints import SUPPORT_DIR, load_support_models, save_support_models
from labkit.gad.evaluation import scores_by_procedure
from labkit.gad.maps import METHODS, PROCEDURES
from labkit.gad.support import ALPHAS, SupportModel, train_support_models
from labkit.gad.tables import left_out, paired_rs, table1, table2
from labkit.gad.two_class import GAD_MODEL, pets_classifier, two_class_classifier
from labkit.metrics.hull import GAD_FRACTION
from labkit.models import Classifier
from labkit.paths import RESULTS

#: Where the recorded results live (``assets/results/gad``).
RESULTS_DIR = RESULTS / "gad"
DATASETS = ("shapes", "pets")
#: The shipped shapes classifiers GAD can explain on the shapes pair (the default first).
SHAPES_MODELS = (GAD_MODEL, "shapes_resnet18")


def evaluate(
    model: nn.Module,
    supports: Sequence[SupportModel],
    inputs: torch.Tensor,
    labels: torch.Tensor,
    *,
    methods: Sequence[str] = tuple(METHODS),
    ig_steps: int = 16,
    fraction: float | None = GAD_FRACTION,
    threshold: float | None = None,
    procedure: str = "intersection",
    batch_size: int = 32,
    progress: bool = True,
) -> pd.DataFrame:
    """Per-image results (:data:`labkit.gad.tables.COLUMNS`) for every method and both outputs.

    ``fraction`` is the share of most important pixels kept in each map (the paper: one half);
    with ``threshold`` the pixels reaching that share of the map's maximum are kept instead
    (the paper's Figure 4: 0.1).
    """
    options = {"methods": methods, "ig_steps": ig_steps, "batch_size": batch_size, "progress": progress}
    rule = {"fraction": fraction, "threshold": threshold}
    return evaluate_procedures(model, supports, inputs, labels, (procedure,), **rule, **options)[procedure]


def evaluate_procedures(
    model: nn.Module,
    supports: Sequence[SupportModel],
    inputs: torch.Tensor,
    labels: torch.Tensor,
    procedures: Sequence[str],
    *,
    methods: Sequence[str] = tuple(METHODS),
    ig_steps: int = 16,
    fraction: float | None = GAD_FRACTION,
    threshold: float | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> dict[str, pd.DataFrame]:
    """:func:`evaluate` for each of ``procedures`` from one set of maps (computed once, the costly part)."""
    rule = {"threshold": threshold} if threshold is not None else {"fraction": fraction}
    rows: dict[str, list[dict]] = {procedure: [] for procedure in procedures}
    jobs = [(m, t, s) for m in methods for t in (0, 1) for s in range(0, len(inputs), batch_size)]
    for method, target, start in tqdm(jobs, desc="GAD maps", disable=not progress):
        x = inputs[start : start + batch_size]
        targets = torch.full((len(x),), target, dtype=torch.long)
        scored = scores_by_procedure(model, supports, x, targets, method, procedures, ig_steps=ig_steps, **rule)
        for procedure, (_maps, scores) in scored.items():
            for i in range(len(x)):
                rows[procedure].append(
                    {
                        "method": method,
                        "image": start + i,
                        "label": int(labels[start + i]),
                        "target": target,
                        "original_area": int(scores.original_area[i]),
                        "gad_area": int(scores.gad_area[i]),
                        "rc": float(scores.complexity_ratio[i]),
                        "rs_gad": float(scores.rs_gad[i]),
                        "rs_sup": float(scores.rs_supplementary[i]),
                    }
                )
    return {procedure: pd.DataFrame(found) for procedure, found in rows.items()}


def _balanced(dataset, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n images (n // 2 per class, in a seeded random order) and labels from an (image, label, mask) dataset."""
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    images, labels, counts = [], [], [0, 0]
    for index in order:
        image, label, _mask = dataset[index]
        if counts[int(label)] < n // 2:
            images.append(image)
            labels.append(int(label))
            counts[int(label)] += 1
        if sum(counts) == 2 * (n // 2):
            break
    return torch.stack(images), torch.tensor(labels)


def load_data(dataset: str, n_train: int, n_test: int, seed: int, model: str = GAD_MODEL) -> tuple[Classifier, dict]:
    """The two-class model and {"train": (images, labels), "test": (images, labels)} of ``dataset``
    (``model``: which shipped shapes classifier explains ``shapes``)."""
    if dataset == "shapes":
        if model not in SHAPES_MODELS:
            raise ValueError(f"model must be one of {SHAPES_MODELS} for the shapes pair, got {model!r}.")
        classifier = two_class_classifier(model)
        train = gad_dataset("train", n=n_train, seed=seed)
        test = gad_dataset("test", n=n_test, seed=seed)
        return classifier, {"train": (train.images, train.labels), "test": (test.images, test.labels)}
    if dataset == "pets":
        if model != GAD_MODEL:
            raise ValueError("model chooses a shapes classifier; cats vs dogs is explained by ImageNet's ResNet-18.")
        try:
            classifier = pets_classifier()
            train, test = oxford_pets("trainval", download=True), oxford_pets("test", download=True)
        except (OSError, RuntimeError) as error:
            raise RuntimeError(
                f"Cats vs dogs needs the network once (ImageNet ResNet-18 weights, Oxford-IIIT Pet): {error} "
                "Offline, use the shapes dataset (dataset 'shapes', the default)."
            ) from error
        return classifier, {"train": _balanced(train, n_train, seed), "test": _balanced(test, n_test, seed)}
    raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}.")


def results_name(
    dataset: str,
    fraction: float = GAD_FRACTION,
    procedure: str = "intersection",
    *,
    threshold: float | None = None,
    model: str = GAD_MODEL,
) -> str:
    """``<dataset>`` for the default model, the top half and the intersection; then ``_<arch>`` for
    another shapes model, ``_top<percent>`` for another fraction or ``_thr<percent>`` for a
    threshold, and ``_half`` for the ``half`` procedure."""
    name = dataset if model == GAD_MODEL else f"{dataset}_{model.removeprefix('shapes_')}"
    if threshold is not None:
        name += f"_thr{round(100 * threshold)}"
    elif fraction != GAD_FRACTION:
        name += f"_top{round(100 * fraction)}"
    return name if procedure == "intersection" else f"{name}_{procedure}"


def _paths(dataset: str, directory: Path) -> dict[str, Path]:
    names = {"per_image": "_per_image.csv", "table1": "_table1.csv", "table2": "_table2.csv", "record": ".json"}
    return {key: directory / f"{dataset}{suffix}" for key, suffix in names.items()}


def model_name(classifier: Classifier) -> str:
    """The name the support models of ``classifier`` are stored under (its base model's name)."""
    return classifier.name.split("[")[0]


def command_line(args: argparse.Namespace) -> str:
    """The command that ``args`` came from, as a user would type it."""
    return "python -m labkit.gad.experiments " + shlex.join(args.argv)


def support_models(args: argparse.Namespace, classifier: Classifier, data: dict) -> list[SupportModel]:
    """The stored support models of ``classifier`` (``--load-models``), or new ones trained on ``data["train"]``."""
    if args.load_models:
        return load_support_models(classifier.model, model_name(classifier), args.models_dir)
    device = classifier.device
    return train_support_models(
        classifier.model,
        classifier.preprocess(data["train"][0].to(device)),
        data["train"][1].to(device),
        alphas=args.alphas,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
    )


def train(args: argparse.Namespace) -> list[SupportModel]:
    """Train the support models and store them (``--models-dir``) with the command; explain nothing."""
    torch.manual_seed(args.seed)
    classifier, data = load_data(args.dataset, args.train_images, args.images, args.seed, args.model)
    supports = support_models(args, classifier, data)
    record = {
        "command": command_line(args),
        "model": classifier.name,
        "train_images": args.train_images,
        "epochs": args.epochs,
        "lr": 4e-5,
        "batch_size": args.batch_size,
        "seed": args.seed,
    }
    path = save_support_models(supports, classifier.model, model_name(classifier), record, args.models_dir)
    print(f"Support models of {classifier.name} (alphas {[s.alpha for s in supports]}) stored with {path}")
    return supports


def run(args: argparse.Namespace) -> dict[str, pd.DataFrame]:
    """Train (or load) the support models, explain the test images, write the CSVs and the record of each
    ``--procedure`` (all from the same maps)."""
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    classifier, data = load_data(args.dataset, args.train_images, args.images, args.seed, args.model)
    model = classifier.model
    device = classifier.device
    test_inputs = classifier.preprocess(data["test"][0].to(device))
    supports = support_models(args, classifier, data)
    with torch.no_grad():
        accuracy = float((model(test_inputs).argmax(1).cpu() == data["test"][1]).float().mean())
    trained = time.perf_counter() - start
    procedures = list(dict.fromkeys(args.procedure))
    results = evaluate_procedures(
        model,
        supports,
        test_inputs,
        data["test"][1],
        procedures,
        ig_steps=args.ig_steps,
        fraction=args.fraction,
        threshold=args.threshold,
    )
    command = command_line(args)
    origin = f"loaded from {Path(args.models_dir).name}/" if args.load_models else "trained by this command"
    for procedure, frame in results.items():
        record = {
            "command": command,
            "dataset": args.dataset,
            "model": classifier.name,
            "classes": classifier.classes,
            "train_images": args.train_images,
            "test_images": len(test_inputs),
            "alphas": [s.alpha for s in supports],
            "epochs": args.epochs,
            "lr": 4e-5,
            "batch_size": args.batch_size,
            "ig_steps": args.ig_steps,
            "fraction": None if args.threshold is not None else args.fraction,
            "threshold": args.threshold,
            "procedure": procedure,
            "procedures_of_the_command": procedures,
            "support_models": origin,
            "seed": args.seed,
            "original_test_accuracy": round(accuracy, 4),
            "support_losses": {f"{s.alpha:g}": [round(x, 4) for x in s.losses] for s in supports},
            "seconds_training": round(trained, 1),
            "seconds_total": round(time.perf_counter() - start, 1),
            "device": f"{device} ({platform.machine()})",
            "torch_threads": torch.get_num_threads(),
        }
        name = results_name(args.dataset, args.fraction, procedure, threshold=args.threshold, model=args.model)
        write(frame, record, name, Path(args.out))
    return results


def write(results: pd.DataFrame, record: dict, dataset: str, directory: Path) -> None:
    """The per-image CSV, both tables, and the JSON record (with the command that made them)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = _paths(dataset, directory)
    results.to_csv(paths["per_image"], index=False, float_format="%.6g")
    pd.concat([table1(results), left_out(results)]).to_csv(paths["table1"])
    table2(results).to_csv(paths["table2"], float_format="%.4f")
    paths["record"].write_text(json.dumps(record, indent=2) + "\n")


def load_results(
    dataset: str = "shapes",
    directory: str | Path = RESULTS_DIR,
    fraction: float = GAD_FRACTION,
    procedure: str = "intersection",
    *,
    threshold: float | None = None,
    model: str = GAD_MODEL,
) -> tuple[pd.DataFrame, dict]:
    """The recorded per-image results of ``dataset`` explained by ``model`` (top ``fraction`` pixels or
    those above ``threshold``, ``procedure``) and their record (command, time)."""
    paths = _paths(results_name(dataset, fraction, procedure, threshold=threshold, model=model), Path(directory))
    if not paths["per_image"].is_file():
        rule = f"--threshold {threshold}" if threshold is not None else f"--fraction {fraction}"
        raise FileNotFoundError(
            f"No recorded GAD results for {dataset!r} ({model}, {rule}, procedure {procedure}) in {directory}. "
            f"Make them with `python -m labkit.gad.experiments run --dataset {dataset} --model {model} {rule} "
            f"--procedure {procedure} --load-models`."
        )
    return pd.read_csv(paths["per_image"]), json.loads(paths["record"].read_text())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m labkit.gad.experiments", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("run", "train", "table1", "table2"))
    parser.add_argument("--dataset", choices=DATASETS, default="shapes")
    parser.add_argument("--model", choices=SHAPES_MODELS, default=GAD_MODEL, help="the shapes classifier explained")
    parser.add_argument("--train-images", type=int, default=512, help="training images for the support models")
    parser.add_argument("--images", type=int, default=128, help="test images explained (half per class)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--alphas", type=float, nargs="+", default=list(ALPHAS))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--ig-steps", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    rule = parser.add_mutually_exclusive_group()
    rule.add_argument("--fraction", type=float, default=GAD_FRACTION, help="share of important pixels per map")
    rule.add_argument("--threshold", type=float, default=None, help="keep pixels above this share of the max")
    parser.add_argument(
        "--procedure",
        choices=PROCEDURES,
        nargs="+",
        default=["intersection"],
        help="how GAD's pixels are chosen (several: one set of maps, one set of files each)",
    )
    parser.add_argument("--load-models", action="store_true", help="use the stored support models, do not train")
    parser.add_argument("--models-dir", default=str(SUPPORT_DIR), help="where support models are stored")
    parser.add_argument("--out", default=str(RESULTS_DIR))
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command == "train":
        train(args)
        return
    if args.command == "run":
        runs = run(args)
    else:
        runs = {
            procedure: load_results(
                args.dataset, args.out, args.fraction, procedure, threshold=args.threshold, model=args.model
            )[0]
            for procedure in args.procedure
        }
    with pd.option_context("display.width", 120, "display.float_format", "{:.4f}".format):
        for procedure, results in runs.items():
            print(f"--- procedure {procedure}")
            if args.command in ("run", "table1"):
                print("Table 1: images where GAD's hull is smaller (GAD a: 0 < RC < 1) or not (Orig. a: RC >= 1)")
                print(pd.concat([table1(results), left_out(results)]))
            if args.command in ("run", "table2"):
                print("Table 2: mean RS x 100 of GAD's hull and of the supplementary region\n", table2(results))
                print("RS(GAD) - RS(Sup.), x 100, paired over the images that have both\n", paired_rs(results))


if __name__ == "__main__":
    main()
