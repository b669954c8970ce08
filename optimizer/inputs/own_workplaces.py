"""An agent's own workplace given as coordinates (``workplace_lon, workplace_lat``).

A roster may give each row its workplace's point instead of naming one of
the workplaces file (``workplace_id``). :func:`workplace_points` reads
those two columns of the table :func:`optimizer.inputs.read_agents` loaded;
:func:`coordinate_workplaces` turns the points into workplaces of their own,
so that every path plans with them: ``read_agents`` keeps the two columns and
:func:`optimizer.pipeline.run` makes the workplaces, which the one pipeline
routes as it routes the workplaces file's; the grouped national plan reads
the points themselves (:mod:`optimizer.national.files`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Transformer

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.inputs.cells import NUMBER

#: Decimals of a degree that name a workplace given as coordinates (about 10 cm).
ID_DECIMALS = 6


def coordinate_workplaces(
    agents: pd.DataFrame, workplaces: pd.DataFrame | None, lon: np.ndarray, lat: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Give the agents whose row has its workplace's point a workplace of that point.

    Parameters
    ----------
    agents
        From :func:`optimizer.inputs.read_agents`, in the roster's order.
    workplaces
        From :func:`optimizer.inputs.read_workplaces`, or None.
    lon, lat
        Each row's workplace point (:func:`workplace_points`; NaN
        where the row gives none: its ``workplace_id`` or the head office
        decides).

    Returns
    -------
    tuple
        The agents, those with a point naming its workplace in
        ``workplace_id`` (``xy:LON,LAT``, one per distinct point: the point
        wins over an id the row also gives, as in a national run), and the
        workplaces with one row more per point (``location`` ``coordinates``).
    """
    given = ~(np.isnan(lon) | np.isnan(lat))
    if not given.any():
        return agents, workplaces
    ids = point_ids(lon, lat)
    out = agents.copy()
    current = out["workplace_id"] if "workplace_id" in out else pd.Series("", index=out.index)
    out["workplace_id"] = np.where(given, ids, current.fillna("").astype(str).to_numpy())
    first = np.unique(ids[given], return_index=True)[1]
    rows = np.flatnonzero(given)[np.sort(first)]
    points = pd.DataFrame(
        {
            "workplace_id": ids[rows],
            "name": [f"workplace at {lon[k]:.5f}, {lat[k]:.5f}" for k in rows],
            "lon": lon[rows],
            "lat": lat[rows],
            "commune": "",
            "location": "coordinates",
            "location_precision_m": np.nan,
            "insee": "",
        }
    )
    known = workplaces if workplaces is not None else points.iloc[:0]
    clash = sorted(set(points["workplace_id"]) & set(known["workplace_id"].astype(str)))
    if clash:
        msg = f"workplace id '{clash[0]}' is both given and made from a point: rename it."
        raise InputError(msg)
    merged = pd.concat([known, points], ignore_index=True)
    merged.attrs = dict(known.attrs) if workplaces is not None else {"name": "workplace points"}
    return out, merged


def point_ids(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Name the workplace of each point: ``xy:LON,LAT`` (:data:`ID_DECIMALS` decimals).

    Examples
    --------
    >>> point_ids(np.array([3.5]), np.array([44.5])).tolist()
    ['xy:3.500000,44.500000']
    """
    return np.array(
        [f"xy:{x:.{ID_DECIMALS}f},{y:.{ID_DECIMALS}f}" for x, y in zip(lon, lat, strict=True)],
        dtype=object,
    )


def workplace_points(
    table: pd.DataFrame, name: str, *, crs: str | None = None
) -> list[np.ndarray] | None:
    """Read a roster's own workplace coordinates (None when the table lacks either column).

    The raw table is the one :func:`optimizer.inputs.read_agents` loaded (CSV
    of any separator and encoding, decimal comma, point layers). An empty pair
    of cells is NaN (the row's ``workplace_id`` or the head office then
    decides); one cell of a pair empty, or a cell that is not a plain number
    or not a WGS84 degree (after ``crs``), is an error naming the file
    (``name``), row, column and value.

    Parameters
    ----------
    table, name
        The roster's raw table and its file's name.
    crs
        CRS of the coordinates when they are not WGS84 lon/lat.

    Returns
    -------
    list of numpy.ndarray or None
        ``[lon, lat]`` per row (NaN where the row gives none), WGS84.
    """
    names = ("workplace_lon", "workplace_lat")
    by_name = {str(c).strip().lower(): c for c in table.columns}
    if not all(n in by_name for n in names):
        return None
    decimal_comma = bool(table.attrs.get("decimal_comma", False))
    values: list[np.ndarray] = []
    for wanted in names:
        column = by_name[wanted]
        out = np.full(len(table), np.nan)
        for i, raw in enumerate(table[column].tolist()):
            text = "" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw)
            text = text.strip().replace(",", ".") if decimal_comma else text.strip()
            if not text:
                continue
            if not NUMBER.fullmatch(text) or not np.isfinite(float(text)):
                msg = (
                    f"{name}: row {i + 2}, column '{column}': '{raw}' is not a number. Give "
                    "the workplace's coordinates as decimal numbers, or leave both cells empty "
                    "to use workplace_id or --head-office."
                )
                raise InputError(msg)
            out[i] = float(text)
        values.append(out)
    lon, lat = values
    half = np.isnan(lon) != np.isnan(lat)
    if half.any():
        i = int(np.flatnonzero(half)[0])
        msg = (
            f"{name}: row {i + 2}: one of '{by_name[names[0]]}', '{by_name[names[1]]}' is empty. "
            "Give both coordinates of the workplace, or neither."
        )
        raise InputError(msg)
    given = ~np.isnan(lon)
    if crs is not None and given.any():
        to_wgs = Transformer.from_crs(crs, settings.INPUT_CRS, always_xy=True)
        x, y = to_wgs.transform(lon[given], lat[given])
        lon[given], lat[given] = np.asarray(x), np.asarray(y)
    wrong = given & ((np.abs(np.nan_to_num(lon)) > 180) | (np.abs(np.nan_to_num(lat)) > 90))
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        msg = (
            f"{name}: row {i + 2}: workplace point ({lon[i]}, {lat[i]}) is not longitude, "
            "latitude in degrees. Check the columns, or give --crs."
        )
        raise InputError(msg)
    return [lon, lat]
