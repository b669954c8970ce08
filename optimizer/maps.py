"""Maps of a run: a static PNG and an interactive HTML page.

Both show the département and its communes, the telecentres sized by their
occupancy, the head office, and the agents **aggregated per commune** (a
circle per commune at a point inside it, sized by the number of agents):
homes are never drawn one by one. The HTML page inlines Leaflet (shipped in
``optimizer/_static``), so it renders without internet; only the background
tiles need a connection.
"""

from __future__ import annotations

import html
import io
import logging
import re
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure

import optimizer.datasets as datasets
from optimizer.i18n import Lang, translate, translate_column
from optimizer.pipeline import RunResult
from optimizer.places import commune_table
from optimizer.tables import made_up, telecentre_table

logger = logging.getLogger(__name__)

MAP_PNG = "map.png"
MAP_HTML = "map.html"


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
            "unreachable": _unreachable(result),
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


def _unreachable(result: RunResult) -> np.ndarray:
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
            "unreachable": _unreachable(result)[outside],
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


def _rows(outside: pd.DataFrame) -> list[tuple[str, float, float, int, int, int]]:
    """``commune, lon, lat, agents, assigned, unreachable`` of :func:`agents_outside`, typed."""
    return [
        (str(c), float(x), float(y), int(n), int(a), int(u))
        for c, x, y, n, a, u in zip(
            *(outside[k].tolist() for k in ("commune", "lon", "lat")),
            *(outside[k].tolist() for k in ("agents", "assigned", "unreachable")),
            strict=True,
        )
    ]


def _others_note(by_commune: gpd.GeoDataFrame, outside: pd.DataFrame | None = None) -> str:
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


def _agents_text(agents: int, assigned: int, unreachable: int) -> str:
    """``3 agents, 1 assigned, 2 unreachable (off the road network)``."""
    text = f"{agents} agent{'s' if agents != 1 else ''}, {assigned} assigned"
    if unreachable:
        text += f", {unreachable} unreachable (off the road network)"
    return text


#: Smallest span of a map's axes, degrees (a single point still gets a readable map).
MIN_SPAN_DEG = 0.02


def _text(value: object) -> str:
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


def _sites(result: RunResult, *, min_cell: int = 1) -> pd.DataFrame:
    table = telecentre_table(result, min_cell=min_cell)
    return table.assign(
        lon=result.telecentres["lon"].to_numpy(), lat=result.telecentres["lat"].to_numpy()
    )


def _share_colour(share: float) -> str:
    """Hex colour of a share of agents assigned, as in ``map.png``."""
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    return str(to_hex(mpl.colormaps[SHARE_CMAP](float(np.clip(share, 0.0, 1.0)))))


def _extent(
    result: RunResult, by_commune: gpd.GeoDataFrame, outside: pd.DataFrame | None = None
) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` the maps show: the département, or the network's area.

    The département (the embedded communes) when agents live in it;
    otherwise the road network's area with the telecentres and the head
    office; either way with the communes of agents living outside it, never
    narrower than :data:`MIN_SPAN_DEG`.
    """
    if not by_commune.empty:
        west, south, east, north = (float(v) for v in datasets.communes().total_bounds)
    else:
        lons = [*result.telecentres["lon"], result.head_office.lon]
        lats = [*result.telecentres["lat"], result.head_office.lat]
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


def static_map(result: RunResult, path: str | Path) -> Path:
    """Draw the run as a PNG file (matplotlib).

    Parameters
    ----------
    result
        A run's result.
    path
        The PNG file to write.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.write_bytes(render_png(result))
    return path


def render_png(result: RunResult, *, min_cell: int = 1, lang: Lang = "en") -> bytes:
    """Draw the run as PNG bytes: communes, telecentres, head office, agents per commune.

    Parameters
    ----------
    result
        A run's result.
    min_cell
        Communes with fewer agents are not drawn (grouped in a note).
    lang
        The labels' language (:mod:`optimizer.i18n`).

    Returns
    -------
    bytes
        The PNG image.
    """
    # a figure of its own, not pyplot's: the caller's backend (a notebook's inline) is kept
    from matplotlib.figure import Figure

    def t(text: str) -> str:
        return translate(text, lang)

    communes = datasets.communes()
    by_commune = agents_by_commune(result, min_cell=min_cell)
    outside = agents_outside(result, min_cell=min_cell)
    sites = _sites(result, min_cell=min_cell)
    west, south, east, north = _extent(result, by_commune, outside)
    fig = Figure(figsize=(9, 9), dpi=110)
    ax = fig.subplots()
    if not by_commune.empty:
        communes.plot(ax=ax, facecolor="#f4f1ea", edgecolor="#c9c2b5", linewidth=0.4)
        communes.dissolve().boundary.plot(ax=ax, color="#6b6255", linewidth=1.2)
        share = by_commune["assigned"] / by_commune["agents"]
        points = ax.scatter(
            by_commune["label_lon"],
            by_commune["label_lat"],
            s=25 * by_commune["agents"],
            c=share,
            cmap=SHARE_CMAP,
            vmin=0,
            vmax=1,
            edgecolor="#3d3d3d",
            linewidth=0.5,
            alpha=0.85,
            zorder=3,
        )
        fig.colorbar(
            points, ax=ax, shrink=0.5, pad=0.1, label=t("share of the commune's agents assigned")
        )
    if not outside.empty:
        ax.scatter(
            outside["lon"],
            outside["lat"],
            s=25 * outside["agents"],
            c=outside["assigned"] / outside["agents"],
            cmap=SHARE_CMAP,
            vmin=0,
            vmax=1,
            marker="D",
            edgecolor=np.where(outside["unreachable"] > 0, UNREACHABLE_COLOUR, "#3d3d3d"),
            linewidth=np.where(outside["unreachable"] > 0, 2.0, 0.5),
            zorder=3,
        )
        for commune, lon, lat, agents, assigned, unreachable in _rows(outside):
            ax.annotate(
                f"{commune}: {t(_agents_text(agents, assigned, unreachable))}",
                (lon, lat),
                xytext=(6, -10),
                textcoords="offset points",
                fontsize=7,
                color=UNREACHABLE_COLOUR if unreachable else "#3d3d3d",
                zorder=5,
                parse_math=False,
            )
    ax.scatter(
        sites["lon"],
        sites["lat"],
        s=40 + 8 * sites["assigned"],
        marker="s",
        color="#1f5fa8",
        edgecolor="white",
        zorder=4,
        label=t("telecentre (size: agents hosted)"),
    )
    for row in sites.itertuples():
        ax.annotate(
            f"{row.telecentre_id}\n"
            + t(
                "not opened"
                if str(row.note).startswith("not opened")
                else f"{row.assigned} agents, "
                f"{row.desk_days_used}/{row.desk_days_offered} desk-days"
            ),
            (row.lon, row.lat),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=7,
            zorder=5,
            parse_math=False,  # an id with '$' is text, not mathtext
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.7, "lw": 0},
        )
    ho = result.head_office
    ax.scatter(
        [ho.lon], [ho.lat], s=260, marker="*", color="#c0392b", zorder=5, label=t("head office")
    )
    if result.workplaces is not None:
        ax.scatter(
            result.workplaces["lon"],
            result.workplaces["lat"],
            s=140,
            marker="*",
            color="#7b1d12",
            zorder=5,
            label=t("other workplace"),
        )
    if not by_commune.empty:
        ax.scatter(
            [],
            [],
            s=25 * 3,
            color="#b7d7a8",
            edgecolor="#3d3d3d",
            label=t("agents per commune (size; colour: share assigned)"),
        )
    if not outside.empty:
        ax.scatter(
            [],
            [],
            s=25 * 3,
            marker="D",
            color="#b7d7a8",
            edgecolor=UNREACHABLE_COLOUR,
            linewidth=2.0,
            label=t(
                "agents outside the département, at their commune's town hall "
                "(red edge: unreachable, off the road network)"
            ),
        )
    title = f"{int(result.assignment.assigned.sum())} of {result.problem.n_agents} agents assigned"
    unreachable = int(_unreachable(result).sum())
    if unreachable:
        title += f"; {unreachable} unreachable (off the road network)"
    title = t(title)
    if _others_note(by_commune, outside):
        title += f"\n{t(_others_note(by_commune, outside))}"
    for warning in made_up(result):
        title += "\n" + t(warning.split(":")[0] + ": not for decisions")
    ax.set_title(title)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1 / np.cos(np.radians((south + north) / 2)), adjustable="box")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.08), fontsize=8, ncol=2, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _static(*parts: str) -> str:
    """Text of a file shipped in ``optimizer/_static`` (Leaflet, jQuery; see their READMEs)."""
    return (resources.files("optimizer").joinpath("_static", *parts)).read_text(encoding="utf-8")


def interactive_map(result: RunResult, path: str | Path) -> Path:
    """Write the run as an interactive HTML map (folium, Leaflet inlined).

    Parameters
    ----------
    result
        A run's result.
    path
        The HTML file to write.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.write_text(render_html(result), encoding="utf-8")
    return path


def render_html(result: RunResult, *, min_cell: int = 1, lang: Lang = "en") -> str:
    """Build the interactive map page (folium, Leaflet inlined) as HTML text.

    Parameters
    ----------
    result
        A run's result.
    min_cell
        Communes with fewer agents are not drawn (grouped in a note); above 1,
        popups give no drive time (a median of a few agents is one agent's).
    lang
        The labels' language (:mod:`optimizer.i18n`).

    Returns
    -------
    str
        The page.
    """
    import folium

    def t(text: str) -> str:
        return translate(text, lang)

    class OfflineMap(folium.Map):
        default_js: list[tuple[str, str]] = []  # noqa: RUF012
        default_css: list[tuple[str, str]] = []  # noqa: RUF012

    sites = _sites(result, min_cell=min_cell)
    ho = result.head_office
    by_commune = agents_by_commune(result, min_cell=min_cell)
    outside = agents_outside(result, min_cell=min_cell)
    west, south, east, north = _extent(result, by_commune, outside)
    fmap = OfflineMap(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=9,
        tiles="OpenStreetMap",
        control_scale=True,
    )
    fmap.fit_bounds([[south, west], [north, east]])
    root = fmap.get_root()
    if not isinstance(root, Figure):  # pragma: no cover - folium roots every map in a Figure
        msg = "folium map without a figure"
        raise TypeError(msg)
    for name, tag, content in (
        ("leaflet_css", "style", _static("leaflet", "leaflet.css")),
        ("leaflet_js", "script", _static("leaflet", "leaflet.js")),
        ("jquery_js", "script", _static("jquery", "jquery.min.js")),
    ):
        root.header.add_child(folium.Element(f"<{tag}>{content}</{tag}>"), name=name)
    if not by_commune.empty:
        outline = datasets.communes()[["geometry"]].dissolve()
        folium.GeoJson(
            outline.boundary.to_frame("geometry").set_geometry("geometry"),
            name=t("département outline"),
            style_function=lambda _: {"color": "#6b6255", "weight": 2.5, "fill": False},
        ).add_to(fmap)
        communes = folium.FeatureGroup(name=t("agents per commune"))
        folium.GeoJson(
            by_commune[["commune", "agents", "assigned", "geometry"]],
            style_function=lambda _: {"color": "#6b6255", "weight": 1, "fillOpacity": 0.05},
            tooltip=folium.GeoJsonTooltip(
                fields=["commune", "agents", "assigned"],
                aliases=[translate_column(c, lang) for c in ("commune", "agents", "assigned")],
            ),
        ).add_to(communes)
        for row in by_commune.itertuples():
            folium.CircleMarker(
                location=[row.label_lat, row.label_lon],
                radius=4 + 3 * np.sqrt(row.agents),
                color="#3d3d3d",
                weight=1,
                fill=True,
                fill_color=_share_colour(row.assigned / max(row.agents, 1)),
                fill_opacity=0.85,
                popup=folium.Popup(
                    f"<b>{_text(row.commune)}</b><br>"
                    f"{t(_agents_text(row.agents, row.assigned, row.unreachable))}"
                    + (
                        "<br>"
                        + t(f"median drive to the head office {row.minutes_to_head_office:.0f} min")
                        if min_cell <= 1
                        else ""
                    ),
                    max_width=260,
                ),
            ).add_to(communes)
        communes.add_to(fmap)
    if not outside.empty:
        beyond = folium.FeatureGroup(name=t("agents outside the département"))
        for commune, lon, lat, agents, assigned, unreachable in _rows(outside):
            folium.RegularPolygonMarker(
                location=[lat, lon],
                number_of_sides=4,
                rotation=45,
                radius=6 + 3 * np.sqrt(agents),
                color=UNREACHABLE_COLOUR if unreachable else "#3d3d3d",
                weight=3 if unreachable else 1,
                fill=True,
                fill_color=_share_colour(assigned / max(agents, 1)),
                fill_opacity=0.85,
                popup=folium.Popup(
                    f"<b>{_text(commune)}</b> {t('(outside the département)')}<br>"
                    f"{t(_agents_text(agents, assigned, unreachable))}",
                    max_width=260,
                ),
                tooltip=_text(f"{commune}: {t(f'{unreachable} unreachable')}")
                if unreachable
                else _text(commune),
            ).add_to(beyond)
        beyond.add_to(fmap)
    centres = folium.FeatureGroup(name=t("telecentres"))
    for site in sites.to_dict("records"):
        folium.CircleMarker(
            location=[float(site["lat"]), float(site["lon"])],
            radius=8 + 2 * int(site["assigned"]),
            color="#1f5fa8",
            weight=2,
            fill=True,
            fill_color="#1f5fa8",
            fill_opacity=0.7,
            popup=folium.Popup(
                f"<b>{_text(site['telecentre_id'])}</b>: "
                f"{_text(site['name'])}<br>"
                + t(
                    f"{site['assigned']} agents; {site['desk_days_used']} of "
                    f"{site['desk_days_offered']} desk-days used a week "
                    f"({site['capacity']} desks each weekday)"
                )
                + (f"<br><i>{_text(t(site['note']))}</i>" if site["note"] else ""),
                max_width=300,
            ),
            tooltip=_text(site["telecentre_id"]),
        ).add_to(centres)
    centres.add_to(fmap)
    folium.CircleMarker(
        location=[ho.lat, ho.lon],
        radius=10,
        color="#c0392b",
        fill=True,
        fill_color="#c0392b",
        popup=folium.Popup(_text(ho.name), max_width=260),
        tooltip=t("head office"),
    ).add_to(fmap)
    for place in result.workplaces.to_dict("records") if result.workplaces is not None else []:
        folium.CircleMarker(
            location=[float(place["lat"]), float(place["lon"])],
            radius=7,
            color="#7b1d12",
            fill=True,
            fill_color="#7b1d12",
            popup=folium.Popup(
                f"<b>{_text(place['workplace_id'])}</b>: {_text(place['name'])}", max_width=260
            ),
            tooltip=t("workplace"),
        ).add_to(fmap)
    if made_up(result):
        note = _text(
            t("; ".join(w.split(":")[0] for w in made_up(result)) + ": figures not for decisions")
        )
        root.html.add_child(
            folium.Element(
                '<div style="position:fixed;top:10px;left:50px;z-index:1000;background:#fff3cd;'
                f'padding:4px 8px;border:1px solid #c9a227;font:13px sans-serif">{note}</div>'
            )
        )
    root.html.add_child(
        folium.Element(
            _legend_html(
                empty=by_commune.empty,
                note=t(_others_note(by_commune, outside)),
                outside=not outside.empty,
                lang=lang,
            )
        )
    )
    folium.LayerControl(collapsed=False).add_to(fmap)
    return stable_ids(str(root.render()))


#: Folium's element ids: a kind, then 32 random hex digits.
_FOLIUM_ID = re.compile(r"\b([a-z][a-z_]*?)_([0-9a-f]{32})(?![0-9a-f])")


def stable_ids(page: str) -> str:
    """Replace folium's random element ids by ids numbered in order of appearance.

    Folium names every element ``kind_<32 random hex digits>``, so two runs
    of the same plan gave two different ``map.html``; numbered ids make the
    page depend on the plan alone.

    Examples
    --------
    >>> stable_ids("map_" + "a" * 32 + " marker_" + "b" * 32 + " map_" + "a" * 32)
    'map_1 marker_2 map_1'
    """
    numbers: dict[str, int] = {}

    def numbered(match: re.Match[str]) -> str:
        number = numbers.setdefault(match.group(2), len(numbers) + 1)
        return f"{match.group(1)}_{number}"

    return _FOLIUM_ID.sub(numbered, page)


def _legend_html(*, empty: bool, note: str = "", outside: bool = False, lang: Lang = "en") -> str:
    """Build the HTML map legend: telecentres, head office, communes coloured as in map.png."""

    def t(text: str) -> str:
        return translate(text, lang)

    swatch = "display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:4px;"
    ramp = ", ".join(_share_colour(v) for v in (0.0, 0.25, 0.5, 0.75, 1.0))
    rows = [
        f'<span style="{swatch}background:#1f5fa8"></span>' + t("telecentre (size: agents hosted)"),
        f'<span style="{swatch}background:#c0392b"></span>' + t("head office"),
    ]
    if not empty:
        rows += [
            f'<span style="{swatch}background:#b7d7a8;border:1px solid #3d3d3d"></span>'
            + t("agents per commune (size: agents)"),
            t("share of the commune's agents assigned") + ":<br>"
            f'<span style="display:inline-block;width:120px;height:10px;'
            f'background:linear-gradient(to right, {ramp})"></span> 0 to 100 %',
        ]
    if outside:
        rows.append(
            f'<span style="{swatch}border-radius:0;transform:rotate(45deg);background:#b7d7a8;'
            f'border:2px solid {UNREACHABLE_COLOUR}"></span>'
            + t(
                "agents outside the département, at their commune's town hall (red edge: "
                "unreachable, off the road network)"
            )
        )
    if note:
        rows.append(_text(note))
    return (
        '<div style="position:fixed;bottom:24px;left:10px;z-index:1000;background:white;'
        'padding:6px 8px;border:1px solid #999;font:12px sans-serif;line-height:18px">'
        f"<b>{t('Legend')}</b><br>" + "<br>".join(rows) + "</div>"
    )
