"""One timed run, with the GPU's queued work waited for on both sides."""

import time
from collections.abc import Callable

import torch


def wall_time(run: Callable[[], object], device: torch.device) -> float:
    """Seconds ``run()`` takes on ``device``, GPU work included."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    run()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start
