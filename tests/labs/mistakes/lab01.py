"""Lab 1's usual mistakes (occlusion, strongest units)."""

from tests.labs.mistakes import VISIBLE

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


def mode_mistakes(indent: str) -> list[tuple]:
    """The two mode mistakes of an answer that calls a model: computes in the mode it was given (train mode:
    batch statistics, dropout), or leaves the model in eval mode. ``indent``: that of the answer's
    ``model.eval()`` line; its ``model.train(was_training)`` ends a ``finally:`` block at 8 spaces."""
    return [
        ("calls the model in the mode it was given (train mode)", f"{indent}model.eval()\n", "", VISIBLE),
        ("leaves the model in eval mode", "        model.train(was_training)\n", "        pass\n", VISIBLE),
    ]


NO_SIZE_CHECK = ("        raise ValueError(", "        print(")

MISTAKES: dict[str, list[tuple]] = {
    "occlusion_probabilities": [
        ("occludes with black, not with 0 (gray after preprocessing)", "= 0.0", "= -127 / 128", VISIBLE),
        ("stops one square short of the border", "height - patch + stride", "height - patch", VISIBLE),
        ("misses the last column", "width - patch + stride", "width - patch + 1", VISIBLE),
        (
            "floor-based count of positions (misses the clipped last square)",
            "tops = range(0, height - patch + stride, stride)",
            "tops = range(0, height - patch + 1, stride)",
            VISIBLE,
        ),
        ("uses logits instead of probabilities", ".softmax(dim=1)", "", VISIBLE),
        (
            "the image's height for both axes (square images only)",
            "range(0, width - patch + stride",
            "range(0, height - patch + stride",
            VISIBLE,
        ),
        (
            "the predicted class instead of the given target",
            "[:, target]",
            "[:, int(model(x[None]).argmax())]",
            VISIBLE,
        ),
        ("no error for a patch larger than the image", *NO_SIZE_CHECK, VISIBLE),
        *mode_mistakes("    "),
        ("calls labkit's occlusion", None, CALLS_LABKIT_OCCLUSION),
    ],
    "occlusion_map": [
        (
            "wrong sign",
            "p_full - float(probabilities[row, col])",
            "float(probabilities[row, col]) - p_full",
            VISIBLE,
        ),
        ("sums instead of averaging", "return total / count", "return total", VISIBLE),
        ("misses the clipped squares at the border", "height - patch + stride", "height - patch + 1", VISIBLE),
        (
            "floor-based count of positions across (misses the clipped last column)",
            "range(0, width - patch + stride, stride)",
            "range(0, (width - patch) // stride * stride + 1, stride)",
            VISIBLE,
        ),
        (
            "the image's height for both axes (square images only)",
            "range(0, width - patch + stride",
            "range(0, height - patch + stride",
            VISIBLE,
        ),
        (
            "squares do not overlap (steps of patch instead of stride)",
            "range(0, width - patch + stride, stride)",
            "range(0, width - patch + patch, patch)",
            VISIBLE,
        ),
        ("no error for a patch larger than the image", *NO_SIZE_CHECK, VISIBLE),
        ("calls labkit's scores_to_pixels", None, CALLS_LABKIT_SCORES_TO_PIXELS),
    ],
    "strongest_units": [
        ("takes the minimum", "maps.flatten(1).max(dim=1)", "maps.flatten(1).min(dim=1)", VISIBLE),
        ("sorts smallest first", "argsort(descending=True, stable=True)", "argsort(stable=True)", VISIBLE),
        (
            "row and column from the height (square maps only)",
            "width = maps.shape[-1]",
            "width = maps.shape[-2]",
            VISIBLE,
        ),
        ("several units of one image", None, SEVERAL_UNITS_PER_IMAGE, VISIBLE),
        (
            "ties between images: the larger image index first",
            "images = peaks.argsort(descending=True, stable=True)[:k]",
            "images = (len(peaks) - 1 - peaks.flip(0).argsort(descending=True, stable=True))[:k]",
            VISIBLE,
        ),
        (
            "ties within an image: the last maximum in raster order",
            "peaks, positions = maps.flatten(1).max(dim=1)",
            "peaks, last = maps.flatten(1).flip(1).max(dim=1)\n    positions = maps[0].numel() - 1 - last",
            VISIBLE,
        ),
        (
            "calls labkit's strongest_units",
            "peaks, positions",
            "from labkit.patches import strongest_units as s\n    return s(maps, k)\n    peaks, positions",
        ),
    ],
}
