"""Train a reference classifier on the shapes dataset and store it in assets/models/.

    python -m labkit.reference.train --arch resnet18                 # shapes_resnet18
    python -m labkit.reference.train --arch mobilenet_v2             # shapes_mobilenet_v2
    python -m labkit.reference.train --arch mobilenet_v2 --shortcut  # shapes_mobilenet_v2_shortcut

The run is seeded and uses the GPU when there is one. It writes ``<name>.pt`` (float16
state dict) and ``<name>.json`` (command, seed, epochs, accuracies, time, device) and
prints a summary.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from labkit.data.dataset import ShapesDataset
from labkit.device import default_device
from labkit.paths import MODELS
from labkit.reference.architectures import ARCHITECTURES
from labkit.reference.registry import reference_name
from labkit.reference.training import accuracy, train


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="resnet18")
    parser.add_argument("--shortcut", action="store_true", help="train on the shortcut (Clever Hans) variant")
    parser.add_argument("--size", type=int, default=32, help="image side in pixels")
    parser.add_argument("--train-size", type=int, default=5000, help="training images")
    parser.add_argument("--eval-size", type=int, default=None, help="val and test images (default 1000 each)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    parser.add_argument("--out", default=str(MODELS), help="folder for the checkpoint and its record")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device) if args.device else default_device()
    name = reference_name(args.arch, args.shortcut)
    train_set = ShapesDataset("train", size=args.size, n=args.train_size, seed=args.seed, shortcut=args.shortcut)
    val_set = ShapesDataset("val", size=args.size, n=args.eval_size, seed=args.seed)
    test_set = ShapesDataset("test", size=args.size, n=args.eval_size, seed=args.seed)
    builder, _layer = ARCHITECTURES[args.arch]
    model = builder(len(train_set.classes)).to(device)
    started = time.perf_counter()
    log = train(model, train_set, val_set, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    record = {
        "name": name,
        "command": "python -m labkit.reference.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "arch": args.arch,
        "dataset": {
            "size": args.size,
            "train": len(train_set),
            "test": len(test_set),
            "seed": args.seed,
            "shortcut": args.shortcut,
        },
        "classes": train_set.classes,
        "seed": args.seed,
        "epochs": args.epochs,
        "test_accuracy": round(accuracy(model, test_set.images, test_set.labels), 4),
        "train_accuracy": round(accuracy(model, train_set.images, train_set.labels), 4),
        "val_accuracy": [round(a, 4) for a in log.val_accuracy],
        "seconds": round(time.perf_counter() - started, 1),
        "seconds_per_epoch": [round(s, 1) for s in log.epoch_seconds],
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({platform.machine()})",
        "torch_threads": torch.get_num_threads(),
    }
    args_out = Path(args.out)
    args_out.mkdir(parents=True, exist_ok=True)
    state = {key: value.half() if value.is_floating_point() else value for key, value in model.state_dict().items()}
    torch.save(state, args_out / f"{name}.pt")
    (args_out / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(
        f"{name}: test accuracy {record['test_accuracy']:.3f} (train {record['train_accuracy']:.3f}), "
        f"{record['epochs']} epochs in {record['seconds']:.0f} s on {record['device']}; "
        f"saved to {args_out / name}.pt"
    )
    return record


if __name__ == "__main__":
    main()
