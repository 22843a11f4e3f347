"""Our recorded tables beside the deck's: which way each metric moves, judged by paired differences.

Two rows of a recorded table (the baseline and a regularised model) are scored on the **same** test
images, so they are compared image by image: for a metric M with values M_i (baseline) and M'_i
(regularised) on image i, the change is the mean of d_i = M'_i - M_i with its 95 % percentile
bootstrap interval over images (:func:`labkit.metrics.bootstrap.paired_difference`; Efron &
Tibshirani 1993, §14). The words are :func:`labkit.metrics.bootstrap.verdict`'s: "better" or
"worse" (for AD and deletion lower is better) only when the interval excludes 0, else "within the
noise". The deck prints means only, so its change is read as printed and called "better" or "worse"
by its sign. The per-image values are the ``*_per_image.csv`` files beside the tables
(:mod:`labkit.interpretable.experiments`).
"""

from __future__ import annotations

import json

import pandas as pd

from labkit.interpretable.deck_tables import METRICS
from labkit.interpretable.experiments import PER_IMAGE, RESULTS_DIR
from labkit.metrics.bootstrap import paired_difference, verdict
from labkit.paths import ROOT
from labkit.viz.tables import LOWER_IS_BETTER


def recorded(name: str, arch: str | None = None) -> tuple[pd.DataFrame, dict]:
    """A recorded table (``<name>_<arch>.csv``, or ``<name>.csv`` without ``arch``) and its side JSON (if any)."""
    stem = f"{name}_{arch}" if arch else name
    path = RESULTS_DIR / f"{stem}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"No recorded table {path}; `make results` makes it (see its JSON for the command).")
    side = path.with_suffix(".json")
    return pd.read_csv(path), json.loads(side.read_text()) if side.is_file() else {}


def recorded_images(name: str, arch: str) -> pd.DataFrame:
    """The per-image values behind recorded table ``<name>_<arch>.csv`` (one line per row and image)."""
    path = RESULTS_DIR / f"{name}_{arch}{PER_IMAGE}"
    if not path.is_file():
        experiment = "methods" if name in ("accuracy", "methods") else name
        raise FileNotFoundError(
            f"No per-image values {path.relative_to(ROOT)}: the table was recorded before they were kept. "
            f"`python -m labkit.interpretable.experiments {experiment} --arch {arch} ...` re-makes it with them "
            "(`make results` runs every line)."
        )
    return pd.read_csv(path)


def _sign_word(change: float, metric: str) -> str:
    """ "better" or "worse" for a change of ``metric`` read without an interval (the deck's printed means)."""
    if change == 0:
        return "no change"
    return "better" if (change > 0) != (metric in LOWER_IS_BETTER) else "worse"


def paired_changes(
    images: pd.DataFrame,
    key: str,
    baseline: object,
    regularised: object,
    deck: pd.DataFrame | None = None,
    metrics: list[str] | None = None,
) -> pd.DataFrame:
    """One row per metric: our change (regularised - baseline, mean over the images) with its paired 95 %
    interval and verdict, and the deck's printed change and its direction.

    ``images``: per-image values (a ``*_per_image.csv``, already cut to one method where it has several),
    whose column ``key`` names the row (e.g. ``"ERROR"``) and ``image`` the image; ``baseline`` and
    ``regularised``: the two rows' labels, in ``images`` and in ``deck`` (indexed by the same labels)."""
    rows = {label: images[images[key] == label].set_index("image").sort_index() for label in (baseline, regularised)}
    first, second = rows[baseline], rows[regularised]
    if first.empty or second.empty or not first.index.equals(second.index):
        raise ValueError(
            f"Rows {baseline!r} and {regularised!r} of column {key!r} must both be present and scored on the same "
            f"images; found {len(first)} and {len(second)} images."
        )
    metrics = metrics or [m for m in ["ACC", *METRICS, "PG"] if m in first.columns and first[m].notna().any()]
    table = {}
    for metric in metrics:
        interval = paired_difference(first[metric].to_numpy(), second[metric].to_numpy())
        row = {"our change": interval[0], "low": interval[1], "high": interval[2]}
        row["ours"] = verdict(interval, higher_is_better=metric not in LOWER_IS_BETTER)
        if deck is not None and metric in deck.columns:
            change = float(deck.loc[regularised, metric] - deck.loc[baseline, metric])
            row |= {"deck change": change, "deck": _sign_word(change, metric)}
        table[metric] = row
    return pd.DataFrame.from_dict(table, orient="index")


def described(changes: pd.DataFrame, digits: int = 1) -> pd.Series:
    """One text per metric of a :func:`paired_changes` table: ``"-3.6 [-6.1, -1.2] worse (deck: better)"``."""

    def text(row: pd.Series) -> str:
        ours = f"{row['our change']:+.{digits}f} [{row['low']:+.{digits}f}, {row['high']:+.{digits}f}] {row['ours']}"
        return f"{ours} (deck: {row['deck']})" if isinstance(row.get("deck"), str) else ours

    return changes.apply(text, axis=1)
