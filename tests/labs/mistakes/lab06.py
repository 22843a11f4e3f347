"""Lab 6's usual mistakes (path points, Integrated Gradients, completeness gap)."""

from tests.labs.mistakes import VISIBLE

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

BATCHED_MEAN = (
    "def integrated_gradients(model, x, baseline, target, n_steps):\n"
    "    mode = model.training\n"
    "    model.eval()\n"
    "    alphas = torch.arange(1, n_steps + 1, dtype=x.dtype) / n_steps\n"
    "    points = (baseline + alphas.view(-1, 1, 1, 1) * (x - baseline)).requires_grad_(True)\n"
    "    (gradients,) = torch.autograd.grad(model(points)[:, target].mean(), points)\n"
    "    model.train(mode)\n"
    "    return (x - baseline) * gradients.mean(dim=0)\n"
)

NOT_EVAL = ("    model.eval()\n", "")
NOT_RESTORED = ("model.train(mode)", "pass")

MISTAKES: dict[str, list[tuple]] = {
    "path_inputs": [
        (
            "left sum: starts at the baseline, never reaches x",
            RIGHT_GRID,
            "torch.arange(0, n_steps, dtype=x.dtype) / n_steps",
            VISIBLE,
        ),
        ("linspace with both endpoints", RIGHT_GRID, "torch.linspace(0, 1, n_steps, dtype=x.dtype)", VISIBLE),
        (
            "walks from x to the baseline",
            "baseline + alphas.view(-1, 1, 1, 1) * (x - baseline)",
            "x + alphas.view(-1, 1, 1, 1) * (baseline - x)",
            VISIBLE,
        ),
        (
            "squeezes the stack (one step loses the step axis)",
            "return baseline + alphas.view(-1, 1, 1, 1) * (x - baseline)",
            "return (baseline + alphas.view(-1, 1, 1, 1) * (x - baseline)).squeeze()",
            VISIBLE,
        ),
        ("calls labkit's path_points", None, CALLS_LABKIT_PATH_POINTS),
    ],
    "integrated_gradients": [
        ("sums instead of averaging over the steps", "total / n_steps", "total", VISIBLE),
        ("does not multiply by x - x'", "(x - baseline) * total / n_steps", "total / n_steps", VISIBLE),
        ("multiplies by x instead of x - x' (ignores the baseline)", "(x - baseline) * total", "x * total", VISIBLE),
        (
            "left Riemann grid instead of the right one",
            "torch.arange(1, n_steps + 1,",
            "torch.arange(0, n_steps,",
            VISIBLE,
        ),
        (
            "midpoint grid instead of the right one",
            "torch.arange(1, n_steps + 1, dtype=x.dtype, device=x.device) / n_steps",
            "(torch.arange(n_steps, dtype=x.dtype) + 0.5) / n_steps",
            VISIBLE,
        ),
        (
            "alpha = k / (m - 1) for k = 0..m-1 (NaN for one step)",
            "torch.arange(1, n_steps + 1, dtype=x.dtype, device=x.device) / n_steps",
            "torch.arange(n_steps, dtype=x.dtype) / (n_steps - 1)",
            VISIBLE,
        ),
        ("batched points, the mean of their logits instead of the sum", None, BATCHED_MEAN, VISIBLE),
        ("never switches to eval mode", *NOT_EVAL, VISIBLE),
        ("does not give the model back in its mode", *NOT_RESTORED, VISIBLE),
        (
            "gradient of the probability, not the logit",
            "model(point[None])[0, target]",
            "model(point[None]).softmax(dim=1)[0, target]",
            VISIBLE,
        ),
        (
            "the largest logit instead of the given target",
            "model(point[None])[0, target]",
            "model(point[None])[0].max()",
            VISIBLE,
        ),
        ("calls labkit's integrated_gradients", None, CALLS_LABKIT_IG),
    ],
    "completeness_gap": [
        (
            "probabilities instead of logits",
            "model(torch.stack([x, baseline]))[:, target]",
            "model(torch.stack([x, baseline])).softmax(dim=1)[:, target]",
            VISIBLE,
        ),
        ("forgets the baseline's score", "(scores[0] - scores[1])", "scores[0]", VISIBLE),
        (
            "wrong sign",
            "attributions.sum() - (scores[0] - scores[1])",
            "(scores[0] - scores[1]) - attributions.sum()",
            VISIBLE,
        ),
        (
            "absolute value of the gap (the gap is signed)",
            "return attributions.sum() - (scores[0] - scores[1])",
            "return (attributions.sum() - (scores[0] - scores[1])).abs()",
            VISIBLE,
        ),
        (
            "one sum per channel instead of one number",
            "attributions.sum() - ",
            "attributions.sum(dim=(1, 2)) - ",
            VISIBLE,
        ),
        ("never switches to eval mode", *NOT_EVAL, VISIBLE),
        ("does not give the model back in its mode", *NOT_RESTORED, VISIBLE),
        ("calls labkit's completeness_gap", None, CALLS_LABKIT_GAP),
    ],
}
