"""What both maps of a run draw, and how they colour it.

The agents **aggregated per commune** (a circle per commune at a point inside
it, sized by the number of agents: homes are never drawn one by one), those
outside the département (per commune of France, or per cell beyond),
the telecentres with their occupancy, the map's extent, the colours and the
texts shared by ``map.png`` (:mod:`optimizer.map_png`), ``map.html``
(:mod:`optimizer.map_html`) and the GeoPackage (:mod:`optimizer.gpkg`).
"""

from __future__ import annotations

import html
import logging

import geopandas as gpd
import numpy as np
import pandas as pd

import optimizer.datasets as datasets
from optimizer.pipeline import RunResult
from optimizer.places import commune_table
from optimizer.tables import telecentre_table

logger = logging.getLogger(__name__)


def agents_by_commune(result: RunResult, *, min_cell: int = 1) -> gpd.GeoDataFrame:
    """Agents counted per commune, with the commune's boundary and a point inside it.

    The commune is the agents file's ``commune`` column where it names a
    commune of the embedded list, otherwise the commune whose boundary holds
    the home. Agents outside every commune are not counted here.

    Parameters
    ----------
    result
        A run's result.
    min_cell
        Communes with fewer agents are left out (shared runs: 3); the number
        of agents left out is in ``attrs["other_agents"]``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``commune, agents, assigned, unreachable, minutes_to_head_office``
        (median), with the commune polygons (EPSG:4326) and ``label_lon``,
        ``label_lat``.
    """
    communes = datasets.communes()[["nom", "rep_lon", "rep_lat", "geometry"]]
    frame = pd.DataFrame(
        {
            "commune": home_communes(result, communes),
            "assigned": result.assignment.assigned,
            "unreachable": unreachable_homes(result),
            "minutes": result.problem.head_office_minutes_to,
        }
    )
    frame = frame[frame["commune"] != ""]
    grouped = frame.groupby("commune").agg(
        agents=("assigned", "size"),
        assigned=("assigned", "sum"),
        unreachable=("unreachable", "sum"),
        minutes_to_head_office=("minutes", "median"),
    )
    small = grouped["agents"] < min_cell
    other = int(grouped.loc[small, "agents"].sum())
    grouped = grouped[~small]
    merged = communes.merge(grouped, left_on="nom", right_index=True, how="inner")
    merged = merged.rename(
        columns={"nom": "commune", "rep_lon": "label_lon", "rep_lat": "label_lat"}
    )
    out = gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")
    out.attrs["other_agents"] = other
    out.attrs["min_cell"] = min_cell
    return out


def home_communes(result: RunResult, communes: gpd.GeoDataFrame) -> np.ndarray:
    """Each agent's commune of the département ("" when its home lies in none of them).

    Parameters
    ----------
    result
        A run's result.
    communes
        The département's communes (:func:`optimizer.datasets.communes`).

    Returns
    -------
    numpy.ndarray
        The name (``nom``) of each agent's commune: its ``commune`` column where
        that names one of ``communes``, else the one whose boundary holds the home.
    """
    names = set(communes["nom"])
    given = result.agents.get("commune", pd.Series([""] * len(result.agents)))
    homes = gpd.GeoDataFrame(
        {"commune": given.where(given.isin(names), "").to_numpy()},
        geometry=gpd.points_from_xy(result.agents["lon"], result.agents["lat"]),
        crs="EPSG:4326",
    )
    missing = homes["commune"] == ""
    if missing.any():
        found = gpd.sjoin(homes[missing], communes, how="left", predicate="within")
        found = found[~found.index.duplicated()]
        homes.loc[missing, "commune"] = found["nom"].fillna("").to_numpy()
    return np.asarray(homes["commune"].to_numpy())


def unreachable_homes(result: RunResult) -> np.ndarray:
    """``(n_agents,)`` True where the home is too far from every road to be routed."""
    return ~result.travel.origins["routed"].to_numpy(bool)


#: An agent outside the département is counted in the commune of France whose town hall is
#: nearest when it lies within this many times the commune's extent (plus 1 km) of it.
IN_COMMUNE = 1.5
#: Otherwise (beyond France) it is counted in a cell of this many degrees, drawn at its centre.
CELL_DEG = 0.05


def agents_outside(result: RunResult, *, min_cell: int = 1) -> pd.DataFrame:
    """Agents whose home lies in no commune of the département, counted per commune of France.

    Each is counted in the commune of France its ``insee`` column names, or
    else the one whose town hall is nearest its home (when the home is within
    :data:`IN_COMMUNE` times that commune's extent), and drawn at that town
    hall; a home beyond France is counted in a cell of :data:`CELL_DEG`
    degrees, drawn at the cell's centre: homes are never drawn one by one.

    Parameters
    ----------
    result
        A run's result.
    min_cell
        Communes with fewer agents are left out (shared runs: 3); the number
        of agents left out is in ``attrs["other_agents"]``.

    Returns
    -------
    pandas.DataFrame
        ``commune, lon, lat, agents, assigned, unreachable`` (agents off the
        road network), one row per commune.
    """
    columns = ["commune", "lon", "lat", "agents", "assigned", "unreachable"]
    outside = home_communes(result, datasets.communes()) == ""
    out = pd.DataFrame(columns=columns)
    out.attrs["other_agents"] = 0
    if not outside.any():
        return out
    table = commune_table()
    table = table[table["kind"].isin(["COM", "ARM"])].reset_index(drop=True)
    lon = result.agents["lon"].to_numpy(float)[outside]
    lat = result.agents["lat"].to_numpy(float)[outside]
    scale = np.cos(np.radians(lat))[:, None]
    metres = 111_320.0 * np.hypot(
        (table["lon"].to_numpy()[None, :] - lon[:, None]) * scale,
        table["lat"].to_numpy()[None, :] - lat[:, None],
    )
    nearest = np.argmin(metres, axis=1)
    extent = table["extent_m"].fillna(0.0).to_numpy(float)[nearest]
    inside = metres[np.arange(nearest.size), nearest] <= IN_COMMUNE * extent + 1_000.0
    if "insee" in result.agents:
        code = result.agents["insee"].astype(str).to_numpy()[outside]
        row = {c: k for k, c in enumerate(table["insee"])}
        inside |= np.array([c in row for c in code])
        nearest = np.array([row.get(c, k) for c, k in zip(code, nearest, strict=True)])
    # beyond every commune of France (another country's network): a cell of CELL_DEG
    cell_lon, cell_lat = (np.round(v / CELL_DEG) * CELL_DEG for v in (lon, lat))
    frame = pd.DataFrame(
        {
            "commune": np.where(
                inside,
                table["nom"].to_numpy()[nearest],
                [f"near {y:.2f}, {x:.2f}" for x, y in zip(cell_lon, cell_lat, strict=True)],
            ),
            "lon": np.where(inside, table["lon"].to_numpy()[nearest], cell_lon),
            "lat": np.where(inside, table["lat"].to_numpy()[nearest], cell_lat),
            "assigned": result.assignment.assigned[outside],
            "unreachable": unreachable_homes(result)[outside],
        }
    )
    grouped = frame.groupby(["commune", "lon", "lat"], sort=False).agg(
        agents=("assigned", "size"),
        assigned=("assigned", "sum"),
        unreachable=("unreachable", "sum"),
    )
    small = (grouped["agents"] < min_cell).to_numpy()
    out = grouped.astype(int).reset_index()[~small].reset_index(drop=True)
    out.attrs["other_agents"] = int(grouped["agents"].to_numpy()[small].sum())
    return out


def outside_rows(outside: pd.DataFrame) -> list[tuple[str, float, float, int, int, int]]:
    """``commune, lon, lat, agents, assigned, unreachable`` of :func:`agents_outside`, typed."""
    return [
        (str(c), float(x), float(y), int(n), int(a), int(u))
        for c, x, y, n, a, u in zip(
            *(outside[k].tolist() for k in ("commune", "lon", "lat")),
            *(outside[k].tolist() for k in ("agents", "assigned", "unreachable")),
            strict=True,
        )
    ]


def others_note(by_commune: gpd.GeoDataFrame, outside: pd.DataFrame | None = None) -> str:
    """``12 agents in other communes (fewer than 3 each), not shown``, or ""."""
    other = int(by_commune.attrs.get("other_agents", 0))
    if outside is not None:
        other += int(outside.attrs.get("other_agents", 0))
    if not other:
        return ""
    cell = int(by_commune.attrs.get("min_cell", 1))
    return f"{other} agents in other communes (fewer than {cell} each), not shown"


#: Colour map of the communes' share of agents assigned, in both maps.
SHARE_CMAP = "YlGn"
#: Edge colour of the agents off the road network (unreachable), in both maps.
UNREACHABLE_COLOUR = "#c0392b"


def agents_text(agents: int, assigned: int, unreachable: int) -> str:
    """``3 agents, 1 assigned, 2 unreachable (off the road network)``."""
    text = f"{agents} agent{'s' if agents != 1 else ''}, {assigned} assigned"
    if unreachable:
        text += f", {unreachable} unreachable (off the road network)"
    return text


#: Smallest span of a map's axes, degrees (a single point still gets a readable map).
MIN_SPAN_DEG = 0.02


def page_text(value: object) -> str:
    """Escape a text for the page: HTML, and the JavaScript template literals folium puts it in.

    Parameters
    ----------
    value
        Any text shown on the page (ids, names, communes).

    Returns
    -------
    str
        The text with ``& < > " '`` and the backtick, ``$`` and backslash as
        HTML entities: shown as written, never run.
    """
    return (
        html.escape(str(value), quote=True)
        .replace("`", "&#96;")
        .replace("$", "&#36;")
        .replace("\\", "&#92;")
    )


def site_table(result: RunResult, *, min_cell: int = 1) -> pd.DataFrame:
    """Return the telecentres as the maps show them: ``telecentres.csv``'s table, with points."""
    table = telecentre_table(result, min_cell=min_cell)
    return table.assign(
        lon=result.telecentres["lon"].to_numpy(), lat=result.telecentres["lat"].to_numpy()
    )


def share_colour(share: float) -> str:
    """Hex colour of a share of agents assigned, as in ``map.png``."""
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    return str(to_hex(mpl.colormaps[SHARE_CMAP](float(np.clip(share, 0.0, 1.0)))))


def map_extent(
    result: RunResult, by_commune: gpd.GeoDataFrame, outside: pd.DataFrame | None = None
) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` the maps show: the département, or the network's area.

    The département (the embedded communes) when agents live in it;
    otherwise the road network's area with the telecentres and the head
    office (when some agent commutes there); either way with the communes of
    agents living outside it, never narrower than :data:`MIN_SPAN_DEG`.
    """
    if not by_commune.empty:
        west, south, east, north = (float(v) for v in datasets.communes().total_bounds)
    else:
        office = [result.head_office] if result.head_office_in_use else []
        lons = [*result.telecentres["lon"], *(o.lon for o in office)]
        lats = [*result.telecentres["lat"], *(o.lat for o in office)]
        w, s, e, n = result.network.bounds
        west, east = min(w, *lons), max(e, *lons)
        south, north = min(s, *lats), max(n, *lats)
    if outside is not None and not outside.empty:
        west, east = min(west, float(outside["lon"].min())), max(east, float(outside["lon"].max()))
        south = min(south, float(outside["lat"].min()))
        north = max(north, float(outside["lat"].max()))
    pad_x = max(MIN_SPAN_DEG - (east - west), 0.0) / 2 + 0.05 * (east - west)
    pad_y = max(MIN_SPAN_DEG - (north - south), 0.0) / 2 + 0.05 * (north - south)
    return west - pad_x, south - pad_y, east + pad_x, north + pad_y
