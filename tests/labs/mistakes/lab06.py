"""Lab 6's usual mistakes (path points, Integrated Gradients, completeness gap)."""

RIGHT_GRID = "torch.arange(1, n_steps + 1, dtype=x.dtype, device=x.device) / n_steps"

CALLS_LABKIT_PATH_POINTS = (
    "def path_inputs(x, baseline, n_steps):\n"
    "    from labkit.attribution.ig_path import path_points\n"
    "    return path_points(x, baseline, torch.arange(1, n_steps + 1) / n_steps)\n"
)

CALLS_LABKIT_IG = (
    "def integrated_gradients(model, x, baseline, target, n_steps):\n"
    "    import labkit\n"
    "    return labkit.attribution.integrated_gradients(\n"
    "        model, x[None], target, baseline=baseline, n_steps=n_steps, method='riemann_right', reduce='none'\n"
    "    )[0]\n"
)

CALLS_LABKIT_GAP = (
    "def completeness_gap(model, x, baseline, target, attributions):\n"
    "    from labkit.attribution.ig_path import completeness_gap as reference\n"
    "    return reference(model, x[None], baseline, target, attributions[None])[0]\n"
)

MISTAKES: dict[str, list[tuple[str, str | None, str]]] = {
    "path_inputs": [
        (
            "left sum: starts at the baseline, never reaches x",
            RIGHT_GRID,
            "torch.arange(0, n_steps, dtype=x.dtype) / n_steps",
        ),
        ("linspace with both endpoints", RIGHT_GRID, "torch.linspace(0, 1, n_steps, dtype=x.dtype)"),
        (
            "walks from x to the baseline",
            "baseline + alphas.view(-1, 1, 1, 1) * (x - baseline)",
            "x + alphas.view(-1, 1, 1, 1) * (baseline - x)",
        ),
        ("calls labkit's path_points", None, CALLS_LABKIT_PATH_POINTS),
    ],
    "integrated_gradients": [
        ("sums instead of averaging over the steps", "total / n_steps", "total"),
        ("does not multiply by x - x'", "(x - baseline) * total / n_steps", "total / n_steps"),
        ("multiplies by x instead of x - x' (ignores the baseline)", "(x - baseline) * total", "x * total"),
        ("left Riemann grid instead of the right one", "torch.arange(1, n_steps + 1,", "torch.arange(0, n_steps,"),
        (
            "gradient of the probability, not the logit",
            "model(point[None])[0, target]",
            "model(point[None]).softmax(dim=1)[0, target]",
        ),
        (
            "the largest logit instead of the given target",
            "model(point[None])[0, target]",
            "model(point[None])[0].max()",
        ),
        ("calls labkit's integrated_gradients", None, CALLS_LABKIT_IG),
    ],
    "completeness_gap": [
        (
            "probabilities instead of logits",
            "model(torch.stack([x, baseline]))[:, target]",
            "model(torch.stack([x, baseline])).softmax(dim=1)[:, target]",
        ),
        ("forgets the baseline's score", "(scores[0] - scores[1])", "scores[0]"),
        ("wrong sign", "attributions.sum() - (scores[0] - scores[1])", "(scores[0] - scores[1]) - attributions.sum()"),
        (
            "absolute value of the gap (the gap is signed)",
            "return attributions.sum() - (scores[0] - scores[1])",
            "return (attributions.sum() - (scores[0] - scores[1])).abs()",
        ),
        ("calls labkit's completeness_gap", None, CALLS_LABKIT_GAP),
    ],
}
