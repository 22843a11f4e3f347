"""Tables of explanation metrics as styled pandas DataFrames (best value of each column in bold)."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

#: Metrics where a lower value is better; every other column is read as higher-is-better.
LOWER_IS_BETTER = ("AD", "DEL", "COS")
#: Suffixes of the columns holding a metric's interval (``AD_low``, ``AD_high``).
INTERVAL = ("_low", "_high")


def style_metrics(table: pd.DataFrame, *, caption: str | None = None, precision: int = 2) -> Styler:
    """``table`` (rows x metrics) with arrows in the headers (AD↓, INS↑, ...) and the best of each column bold.

    A metric ``M`` with columns ``M_low`` and ``M_high`` (a 95 % interval) is shown as ``M [low, high]``."""
    metrics = [column for column in table.columns if not str(column).endswith(INTERVAL)]
    values = table[metrics]

    def arrow(column: str) -> str:
        return f"{column} {'↓' if column in LOWER_IS_BETTER else '↑'}"

    def shown(column: str) -> pd.Series:
        number = f"{{:.{precision}f}}"
        if f"{column}_low" not in table:
            return values[column].map(number.format)
        low, high = table[f"{column}_low"], table[f"{column}_high"]
        return pd.Series(
            [
                f"{number.format(v)} [{number.format(lo)}, {number.format(hi)}]"
                for v, lo, hi in zip(values[column], low, high)
            ],
            index=table.index,
        )

    def bold_best(column: pd.Series) -> list[str]:
        numbers = values[column.name]
        best = numbers.min() if column.name in LOWER_IS_BETTER else numbers.max()
        return ["font-weight: bold" if value == best else "" for value in numbers]

    text = pd.DataFrame({column: shown(column) for column in metrics}, index=table.index)
    styled = text.style.apply(bold_best, axis=0).relabel_index([arrow(column) for column in metrics], axis=1)
    return styled.set_caption(caption) if caption else styled
