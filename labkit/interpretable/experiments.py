"""The deck's Tables 1-4 at small scale, with 95 % bootstrap intervals, as CSV files under
``assets/results/interpretable/``.

    python -m labkit.interpretable.experiments methods --arch mobilenet_v2                # Tables 1-2, lambda 3
    python -m labkit.interpretable.experiments methods --arch resnet18 --lam 1 \
        --methods Grad-CAM Grad-CAM++ Axiom-CAM --no-ship                               # Tables 1-2, lambda 1
    python -m labkit.interpretable.experiments errors --arch resnet18 --lam 1           # Table 3
    python -m labkit.interpretable.experiments lambdas --arch resnet18 --lams 1 3        # Table 4 (cosine error)

(the deck's Tables 3 and 4 are ResNet-18's only; each architecture has its own lambda, as in the deck).
Score-CAM and Ablation-CAM run one forward pass per channel of the CAM layer: 96 for MobileNet-V2,
256 for ResNet-18, whose forward pass is also about five times dearer, so on a CPU ResNet-18's
Table 2 leaves them out (with them, the evaluation had not finished after 15 minutes on two
cores); ``--methods`` with all five on a GPU. Every model is fine-tuned with the trainer's recipe
(default ``shapes``; see :mod:`labkit.interpretable.trainer`); runs are checkpointed under
``build/interpretable/runs/`` so an interrupted command resumes and ``lambdas`` reuses the
models ``errors`` trained.

Every table is scored on the same images: the first ``--images`` test images (default 200;
Score-CAM and Ablation-CAM run one forward pass per channel and image). Each metric is a mean
over those images, with its 95 % percentile bootstrap interval (:mod:`labkit.metrics.bootstrap`,
the same resampled images in every table) in ``<metric>_low`` and ``<metric>_high``. Beside each
table, ``<table>_<arch>_per_image.csv`` keeps every image's values (its row keys, ``image``, the
metrics), so that two rows scored on the same images are compared by the interval of their per-image
difference (:func:`labkit.metrics.bootstrap.paired_difference`, :mod:`labkit.interpretable.compare`):

- ``accuracy_<arch>.csv`` (Table 1): test accuracy of the baseline and of the cosine-regularised model;
- ``methods_<arch>.csv`` (Table 2): AD, AG, AI, INS, DEL and the pointing game (PG) for Grad-CAM,
  Grad-CAM++, Score-CAM, Ablation-CAM and Axiom-CAM, baseline vs cosine;
- ``errors_<arch>.csv`` (Table 3): accuracy and Grad-CAM's metrics for the baseline and each error function;
- ``lambdas_<arch>.csv`` (Table 4): the same for each lambda of the cosine error (0 is the baseline);
- ``alignment.csv``: one row per trained model (both commands, both architectures): its accuracy and
  its mean cosine error between the standard and the guided input gradient (eval mode) on the whole
  test split, with intervals, and its training time: the alignment the tables rest on.

Each table has a side ``.json`` with the command that made it, the recipe, each run's training
time and device, and the time so far. ``methods`` also ships the baseline and cosine models to
``assets/models/`` for lab 8 (unless ``--no-ship``). The runs are shared: ``errors`` and ``lambdas``
reuse the baseline and cosine models ``methods`` trained (same recipe, same run folder).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from labkit.interpretable.data import load_data
from labkit.interpretable.errors import ERRORS
from labkit.interpretable.evaluate import METHODS, correct_per_image, mean_cosine_error, method_scores
from labkit.interpretable.shipped import save_shipped, shipped_name
from labkit.interpretable.trainer import RECIPES, TrainConfig, TrainResult, recipe, train
from labkit.metrics.bootstrap import mean_interval
from labkit.paths import BUILD, RESULTS
from labkit.reference.architectures import ARCHITECTURES

#: The recorded tables (``assets/results/interpretable``) and the training runs behind them (not shipped).
RESULTS_DIR = RESULTS / "interpretable"
RUNS_DIR = BUILD / "interpretable" / "runs"
ALIGNMENT = "alignment.csv"
ALIGNMENT_KEY = ["model", "error", "lambda", "seed"]
#: Suffix of the file beside each table with every image's values.
PER_IMAGE = "_per_image.csv"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=tuple(EXPERIMENTS))
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="shapes")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default=None, help="default: the recipe's")
    parser.add_argument(
        "--lam", type=float, default=None, help="lambda of every error function (default: the recipe's)"
    )
    parser.add_argument(
        "--errors", choices=sorted(ERRORS), nargs="+", default=sorted(ERRORS), help="error functions (errors)"
    )
    parser.add_argument(
        "--methods", choices=list(METHODS), nargs="+", default=list(METHODS), help="CAM methods of Table 2 (methods)"
    )
    parser.add_argument("--lams", type=float, nargs="+", default=[1.0, 3.0], help="cosine lambdas")
    parser.add_argument("--images", type=int, default=200, help="test images every table is scored on")
    parser.add_argument("--pixels-per-step", type=int, default=32, help="insertion/deletion step")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=str(RESULTS_DIR))
    parser.add_argument("--runs", default=str(RUNS_DIR))
    parser.add_argument("--no-ship", action="store_true", help="do not write the lab's checkpoints")
    return parser.parse_args(argv)


def arch_changes(recipe_name: str, arch: str | None) -> dict:
    """The recipe's changes for ``arch``: the shapes recipe fine-tunes that architecture's shipped checkpoint."""
    if arch is None:
        return {}
    return {"arch": arch, "init": f"shapes_{arch}" if recipe_name == "shapes" else None}


def with_interval(name: str, values: object) -> dict[str, float]:
    """``{name: mean, name_low: ..., name_high: ...}`` over images (NaN values left out)."""
    mean, low, high = mean_interval(values)
    return {name: mean, f"{name}_low": low, f"{name}_high": high}


class Experiment:
    """Trains (or reloads) the runs it needs and writes tables with their provenance."""

    def __init__(self, args: argparse.Namespace, argv: list[str] | None) -> None:
        self.args = args
        self.command = "python -m labkit.interpretable.experiments " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        self.base = recipe(args.recipe, **arch_changes(args.recipe, args.arch))
        self.lam = self.base.lam if args.lam is None else args.lam
        base = self.base
        self.data = load_data(
            base.dataset, train_size=base.train_size, eval_size=base.eval_size, seed=base.seed, download=True
        )
        self.layer = ARCHITECTURES[self.base.arch][1]
        self.started = time.perf_counter()
        self.results: dict[str, TrainResult] = {}
        self.rows: dict[tuple[str, str], dict[str, float]] = {}
        self.images: dict[tuple[str, str], pd.DataFrame] = {}

    def run(self, error: str, lam: float) -> TrainResult:
        config: TrainConfig = recipe(self.args.recipe, **{**self._changes(), "error": error, "lam": lam})
        if config.name not in self.results:
            result = train(config, Path(self.args.runs) / config.name, data=self.data, device=self.args.device)
            self.results[config.name] = result
            self._record_alignment(result)
        return self.results[config.name]

    def _changes(self) -> dict:
        return {"arch": self.base.arch, "init": self.base.init}

    def per_image(self, result: TrainResult, method: str | None) -> pd.DataFrame:
        """One row per test image (the first ``--images``): ``image``, ``ACC`` (100 if the top-1 class is the
        label, else 0) and, for a ``method``, its AD, AG, AI, INS, DEL and PG (computed once per run and method)."""
        key = (result.record["name"], method or "")
        if key not in self.images:
            correct = correct_per_image(result.model, self.data, self.args.images) * 100
            table = pd.DataFrame({"image": range(len(correct)), "ACC": correct})
            if method is not None:
                scores = method_scores(
                    result.model,
                    self.data,
                    method,
                    self.layer,
                    n_images=self.args.images,
                    pixels_per_step=self.args.pixels_per_step,
                )
                table = pd.concat([table, scores], axis=1)
            self.images[key] = table
        return self.images[key]

    def row(self, result: TrainResult, method: str | None = None) -> dict[str, float]:
        """Accuracy (and ``method``'s metrics), each a mean over the images with its interval."""
        key = (result.record["name"], method or "")
        if key not in self.rows:
            table = self.per_image(result, method)
            self.rows[key] = {
                name: value
                for column in table.columns.drop("image")
                for name, value in with_interval(column, table[column].to_numpy()).items()
            }
        return self.rows[key]

    def table(
        self,
        name: str,
        rows: list[tuple[dict[str, object], TrainResult, str | None]],
        drop: tuple[str, ...] = (),
        **notes: object,
    ) -> None:
        """Write table ``name``: one row per (keys, run, method) with its means and intervals, and beside it
        every image's values of every row (the row's keys repeated on each image's line); ``drop``: metrics
        left out of both."""
        means = pd.DataFrame([{**keys, **self.row(result, method)} for keys, result, method in rows])
        images = pd.concat(
            [self.per_image(result, method).assign(**keys) for keys, result, method in rows], ignore_index=True
        )
        keys = list(rows[0][0])
        images = images[[*keys, *images.columns.drop(keys)]].drop(columns=list(drop))
        self.write(name, means.drop(columns=[c for c in means if c.split("_")[0] in drop]), images, **notes)

    def _record_alignment(self, result: TrainResult) -> None:
        """Upsert the run's row of ``alignment.csv``: accuracy and mean cosine error on the whole test split."""
        config = result.record["config"]
        accuracy = with_interval("accuracy", correct_per_image(result.model, self.data) * 100)
        cosine = with_interval("mean_cosine_error", mean_cosine_error(result.model, self.data))
        row = {
            "model": config["arch"],
            "error": config["error"] if config["lam"] else "none",
            "lambda": config["lam"],
            "accuracy": accuracy.pop("accuracy"),
            "mean_cosine_error": cosine.pop("mean_cosine_error"),
            "seed": config["seed"],
            **accuracy,
            **cosine,
            "images": len(self.data.test),
            "train_seconds": result.record["seconds"],
        }
        path = Path(self.args.out) / ALIGNMENT
        table = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=list(row))
        same = (table[ALIGNMENT_KEY].astype(str) == pd.Series(row)[ALIGNMENT_KEY].astype(str)).all(axis=1)
        table = pd.concat([table[~same], pd.DataFrame([row])], ignore_index=True)
        table = table.sort_values(["model", "error", "lambda", "seed"], key=_alignment_order)
        path.parent.mkdir(parents=True, exist_ok=True)
        table[list(row)].round(4).to_csv(path, index=False)

    def write(self, name: str, table: pd.DataFrame, images: pd.DataFrame, **notes: object) -> None:
        out = Path(self.args.out)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{name}_{self.base.arch}"
        table.round(2).to_csv(out / f"{stem}.csv", index=False)
        images.to_csv(out / f"{stem}{PER_IMAGE}", index=False, float_format="%.6g")
        side = {
            "command": self.command,
            "recipe": self.args.recipe,
            "runs": {
                run: {key: result.record[key] for key in ("config", "seconds", "device")}
                for run, result in self.results.items()
            },
            "layer": self.layer,
            "targets": "ground-truth class",
            "images": self.args.images,
            "interval": "95 % percentile bootstrap over images (labkit.metrics.bootstrap)",
            "per_image": f"{stem}{PER_IMAGE}",
            "pixels_per_step": self.args.pixels_per_step,
            "host": platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "seconds_so_far": round(time.perf_counter() - self.started, 1),
            **notes,
        }
        (out / f"{stem}.json").write_text(json.dumps(side, indent=2) + "\n")
        print(f"wrote {out / stem}.csv\n{table.round(2).to_string(index=False)}")


def _alignment_order(column: pd.Series) -> pd.Series:
    """Baselines ("none") first within a model, then the error functions alphabetically."""
    return column.map(lambda value: "" if value == "none" else value) if column.name == "error" else column


def methods(experiment: Experiment) -> None:
    """Tables 1 and 2: accuracy, and each CAM method's metrics, of the baseline and the cosine model."""
    lam, arch = experiment.lam, experiment.base.arch
    runs = {"Baseline": (0.0, experiment.run("cosine", 0.0)), "Ours (cosine)": (lam, experiment.run("cosine", lam))}
    experiment.table(
        "accuracy",
        [({"MODEL": arch, "ERROR": label, "LAMBDA": value}, run, None) for label, (value, run) in runs.items()],
    )
    experiment.table(
        "methods",
        [
            ({"METHOD": method, "ERROR": label}, run, method)
            for method in experiment.args.methods
            for label, (_, run) in runs.items()
        ],
        drop=("ACC",),
    )
    if not experiment.args.no_ship:
        for error, (_, run) in zip((None, "cosine"), runs.values()):
            save_shipped(run.model, run.record | {"command": experiment.command}, shipped_name(arch, error))


def errors(experiment: Experiment) -> None:
    """Table 3: accuracy and Grad-CAM's metrics of the baseline and of each error function at ``--lam``."""
    lam = experiment.lam
    runs = {"Baseline": (0.0, experiment.run("cosine", 0.0))}
    runs |= {name: (lam, experiment.run(name, lam)) for name in ("cosine", *experiment.args.errors)}
    rows = [({"ERROR": name, "LAMBDA": value}, run, "Grad-CAM") for name, (value, run) in runs.items()]
    experiment.table("errors", rows, method="Grad-CAM")


def lambdas(experiment: Experiment) -> None:
    """Table 4: accuracy and Grad-CAM's metrics for each lambda of the cosine error (0: the baseline)."""
    rows = [({"LAMBDA": lam}, experiment.run("cosine", lam), "Grad-CAM") for lam in [0.0, *experiment.args.lams]]
    experiment.table("lambdas", rows, method="Grad-CAM", error="cosine")


#: experiment name -> what it trains and writes
EXPERIMENTS = {"methods": methods, "errors": errors, "lambdas": lambdas}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    experiment = Experiment(args, argv)
    EXPERIMENTS[args.experiment](experiment)


if __name__ == "__main__":
    main()
