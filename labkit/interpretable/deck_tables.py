"""The deck's Tables 1-4 (Torres Figueroa et al., ResNet-18 and MobileNet-V2 trained 200 epochs on
CIFAR-100), as printed, to set beside the recorded small-scale tables of
:mod:`labkit.interpretable.experiments`. Columns as there: ACC, AD, AG, AI, INS, DEL (percent).
"""

from __future__ import annotations

import pandas as pd

METRICS = ["AD", "AG", "AI", "INS", "DEL"]
MODELS = {"resnet18": "ResNet-18", "mobilenet_v2": "MobileNet-V2"}


def deck_accuracy() -> pd.DataFrame:
    """Table 1: accuracy of the baseline and of the cosine-regularised model (lambda as printed)."""
    return pd.DataFrame(
        [
            ["resnet18", "Baseline", 0.0, 73.42],
            ["resnet18", "Ours (cosine)", 7.5e-3, 72.86],
            ["mobilenet_v2", "Baseline", 0.0, 59.43],
            ["mobilenet_v2", "Ours (cosine)", 1e-3, 62.36],
        ],
        columns=["MODEL", "ERROR", "LAMBDA", "ACC"],
    )


def deck_methods() -> pd.DataFrame:
    """Table 2: AD, AG, AI, INS, DEL per CAM method, baseline vs cosine, for both architectures."""
    rows = {
        "resnet18": {
            "Grad-CAM": ([30.16, 15.23, 29.99, 58.47, 17.47], [28.09, 16.19, 31.53, 58.76, 17.57]),
            "Grad-CAM++": ([31.40, 14.17, 28.47, 58.61, 17.05], [29.78, 15.07, 29.60, 58.90, 17.22]),
            "Score-CAM": ([26.49, 18.62, 33.84, 58.42, 18.31], [24.82, 19.49, 35.51, 59.11, 18.34]),
            "Ablation-CAM": ([31.96, 14.02, 28.33, 58.36, 17.14], [29.90, 15.03, 29.61, 58.70, 17.37]),
            "Axiom-CAM": ([30.16, 15.23, 29.98, 58.47, 17.47], [28.09, 16.20, 31.53, 58.76, 17.57]),
        },
        "mobilenet_v2": {
            "Grad-CAM": ([44.64, 6.57, 25.62, 44.64, 14.34], [40.89, 7.31, 27.08, 45.57, 15.20]),
            "Grad-CAM++": ([45.98, 6.12, 24.10, 44.72, 14.76], [40.76, 6.85, 26.46, 45.51, 14.92]),
            "Score-CAM": ([40.55, 7.85, 28.57, 45.62, 14.52], [36.34, 9.09, 30.50, 46.35, 14.72]),
            "Ablation-CAM": ([45.15, 6.38, 25.32, 44.62, 15.03], [41.13, 7.03, 26.10, 45.38, 15.12]),
            "Axiom-CAM": ([44.65, 6.57, 25.62, 44.64, 15.27], [40.89, 7.31, 27.08, 45.57, 15.20]),
        },
    }
    return pd.DataFrame(
        [
            {"MODEL": model, "METHOD": method, "ERROR": label, **dict(zip(METRICS, values, strict=True))}
            for model, methods in rows.items()
            for method, pair in methods.items()
            for label, values in zip(("Baseline", "Ours (cosine)"), pair, strict=True)
        ]
    )


def deck_errors() -> pd.DataFrame:
    """Table 3: each error function (ResNet-18, Grad-CAM; the deck does not print its lambdas)."""
    return pd.DataFrame(
        [
            ["Baseline", 73.42, 30.16, 15.23, 29.99, 58.47, 17.47],
            ["cosine", 72.86, 28.09, 16.19, 31.53, 58.76, 17.57],
            ["histogram", 73.88, 30.39, 14.78, 29.38, 58.52, 17.35],
            ["mae", 73.41, 30.33, 15.06, 29.61, 58.13, 17.95],
            ["mse", 73.86, 29.64, 15.19, 30.11, 59.05, 18.02],
        ],
        columns=["ERROR", "ACC", *METRICS],
    )


def deck_lambdas() -> pd.DataFrame:
    """Table 4: the cosine error's lambda (ResNet-18, Grad-CAM; 0 is the baseline)."""
    return pd.DataFrame(
        [
            [0.0, 73.42, 30.16, 15.23, 29.99, 58.47, 17.47],
            [1e-3, 73.71, 29.52, 15.17, 30.03, 59.23, 17.45],
            [2.5e-3, 72.99, 30.53, 15.82, 30.56, 59.04, 17.96],
            [5e-3, 72.46, 30.10, 16.06, 30.67, 57.47, 17.80],
            [7.5e-3, 72.86, 28.09, 16.20, 31.53, 58.76, 17.57],
            [1e-2, 73.28, 28.97, 15.75, 31.16, 58.99, 17.50],
            [1e-1, 73.00, 28.93, 16.13, 31.55, 59.66, 17.95],
            [1.0, 73.30, 28.44, 16.02, 31.31, 58.64, 17.48],
            [10.0, 73.04, 29.28, 15.23, 30.47, 58.74, 17.47],
        ],
        columns=["LAMBDA", "ACC", *METRICS],
    )
