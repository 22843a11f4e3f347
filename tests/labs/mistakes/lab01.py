"""Lab 1's usual mistakes (occlusion, strongest units)."""

CALLS_LABKIT_OCCLUSION = (
    "def occlusion_probabilities(model, x, target, patch, stride):\n"
    "    import labkit\n"
    "    return labkit.occlusion_scores(model, x[None], target, patch=patch, stride=stride)[0][0]\n"
)

CALLS_LABKIT_SCORES_TO_PIXELS = (
    "def occlusion_map(probabilities, p_full, patch, stride, size):\n"
    "    from labkit.attribution.occlusion import scores_to_pixels\n"
    "    return scores_to_pixels(probabilities[None], torch.tensor([p_full]), patch, stride, size)[0]\n"
)

SEVERAL_UNITS_PER_IMAGE = (
    "def strongest_units(maps, k):\n"
    "    flat = maps.flatten().topk(k).indices\n"
    "    per_image = maps[0].numel()\n"
    "    width = maps.shape[-1]\n"
    "    return torch.stack([flat // per_image, flat % per_image // width, flat % width], dim=1)\n"
)

MISTAKES: dict[str, list[tuple[str, str | None, str]]] = {
    "occlusion_probabilities": [
        ("occludes with black, not with 0 (gray after preprocessing)", "= 0.0", "= -127 / 128"),
        ("stops one square short of the border", "height - patch + stride", "height - patch"),
        ("misses the last column", "width - patch + stride", "width - patch + 1"),
        ("uses logits instead of probabilities", ".softmax(dim=1)", ""),
        (
            "the image's height for both axes (square images only)",
            "range(0, width - patch + stride",
            "range(0, height - patch + stride",
        ),
        ("the predicted class instead of the given target", "[:, target]", "[:, int(model(x[None]).argmax())]"),
        ("calls labkit's occlusion", None, CALLS_LABKIT_OCCLUSION),
    ],
    "occlusion_map": [
        ("wrong sign", "p_full - float(probabilities[row, col])", "float(probabilities[row, col]) - p_full"),
        ("sums instead of averaging", "return total / count", "return total"),
        ("misses the clipped squares at the border", "height - patch + stride", "height - patch + 1"),
        (
            "the image's height for both axes (square images only)",
            "range(0, width - patch + stride",
            "range(0, height - patch + stride",
        ),
        ("calls labkit's scores_to_pixels", None, CALLS_LABKIT_SCORES_TO_PIXELS),
    ],
    "strongest_units": [
        ("takes the minimum", "maps.flatten(1).max(dim=1)", "maps.flatten(1).min(dim=1)"),
        ("sorts smallest first", "argsort(descending=True)", "argsort()"),
        ("row and column from the height (square maps only)", "width = maps.shape[-1]", "width = maps.shape[-2]"),
        ("several units of one image", None, SEVERAL_UNITS_PER_IMAGE),
        (
            "calls labkit's strongest_units",
            "peaks, positions",
            "from labkit.patches import strongest_units as s\n    return s(maps, k)\n    peaks, positions",
        ),
    ],
}
