"""``map.html``: a run as an interactive folium page, Leaflet inlined (works offline).

The same layers as ``map.png`` (:mod:`optimizer.map_png`), from the same data
(:mod:`optimizer.map_data`), with popups and a legend; element ids are
numbered (:func:`stable_ids`) so that one plan always gives the same page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure

import optimizer.datasets as datasets
from optimizer.i18n import Lang, translate, translate_column
from optimizer.map_data import (
    UNREACHABLE_COLOUR,
    agents_by_commune,
    agents_outside,
    agents_text,
    map_extent,
    others_note,
    outside_rows,
    page_text,
    share_colour,
    site_table,
)
from optimizer.pipeline import RunResult
from optimizer.tables import made_up

if TYPE_CHECKING:
    import folium

#: A translation of a text into the map's language.
Translate = Callable[[str], str]


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

    by_commune = agents_by_commune(result, min_cell=min_cell)
    outside = agents_outside(result, min_cell=min_cell)
    fmap, root = _offline_map(map_extent(result, by_commune, outside))
    if not by_commune.empty:
        _add_communes(fmap, by_commune, min_cell=min_cell, t=t, lang=lang)
    if not outside.empty:
        _add_outside(fmap, outside, t)
    _add_sites(fmap, site_table(result, min_cell=min_cell), t)
    _add_workplaces(fmap, result, t)
    if made_up(result):
        note = page_text(
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
                note=t(others_note(by_commune, outside)),
                outside=not outside.empty,
                lang=lang,
                head_office=result.head_office_in_use,
            )
        )
    )
    folium.LayerControl(collapsed=False).add_to(fmap)
    return stable_ids(str(root.render()))


def _offline_map(extent: tuple[float, float, float, float]) -> tuple[folium.Map, Figure]:
    """Return a folium map of the extent with Leaflet and jQuery inlined (no CDN), and its root."""
    import folium

    class OfflineMap(folium.Map):
        default_js: list[tuple[str, str]] = []  # noqa: RUF012
        default_css: list[tuple[str, str]] = []  # noqa: RUF012

    west, south, east, north = extent
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
    return fmap, root


def _add_communes(
    fmap: folium.Map, by_commune: gpd.GeoDataFrame, *, min_cell: int, t: Translate, lang: Lang
) -> None:
    """Add the département's outline and the agents per commune (circles with popups)."""
    import folium

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
            fill_color=share_colour(row.assigned / max(row.agents, 1)),
            fill_opacity=0.85,
            popup=folium.Popup(
                f"<b>{page_text(row.commune)}</b><br>"
                f"{t(agents_text(row.agents, row.assigned, row.unreachable))}"
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


def _add_outside(fmap: folium.Map, outside: pd.DataFrame, t: Translate) -> None:
    """Add the agents outside the département (diamonds, red-edged when unreachable)."""
    import folium

    beyond = folium.FeatureGroup(name=t("agents outside the département"))
    for commune, lon, lat, agents, assigned, unreachable in outside_rows(outside):
        folium.RegularPolygonMarker(
            location=[lat, lon],
            number_of_sides=4,
            rotation=45,
            radius=6 + 3 * np.sqrt(agents),
            color=UNREACHABLE_COLOUR if unreachable else "#3d3d3d",
            weight=3 if unreachable else 1,
            fill=True,
            fill_color=share_colour(assigned / max(agents, 1)),
            fill_opacity=0.85,
            popup=folium.Popup(
                f"<b>{page_text(commune)}</b> {t('(outside the département)')}<br>"
                f"{t(agents_text(agents, assigned, unreachable))}",
                max_width=260,
            ),
            tooltip=page_text(f"{commune}: {t(f'{unreachable} unreachable')}")
            if unreachable
            else page_text(commune),
        ).add_to(beyond)
    beyond.add_to(fmap)


def _add_sites(fmap: folium.Map, sites: pd.DataFrame, t: Translate) -> None:
    """Add the telecentres, sized by the agents they host, with their occupancy."""
    import folium

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
                f"<b>{page_text(site['telecentre_id'])}</b>: "
                f"{page_text(site['name'])}<br>"
                + t(
                    f"{site['assigned']} agents; {site['desk_days_used']} of "
                    f"{site['desk_days_offered']} desk-days used a week "
                    f"({site['capacity']} desks each weekday)"
                )
                + (f"<br><i>{page_text(t(site['note']))}</i>" if site["note"] else ""),
                max_width=300,
            ),
            tooltip=page_text(site["telecentre_id"]),
        ).add_to(centres)
    centres.add_to(fmap)


def _add_workplaces(fmap: folium.Map, result: RunResult, t: Translate) -> None:
    """Add the head office (when some agent commutes there) and the other workplaces."""
    import folium

    ho = result.head_office
    if result.head_office_in_use:
        folium.CircleMarker(
            location=[ho.lat, ho.lon],
            radius=10,
            color="#c0392b",
            fill=True,
            fill_color="#c0392b",
            popup=folium.Popup(page_text(ho.name), max_width=260),
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
                f"<b>{page_text(place['workplace_id'])}</b>: {page_text(place['name'])}",
                max_width=260,
            ),
            tooltip=t("workplace"),
        ).add_to(fmap)


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


def _legend_html(
    *,
    empty: bool,
    note: str = "",
    outside: bool = False,
    lang: Lang = "en",
    head_office: bool = True,
) -> str:
    """Build the HTML map legend: telecentres, head office, communes coloured as in map.png."""

    def t(text: str) -> str:
        return translate(text, lang)

    swatch = "display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:4px;"
    ramp = ", ".join(share_colour(v) for v in (0.0, 0.25, 0.5, 0.75, 1.0))
    rows = [
        f'<span style="{swatch}background:#1f5fa8"></span>' + t("telecentre (size: agents hosted)")
    ]
    if head_office:
        rows.append(f'<span style="{swatch}background:#c0392b"></span>' + t("head office"))
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
        rows.append(page_text(note))
    return (
        '<div style="position:fixed;bottom:24px;left:10px;z-index:1000;background:white;'
        'padding:6px 8px;border:1px solid #999;font:12px sans-serif;line-height:18px">'
        f"<b>{t('Legend')}</b><br>" + "<br>".join(rows) + "</div>"
    )
