"""Lab 2's usual mistakes (saliency, gradient x input, SmoothGrad)."""

from tests.labs.mistakes import VISIBLE
from tests.labs.mistakes.lab01 import mode_mistakes

CALLS_LABKIT_SALIENCY = (
    "def saliency_map(model, x, targets):\n"
    "    import labkit.attribution\n"
    "    return labkit.attribution.saliency(model, x, targets)\n"
)

CALLS_LABKIT_GRADIENT_X_INPUT = (
    "def gradient_x_input_map(model, x, targets):\n"
    "    from labkit.attribution import gradient_x_input\n"
    "    return gradient_x_input(model, x, targets)\n"
)

CALLS_LABKIT_SMOOTHGRAD = (
    "def smoothgrad_map(model, x, targets, noise, noise_level):\n"
    "    from labkit.attribution import smoothgrad\n"
    "    return smoothgrad(model, x, targets, n_samples=noise.shape[1], noise_level=noise_level)\n"
)

FIRST_TARGET = (
    "the first image's target for the whole batch",
    "torch.as_tensor(targets)]",
    "torch.as_tensor(targets)[0]]",
    VISIBLE,
)

MISTAKES: dict[str, list[tuple]] = {
    "saliency_map": [
        ("no absolute value", "gradient.abs().amax(dim=1)", "gradient.amax(dim=1)", VISIBLE),
        (
            "mean over the channels instead of the max",
            "gradient.abs().amax(dim=1)",
            "gradient.abs().mean(dim=1)",
            VISIBLE,
        ),
        (
            "sum over the channels instead of the max",
            "gradient.abs().amax(dim=1)",
            "gradient.abs().sum(dim=1)",
            VISIBLE,
        ),
        ("gradient of the softmax probability", "logits = model(leaf)", "logits = model(leaf).softmax(dim=1)", VISIBLE),
        ("the predicted class instead of the target", "torch.as_tensor(targets)]", "logits.argmax(dim=1)]", VISIBLE),
        FIRST_TARGET,
        *mode_mistakes("    "),
        (
            "squeezes the maps (a batch of 1 or one-pixel images lose dimensions)",
            "return gradient.abs().amax(dim=1)",
            "return gradient.abs().amax(dim=1).squeeze()",
        ),
        ("calls labkit's saliency", None, CALLS_LABKIT_SALIENCY),
    ],
    "gradient_x_input_map": [
        ("gradient alone, without the input", "(gradient * x).sum(dim=1)", "gradient.sum(dim=1)", VISIBLE),
        ("absolute value", "(gradient * x).sum(dim=1)", "(gradient * x).abs().sum(dim=1)", VISIBLE),
        ("max over the channels", "(gradient * x).sum(dim=1)", "(gradient * x).amax(dim=1)", VISIBLE),
        FIRST_TARGET,
        *mode_mistakes("    "),
        ("calls labkit's gradient_x_input", None, CALLS_LABKIT_GRADIENT_X_INPUT),
    ],
    "smoothgrad_map": [
        (
            "averages the saliency maps instead of the gradients",
            "mean_gradient = gradients.reshape(noise.shape).mean(dim=1)\n    return mean_gradient.abs().amax(dim=1)",
            "maps = gradients.reshape(noise.shape).abs().amax(dim=2)\n    return maps.mean(dim=1)",
            VISIBLE,
        ),
        (
            "noise not scaled to the input range",
            "noise_level * (x.flatten(1).amax(dim=1) - x.flatten(1).amin(dim=1))",
            "noise_level * torch.ones(len(x))",
            VISIBLE,
        ),
        (
            "one range for the whole batch",
            "noise_level * (x.flatten(1).amax(dim=1) - x.flatten(1).amin(dim=1))",
            "noise_level * (x.max() - x.min()) * torch.ones(len(x))",
            VISIBLE,
        ),
        (
            "standard deviation of the input instead of its range",
            "x.flatten(1).amax(dim=1) - x.flatten(1).amin(dim=1)",
            "x.flatten(1).std(dim=1)",
            VISIBLE,
        ),
        (
            "targets repeated in the wrong order (copies of image b get other images' classes)",
            "torch.as_tensor(targets).repeat_interleave(n_samples)",
            "torch.as_tensor(targets).repeat(n_samples)",
            VISIBLE,
        ),
        (
            "sums the gradients over the copies instead of averaging them",
            "gradients.reshape(noise.shape).mean(dim=1)",
            "gradients.reshape(noise.shape).sum(dim=1)",
            VISIBLE,
        ),
        *mode_mistakes("    "),
        (
            "the copies' axis found by squeezing (one sample, n = 1, breaks it)",
            "mean_gradient = gradients.reshape(noise.shape).mean(dim=1)",
            "mean_gradient = gradients.reshape(noise.shape).squeeze().mean(dim=1)",
        ),
        ("calls labkit's smoothgrad", None, CALLS_LABKIT_SMOOTHGRAD),
    ],
}
