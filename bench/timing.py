"""Timed runs, with the GPU's queued work waited for on both sides."""

import time
from collections.abc import Callable

import torch

Run = Callable[[], object]


def wall_time(run: Run, device: torch.device) -> float:
    """Seconds ``run()`` takes on ``device``, GPU work included."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    run()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def best_times(runs: dict[str, Run], rounds: int, device: torch.device) -> dict[str, float]:
    """Best wall time of each run over ``rounds`` rounds after a warm-up round. A round runs each
    once, in turn, so a slow spell of the machine hits all of them rather than one."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds + 1):
        for name, run in runs.items():
            times[name].append(wall_time(run, device))
    return {name: min(values[1:]) for name, values in times.items()}
