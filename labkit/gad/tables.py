"""The GAD paper's Tables 1 and 2 from per-image results (one row per image, method and explained class).

Table 1 (complexity) counts, for each class a and method, the images where GAD's hull is
smaller than the original's, 0 < RC < 1 (row "GAD a": the paper's Section 5, "0 < RC < 1.0
represents a smaller important region"), and those where it is not, RC >= 1 (row "Orig. a").
An image whose GAD selection is empty (RC = 0, no hull) counts for neither: :func:`left_out`
counts those, as the paper's Table 1 rows that do not sum to 512 (:func:`paper_left_out`) left
some images out. Table 2 (sensitivity) gives the mean RS of GAD's hull ("GAD a") and of the
supplementary region M_orig - M_GAD ("Sup. a"), times 100 as in the paper. Columns follow the
paper's order S, D, GxI, GB, IG.

GAD's region and the supplementary region are scored on the same images, so they are compared
by :func:`paired_rs`: the mean over images of RS(GAD) - RS(Sup.) with the percentile bootstrap
interval of that per-image difference (:func:`labkit.metrics.bootstrap.paired_difference`) and
:func:`labkit.metrics.bootstrap.verdict`'s word for it ("better": occluding GAD's hull changes the
output more per pixel).
"""

from __future__ import annotations

import pandas as pd

from labkit.gad.maps import METHODS
from labkit.metrics.bootstrap import mean_interval, paired_difference, verdict

#: Columns of the per-image results.
COLUMNS = ("method", "image", "label", "target", "original_area", "gad_area", "rc", "rs_gad", "rs_sup")


def _order(table: pd.DataFrame) -> pd.DataFrame:
    methods = [m for m in METHODS if m in table.columns]
    return table[methods]


def gad_wins(rc: pd.Series) -> pd.Series:
    """True where GAD's hull is smaller than the original's as the paper counts it: 0 < RC < 1."""
    return (rc > 0) & (rc < 1)


def table1(results: pd.DataFrame) -> pd.DataFrame:
    """Counts of images per row (Orig. a: RC >= 1, GAD a: 0 < RC < 1) and method (columns); an empty GAD
    selection (RC = 0) is in neither row (see :func:`left_out`)."""
    rows = {}
    for target in sorted(results["target"].unique()):
        chosen = results[results["target"] == target]
        rows[f"Orig. {target + 1}"] = (chosen["rc"] >= 1).groupby(chosen["method"]).sum()
        rows[f"GAD {target + 1}"] = gad_wins(chosen["rc"]).groupby(chosen["method"]).sum()
    return _order(pd.DataFrame(rows).T.astype(int))


def left_out(results: pd.DataFrame) -> pd.DataFrame:
    """Images per class a ("Left out a") and method that Table 1 does not count: RC = 0 (GAD kept no pixel)
    or undefined."""
    rows = {}
    for target in sorted(results["target"].unique()):
        chosen = results[results["target"] == target]
        counted = gad_wins(chosen["rc"]) | (chosen["rc"] >= 1)
        rows[f"Left out {target + 1}"] = (~counted).groupby(chosen["method"]).sum()
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


def paired_rs(results: pd.DataFrame, scale: float = 100.0) -> pd.DataFrame:
    """RS(GAD) - RS(Sup.) x ``scale`` per class and method, paired over the images that have both (an empty
    region's NaN RS leaves its image out): columns ``images``, ``difference``, ``low``, ``high`` (the 95 %
    bootstrap interval of the mean per-image difference) and ``verdict`` ("better": GAD's hull changes the
    output more per pixel than the supplementary region; "worse"; "within the noise"), indexed by
    (``row`` "1", "2": the class a, ``method``)."""
    rows = []
    for target in sorted(results["target"].unique()):
        chosen = results[results["target"] == target]
        for method in [m for m in METHODS if m in set(chosen["method"])]:
            scored = chosen[chosen["method"] == method].dropna(subset=["rs_gad", "rs_sup"])
            interval = paired_difference(scored["rs_sup"].to_numpy() * scale, scored["rs_gad"].to_numpy() * scale)
            mean, low, high = interval
            rows.append(
                {
                    "row": str(target + 1),
                    "method": method,
                    "images": len(scored),
                    "difference": mean,
                    "low": low,
                    "high": high,
                    "verdict": verdict(interval),
                }
            )
    return pd.DataFrame(rows).set_index(["row", "method"])


def paired_summary(paired: pd.DataFrame, precision: int = 3) -> pd.DataFrame:
    """:func:`paired_rs` as one text cell per class (rows) and method (columns):
    ``"+0.123 [0.045, 0.210] better (n=250)"``."""
    text = paired.apply(
        lambda r: (
            f"{r.difference:+.{precision}f} [{r.low:.{precision}f}, {r.high:.{precision}f}] {r.verdict} (n={r.images})"
        ),
        axis=1,
    )
    return _order(text.unstack("method"))


#: The paper's blocks (dataset, architecture) in its tables' order.
PAPER_BLOCKS = (("Cat x Dog", "VGG"), ("Cat x Dog", "ResNet"), ("Birds", "VGG"), ("Birds", "ResNet"))
#: Images per dataset in the paper's Tables 1 and 2 (Section 6: 256 per class).
PAPER_IMAGES = 512

_PAPER_TABLE1 = [
    [[357, 0, 15, 4, 17], [155, 512, 490, 427, 480], [159, 0, 2, 3, 0], [348, 512, 494, 428, 486]],
    [[122, 0, 2, 10, 7], [390, 512, 492, 453, 497], [130, 0, 3, 5, 2], [380, 512, 490, 460, 488]],
    [[270, 0, 9, 0, 1], [240, 511, 488, 450, 500], [301, 0, 10, 0, 0], [210, 510, 494, 451, 504]],
    [[153, 0, 1, 0, 0], [358, 512, 504, 472, 506], [174, 0, 2, 0, 0], [337, 512, 506, 470, 504]],
]
_PAPER_TABLE2 = [
    [
        [0.0800, 0.0029, 0.0052, 0.1100, 0.0100],
        [0.1300, 0.0056, 0.1200, 1.5900, 0.1300],
        [0.2400, 0.0029, 0.0051, 0.1500, 0.0096],
        [0.2500, 0.0062, 0.5600, 1.8200, 0.4900],
    ],
    [
        [0.0600, 0.0013, 0.0016, 0.1300, 0.0016],
        [0.0300, 0.0024, 0.0700, 0.5100, 0.1200],
        [0.0500, 0.0012, 0.0016, 0.1000, 0.0020],
        [0.0700, 0.0024, 0.1600, 0.4700, 0.1600],
    ],
    [
        [0.2500, 0.0027, 0.0800, 0.0100, 0.0100],
        [0.2000, 0.0056, 0.5400, 1.2800, 0.5500],
        [0.1500, 0.0030, 0.0092, 0.0100, 0.0072],
        [0.1300, 0.0068, 0.3600, 1.4100, 0.3800],
    ],
    [
        [0.1100, 0.0020, 0.0045, 0.0100, 0.0094],
        [0.0400, 0.0048, 0.1700, 1.0300, 0.2900],
        [0.0500, 0.0019, 0.0037, 0.0100, 0.0026],
        [0.0500, 0.0048, 0.1600, 1.0400, 0.2000],
    ],
]


def _paper_block_frame(blocks: list, rows: list[str]) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples(
        [(dataset, arch, row) for dataset, arch in PAPER_BLOCKS for row in rows], names=["dataset", "model", "row"]
    )
    return pd.DataFrame([r for block in blocks for r in block], index=index, columns=list(METHODS))


def paper_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's Tables 1 and 2 as printed, all four blocks (Cat x Dog and Birds, VGG16 and ResNet18; 512
    images each; Table 2 "in 10^2 scale"), indexed by (dataset, model, row)."""
    one = _paper_block_frame(_PAPER_TABLE1, ["Orig. 1", "GAD 1", "Orig. 2", "GAD 2"])
    two = _paper_block_frame(_PAPER_TABLE2, ["Sup. 1", "GAD 1", "Sup. 2", "GAD 2"])
    return one, two


def paper_left_out() -> pd.DataFrame:
    """Images the paper's Table 1 leaves out: 512 - Orig. a - GAD a per block, class ("Left out a") and method."""
    blocks = [
        [[PAPER_IMAGES - o - g for o, g in zip(orig, gad)] for orig, gad in ((orig1, gad1), (orig2, gad2))]
        for orig1, gad1, orig2, gad2 in _PAPER_TABLE1
    ]
    return _paper_block_frame(blocks, ["Left out 1", "Left out 2"])


#: Table 1's rows, then the images it leaves out.
ROWS_WITH_LEFT_OUT = ("Orig. 1", "GAD 1", "Orig. 2", "GAD 2", "Left out 1", "Left out 2")


def paper_table1_with_left_out() -> pd.DataFrame:
    """The paper's Table 1 with :func:`paper_left_out`'s rows after each block's four rows."""
    frame = pd.concat([paper_tables()[0], paper_left_out()])
    order = [(*block, row) for block in PAPER_BLOCKS for row in ROWS_WITH_LEFT_OUT]
    return frame.loc[order]
