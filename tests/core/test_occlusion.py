import math

import pytest
import torch
from captum.attr import Occlusion

import labkit
from labkit.attribution.occlusion import occlusion_centres, occlusion_positions, occlusion_scores, scores_to_pixels
from labkit.guards import hook_count


def slow_occlusion(model, image, target, patch, stride, baseline=0.0):
    """Zeiler & Fergus written out: one occluded copy at a time, then the per-pixel mean drop."""
    _, height, width = image.shape
    with torch.no_grad():
        full = model(image[None]).softmax(1)[0, target]
        total = torch.zeros(height, width)
        count = torch.zeros(height, width)
        top = 0
        while True:
            left = 0
            while True:
                occluded = image.clone()
                occluded[:, top : top + patch, left : left + patch] = baseline
                drop = full - model(occluded[None]).softmax(1)[0, target]
                total[top : top + patch, left : left + patch] += drop
                count[top : top + patch, left : left + patch] += 1
                if left + patch >= width:
                    break
                left += stride
            if top + patch >= height:
                break
            top += stride
    return total / count


@pytest.mark.parametrize(("size", "patch", "stride"), [(16, 4, 4), (17, 5, 3), (20, 7, 6), (12, 12, 5)])
def test_matches_a_slow_loop_on_a_toy_model(toy_model, size, patch, stride):
    images = torch.randn(2, 3, size, size)
    maps = labkit.occlusion(toy_model, images, [0, 2], patch=patch, stride=stride, batch_size=7)
    for image, target, fast in zip(images, [0, 2], maps):
        assert torch.allclose(fast, slow_occlusion(toy_model, image, target, patch, stride), atol=1e-6)


@pytest.mark.parametrize(("patch", "stride"), [(56, 56), (50, 40)])
def test_equals_captum_occlusion_on_the_default_model(classifier, patch, stride):
    inputs = classifier.preprocess(labkit.sample_batch(["chelsea", "coffee"]))
    targets = torch.tensor([285, 967])
    ours = labkit.occlusion(classifier.model, inputs, targets, patch=patch, stride=stride)
    captum = Occlusion(lambda x: classifier.model(x).softmax(1)).attribute(
        inputs,
        sliding_window_shapes=(3, patch, patch),
        strides=stride,
        baselines=0.0,
        target=targets,
        perturbations_per_eval=16,
    )
    assert torch.allclose(ours, captum[:, 0], atol=1e-6)
    assert torch.equal(captum[:, 0], captum[:, 2])


def test_equals_captum_with_logits_and_a_tensor_baseline(toy_model):
    images = torch.randn(3, 3, 19, 19)
    baseline = torch.tensor([0.5, -1.0, 2.0]).view(3, 1, 1)
    ours = labkit.occlusion(toy_model, images, 1, patch=6, stride=4, baseline=baseline, score="logit")
    captum = Occlusion(toy_model).attribute(
        images, sliding_window_shapes=(3, 6, 6), strides=4, baselines=baseline.expand(3, 19, 19), target=1
    )
    assert torch.allclose(ours, captum[:, 0], atol=1e-5)


def test_positions_cover_the_image_and_clip_only_the_last_square():
    assert occlusion_positions(224, 32, 16).tolist() == list(range(0, 193, 16))
    assert occlusion_positions(10, 4, 4).tolist() == [0, 4, 8]
    assert occlusion_positions(8, 8, 3).tolist() == [0]
    for size, patch, stride in [(224, 30, 16), (31, 5, 7), (100, 1, 1)]:
        starts = occlusion_positions(size, patch, stride)
        assert len(starts) == math.ceil((size - patch) / stride) + 1
        assert starts[-1] + patch >= size > starts[-2] + patch if len(starts) > 1 else True


def test_scores_grid_and_unoccluded_score(toy_model):
    images = torch.randn(2, 3, 16, 16)
    scores, full = occlusion_scores(toy_model, images, patch=8, stride=4)
    assert scores.shape == (2, 3, 3)
    probabilities = toy_model(images).softmax(1)
    assert torch.allclose(full, probabilities.max(1).values)
    pixels = scores_to_pixels(scores, full, 8, 4, (16, 16))
    assert pixels.shape == (2, 16, 16)


def test_default_baseline_is_gray_after_preprocessing(classifier):
    image = labkit.sample_image("coffee")
    inputs = classifier.preprocess(image)[None]
    scores, _ = occlusion_scores(classifier.model, inputs, 967, patch=224, stride=1)
    gray = classifier.preprocess(torch.full_like(image, 127 / 255))[None]
    with torch.no_grad():
        expected = classifier.model(gray).softmax(1)[0, 967]
    assert torch.allclose(scores[0, 0, 0], expected, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patch": 0}, "at least 1"),
        ({"stride": 0}, "at least 1"),
        ({"patch": 17}, "larger than the image"),
        ({"score": "softmax"}, "score must be"),
        ({"targets": 3}, "out of range"),
        ({"targets": [0, 1, 2]}, "one per image"),
        ({"targets": 1.5}, "integers"),
        ({"baseline": torch.zeros(2, 1, 1)}, "broadcast"),
        ({"placement": "centered"}, "placement must be"),
        ({"placement": "centred", "patch": 0}, "at least 1"),
        ({"placement": "centred", "stride": 0}, "at least 1"),
    ],
)
def test_bad_arguments_get_clear_errors_and_leave_the_model_untouched(toy_model, kwargs, message):
    toy_model.train()
    before = hook_count(toy_model)
    with pytest.raises((ValueError, TypeError), match=message):
        labkit.occlusion(toy_model, torch.randn(2, 3, 16, 16), **{"patch": 8, "stride": 4, **kwargs})
    assert toy_model.training and all(m.training for m in toy_model.modules())
    assert all(p.requires_grad for p in toy_model.parameters())
    assert hook_count(toy_model) == before == 0


def test_model_is_restored_after_a_run(toy_model):
    toy_model.train()
    toy_model[0].weight.requires_grad_(False)
    labkit.occlusion(toy_model, torch.randn(1, 3, 16, 16), patch=8, stride=8)
    assert toy_model.training and not toy_model[0].weight.requires_grad and toy_model[2].weight.requires_grad
    assert hook_count(toy_model) == 0


def test_batch_size_does_not_change_the_result(toy_model):
    images = torch.randn(3, 3, 16, 16)
    one = labkit.occlusion(toy_model, images, patch=5, stride=3, batch_size=1)
    many = labkit.occlusion(toy_model, images, patch=5, stride=3, batch_size=1000)
    auto = labkit.occlusion(toy_model, images, patch=5, stride=3)
    assert torch.allclose(one, many, atol=1e-6) and torch.allclose(one, auto, atol=1e-6)


def slow_centred_occlusion(model, image, target, patch, stride):
    """The lab deck's loop: for each pixel (one per stride x stride block), gray the square centred on it."""
    _, height, width = image.shape
    half_before, half_after = (patch - 1) // 2, patch // 2
    with torch.no_grad():
        full = model(image[None]).softmax(1)[0, target]
        block_rows = [range(top, min(top + stride, height)) for top in range(0, height, stride)]
        block_cols = [range(left, min(left + stride, width)) for left in range(0, width, stride)]
        probabilities = torch.zeros(len(block_rows), len(block_cols))
        drops = torch.zeros(height, width)
        for r, rows in enumerate(block_rows):
            for c, cols in enumerate(block_cols):
                i, j = rows[(len(rows) - 1) // 2], cols[(len(cols) - 1) // 2]  # the block's middle pixel
                occluded = image.clone()
                occluded[
                    :, max(i - half_before, 0) : i + half_after + 1, max(j - half_before, 0) : j + half_after + 1
                ] = 0
                probabilities[r, c] = model(occluded[None]).softmax(1)[0, target]
                for row in rows:
                    for col in cols:
                        drops[row, col] = full - probabilities[r, c]
    return probabilities, drops


@pytest.mark.parametrize(
    ("height", "width", "patch", "stride"), [(9, 9, 5, 1), (13, 10, 4, 3), (11, 16, 1, 2), (7, 8, 15, 4)]
)
def test_centred_placement_matches_the_lab_decks_loop(toy_model, height, width, patch, stride):
    images = torch.randn(2, 3, height, width)
    scores, _ = occlusion_scores(
        toy_model, images, [1, 2], patch=patch, stride=stride, placement="centred", batch_size=5
    )
    maps = labkit.occlusion(toy_model, images, [1, 2], patch=patch, stride=stride, placement="centred")
    for image, target, fast_scores, fast_map in zip(images, [1, 2], scores, maps):
        slow_scores, slow_map = slow_centred_occlusion(toy_model, image, target, patch, stride)
        assert torch.allclose(fast_scores, slow_scores, atol=1e-6)
        assert torch.allclose(fast_map, slow_map, atol=1e-6)


def test_centres_are_every_pixel_at_stride_1_and_block_middles_otherwise():
    assert occlusion_centres(5, 1).tolist() == [0, 1, 2, 3, 4]
    assert occlusion_centres(224, 16).tolist() == list(range(7, 224, 16))
    assert occlusion_centres(10, 4).tolist() == [1, 5, 8]  # blocks 0-3, 4-7, 8-9
