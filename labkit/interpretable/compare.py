"""Our recorded tables beside the deck's: the direction each metric moves, judged by the intervals.

For a metric M, the deck's direction is the sign of (regularised - baseline) in its table; ours
is read from the two rows' 95 % bootstrap intervals (:mod:`labkit.interpretable.experiments`):
``"with the deck"`` when the intervals do not overlap and the difference has the deck's sign,
``"against the deck"`` when they do not overlap and it has the other sign, ``"within the noise"``
when they overlap (a conservative reading: overlapping intervals can still hide a paired difference).
"""

from __future__ import annotations

import json

import pandas as pd

from labkit.interpretable.deck_tables import METRICS
from labkit.interpretable.experiments import RESULTS_DIR


def recorded(name: str, arch: str | None = None) -> tuple[pd.DataFrame, dict]:
    """A recorded table (``<name>_<arch>.csv``, or ``<name>.csv`` without ``arch``) and its side JSON (if any)."""
    stem = f"{name}_{arch}" if arch else name
    path = RESULTS_DIR / f"{stem}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"No recorded table {path}; `make results` makes it (see its JSON for the command).")
    side = path.with_suffix(".json")
    return pd.read_csv(path), json.loads(side.read_text()) if side.is_file() else {}


def direction(ours_baseline: pd.Series, ours_regularised: pd.Series, deck_change: float, metric: str) -> str:
    """How ``metric`` moves from our baseline row to our regularised row, against the deck's change."""
    low, high = f"{metric}_low", f"{metric}_high"
    if ours_regularised[low] <= ours_baseline[high] and ours_baseline[low] <= ours_regularised[high]:
        return "within the noise"
    ours_up = ours_regularised[metric] > ours_baseline[metric]
    return "with the deck" if ours_up == (deck_change > 0) else "against the deck"


def directions(
    ours: pd.DataFrame, deck: pd.DataFrame, baseline: str, regularised: str, metrics: list[str] | None = None
) -> pd.DataFrame:
    """One row per metric: the deck's change and ours (regularised - baseline) and the verdict.

    ``ours`` and ``deck`` are indexed by row label (e.g. the ERROR column); ``baseline`` and
    ``regularised`` name the two rows compared in both."""
    rows = {}
    for metric in metrics or [m for m in ["ACC", *METRICS] if m in deck.columns and m in ours.columns]:
        deck_change = float(deck.loc[regularised, metric] - deck.loc[baseline, metric])
        rows[metric] = {
            "deck change": deck_change,
            "our change": float(ours.loc[regularised, metric] - ours.loc[baseline, metric]),
            "ours": direction(ours.loc[baseline], ours.loc[regularised], deck_change, metric),
        }
    return pd.DataFrame.from_dict(rows, orient="index")
