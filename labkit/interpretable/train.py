"""Train one classifier with the interpretable gradient loss (or plain cross-entropy).

    python -m labkit.interpretable.train                                # scaled default: baseline (lambda = 0)
    python -m labkit.interpretable.train --error cosine --lam 1         # regularised fine-tuning on shapes
    python -m labkit.interpretable.train --recipe paper --arch resnet18 --error cosine --lam 7.5e-3
                                                                         # the deck's recipe (CIFAR-100, GPU)

Checkpoints go to ``--run-dir`` (default ``build/interpretable/runs/<name>``) after each
epoch; run the same command again to resume after an interruption. Prints a summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from labkit.interpretable.errors import ERRORS
from labkit.interpretable.experiments import RUNS_DIR, arch_changes
from labkit.interpretable.trainer import RECIPES, recipe, train
from labkit.reference.architectures import ARCHITECTURES


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="shapes")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default=None, help="default: the recipe's")
    parser.add_argument("--error", choices=sorted(ERRORS), default="cosine")
    parser.add_argument("--lam", type=float, default=0.0, help="weight of the error term (0: plain cross-entropy)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--from-scratch", action="store_true", help="do not start from the shipped checkpoint")
    parser.add_argument("--device", default=None)
    parser.add_argument("--run-dir", default=None)
    args = parser.parse_args(argv)
    changes: dict = {"error": args.error, "lam": args.lam}
    changes |= arch_changes(args.recipe, args.arch)
    for key in ("epochs", "train_size", "seed"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    if args.from_scratch:
        changes["init"] = None
    config = recipe(args.recipe, **changes)
    result = train(config, Path(args.run_dir) if args.run_dir else RUNS_DIR / config.name, device=args.device)
    return result.record


if __name__ == "__main__":
    main()
