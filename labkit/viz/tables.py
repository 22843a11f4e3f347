"""Tables of explanation metrics as styled pandas DataFrames (best value of each column in bold)."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

#: Metrics where a lower value is better; every other column is read as higher-is-better.
LOWER_IS_BETTER = ("AD", "DEL")


def style_metrics(table: pd.DataFrame, *, caption: str | None = None, precision: int = 2) -> Styler:
    """``table`` (methods x metrics) with arrows in the headers (AD↓, INS↑, ...) and the best of each column bold."""

    def arrow(column: str) -> str:
        return f"{column} {'↓' if column in LOWER_IS_BETTER else '↑'}"

    def bold_best(column: pd.Series) -> list[str]:
        best = column.min() if column.name.split()[0] in LOWER_IS_BETTER else column.max()
        return ["font-weight: bold" if value == best else "" for value in column]

    styled = table.rename(columns=arrow).style.format(precision=precision).apply(bold_best, axis=0)
    return styled.set_caption(caption) if caption else styled
