"""The straight path of Integrated Gradients, one image at a time: points, scores, slopes, gaps.

Along x(a) = x' + a (x - x'), a in [0, 1], the class score S_c(x(a)) (a logit) is a function
of one variable whose derivative is the *slope*

    g(a) = dS_c(x(a))/da = sum_i (x_i - x'_i) dS_c/dx_i (x(a)).

So the sum of the IG attributions is a 1-D integral, sum_i IG_i = integral_0^1 g(a) da, and
the completeness gap of a quadrature rule with nodes a_s and weights w_s is

    gap = sum_s w_s g(a_s) - (S_c(x) - S_c(x')),

which needs only g at the nodes. Sundararajan et al. (ICML 2017) suggest 20-300 steps and
checking the gap; their "Gradients of counterfactuals" (arXiv:1611.02639) plots S_c along
a x (the baseline 0 is gray after preprocessing) and finds it saturates early: g vanishes there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from labkit.attribution.baselines import as_baseline
from labkit.attribution.integrated_gradients import path_nodes
from labkit.batching import chosen_batch_size
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch


@reference
def path_points(x: torch.Tensor, baseline: float | torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """The points x' + a (x - x') (A, 3, H, W) of one input ``x`` (3, H, W) at the ``alphas`` (A,)."""
    if x.ndim != 3:
        raise ValueError(f"x must be one input of shape (3, H, W), got shape {tuple(x.shape)}; pass x[0] for a batch.")
    start = as_baseline(baseline, x[None])
    alphas = torch.as_tensor(alphas, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
    return start + alphas * (x - start)


@dataclass
class PathProfile:
    """S_c, p_c and the slope g = dS_c/da at sorted ``alphas`` along the path of one image (each (A,), CPU)."""

    alphas: torch.Tensor
    scores: torch.Tensor
    probabilities: torch.Tensor
    slopes: torch.Tensor

    def at(self, alphas: torch.Tensor) -> torch.Tensor:
        """Indices of the given ``alphas`` in the profile (they must be among its nodes)."""
        alphas = torch.as_tensor(alphas, dtype=self.alphas.dtype)
        distance, index = (self.alphas[None] - alphas[:, None]).abs().min(dim=1)
        missing = distance > 1e-8
        if bool(missing.any()):
            raise ValueError(
                f"alpha {float(alphas[missing][0]):.6f} is not in this profile; compute the profile at "
                "path_alphas(...) of the rules and steps you want to compare."
            )
        return index

    def gap(self, method: str, n_steps: int) -> float:
        """Completeness gap of ``method`` with ``n_steps``: sum_s w_s g(a_s) - (S_c(x) - S_c(x'))."""
        alphas, weights = path_nodes(n_steps, method)
        integral = float((weights * self.slopes.double()[self.at(alphas)]).sum())
        ends = self.scores[self.at(torch.tensor([0.0, 1.0], dtype=torch.float64))]
        return integral - float(ends[1] - ends[0])


def path_alphas(methods: Sequence[str], steps: Sequence[int]) -> torch.Tensor:
    """The sorted union (float64) of 0, 1 and the nodes of every rule in ``methods`` at every ``steps``."""
    nodes = [torch.tensor([0.0, 1.0], dtype=torch.float64)]
    nodes += [path_nodes(n, method)[0] for method in methods for n in steps]
    return torch.unique(torch.cat(nodes).mul(1e9).round().div(1e9))


def _checked(model: nn.Module, x: torch.Tensor, baseline: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if x.ndim == 4 and len(x) == 1:
        x = x[0]
    if x.ndim != 3:
        raise ValueError(f"x must be one preprocessed input (3, H, W) or (1, 3, H, W), got shape {tuple(x.shape)}.")
    x = x.to(model_device(model))
    return x, as_baseline(baseline, x[None])[0]


@reference
def path_profile(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    alphas: torch.Tensor,
    *,
    baseline: float | torch.Tensor = 0.0,
    batch_size: int | None = None,
) -> PathProfile:
    """Scores, probabilities and slopes of class ``target`` at each of the ``alphas`` (one forward
    and backward pass per alpha, ``batch_size`` at a time) along the path from ``baseline`` to ``x``."""
    x, start = _checked(model, x, baseline)
    alphas = torch.as_tensor(alphas, dtype=torch.float64).sort().values
    delta = x - start
    columns: list[list[torch.Tensor]] = [[], [], []]
    with model_guard(model):
        size = chosen_batch_size(batch_size, model, x[None], with_grad=True, limit=len(alphas))
        for chunk in alphas.split(size):
            leaf = path_points(x, start, chunk.to(x.dtype)).requires_grad_()
            with torch.enable_grad():
                outputs = model(leaf)
                (gradients,) = torch.autograd.grad(outputs[:, target].sum(), leaf)
            outputs = outputs.detach()
            columns[0].append(outputs[:, target])
            columns[1].append(outputs.softmax(dim=1)[:, target])
            columns[2].append((gradients * delta).flatten(1).sum(dim=1))
    scores, probabilities, slopes = (torch.cat(column).cpu() for column in columns)
    return PathProfile(alphas, scores, probabilities, slopes)


def path_scores(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    alphas: torch.Tensor,
    *,
    baseline: float | torch.Tensor = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores S_c, probabilities p_c) of class ``target`` at the ``alphas`` (each (A,), CPU): forward only."""
    x, start = _checked(model, x, baseline)
    with model_guard(model), torch.no_grad():
        outputs = torch.cat([model(path_points(x, start, chunk)) for chunk in torch.as_tensor(alphas).split(16)])
    return outputs[:, target].cpu(), outputs.softmax(dim=1)[:, target].cpu()


def completeness_gaps(profile: PathProfile, methods: Sequence[str], steps: Sequence[int]) -> pd.DataFrame:
    """The gap of every rule (columns) at every number of steps (rows) from one profile."""
    table = {method: [profile.gap(method, n) for n in steps] for method in methods}
    return pd.DataFrame(table, index=pd.Index(list(steps), name="n_steps"))


@reference
def completeness_gap(
    model: nn.Module,
    inputs: torch.Tensor,
    baselines: float | torch.Tensor,
    targets: torch.Tensor,
    attributions: torch.Tensor,
) -> torch.Tensor:
    """sum of each image's ``attributions`` (B, ...) minus S_c(x) - S_c(x') (B,): 0 when complete."""
    inputs = as_batch(inputs).to(model_device(model))
    starts = as_baseline(baselines, inputs)
    targets = torch.as_tensor(targets, device=inputs.device).reshape(-1, 1).expand(len(inputs), 1)
    with model_guard(model), torch.no_grad():
        change = model(inputs).gather(1, targets)[:, 0] - model(starts).gather(1, targets)[:, 0]
    return attributions.flatten(1).sum(dim=1) - change
