"""Occlusion speed: labkit against Captum's ``Occlusion`` at each ``perturbations_per_eval``.

One process, one model, one image, the same window, stride and baseline for everyone:
``python -m bench.occlusion [--device cpu|cuda] [--patch 32] [--stride 16] [--rounds 3]``.
Prints maps per second (best of ``rounds`` interleaved rounds) and labkit's time over the floor, the time of
the bare forward passes the method needs (one per window plus the unoccluded image) at
labkit's batch size.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from captum.attr import Occlusion

import labkit
from bench.timing import best_times
from labkit.attribution.occlusion import occlusion_positions
from labkit.batching import auto_batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=str(labkit.default_device()))
    parser.add_argument("--image", default="coffee")
    parser.add_argument("--patch", type=int, default=32)
    parser.add_argument("--stride", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    device = torch.device(args.device)
    clf = labkit.load_model(device=device)
    model = clf.model
    inputs = clf.preprocess(labkit.sample_image(args.image))[None].to(device)
    target = int(model(inputs).argmax())
    windows = len(occlusion_positions(224, args.patch, args.stride)) ** 2
    batch = auto_batch_size(model, inputs, limit=windows)
    print(
        f"device {device} | threads {torch.get_num_threads()} | image {args.image} | patch {args.patch} "
        f"stride {args.stride} | {windows} windows | labkit batch {batch} | best of {args.rounds} rounds"
    )

    def labkit_run() -> torch.Tensor:
        return labkit.occlusion(model, inputs, target, patch=args.patch, stride=args.stride)

    def floor_run() -> None:
        with torch.no_grad():
            copies = inputs.expand(windows + 1, -1, -1, -1)
            for chunk in copies.split(batch):
                model(chunk.contiguous())

    def captum_run(per_eval: int) -> Callable[[], torch.Tensor]:
        attribution = Occlusion(lambda x: model(x).softmax(dim=1))
        return lambda: attribution.attribute(
            inputs,
            sliding_window_shapes=(3, args.patch, args.patch),
            strides=args.stride,
            baselines=0.0,
            target=target,
            perturbations_per_eval=per_eval,
        )

    runs = {"labkit": labkit_run, "floor": floor_run}
    runs |= {f"captum {per_eval}": captum_run(per_eval) for per_eval in (1, 4, 16, 64)}
    with torch.no_grad():
        times = best_times(runs, args.rounds, device)
    ours, floor = times["labkit"], times["floor"]
    peers = {per_eval: times[f"captum {per_eval}"] for per_eval in (1, 4, 16, 64)}
    best_per_eval = min(peers, key=peers.get)

    print(f"{'method':34s} {'seconds':>8s} {'maps/s':>8s}")
    print(f"{'labkit.occlusion':34s} {ours:8.2f} {1 / ours:8.3f}")
    for per_eval, seconds in peers.items():
        print(f"{f'captum Occlusion, per_eval={per_eval}':34s} {seconds:8.2f} {1 / seconds:8.3f}")
    print(f"{'floor: bare forward passes':34s} {floor:8.2f}")
    print(
        f"captum best (per_eval={best_per_eval}) / labkit = {peers[best_per_eval] / ours:.2f}x faster; "
        f"labkit / floor = {ours / floor:.2f}"
    )


if __name__ == "__main__":
    main()
