"""Lab 8's usual mistakes (error functions, the interpretable gradient loss)."""

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

MISTAKES: dict[str, list[tuple[str, str | None, str]]] = {
    "cosine_error": [
        ("cos instead of 1 - cos", "return 1 - cos", "return cos"),
        ("cosine over the channels of each pixel, not over the whole image", ".flatten(1)", ""),
        ("one cosine for the whole batch", ".flatten(1)", ".flatten()[None]"),
        ("calls labkit's cosine_error", None, CALLS_LABKIT_COSINE),
    ],
    "histogram_intersection_error": [
        ("no absolute values", "delta.flatten(1).abs()", "delta.flatten(1)"),
        ("no normalisation of the histograms", "p = a / a.sum(dim=1, keepdim=True)", "p = a"),
        ("normalised by the batch's total", "a.sum(dim=1, keepdim=True)", "a.sum()"),
        (
            "the deck's sign kept: -intersection",
            "return 1 - torch.minimum(p, q).sum(dim=1)",
            "return -torch.minimum(p, q).sum(dim=1)",
        ),
        ("calls labkit's histogram_intersection_error", None, CALLS_LABKIT_HISTOGRAM),
    ],
    "interpretable_loss": [
        ("the guided gradient is not detached", "guided.detach()", "guided"),
        ("create_graph missing: no double backpropagation", "create_graph=True", "retain_graph=True"),
        (
            "sums the errors over the batch",
            "error(delta, guided.detach()).mean()",
            "error(delta, guided.detach()).sum()",
        ),
        ("calls labkit's loss", None, CALLS_LABKIT_LOSS),
    ],
}
