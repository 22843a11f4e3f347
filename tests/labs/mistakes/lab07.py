"""Lab 7's usual mistakes (rescale multiplier, DeepLIFT by hand, DeepLIFT-SHAP)."""

from tests.labs.mistakes import VISIBLE

RESCALE = "torch.where(delta.abs() < 1e-10, grad, (y - y_ref) / delta)"
HIDDEN_MULTIPLIER = "torch.where(delta.abs() < 1e-10, (z > 0).to(z.dtype), (torch.relu(z) - torch.relu(z_ref)) / delta)"
CONTRIBUTIONS = "(x - x_ref) * (W1.T @ (m * W2[target]))"

CALLS_LABKIT_RESCALE = (
    "def rescale_multiplier(x, x_ref, y, y_ref, grad):\n"
    "    from labkit.attribution.deeplift import rescale_multiplier as reference\n"
    "    return reference(x, x_ref, y, y_ref, grad)\n"
)

CALLS_LABKIT_DEEPLIFT = (
    "def deeplift_two_layer(W1, b1, W2, b2, x, x_ref, target):\n"
    "    linear1, linear2 = torch.nn.Linear(W1.shape[1], W1.shape[0]), torch.nn.Linear(W2.shape[1], W2.shape[0])\n"
    "    with torch.no_grad():\n"
    "        linear1.weight[:], linear1.bias[:], linear2.weight[:], linear2.bias[:] = W1, b1, W2, b2\n"
    "    model = torch.nn.Sequential(torch.nn.Flatten(), linear1, torch.nn.ReLU(), linear2)\n"
    "    shape = (1, 3, 1, len(x) // 3)\n"
    "    return labkit.attribution.deeplift(\n"
    "        model, x.view(shape), target, baseline=x_ref.view(shape), reduce='none'\n"
    "    ).reshape(-1)\n"
)

CALLS_LABKIT_SHAP = (
    "def deeplift_shap_from(model, x, references, target):\n"
    "    return labkit.attribution.deeplift_shap(model, x[None], target, references=references, reduce='none')[0]\n"
)

MISTAKES: dict[str, list[tuple]] = {
    "rescale_multiplier": [
        ("no fallback where x == x_ref (0 / 0 = NaN)", RESCALE, "(y - y_ref) / delta", VISIBLE),
        (
            "falls back to 0 instead of the derivative",
            RESCALE,
            RESCALE.replace(", grad,", ", torch.zeros_like(grad),"),
            VISIBLE,
        ),
        ("uses the gradient everywhere", RESCALE, "grad", VISIBLE),
        ("divides the wrong way round", "(y - y_ref) / delta", "delta / (y - y_ref)", VISIBLE),
        ("returns a flat vector (loses the shape)", "(y - y_ref) / delta)", "(y - y_ref) / delta).flatten()", VISIBLE),
        ("calls labkit's rescale_multiplier", None, CALLS_LABKIT_RESCALE),
    ],
    "deeplift_two_layer": [
        (
            "ignores the reference: gradient x input",
            CONTRIBUTIONS,
            "x * (W1.T @ ((z > 0).to(z.dtype) * W2[target]))",
            VISIBLE,
        ),
        (
            "no fallback where z == z_ref (NaN)",
            HIDDEN_MULTIPLIER,
            "(torch.relu(z) - torch.relu(z_ref)) / delta",
            VISIBLE,
        ),
        (
            "falls back to 0 instead of the derivative",
            "(z > 0).to(z.dtype), (torch.relu",
            "torch.zeros_like(z), (torch.relu",
            VISIBLE,
        ),
        ("does not multiply by x - x_ref (returns the multipliers)", CONTRIBUTIONS, "W1.T @ (m * W2[target])", VISIBLE),
        ("multiplies by x instead of x - x_ref", CONTRIBUTIONS, "x * (W1.T @ (m * W2[target]))", VISIBLE),
        ("gradient instead of the rescale rule", HIDDEN_MULTIPLIER, "(z > 0).to(z.dtype)", VISIBLE),
        (
            "squeezes the contributions (one input, one hidden unit or one class lose their axis)",
            "return (x - x_ref) * (W1.T @ (m * W2[target]))",
            "return ((x - x_ref) * (W1.T @ (m * W2[target]))).squeeze()",
        ),
        ("reference pre-activations taken as the bias (right only for x_ref = 0)", "W1 @ x_ref + b1", "b1", VISIBLE),
        ("calls labkit's deeplift", None, CALLS_LABKIT_DEEPLIFT),
    ],
    "deeplift_shap_from": [
        (
            "sums instead of averaging over the references",
            "attributions.mean(dim=0)",
            "attributions.sum(dim=0)",
            VISIBLE,
        ),
        (
            "one DeepLIFT against the mean reference",
            "baseline=references,",
            "baseline=references.mean(dim=0),",
            VISIBLE,
        ),
        ("uses only the first reference", "baseline=references,", "baseline=references[0],", VISIBLE),
        (
            "puts the model in eval mode and leaves it there",
            "    inputs = x.expand(",
            "    model.eval()\n    inputs = x.expand(",
            VISIBLE,
        ),
        (
            "squeezes the mean (one reference, or a one-pixel image, lose their axes)",
            "attributions.mean(dim=0)",
            "attributions.mean(dim=0).squeeze()",
        ),
        ("calls labkit's deeplift_shap", None, CALLS_LABKIT_SHAP),
    ],
}
