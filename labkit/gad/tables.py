"""The GAD paper's Tables 1 and 2 from per-image results (one row per image, method and explained class).

Table 1 (complexity) counts, for each class a and method, the images where GAD's hull is
smaller than the original's (RC < 1, row "GAD a") and the others (RC >= 1, row "Orig. a").
Table 2 (sensitivity) gives the mean RS of GAD's hull ("GAD a") and of the supplementary
region M_orig - M_GAD ("Sup. a"), times 100 as in the paper. Columns follow the paper's
order S, D, GxI, GB, IG.
"""

from __future__ import annotations

import pandas as pd

from labkit.gad.maps import METHODS

#: Columns of the per-image results.
COLUMNS = ("method", "image", "label", "target", "original_area", "gad_area", "rc", "rs_gad", "rs_sup")


def _order(table: pd.DataFrame) -> pd.DataFrame:
    methods = [m for m in METHODS if m in table.columns]
    return table[methods]


def table1(results: pd.DataFrame) -> pd.DataFrame:
    """Counts of images per row (Orig. a: RC >= 1, GAD a: RC < 1) and method (columns)."""
    rows = {}
    for target in sorted(results["target"].unique()):
        chosen = results[results["target"] == target]
        smaller = chosen["rc"] < 1
        rows[f"Orig. {target + 1}"] = (~smaller).groupby(chosen["method"]).sum()
        rows[f"GAD {target + 1}"] = smaller.groupby(chosen["method"]).sum()
    return _order(pd.DataFrame(rows).T.astype(int))


def table2(results: pd.DataFrame, scale: float = 100.0) -> pd.DataFrame:
    """Mean RS x ``scale`` per row (Sup. a, GAD a) and method; NaN RS (empty regions) are left out."""
    rows = {}
    for target in sorted(results["target"].unique()):
        chosen = results[results["target"] == target]
        rows[f"Sup. {target + 1}"] = chosen.groupby("method")["rs_sup"].mean() * scale
        rows[f"GAD {target + 1}"] = chosen.groupby("method")["rs_gad"].mean() * scale
    return _order(pd.DataFrame(rows).T)
