"""Agents grouped by what decides their plan, and where points lie.

Agents with the same home point, workplace, telework days, allowed and
preferred weekdays, forbidden sites and preferred site are interchangeable
in the plan: they become one group whose size is the group's supply in the flow.
A commune-level roster (every agent of a commune at the commune's point) of
5.7 million agents is then a few hundred thousand groups. Rows given by
commune, INSEE code or postcode become points through a *resolver* (the
places stage): a function taking the roster and returning it with ``lon,
lat, workplace_lon, workplace_lat``.

Messages name a roster's rows as the user sees them (:func:`row_name`): a
roster read from a file (:func:`optimizer.inputs.read_agents`, which keeps
the file's name in ``attrs["name"]``) by the file's line (the header is line
1, so the first agent is row 2); a table given in the library by its position
counted from 1 (``agents row 1`` is ``.iloc[0]``, whatever the index), as
every message of :mod:`optimizer.national` does.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import optimizer.settings as settings
from optimizer.errors import InputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
#: Coordinates are compared at this many decimals of a degree (about 1 cm).
DECIMALS = 7
#: Turns roster rows (communes, codes) into points; see the module docstring.
Resolver = Callable[[pd.DataFrame], pd.DataFrame]

#: Weekdays in each 5-bit mask.
DAY_COUNT = np.array([bin(mask).count("1") for mask in range(32)], dtype=np.int64)

_REQUIRED = ("agent_id", "lon", "lat", "workplace_lon", "workplace_lat")


def row_name(roster: pd.DataFrame, k: int) -> str:
    """Name row ``k`` (a position, from 0) of a roster for a message, as the user sees it.

    A roster read from a file (``attrs["name"]``) is named by the file's line:
    ``staff.csv: row k + 2 (agent_id 'b')`` (the header is line 1); a table
    given in the library by its position from 1: ``agents row k + 1 (b)``.
    """
    agent = roster["agent_id"].iloc[k] if "agent_id" in roster else None
    name = roster.attrs.get("name")
    row = _row_number(roster, k)
    if name:
        return f"{name}: row {row}" + ("" if agent is None else f" (agent_id '{agent}')")
    return f"agents row {row}" + ("" if agent is None else f" ({agent})")


def _row_number(roster: pd.DataFrame, k: int) -> int:
    """Row ``k``'s number as the user sees it: the file's line, or the position from 1."""
    return k + 2 if roster.attrs.get("name") else k + 1


def allowed_pattern(agents: pd.DataFrame) -> np.ndarray:
    """Weekdays each agent can telework, as 5-bit masks (bit 0 Monday); all days by default.

    ``impossible_days`` holds weekdays separated by ``|`` (``mon|fri``).
    """
    return 31 & ~day_bits(agents, "impossible_days")


def pairs_on_enough_days(
    groups: pd.DataFrame, group: np.ndarray, site: np.ndarray, days_on: np.ndarray
) -> np.ndarray:
    """Per (``group``, ``site``) pair: the site is on, in ``days_on``, on enough of its days.

    ``days_on`` is ``(n_sites, 5)`` booleans (open, or with a free desk);
    enough is as many of the group's allowed weekdays as it teleworks.
    """
    group, site = np.asarray(group, np.int64), np.asarray(site, np.int64)
    site_mask = np.asarray(days_on, bool) @ (1 << np.arange(5, dtype=np.int64))
    common = groups["pattern"].to_numpy(np.int64)[group] & site_mask[site]
    return np.asarray(DAY_COUNT[common] >= groups["days"].to_numpy(np.int64)[group])


def day_bits(agents: pd.DataFrame, column: str) -> np.ndarray:
    """Return the weekdays a column names (``mon|fri``) as 5-bit masks (bit 0 Monday); 0 without."""
    masks = np.zeros(len(agents), dtype=np.int64)
    if column not in agents:
        return masks
    for k, text in enumerate(agents[column].fillna("").astype(str)):
        for part in filter(None, (p.strip().lower()[:3] for p in text.split("|"))):
            if part not in WEEKDAYS:
                msg = (
                    f"{row_name(agents, k)}: {column} {text!r}: unknown weekday "
                    f"{part!r}. Write mon, tue, wed, thu, fri separated by |."
                )
                raise InputError(msg)
            masks[k] |= 1 << WEEKDAYS.index(part)
    return masks


def forbidden_sets(agents: pd.DataFrame) -> np.ndarray:
    """Each agent's forbidden sites (``forbidden_telecentres``): sorted ids, ``|``-joined.

    One text per set, whatever the order or spacing the roster wrote them in,
    so that agents with the same set fall in one group; "" without the column.
    """
    if "forbidden_telecentres" not in agents:
        return np.full(len(agents), "", dtype=object)
    return np.array(
        [
            "|".join(sorted({part.strip() for part in str(text).split("|")} - {""}))
            for text in agents["forbidden_telecentres"].fillna("").astype(str)
        ],
        dtype=object,
    )


def group_agents(
    agents: pd.DataFrame, *, resolver: Resolver | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Group interchangeable agents.

    Parameters
    ----------
    agents
        ``agent_id, lon, lat, workplace_lon, workplace_lat`` (WGS84), optionally
        ``telework_days`` (default 1), ``impossible_days``,
        ``preferred_days``, ``forbidden_telecentres`` (site ids separated by
        ``|``) and ``preferred_telecentre`` (one site id).
    resolver
        Called first on the roster to give rows without points their points.

    Returns
    -------
    groups : pandas.DataFrame
        One row per group: ``group, lon, lat, workplace_lon, workplace_lat,
        days, pattern, wanted, forbidden, preferred, size, home_id,
        workplace_id`` (``pattern`` and ``wanted`` the allowed and preferred
        weekdays, 5-bit masks, ``wanted`` within ``pattern``; ``home_id`` and
        ``workplace_id`` name distinct points; ``forbidden``
        the sorted site ids the group may not use, ``|``-joined, "" for none;
        ``preferred`` its preferred site's id, "" for none).
    membership : numpy.ndarray
        The group of each agent (input order).

    Raises
    ------
    InputError
        A column missing, an ``agent_id`` empty or repeated, telework days
        outside 1-5, an unknown weekday or a point without coordinates; the
        row is named as :func:`row_name` says.
    """
    if resolver is not None:
        agents = resolver(agents)
    missing = [c for c in _REQUIRED if c not in agents]
    if missing:
        msg = f"agents lack column(s) {missing}: give points, or a resolver that makes them."
        raise InputError(msg)
    _check_ids(agents)
    frame = pd.DataFrame(
        {
            "lon": agents["lon"].to_numpy(float).round(DECIMALS),
            "lat": agents["lat"].to_numpy(float).round(DECIMALS),
            "workplace_lon": agents["workplace_lon"].to_numpy(float).round(DECIMALS),
            "workplace_lat": agents["workplace_lat"].to_numpy(float).round(DECIMALS),
            "days": _telework_days(agents),
            "pattern": allowed_pattern(agents),
            "wanted": day_bits(agents, "preferred_days") & allowed_pattern(agents),
            "forbidden": forbidden_sets(agents),
            "preferred": (
                agents["preferred_telecentre"].fillna("").astype(str).str.strip().to_numpy(object)
                if "preferred_telecentre" in agents
                else ""
            ),
        }
    )
    bad = ~np.isfinite(frame[["lon", "lat", "workplace_lon", "workplace_lat"]].to_numpy()).all(1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        msg = (
            f"{row_name(agents, k)}: a point has no coordinates (home lon, lat or workplace_lon, "
            "workplace_lat): give them, or a resolver that makes them."
        )
        raise InputError(msg)
    keys = ["lon", "lat", "workplace_lon", "workplace_lat", "days", "pattern", "wanted"]
    keys += ["forbidden", "preferred"]
    codes = frame.groupby(keys, sort=False).ngroup().to_numpy()
    groups = frame.drop_duplicates(keys)[keys].reset_index(drop=True)
    groups.insert(0, "group", np.arange(len(groups)))
    groups["size"] = np.bincount(codes, minlength=len(groups))
    groups["home_id"] = _point_ids(groups["lon"], groups["lat"], "H")
    groups["workplace_id"] = _point_ids(groups["workplace_lon"], groups["workplace_lat"], "W")
    return groups, np.asarray(codes, dtype=np.int64)


def _telework_days(agents: pd.DataFrame) -> np.ndarray:
    """Each agent's telework days (1 when the column is absent), whole numbers from 1 to 5."""
    if "telework_days" not in agents:
        return np.ones(len(agents), np.int64)
    given = agents["telework_days"]
    days = pd.to_numeric(given, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(days) | (days != np.round(days)) | (days < 1) | (days > 5)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        msg = (
            f"{row_name(agents, k)}: telework_days must be 1 to 5 (a whole number), "
            f"got {given.iloc[k]}."
        )
        raise InputError(msg)
    return days.astype(np.int64)


def _check_ids(agents: pd.DataFrame) -> None:
    """Raise when an ``agent_id`` is empty or repeated: each agent comes out once, by its id."""
    ids = agents["agent_id"]
    text = ids.astype(str)
    empty = ids.isna().to_numpy() | (text.str.strip() == "").to_numpy()
    if empty.any():
        k = int(np.flatnonzero(empty)[0])
        msg = f"{row_name(agents, k)}: agent_id is empty. Give every agent an id of its own."
        raise InputError(msg)
    repeated = text.duplicated().to_numpy()
    if repeated.any():
        k = int(np.flatnonzero(repeated)[0])
        first = int(np.flatnonzero(text.to_numpy() == text.iloc[k])[0])
        msg = (
            f"{row_name(agents, k)}: agent_id '{text.iloc[k]}' is already used on row "
            f"{_row_number(agents, first)}. "
            "Ids must be unique."
        )
        raise InputError(msg)


def _point_ids(lon: pd.Series, lat: pd.Series, prefix: str) -> np.ndarray:
    codes = pd.DataFrame({"lon": lon, "lat": lat}).groupby(["lon", "lat"], sort=False).ngroup()
    return np.array([f"{prefix}{c}" for c in codes], dtype=object)


def one_row_per_code(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Merge the rows of each ``code`` into one (multi)polygon, in order of first appearance.

    A département file may give a département in several rows (its islands,
    or polygons exploded by a GIS tool); every step here looks a département up
    by its code, and would otherwise keep only one of its parts (its buffer,
    its extract), leaving the homes and sites of the others out.
    """
    codes = areas["code"].astype(str)
    if not codes.duplicated().any():
        return areas.assign(code=codes)
    order = list(dict.fromkeys(codes.tolist()))
    merged = [shapely.union_all(areas.geometry[codes == c].to_numpy()) for c in order]
    return gpd.GeoDataFrame({"code": order}, geometry=merged, crs=areas.crs)


def locate(lon: np.ndarray, lat: np.ndarray, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Code of the area (``code`` column) containing each WGS84 point ("" when none).

    Parameters
    ----------
    lon, lat
        Points.
    areas
        Polygons with a ``code`` column; the first containing one wins.

    Returns
    -------
    numpy.ndarray
        Codes (object array).
    """
    metric = areas.to_crs(settings.WORKING_CRS)
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=settings.INPUT_CRS).to_crs(
        settings.WORKING_CRS
    )
    tree = shapely.STRtree(metric.geometry.to_numpy())
    point_idx, area_idx = tree.query(points.to_numpy(), predicate="intersects")
    out = np.full(len(points), "", dtype=object)
    order = np.lexsort((area_idx, point_idx))
    first = np.ones(order.size, dtype=bool)
    first[1:] = point_idx[order][1:] != point_idx[order][:-1]
    chosen = order[first]
    out[point_idx[chosen]] = metric["code"].to_numpy()[area_idx[chosen]]
    return out


def within_buffers(
    lon: np.ndarray, lat: np.ndarray, areas: gpd.GeoDataFrame, buffer_km: float
) -> dict[str, np.ndarray]:
    """Find the points inside each area's buffered polygon.

    Returns
    -------
    dict
        ``code -> indices`` (every area present).
    """
    metric = areas.to_crs(settings.WORKING_CRS)
    grown = shapely.buffer(metric.geometry.to_numpy(), buffer_km * 1000.0)
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=settings.INPUT_CRS).to_crs(
        settings.WORKING_CRS
    )
    tree = shapely.STRtree(points.to_numpy())
    out = {}
    for code, shape in zip(metric["code"], grown, strict=True):
        out[str(code)] = np.sort(tree.query(shape, predicate="intersects"))
    return out
