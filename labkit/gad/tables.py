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
from labkit.metrics.bootstrap import mean_interval

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


def table2_with_intervals(results: pd.DataFrame, scale: float = 100.0) -> pd.DataFrame:
    """Table 2 with each mean's 95 % percentile bootstrap interval over images (:mod:`labkit.metrics.bootstrap`):
    columns ``<method>``, ``<method>_low``, ``<method>_high``; NaN RS (empty regions) are left out."""
    rows = {}
    for target in sorted(results["target"].unique()):
        chosen = results[results["target"] == target]
        for label, column in ((f"Sup. {target + 1}", "rs_sup"), (f"GAD {target + 1}", "rs_gad")):
            row = {}
            for method in [m for m in METHODS if m in set(chosen["method"])]:
                mean, low, high = mean_interval(chosen.loc[chosen["method"] == method, column].to_numpy() * scale)
                row |= {method: mean, f"{method}_low": low, f"{method}_high": high}
            rows[label] = row
    return pd.DataFrame(rows).T


def paper_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's Tables 1 and 2 for ResNet-18 on cats vs dogs (512 images; Table 2 as printed, "10^2 scale")."""
    methods = list(METHODS)
    rows = ["Orig. 1", "GAD 1", "Orig. 2", "GAD 2"]
    one = pd.DataFrame(
        [[122, 0, 2, 10, 7], [390, 512, 492, 453, 497], [130, 0, 3, 5, 2], [380, 512, 490, 460, 488]],
        index=rows,
        columns=methods,
    )
    two = pd.DataFrame(
        [
            [0.06, 0.0013, 0.0016, 0.13, 0.0016],
            [0.03, 0.0024, 0.07, 0.51, 0.12],
            [0.05, 0.0012, 0.0016, 0.10, 0.0020],
            [0.07, 0.0024, 0.16, 0.47, 0.16],
        ],
        index=["Sup. 1", "GAD 1", "Sup. 2", "GAD 2"],
        columns=methods,
    )
    return one, two
