"""Benchmark: the cost of one regularised training step relative to a plain one.

    python -m bench.interpretable_step                      # both small architectures, batch 32, 32 px
    python -m bench.interpretable_step --arch resnet18 --batch-size 128 --repeats 5

A plain step is forward + cross-entropy + backward + SGD update; a regularised step adds
the guided and the standard input gradients (from the same forward pass) and the double
backpropagation of the error (cosine). Prints the median seconds of each and their ratio
(the target is at most 3.5: double backpropagation alone costs about 3x), with BatchNorm in
training mode (the paper's recipe, from scratch) and frozen (eval mode: the shapes recipe's
fine-tuning, where BatchNorm is an affine map and its double backward is nearly free).
"""

from __future__ import annotations

import argparse
import statistics

import torch

from bench.timing import wall_time
from labkit.device import default_device
from labkit.interpretable.loss import interpretable_gradient_loss
from labkit.interpretable.trainer import set_training_mode
from labkit.reference.architectures import ARCHITECTURES


def step_seconds(
    arch: str, lam: float, batch_size: int, repeats: int, device: torch.device, frozen_batchnorm: bool
) -> float:
    """Median seconds of one training step of ``arch`` with weight ``lam`` on the error (0: plain CE)."""
    torch.manual_seed(0)
    model = ARCHITECTURES[arch][0](100).to(device)
    set_training_mode(model, frozen_batchnorm)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    inputs = torch.randn(batch_size, 3, 32, 32, device=device)
    targets = torch.randint(0, 100, (batch_size,), device=device)

    def step() -> None:
        loss = interpretable_gradient_loss(model, inputs, targets, "cosine", lam).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # warm-up
    return statistics.median(wall_time(step, device) for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), nargs="*", default=sorted(ARCHITECTURES))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else default_device()
    print(f"device {device}, batch {args.batch_size}, 32 px, {torch.get_num_threads()} threads")
    for arch in args.arch:
        for frozen, mode in ((False, "BatchNorm training"), (True, "BatchNorm frozen")):
            plain = step_seconds(arch, 0.0, args.batch_size, args.repeats, device, frozen)
            regularised = step_seconds(arch, 1.0, args.batch_size, args.repeats, device, frozen)
            print(
                f"{arch:>13}, {mode:<18}: plain step {plain * 1000:.0f} ms, regularised step "
                f"{regularised * 1000:.0f} ms, ratio {regularised / plain:.2f}x"
            )


if __name__ == "__main__":
    main()
