"""Simonyan et al.'s weakly supervised localisation on the shapes data, beside Grad-CAM and a centre box.

    python -m labkit.experiments.localisation [--model shapes_resnet18] [--images 200] [--seed 0] [--size PX]

For a fixed, seeded set of test images of :mod:`labkit.data.shapes` (one object each; its box is the
box of its exact mask), the classifier's top-1 class is explained with saliency (max over RGB of
|dS/dx|, as the paper) and with Grad-CAM (upsampled to the image); each map goes through the same
pipeline (:func:`labkit.metrics.localisation.localise`). The centre box is the baseline that looks
at nothing: a box in the middle of the image whose side is the mean side of the true boxes (the best
fixed square knowing the objects' average size). Prints localisation accuracy at IoU >= 0.5, the
mean IoU, and the classification accuracy (localisation is scored whatever the predicted class).
The shapes classifiers see the images at the 32 px they were trained on; an ImageNet model (the
course's default ``efficientnet_lite0``) sees them drawn at 224 px, and explains its own top class,
which is no shape class (its classification accuracy is then not defined and printed as NaN).
"""

from __future__ import annotations

import argparse

import torch

from labkit.attribution import grad_cam, saliency
from labkit.data.shapes import generate_shapes
from labkit.metrics.localisation import box_iou, centre_boxes, localisation_accuracy, localise, mask_boxes
from labkit.models import load_model
from labkit.reference.registry import REFERENCE_NAMES


def localisation_table(
    model_name: str, n_images: int, seed: int, size: int = 32, chunk: int = 16
) -> list[tuple[str, float, float]]:
    """(method, accuracy at IoU >= 0.5, mean IoU) for saliency, Grad-CAM and the centre box; first row: the
    classifier's accuracy (as accuracy and NaN)."""
    clf = load_model(model_name, device="cpu")
    data = generate_shapes(n_images, size=size, seed=seed, split="test")
    truths = mask_boxes(data.masks)
    side = float(((truths[:, 2] - truths[:, 0]) * (truths[:, 3] - truths[:, 1])).double().mean().sqrt()) / size
    found: dict[str, list[torch.Tensor]] = {"saliency (Simonyan)": [], "Grad-CAM": []}
    predictions = []
    for start in range(0, n_images, chunk):  # a chunk's backward pass at a time (224 px images are large)
        images = data.images[start : start + chunk]
        inputs = clf.preprocess(images)
        with torch.no_grad():
            predicted = clf.model(inputs).argmax(dim=1)
        predictions.append(predicted)
        found["saliency (Simonyan)"].append(localise(images, saliency(clf.model, inputs, predicted)))
        found["Grad-CAM"].append(localise(images, grad_cam(clf.model, inputs, predicted, layer=clf.cam_layer)))
    predicted = torch.cat(predictions)
    boxes = {name: torch.cat(parts) for name, parts in found.items()}
    boxes["centre box"] = centre_boxes((size, size), n_images, side)
    correct = float((predicted == data.labels).double().mean()) if model_name in REFERENCE_NAMES else float("nan")
    rows = [("classification (top-1)", correct, float("nan"))]
    for name, predicted_boxes in boxes.items():
        iou = box_iou(predicted_boxes, truths)
        rows.append((name, localisation_accuracy(predicted_boxes, truths), float(iou.mean())))
    return rows


def main(argv: list[str] | None = None) -> list[tuple[str, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="shapes_resnet18", help="a classifier trained on the shapes data")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, help="image size in pixels (default: 32 for a shapes model, else 224)")
    args = parser.parse_args(argv)
    size = args.size or (32 if args.model in REFERENCE_NAMES else 224)
    rows = localisation_table(args.model, args.images, args.seed, size)
    print(f"model={args.model} images={args.images} seed={args.seed} size={size} split=test IoU threshold=0.5")
    print(f"{'method':24s} {'accuracy':>9s} {'mean IoU':>9s}")
    for name, accuracy, iou in rows:
        print(f"{name:24s} {100 * accuracy:8.1f}% {iou:9.3f}")
    return rows


if __name__ == "__main__":
    main()
