"""Lab 8's usual mistakes (error functions, the interpretable gradient loss)."""

from tests.labs.mistakes import VISIBLE

CALLS_LABKIT_COSINE = (
    "def cosine_error(delta, target):\n"
    "    import labkit.interpretable\n"
    "    return labkit.interpretable.cosine_error(delta, target)\n"
)

CALLS_LABKIT_HISTOGRAM = (
    "def histogram_intersection_error(delta, target):\n"
    "    from labkit.interpretable import histogram_intersection_error as reference\n"
    "    return reference(delta, target)\n"
)

CALLS_LABKIT_LOSS = (
    "def interpretable_loss(model, images, targets, guided, error, lam):\n"
    "    from labkit.interpretable import interpretable_gradient_loss\n"
    "    return interpretable_gradient_loss(model, images, targets, error, lam).loss\n"
)

EVAL_MODE_RESTORED = (
    "def interpretable_loss(model, images, targets, guided, error, lam):\n"
    "    import torch.nn.functional as F\n\n"
    "    was_training = model.training\n"
    "    model.eval()\n"
    "    x = images.detach().requires_grad_()\n"
    "    logits = model(x)\n"
    "    (delta,) = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), x, create_graph=True)\n"
    "    model.train(was_training)\n"
    "    return F.cross_entropy(logits, targets) + lam * error(delta, guided.detach()).mean()\n"
)


def squeezed(line: str) -> tuple[str, str, str]:
    """The mistake that squeezes the batch axis away from the answer's ``return`` line (one image: a scalar)."""
    return (
        "squeezes the batch axis away (a batch of one gives a scalar)",
        line,
        line.replace("return ", "return (", 1) + ").squeeze()",
    )


MISTAKES: dict[str, list[tuple[str, str | None, str] | tuple[str, str | None, str, str]]] = {
    "cosine_error": [  # the graded round trip plants the first one (a 3-tuple)
        ("no guard: an all-zero gradient gives NaN", ".clamp_min(1e-12)", ""),
        ("cos instead of 1 - cos", "return 1 - cos", "return cos", VISIBLE),
        ("cosine over the channels of each pixel, not over the whole image", ".flatten(1)", "", VISIBLE),
        ("one cosine for the whole batch", ".flatten(1)", ".flatten()[None]", VISIBLE),
        (*squeezed("return 1 - cos"), VISIBLE),
        ("calls labkit's cosine_error", None, CALLS_LABKIT_COSINE),
    ],
    "histogram_intersection_error": [
        ("no absolute values", "delta.flatten(1).abs()", "delta.flatten(1)", VISIBLE),
        ("no normalisation of the histograms", "p = a / a.sum(dim=1, keepdim=True)", "p = a", VISIBLE),
        ("normalised by the batch's total", "a.sum(dim=1, keepdim=True)", "a.sum()", VISIBLE),
        (
            "the deck's sign kept: -intersection",
            "return 1 - torch.minimum(p, q).sum(dim=1)",
            "return -torch.minimum(p, q).sum(dim=1)",
            VISIBLE,
        ),
        squeezed("return 1 - torch.minimum(p, q).sum(dim=1)"),
        ("calls labkit's histogram_intersection_error", None, CALLS_LABKIT_HISTOGRAM),
    ],
    "interpretable_loss": [
        ("the guided gradient is not detached", "guided.detach()", "guided", VISIBLE),
        ("create_graph missing: no double backpropagation", "create_graph=True", "retain_graph=True", VISIBLE),
        (
            "sums the errors over the batch",
            "error(delta, guided.detach()).mean()",
            "error(delta, guided.detach()).sum()",
            VISIBLE,
        ),
        (
            "the cross-entropy summed over the batch",
            "F.cross_entropy(logits, targets)",
            'F.cross_entropy(logits, targets, reduction="sum")',
            VISIBLE,
        ),
        (
            "switches the model to evaluation mode",
            "x = images.detach().requires_grad_()",
            "model.eval()\n    x = images.detach().requires_grad_()",
            VISIBLE,
        ),
        ("evaluation mode inside, the mode restored after", None, EVAL_MODE_RESTORED, VISIBLE),
        (
            "two forward passes: the cross-entropy from a second one (another dropout mask)",
            "F.cross_entropy(logits, targets)",
            "F.cross_entropy(model(images), targets)",
        ),
        (
            "delta of the cross-entropy instead of the target logit",
            "score = logits.gather(1, targets[:, None]).sum()",
            "score = F.cross_entropy(logits, targets)",
        ),
        (
            "logits squeezed (a batch of one breaks the cross-entropy)",
            "F.cross_entropy(logits, targets)",
            "F.cross_entropy(logits.squeeze(), targets)",
        ),
        ("calls labkit's loss", None, CALLS_LABKIT_LOSS),
    ],
}
