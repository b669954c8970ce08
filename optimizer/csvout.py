"""The one CSV writer of the tool: every table, key file and geocoded roster goes through it.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return as a formula (CSV injection, OWASP). A spreadsheet also
breaks a row at a carriage return or a line feed inside a cell that is not
quoted, and starts a new row with what follows. So :func:`csv_text`:

- neutralises every line of a text cell that starts like a formula, at the
  start of the cell and after any CR or LF inside it, with a leading
  apostrophe (``=1+1`` is written ``'=1+1``), which spreadsheets show as text;
- escapes the apostrophe itself the same way (``'=1+1`` given by the user is
  written ``''=1+1``), so that :func:`restore_cell` gives back exactly what
  was written, and two ids never read back as one;
- quotes every cell holding the separator, a quote, a CR or a LF (the
  standard writer alone leaves a lone CR unquoted when rows end with LF).

Numbers are written as numbers (a negative saving stays ``-4.5``).
"""

from __future__ import annotations

import csv
from typing import Literal

import pandas as pd

from optimizer.errors import InputError

CsvStyle = Literal["standard", "excel-fr"]
CSV_STYLES: tuple[CsvStyle, ...] = ("standard", "excel-fr")

#: What starts a formula in a spreadsheet cell (or a line of one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What a line of a cell may not start with unescaped: a formula's start, or the escape.
_RISKY = "=+-@\t\r'"


def neutralise_cell(value: str) -> str:
    """Return a text cell as written: each line starting like a formula, or with ``'``, escaped.

    Parameters
    ----------
    value
        The cell's text.

    Returns
    -------
    str
        The text with an apostrophe before each such line (:func:`restore_cell` undoes it).
    """
    out: list[str] = []
    line_start = True
    for ch in value:
        if line_start and ch in _RISKY:
            out.append("'")
        out.append(ch)
        line_start = ch in "\r\n"
    return "".join(out)


def restore_cell(value: str) -> str:
    """Return the text a neutralised cell was made from (the inverse of :func:`neutralise_cell`).

    Parameters
    ----------
    value
        The cell as read from a file the tool wrote.

    Returns
    -------
    str
        The text with the escaping apostrophe removed from each escaped line.
    """
    out: list[str] = []
    line_start = True
    i = 0
    while i < len(value):
        if line_start and value[i] == "'" and i + 1 < len(value) and value[i + 1] in _RISKY:
            i += 1  # the escape: the character after it is the cell's own
        out.append(value[i])
        line_start = value[i] in "\r\n"
        i += 1
    return "".join(out)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every text cell neutralised (:func:`neutralise_cell`).

    Parameters
    ----------
    frame
        A table about to be written as CSV.

    Returns
    -------
    pandas.DataFrame
        A copy with the text cells neutralised (``frame`` itself if none needed it).
    """
    out = frame
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue
        changed = [neutralise_cell(v) if isinstance(v, str) else v for v in values]
        if any(
            isinstance(v, str) and v != c for v, c in zip(values.tolist(), changed, strict=True)
        ):
            if out is frame:
                out = frame.copy()
            out[column] = pd.Series(changed, index=frame.index, dtype=object)
    return out


def csv_text(frame: pd.DataFrame, style: CsvStyle = "standard") -> str:
    """Return a table as CSV text, cells a spreadsheet would run neutralised.

    Parameters
    ----------
    frame
        The table.
    style
        ``standard`` (``,`` separated, decimal points, UTF-8, rows ending
        with LF) or ``excel-fr`` (``;`` separated, decimal commas, UTF-8 with
        a byte-order mark, rows ending with CR LF: French Excel opens it by a
        double click). Both are read back by every input of the tool.

    Returns
    -------
    str
        The file's text (``excel-fr`` starts with the byte-order mark, U+FEFF).
    """
    if style not in CSV_STYLES:
        msg = f"csv style must be one of {', '.join(CSV_STYLES)}, got {style!r}."
        raise InputError(msg)
    safe = neutralise_formulas(frame)
    # a lone CR in a cell is quoted by the csv writer only when rows end with CR: quote
    # every text cell then (numbers stay bare)
    quoting: Literal[0, 2] = csv.QUOTE_NONNUMERIC if _holds_cr(safe) else csv.QUOTE_MINIMAL
    if style == "excel-fr":
        text = safe.to_csv(
            index=False, sep=";", decimal=",", lineterminator="\r\n", quoting=quoting
        )
        return "\ufeff" + text
    return safe.to_csv(index=False, lineterminator="\n", quoting=quoting)


def _holds_cr(frame: pd.DataFrame) -> bool:
    """Whether a text cell or a header of ``frame`` holds a carriage return."""
    if any("\r" in str(c) for c in frame.columns):
        return True
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue
        if any(isinstance(v, str) and "\r" in v for v in values):
            return True
    return False
