"""Benchmark: shapes generation speed and insertion/deletion on 100 images.

    python -m bench.metrics                       # shapes ResNet-18, 100 test images, 32 px
    python -m bench.metrics --images 0              # generation speed only

Prints images/s of ``labkit.data.generate_shapes`` (32 and 64 px) and the seconds that
``labkit.metrics.insertion`` and ``deletion`` take on the test images with occlusion maps.
"""

from __future__ import annotations

import argparse
import time

import torch

from labkit.attribution import occlusion
from labkit.data import ShapesDataset, generate_shapes
from labkit.device import default_device
from labkit.metrics import deletion, insertion
from labkit.models import load_model


def generation_speed(size: int, n: int) -> float:
    """Images per second of ``generate_shapes(n, size=size)`` (after one warm-up call)."""
    generate_shapes(16, size=size)
    start = time.perf_counter()
    generate_shapes(n, size=size)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="shapes_resnet18")
    parser.add_argument("--images", type=int, default=100, help="test images for insertion/deletion (0: skip)")
    parser.add_argument("--pixels-per-step", type=int, default=None, help="default: 1 %% of the pixels")
    parser.add_argument("--generate", type=int, default=5000, help="images to generate per size (0: skip)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else default_device()
    print(f"device {device}, torch threads {torch.get_num_threads()}")
    if args.generate:
        for size in (32, 64):
            print(f"generate_shapes at {size} px: {generation_speed(size, args.generate):,.0f} images/s")
    if not args.images:
        return
    clf = load_model(args.model, device=device)
    test = ShapesDataset("test", n=args.images)
    inputs, labels = clf.preprocess(test.images).to(device), test.labels.to(device)
    maps = occlusion(clf.model, inputs, labels, patch=8, stride=4)
    for metric in (insertion, deletion):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        curves = metric(clf.model, inputs, maps, labels, pixels_per_step=args.pixels_per_step)
        auc = curves.auc.mean().item()  # also waits for the device
        seconds = time.perf_counter() - start
        steps = curves.scores.shape[1]
        print(f"{metric.__name__} on {args.images} images x {steps} points: {seconds:.1f} s (mean AUC {auc:.3f})")


if __name__ == "__main__":
    main()
