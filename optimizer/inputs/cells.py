"""Reading the cells of an input table: ids, communes, flags, weekdays, numbers, points.

Each reader checks one column and names the row, the column and the value at
fault. Readers given a :class:`_RowErrors` record bad rows there instead of
raising, so that one error lists every bad row of a file.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

import optimizer.settings as settings
from optimizer.errors import InputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
_DAY_NAMES = {
    **{d: d for d in WEEKDAYS},
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "lundi": "mon",
    "mardi": "tue",
    "mercredi": "wed",
    "jeudi": "thu",
    "vendredi": "fri",
    "lun": "mon",
    "mar": "tue",
    "mer": "wed",
    "jeu": "thu",
    "ven": "fri",
}
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
"""A plain decimal number (no ``_``, no ``nan``/``inf``, ASCII digits only)."""


def _one_line(text: str, limit: int = 160) -> str:
    """Printable one-line text, cut at ``limit`` characters (for library messages in ours)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _row_label(index: int) -> str:
    """Human row number: the header is line 1, so data row ``index`` is line ``index + 2``."""
    return f"row {index + 2}"


def _cell_strings(table: pd.DataFrame, column: str) -> list[str]:
    return ["" if _is_missing(v) else str(v).strip() for v in table[column].tolist()]


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _ids(table: pd.DataFrame, column: str, name: str) -> pd.Series:
    values = _cell_strings(table, column)
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if not value:
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': the id is empty. "
                "Give every row an id."
            )
            raise InputError(msg)
        if value in seen:
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': id '{value}' is already used on "
                f"{_row_label(seen[value])}. Ids must be unique."
            )
            raise InputError(msg)
        seen[value] = i
    return pd.Series(values, dtype=str)


def _one_id_each(table: pd.DataFrame, column: str, name: str) -> list[str]:
    values = _cell_strings(table, column)
    for i, value in enumerate(values):
        if len(_split_ids(value)) > 1:
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{value}' names several "
                "telecentres; give one id (forbidden_telecentres takes several, separated by |)."
            )
            raise InputError(msg)
    return values


def _communes(table: pd.DataFrame, column: str, name: str) -> list[str]:
    values = _cell_strings(table, column)
    for i, value in enumerate(values):
        if re.fullmatch(r"\d[\dAB]\d{3}", value):
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{value}' is a code, not a commune "
                "name. Put INSEE codes in a code_insee column and postcodes in a code_postal "
                "column."
            )
            raise InputError(msg)
        if len(value) > 60 or re.search(r"[\d,;]", value):
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{value}' is not a commune name "
                "(an address?). Give the commune's name only: this column is copied into "
                "telecentres.csv and home addresses are personal data."
            )
            raise InputError(msg)
    return values


_TRUE = {"1", "1.0", "yes", "y", "true", "oui", "o", "x", "vrai"}  # 1.0: a spreadsheet's number
_FALSE = {"", "0", "0.0", "no", "n", "false", "non", "faux"}


def _flags(table: pd.DataFrame, column: str, name: str) -> list[bool]:
    out = []
    for i, value in enumerate(_cell_strings(table, column)):
        low = value.lower()
        if low not in _TRUE | _FALSE:
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{value}' is not yes or no. "
                "Write yes/no (or 1/0, true/false, oui/non)."
            )
            raise InputError(msg)
        out.append(low in _TRUE)
    return out


def _weekdays(text: str, *, name: str, row: int, column: str) -> list[str]:
    out = []
    for part in _split_ids(text.replace(",", " ").replace(";", " ")):
        day = _DAY_NAMES.get(part.lower())
        if day is None:
            msg = (
                f"{name}: {_row_label(row)}, column '{column}': '{part}' is not a weekday. "
                "Write mon, tue, wed, thu, fri (or lundi..vendredi), separated by |."
            )
            raise InputError(msg)
        out.append(day)
    return out


def day_mask(values: pd.Series) -> np.ndarray:
    """``(n, 5)`` booleans from ``|``-joined weekday codes (as :func:`read_agents` gives them)."""
    mask = np.zeros((len(values), 5), dtype=bool)
    for i, text in enumerate(values.astype(str)):
        for day in text.split("|"):
            if day:
                mask[i, WEEKDAYS.index(day)] = True
    return mask


def _split_ids(text: str) -> list[str]:
    return [part for part in re.split(r"[|\s]+", text.strip()) if part]


MAX_ROWS_SHOWN = 20
"""Most bad rows one error lists; it says how many more there are."""


class _RowErrors:
    """The bad rows of one table, gathered to be reported in one error.

    Parameters
    ----------
    name
        The file's name, for the message.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[tuple[int, str]] = []

    def add(self, row: int, text: str) -> None:
        """Record the row at position ``row``: ``text`` names it and says what is wrong."""
        self.items.append((row, _one_line(text, limit=400)))

    def raise_all(self) -> None:
        """Raise one :class:`InputError` listing every bad row, if any (row order).

        One bad row gives today's one-line message; several give a short first
        line and one line per row (the first :data:`MAX_ROWS_SHOWN`, then how
        many more).
        """
        if not self.items:
            return
        items = [text for _, text in sorted(self.items, key=lambda item: item[0])]
        if len(items) == 1:
            raise InputError(f"{self.name}: {items[0]}")
        rows = len({row for row, _ in self.items})
        shown = items[:MAX_ROWS_SHOWN]
        if len(items) > MAX_ROWS_SHOWN:
            shown.append(f"and {len(items) - MAX_ROWS_SHOWN} more")
        msg = (
            f"{self.name}: {len(items)} problems on {rows} rows (the header is row 1); fix them "
            "all, then run again:"
        )
        raise InputError(msg, shown)


def _numbers(
    table: pd.DataFrame, column: str, name: str, problems: _RowErrors | None = None
) -> np.ndarray:
    """Return the column's numbers; a bad cell raises, or is NaN and put in ``problems``."""
    decimal_comma = bool(table.attrs.get("decimal_comma", False))
    out = np.empty(len(table), dtype=float)
    for i, raw in enumerate(table[column].tolist()):
        where = f"{_row_label(i)}, column '{column}'"
        if isinstance(raw, (int, float, np.integer, np.floating)) and not _is_missing(raw):
            out[i] = float(raw)
            if not math.isfinite(out[i]):
                _bad_row(problems, name, i, f"{where}: {raw} is not a finite number.")
                out[i] = np.nan
            continue
        text = "" if _is_missing(raw) else str(raw).strip()
        if decimal_comma:
            text = text.replace(",", ".")
        if not NUMBER.fullmatch(text):
            shown = "" if _is_missing(raw) else str(raw)
            what = "is empty" if not text else f"'{shown}' is not a number"
            _bad_row(problems, name, i, f"{where}: {what}. Give a number.")
            out[i] = np.nan
            continue
        value = float(text)
        if not math.isfinite(value):
            _bad_row(problems, name, i, f"{where}: '{raw}' is too large. Give a finite number.")
            value = np.nan
        out[i] = value
    return out


def _bad_row(problems: _RowErrors | None, name: str, row: int, text: str) -> None:
    """Raise ``text`` as an error of file ``name``, or record it in ``problems``."""
    if problems is None:
        raise InputError(f"{name}: {text}")
    problems.add(row, text)


def _integers(
    table: pd.DataFrame,
    column: str,
    name: str,
    *,
    low: int,
    high: int | None,
    problems: _RowErrors | None = None,
) -> np.ndarray:
    """Whole numbers from ``low`` to ``high``; with ``problems``, a bad cell is ``low``."""
    values = _numbers(table, column, name, problems)
    raw = table[column].tolist()
    for i, value in enumerate(values):
        if np.isnan(value):  # recorded already
            values[i] = low
            continue
        span = f"from {low} to {high}" if high is not None else f"of {low} or more"
        if value != round(value) or value < low or (high is not None and value > high):
            text = f"{_row_label(i)}, column '{column}': '{raw[i]}' is not a whole number {span}."
            _bad_row(problems, name, i, text)
            values[i] = low
    return values.astype(np.int64)


def _priorities(table: pd.DataFrame, column: str, problems: _RowErrors) -> np.ndarray:
    """Read ``priority``: finite numbers, a blank cell 0; bad cells go to ``problems``."""
    decimal_comma = bool(table.attrs.get("decimal_comma", False))
    out = np.zeros(len(table), dtype=np.float64)
    for i, raw in enumerate(table[column].tolist()):
        if isinstance(raw, (int, float, np.integer, np.floating)) and not _is_missing(raw):
            value = float(raw)
        else:
            text = "" if _is_missing(raw) else str(raw).strip()
            if not text:
                continue
            if decimal_comma:
                text = text.replace(",", ".")
            value = float(text) if NUMBER.fullmatch(text) else math.nan
        if not math.isfinite(value):
            problems.add(
                i,
                f"{_row_label(i)}, column '{column}': '{raw}' is not a priority. Give a number "
                "(higher is served first), or leave the cell empty.",
            )
            continue
        out[i] = value
    return out


def _coordinates(
    table: pd.DataFrame,
    cols: dict[str, str],
    name: str,
    *,
    crs: str | None,
    problems: _RowErrors | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 ``lon, lat``; with ``problems``, bad rows are recorded there (and NaN)."""
    xs = _numbers(table, cols["lon"], name, problems)
    ys = _numbers(table, cols["lat"], name, problems)
    read = np.isfinite(xs) & np.isfinite(ys)  # the others are recorded already
    if crs is not None:
        try:
            source_crs = CRS.from_user_input(crs)
        except CRSError:
            msg = f"--crs: '{crs}' is not a known CRS. Give e.g. EPSG:2154 (Lambert-93)."
            raise InputError(msg) from None
        if not source_crs.equals(CRS.from_user_input(settings.INPUT_CRS)):
            to_wgs = Transformer.from_crs(source_crs, settings.INPUT_CRS, always_xy=True)
            xs, ys = to_wgs.transform(xs, ys)
            xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    for i in np.flatnonzero(read).tolist():
        x, y = xs[i], ys[i]
        try:
            _check_lonlat(float(x), float(y), where=_row_label(i), projected_hint=crs is None)
        except InputError as exc:
            _bad_row(problems, name, i, str(exc))
    return xs, ys


def _check_lonlat(lon: float, lat: float, *, where: str, projected_hint: bool = True) -> None:
    if abs(lon) > 180 or abs(lat) > 90:
        hint = (
            " They look projected: give --crs (e.g. EPSG:2154 for Lambert-93)."
            if projected_hint and (abs(lon) > 1000 or abs(lat) > 1000)
            else ""
        )
        msg = f"{where}: ({lon}, {lat}) is not a longitude/latitude pair in degrees.{hint}"
        raise InputError(msg)
