"""Loading an input as a raw table: CSV text, GeoPackage / GeoJSON point layers, DataFrames.

CSV files are read as spreadsheets and HR software write them (``,``, ``;``
or tab separated, ``sep=`` first line, UTF-8 with or without BOM, or cp1252),
refusing what is too large, binary or misshapen; point layers give their
points as WGS84 ``lon, lat`` columns. Every cell stays text: the readers of
:mod:`optimizer.inputs` check them.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.inputs.cells import _one_line, _row_label
from optimizer.inputs.headers import AGENT_ALIASES, _field_of

logger = logging.getLogger(__name__)

Source = str | Path | pd.DataFrame
_GEO_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb"}
MAX_INPUT_BYTES = 200 * 1024 * 1024
"""Largest input file read (200 MB: about 3 million agent rows); larger is an error."""
_BINARY_STARTS = {
    b"PK\x03\x04": "a zip archive (an Excel .xlsx or .ods workbook?)",
    b"\x1f\x8b": "gzip-compressed",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
    b"SQLite format 3": "a GeoPackage or SQLite database (name it .gpkg)",
    b"%PDF": "a PDF document",
}


# --------------------------------------------------------------------------- loading


def read_table(source: Source) -> tuple[pd.DataFrame, str]:
    """Read any input table as it is (every column, text cells), with a name for messages.

    Parameters
    ----------
    source
        A CSV, GeoPackage or GeoJSON path, or a (Geo)DataFrame.

    Returns
    -------
    tuple
        ``(table, name)``.
    """
    return _load_table(source, crs=None)


def _load_table(source: Source, *, crs: str | None) -> tuple[pd.DataFrame, str]:
    """Return the raw table (strings, or numbers from a DataFrame) and a name for messages."""
    if isinstance(source, gpd.GeoDataFrame):
        return _points_to_columns(source, "the GeoDataFrame"), "the GeoDataFrame"
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), "the DataFrame"
    path, layer = split_layer(source)
    name = str(source)
    if not path.exists():
        msg = f"{name}: file not found. Check the path."
        raise InputError(msg)
    if path.is_dir():
        msg = f"{name}: is a folder, not a file. Give the path of a CSV or GeoPackage file."
        raise InputError(msg)
    if path.is_file() and path.stat().st_size > MAX_INPUT_BYTES:
        msg = (
            f"{name}: {path.stat().st_size / 2**20:,.0f} MB is more than the "
            f"{MAX_INPUT_BYTES // 2**20} MB an input may hold. Split the roster or give only "
            "the columns needed."
        )
        raise InputError(msg)
    if path.suffix.lower() in _GEO_SUFFIXES:
        if crs is not None:
            msg = f"{name}: --crs applies to CSV files only; a point layer carries its own CRS."
            raise InputError(msg)
        return _points_to_columns(_read_layer(path, "point", layer=layer), name), name
    return _read_csv(path), name


def split_layer(source: str | Path) -> tuple[Path, str | None]:
    """Split ``file.gpkg:layer`` into the file and the layer name.

    Parameters
    ----------
    source
        A path, optionally followed by ``:`` and a layer name when the file is
        a GeoPackage (or another multi-layer format) that does not exist
        under the whole name.

    Returns
    -------
    tuple
        ``(path, layer)``; ``layer`` is None when none is named.
    """
    path = Path(source)
    text = str(source)
    if not path.exists() and ":" in text:
        head, _, layer = text.rpartition(":")
        if Path(head).suffix.lower() in _GEO_SUFFIXES and layer:
            return Path(head), layer
    return path, None


def _read_layer(path: Path, kind: str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoPackage / GeoJSON layer; an unreadable file is an :class:`InputError`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            layers = [str(n) for n in gpd.list_layers(path)["name"]]
            if layer is None and len(layers) > 1:
                msg = (
                    f"{path}: holds {len(layers)} layers ({', '.join(layers)}). Name the one "
                    f"to read: {path}:{layers[0]}"
                )
                raise InputError(msg)
            if layer is not None and layer not in layers:
                msg = (
                    f"{path}: no layer '{layer}'; the file holds: {', '.join(layers)}. "
                    f"Give {path}:LAYER with one of them."
                )
                raise InputError(msg)
            frame = gpd.read_file(path, layer=layer)
        except InputError:
            raise
        except Exception as exc:
            msg = (
                f"{path}: cannot be read as a {kind} layer ({_one_line(str(exc))}). "
                "Check that it is a valid file."
            )
            raise InputError(msg) from None
    for warning in caught:
        logger.info("%s: %s", path, warning.message)
    return frame


def _points_to_columns(layer: gpd.GeoDataFrame, name: str) -> pd.DataFrame:
    if layer.crs is None:
        msg = f"{name}: the layer has no CRS. Set one (e.g. EPSG:4326) before reading it."
        raise InputError(msg)
    geom = layer.geometry
    bad = ~(geom.geom_type == "Point") | geom.is_empty
    if bad.any():
        row = _row_label(int(np.flatnonzero(bad.to_numpy())[0]))
        msg = f"{name}: {row}: geometry is not a point. Give one point per feature."
        raise InputError(msg)
    wgs = geom.to_crs(settings.INPUT_CRS)
    table = pd.DataFrame(layer.drop(columns=layer.geometry.name)).reset_index(drop=True)
    # the geometry gives the point: attribute columns read as lon or lat would clash with it
    axes = {"lon": AGENT_ALIASES["lon"], "lat": AGENT_ALIASES["lat"]}
    table = table.drop(columns=[c for c in table.columns if _field_of(str(c), axes)])
    table["lon"] = wgs.x.to_numpy()
    table["lat"] = wgs.y.to_numpy()
    return table


def _decode(raw: bytes, name: str) -> str:
    """Decode a text file as UTF-8, or as cp1252 when nothing in it is UTF-8.

    Decided by evidence: a file with accented letters written as UTF-8 and
    also bytes that are not UTF-8 (edited in two programs) is refused, naming
    its lines, never read whole as cp1252 (``José`` would become ``JosÃ©``).
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="surrogateescape")
    if any(ord(ch) > 127 and not 0xDC80 <= ord(ch) <= 0xDCFF for ch in text):
        lines = [
            k + 1
            for k, line in enumerate(text.splitlines())
            if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in line)
        ]
        shown = ", ".join(str(k) for k in lines[:10]) + (" ..." if len(lines) > 10 else "")
        msg = (
            f"{name}: the file is UTF-8 but line(s) {shown} hold bytes that are not (it was "
            "probably saved by two programs): the names there would be misread. Save the "
            "file again as UTF-8 (in Excel: CSV UTF-8), or fix those lines."
        )
        raise InputError(msg)
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        msg = f"{name}: cannot decode the file as UTF-8 or cp1252. Save it as UTF-8 CSV."
        raise InputError(msg) from None


def read_input_bytes(path: Path) -> bytes:
    """Read an input text file, refusing what is too large or binary.

    At most :data:`MAX_INPUT_BYTES` are read (a device or a pipe may never
    end); a workbook, an archive or other binary data is an
    :class:`~optimizer.errors.InputError` naming what the file looks like.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    bytes
        Its content.
    """
    name = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        msg = f"{name}: cannot be read ({exc.strerror}). Check the path and its permissions."
        raise InputError(msg) from None
    if len(raw) > MAX_INPUT_BYTES:
        msg = (
            f"{name}: more than the {MAX_INPUT_BYTES // 2**20} MB an input may hold. "
            "Split the roster or give only the columns needed."
        )
        raise InputError(msg)
    for start, what in _BINARY_STARTS.items():
        if raw.startswith(start):
            msg = f"{name}: is {what}, not a CSV text file. Save it as CSV (UTF-8) first."
            raise InputError(msg)
    if b"\x00" in raw:
        msg = f"{name}: holds binary data, not CSV text. Save it as CSV (UTF-8) first."
        raise InputError(msg)
    return raw


def _read_csv(path: Path) -> pd.DataFrame:
    name = str(path)
    text = _decode(read_input_bytes(path), name)
    # 'sep=;' first, as files made for Excel may start: Excel reads it and does not show it
    said = re.match(r"[ \t]*sep=([;,\t])[ \t]*(\r?\n|$)", text)
    if said:
        text = text[said.end() :]
    if not text.strip():
        msg = f"{name}: the file is empty. Give a header line and one row per item."
        raise InputError(msg)
    first = text.lstrip().splitlines()[0]
    unquoted = re.sub(r'"[^"]*"', "", first)  # separators inside quoted names do not count
    delimiter = said.group(1) if said else max((";", ",", "\t"), key=unquoted.count)
    _check_shape(text, delimiter, name)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        msg = (
            f"{name}: not a readable CSV table ({_one_line(str(exc))}). "
            "Check the separators and quotes."
        )
        raise InputError(msg) from None
    table.columns = [str(c).strip() for c in table.columns]
    # trailing blank rows (';;;;' as spreadsheets save them) are not items
    filled = table.apply(lambda column: column.str.strip() != "").any(axis=1).to_numpy()
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    table = table.iloc[:last]
    table.attrs["decimal_comma"] = delimiter != ","
    return table


def _check_shape(text: str, delimiter: str, name: str) -> None:
    """Refuse duplicated header names and rows with more or fewer cells than the header."""
    try:
        rows = csv.reader(io.StringIO(text.lstrip()), delimiter=delimiter, skipinitialspace=True)
        header = next(rows)
        labels = [c.strip() for c in header]
        seen: dict[str, int] = {}
        for j, label in enumerate(labels):
            key = label.lower()
            if key and key in seen:
                msg = (
                    f"{name}: the header has column '{labels[seen[key]]}' (column "
                    f"{seen[key] + 1}) and '{label}' (column {j + 1}): one name, two columns. "
                    "Keep one, or rename the other."
                )
                raise InputError(msg)
            seen[key] = j
        for i, row in enumerate(rows):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if any("\n" in cell for cell in row):
                return  # an unbalanced quote: pandas says so
            if len(row) != len(header):
                extra = len(row) > len(header)
                hint = (
                    "a separator too many (a trailing one, or one inside an unquoted value?)"
                    if extra
                    else "cells missing"
                )
                last = labels[-1] if labels else ""
                msg = (
                    f"{name}: {_row_label(i)} has {len(row)} cells but the header has "
                    f"{len(header)} columns ({', '.join(labels)}): {hint}. Make every row "
                    f"match the header, whose last column is '{last}'."
                )
                raise InputError(msg)
    except csv.Error:
        return  # pandas says what is wrong with the quoting
