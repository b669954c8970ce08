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
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure

from optimizer import datasets
from optimizer.pipeline import RunResult
from optimizer.report import made_up

logger = logging.getLogger(__name__)

MAP_PNG = "map.png"
MAP_HTML = "map.html"


def agents_by_commune(result: RunResult) -> gpd.GeoDataFrame:
    """Agents counted per commune, with the commune's boundary and a point inside it.

    The commune is the agents file's ``commune`` column where it names a
    commune of the embedded list, otherwise the commune whose boundary holds
    the home. Agents outside every commune are not counted here.

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    geopandas.GeoDataFrame
        ``commune, agents, assigned, minutes_to_head_office`` (median), with
        the commune polygons (EPSG:4326) and ``label_lon``, ``label_lat``.
    """
    communes = datasets.communes()[["nom", "rep_lon", "rep_lat", "geometry"]]
    names = set(communes["nom"])
    given = result.agents.get("commune", pd.Series([""] * len(result.agents)))
    homes = gpd.GeoDataFrame(
        {"commune": given.where(given.isin(names), "")},
        geometry=gpd.points_from_xy(result.agents["lon"], result.agents["lat"]),
        crs="EPSG:4326",
    )
    missing = homes["commune"] == ""
    if missing.any():
        found = gpd.sjoin(homes[missing], communes, how="left", predicate="within")
        found = found[~found.index.duplicated()]
        homes.loc[missing, "commune"] = found["nom"].fillna("").to_numpy()
    frame = pd.DataFrame(
        {
            "commune": homes["commune"].to_numpy(),
            "assigned": result.assignment.assigned,
            "minutes": result.problem.head_office_minutes_to,
        }
    )
    frame = frame[frame["commune"] != ""]
    grouped = frame.groupby("commune").agg(
        agents=("assigned", "size"),
        assigned=("assigned", "sum"),
        minutes_to_head_office=("minutes", "median"),
    )
    merged = communes.merge(grouped, left_on="nom", right_index=True, how="inner")
    merged = merged.rename(
        columns={"nom": "commune", "rep_lon": "label_lon", "rep_lat": "label_lat"}
    )
    return gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")


def _sites(result: RunResult) -> pd.DataFrame:
    load = result.assignment.load()
    return result.telecentres.assign(assigned=load)[
        ["telecentre_id", "name", "lon", "lat", "capacity", "assigned"]
    ]


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


def render_png(result: RunResult) -> bytes:
    """Draw the run as PNG bytes: communes, telecentres, head office, agents per commune.

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    bytes
        The PNG image.
    """
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    communes = datasets.communes()
    by_commune = agents_by_commune(result)
    sites = _sites(result)
    fig, ax = plt.subplots(figsize=(9, 9), dpi=110)
    if not by_commune.empty:
        communes.plot(ax=ax, facecolor="#f4f1ea", edgecolor="#c9c2b5", linewidth=0.4)
        communes.dissolve().boundary.plot(ax=ax, color="#6b6255", linewidth=1.2)
        share = by_commune["assigned"] / by_commune["agents"]
        points = ax.scatter(
            by_commune["label_lon"],
            by_commune["label_lat"],
            s=25 * by_commune["agents"],
            c=share,
            cmap="YlGn",
            vmin=0,
            vmax=1,
            edgecolor="#3d3d3d",
            linewidth=0.5,
            alpha=0.85,
            zorder=3,
        )
        fig.colorbar(points, ax=ax, shrink=0.5, label="share of the commune's agents assigned")
    ax.scatter(
        sites["lon"],
        sites["lat"],
        s=60 + 80 * sites["assigned"],
        marker="s",
        color="#1f5fa8",
        edgecolor="white",
        zorder=4,
        label="telecentre (size: agents hosted)",
    )
    for row in sites.itertuples():
        ax.annotate(
            f"{row.telecentre_id} {row.assigned}/{row.capacity}",
            (row.lon, row.lat),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=8,
            zorder=5,
        )
    ho = result.head_office
    ax.scatter(
        [ho.lon], [ho.lat], s=260, marker="*", color="#c0392b", zorder=5, label="head office"
    )
    ax.scatter(
        [], [], s=25 * 3, color="#b7d7a8", edgecolor="#3d3d3d", label="agents per commune (size)"
    )
    title = f"{int(result.assignment.assigned.sum())} of {result.problem.n_agents} agents assigned"
    for warning in made_up(result):
        title += "\n" + warning.split(":")[0] + ": not for decisions"
    ax.set_title(title)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1 / np.cos(np.radians(float(sites["lat"].mean()))))
    ax.legend(loc="lower left", fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
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


def render_html(result: RunResult) -> str:
    """Build the interactive map page (folium, Leaflet inlined) as HTML text.

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    str
        The page.
    """
    import folium

    class OfflineMap(folium.Map):
        default_js: list[tuple[str, str]] = []  # noqa: RUF012
        default_css: list[tuple[str, str]] = []  # noqa: RUF012

    sites = _sites(result)
    ho = result.head_office
    fmap = OfflineMap(
        location=[ho.lat, ho.lon], zoom_start=9, tiles="OpenStreetMap", control_scale=True
    )
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
    by_commune = agents_by_commune(result)
    if not by_commune.empty:
        communes = folium.FeatureGroup(name="agents per commune")
        folium.GeoJson(
            by_commune[["commune", "agents", "assigned", "geometry"]],
            style_function=lambda _: {"color": "#6b6255", "weight": 1, "fillOpacity": 0.05},
            tooltip=folium.GeoJsonTooltip(fields=["commune", "agents", "assigned"]),
        ).add_to(communes)
        for row in by_commune.itertuples():
            folium.CircleMarker(
                location=[row.label_lat, row.label_lon],
                radius=4 + 3 * np.sqrt(row.agents),
                color="#3d3d3d",
                weight=1,
                fill=True,
                fill_color="#7fbf6a",
                fill_opacity=0.8,
                popup=folium.Popup(
                    f"<b>{html.escape(row.commune)}</b><br>{row.agents} agents, "
                    f"{row.assigned} assigned<br>median drive to the head office "
                    f"{row.minutes_to_head_office:.0f} min",
                    max_width=260,
                ),
            ).add_to(communes)
        communes.add_to(fmap)
    centres = folium.FeatureGroup(name="telecentres")
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
                f"<b>{html.escape(str(site['name']))}</b><br>"
                f"{site['assigned']} of {site['capacity']} places",
                max_width=260,
            ),
            tooltip=str(site["telecentre_id"]),
        ).add_to(centres)
    centres.add_to(fmap)
    folium.CircleMarker(
        location=[ho.lat, ho.lon],
        radius=10,
        color="#c0392b",
        fill=True,
        fill_color="#c0392b",
        popup=folium.Popup(html.escape(ho.name), max_width=260),
        tooltip="head office",
    ).add_to(fmap)
    if made_up(result):
        note = html.escape("; ".join(w.split(":")[0] for w in made_up(result)))
        note += ": figures not for decisions"
        root.html.add_child(
            folium.Element(
                '<div style="position:fixed;top:10px;left:50px;z-index:1000;background:#fff3cd;'
                f'padding:4px 8px;border:1px solid #c9a227;font:13px sans-serif">{note}</div>'
            )
        )
    folium.LayerControl(collapsed=False).add_to(fmap)
    return str(root.render())
