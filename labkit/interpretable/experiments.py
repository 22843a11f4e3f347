"""The deck's Tables 1-4 at small scale, as CSV files under ``assets/results/interpretable/``.

    python -m labkit.interpretable.experiments errors     # Tables 1-3: baseline vs each error function
    python -m labkit.interpretable.experiments lambdas    # Table 4: lambda sweep (cosine error)

Every model is fine-tuned with the trainer's recipe (default ``shapes``; see
:mod:`labkit.interpretable.trainer`); runs are checkpointed under ``build/interpretable/runs/``
so an interrupted command resumes and the second command reuses the first one's models.

- ``accuracy.csv`` (Table 1): test accuracy of the baseline and of the cosine-regularised model;
- ``methods.csv`` (Table 2): AD, AG, AI, INS, DEL and the pointing game (PG) for Grad-CAM,
  Grad-CAM++, Score-CAM, Ablation-CAM and Axiom-CAM, baseline vs cosine;
- ``errors.csv`` (Table 3): accuracy and Grad-CAM's metrics for the baseline and each error function;
- ``lambdas.csv`` (Table 4): the same for each lambda of the cosine error (0 is the baseline).

Each CSV has a side ``.json`` with the command that made it, the recipe, the device and the time.
``errors`` also ships the baseline and cosine models to ``assets/models/`` for lab 8.
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
from labkit.interpretable.evaluate import METHODS, accuracy_percent, method_scores
from labkit.interpretable.shipped import save_shipped, shipped_name
from labkit.interpretable.trainer import RECIPES, TrainConfig, TrainResult, recipe, train
from labkit.paths import BUILD, RESULTS
from labkit.reference.architectures import ARCHITECTURES

#: The recorded tables (``assets/results/interpretable``) and the training runs behind them (not shipped).
RESULTS_DIR = RESULTS / "interpretable"
RUNS_DIR = BUILD / "interpretable" / "runs"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=("errors", "lambdas"))
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="shapes")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default=None, help="default: the recipe's")
    parser.add_argument("--lam", type=float, default=1.0, help="lambda of every error function (errors)")
    parser.add_argument("--lams", type=float, nargs="+", default=[0.01, 0.1, 1.0, 10.0], help="cosine lambdas")
    parser.add_argument("--images", type=int, default=200, help="test images for Grad-CAM's metrics")
    parser.add_argument("--method-images", type=int, default=100, help="test images per method (Table 2)")
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


class Experiment:
    """Trains (or reloads) the runs it needs and writes tables with their provenance."""

    def __init__(self, args: argparse.Namespace, argv: list[str] | None) -> None:
        self.args = args
        self.command = "python -m labkit.interpretable.experiments " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        self.base = recipe(args.recipe, **arch_changes(args.recipe, args.arch))
        base = self.base
        self.data = load_data(
            base.dataset, train_size=base.train_size, eval_size=base.eval_size, seed=base.seed, download=True
        )
        self.layer = ARCHITECTURES[self.base.arch][1]
        self.started = time.perf_counter()
        self.results: dict[str, TrainResult] = {}

    def run(self, error: str, lam: float) -> TrainResult:
        config: TrainConfig = recipe(self.args.recipe, **{**self._changes(), "error": error, "lam": lam})
        if config.name not in self.results:
            self.results[config.name] = train(
                config, Path(self.args.runs) / config.name, data=self.data, device=self.args.device
            )
        return self.results[config.name]

    def _changes(self) -> dict:
        return {"arch": self.base.arch, "init": self.base.init}

    def row(self, result: TrainResult, method: str, n_images: int) -> dict:
        scores = method_scores(
            result.model, self.data, method, self.layer, n_images=n_images, pixels_per_step=self.args.pixels_per_step
        )
        return {"ACC": accuracy_percent(result.model, self.data), **scores}

    def write(self, name: str, table: pd.DataFrame, **notes: object) -> None:
        out = Path(self.args.out)
        out.mkdir(parents=True, exist_ok=True)
        table.round(2).to_csv(out / f"{name}.csv", index=False)
        side = {
            "command": self.command,
            "recipe": self.args.recipe,
            "runs": {
                run: {key: result.record[key] for key in ("config", "seconds", "device")}
                for run, result in self.results.items()
            },
            "layer": self.layer,
            "targets": "ground-truth class",
            "pixels_per_step": self.args.pixels_per_step,
            "host": platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "seconds_so_far": round(time.perf_counter() - self.started, 1),
            **notes,
        }
        (out / f"{name}.json").write_text(json.dumps(side, indent=2) + "\n")
        print(f"wrote {out / name}.csv\n{table.round(2).to_string(index=False)}")


def errors(experiment: Experiment) -> None:
    args = experiment.args
    baseline = experiment.run("cosine", 0.0)
    runs = {"Baseline": baseline} | {name: experiment.run(name, args.lam) for name in ERRORS}
    arch = experiment.base.arch
    accuracy = pd.DataFrame(
        [
            {"MODEL": arch, "ERROR": label, "LAMBDA": lam, "ACC": accuracy_percent(runs[key].model, experiment.data)}
            for label, key, lam in (("Baseline", "Baseline", 0.0), ("Ours (cosine)", "cosine", args.lam))
        ]
    )
    experiment.write("accuracy", accuracy)
    methods = [
        {"METHOD": method, "ERROR": label, **experiment.row(runs[key], method, args.method_images)}
        for method in METHODS
        for label, key in (("Baseline", "Baseline"), ("Ours (cosine)", "cosine"))
    ]
    experiment.write("methods", pd.DataFrame(methods).drop(columns="ACC"), images=args.method_images)
    table = [
        {
            "ERROR": name,
            "LAMBDA": 0.0 if name == "Baseline" else args.lam,
            **experiment.row(run, "Grad-CAM", args.images),
        }
        for name, run in runs.items()
    ]
    experiment.write("errors", pd.DataFrame(table), images=args.images, method="Grad-CAM")
    if not args.no_ship:
        for error, key in ((None, "Baseline"), ("cosine", "cosine")):
            record = runs[key].record | {"command": experiment.command}
            save_shipped(runs[key].model, record, shipped_name(arch, error))


def lambdas(experiment: Experiment) -> None:
    args = experiment.args
    table = [
        {"LAMBDA": lam, **experiment.row(experiment.run("cosine", lam), "Grad-CAM", args.images)}
        for lam in [0.0, *args.lams]
    ]
    experiment.write("lambdas", pd.DataFrame(table), images=args.images, method="Grad-CAM", error="cosine")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    experiment = Experiment(args, argv)
    {"errors": errors, "lambdas": lambdas}[args.experiment](experiment)


if __name__ == "__main__":
    main()
