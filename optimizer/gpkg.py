"""``assignment.gpkg``: a run as a GeoPackage for QGIS, each layer styled as ``map.html``.

Four layers, in EPSG:4326:

- ``telecentres`` (points): the rows of ``telecentres.csv`` (desks, agents,
  desk-days, utilisation...) at each telecentre's point;
- ``communes`` (polygons, the embedded commune boundaries): per commune of
  the département, ``agents, placed, share_placed, unreachable`` and
  ``minutes_saved_per_week``; the agents of smaller communes (and of homes
  outside the département) are counted in one ``other communes`` row without
  geometry, so the rows add up to the roster;
- ``head_office`` (point);
- ``allocation`` (points): in a planner's own run, the rows of
  ``allocation.csv``, each at the home's road access (the nearest point of
  the nearest road; homes given by commune at the commune's town hall; an
  agent off the road network without a point). In a shared run
  (``--pseudonymise``) nothing finer than the shared files: the placed agents
  counted per telecentre and commune, as ``telecentres.csv`` counts them
  (communes with fewer than :data:`optimizer.sharing.MIN_CELL` of a
  telecentre's agents grouped as ``other communes``, without a point), at the
  commune's town hall; the communes layer then gives no drive time, as the
  shared maps.

Each layer has a QGIS style (QML, and SLD for other tools) stored in the
GeoPackage's ``layer_styles`` table, the table QGIS reads, as its default:
the layer opens styled, in the colours of ``map.html`` (:mod:`optimizer.maps`).
"""

from __future__ import annotations

import datetime
import logging
import os
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

import optimizer.datasets as datasets
import optimizer.settings as settings
from optimizer.i18n import Lang, localise_table, localise_value, translate, translate_column
from optimizer.maps import SHARE_CMAP, UNREACHABLE_COLOUR, home_communes
from optimizer.network import RoadNetwork
from optimizer.pipeline import RunResult
from optimizer.sharing import OTHER_COMMUNES, group_small_cells
from optimizer.tables import GPKG_FILE
from optimizer.travel import snap_points

logger = logging.getLogger(__name__)

LAYERS = ("telecentres", "communes", "head_office", "allocation")
"""The layers, in the order QGIS lists them."""
CRS = settings.INPUT_CRS

#: Colours of map.html (optimizer.maps): telecentres, head office, outlines, edges.
TELECENTRE_COLOUR = "#1f5fa8"
HEAD_OFFICE_COLOUR = "#c0392b"
OUTLINE_COLOUR = "#6b6255"
EDGE_COLOUR = "#3d3d3d"
#: Classes of the communes' share of agents placed (upper bounds), coloured on SHARE_CMAP.
SHARE_CLASSES = (0.2, 0.4, 0.6, 0.8, 1.0)
#: Where an agent's point in the allocation layer stands.
ROAD_ACCESS = "road access"
TOWN_HALL = "town hall"
NO_POINT = "none"


def gpkg_layers(
    result: RunResult,
    allocation: pd.DataFrame,
    telecentres: pd.DataFrame,
    *,
    min_cell: int = 1,
    shared: bool = False,
) -> dict[str, gpd.GeoDataFrame]:
    """Build the four layers of ``assignment.gpkg``.

    Parameters
    ----------
    result
        The run's result as its files show it (a shared run's: the displaced
        figures of :func:`optimizer.sharing.shared_result`).
    allocation
        The table written as ``allocation.csv`` (a plain run's: in roster order).
    telecentres
        The table written as ``telecentres.csv``.
    min_cell
        Communes with fewer agents are counted as ``other communes`` (shared runs: 3).
    shared
        A run fit to share: the allocation layer counts agents per telecentre
        and commune, the communes layer gives no drive time.

    Returns
    -------
    dict
        Layer name (:data:`LAYERS`) to its GeoDataFrame (EPSG:4326).
    """
    sites = gpd.GeoDataFrame(
        telecentres.reset_index(drop=True),
        geometry=gpd.points_from_xy(result.telecentres["lon"], result.telecentres["lat"]),
        crs=CRS,
    )
    ho = result.head_office
    office = gpd.GeoDataFrame(
        {"name": [ho.name], "lon": [ho.lon], "lat": [ho.lat]},
        geometry=gpd.points_from_xy([ho.lon], [ho.lat]),
        crs=CRS,
    )
    return {
        "telecentres": sites,
        "communes": commune_layer(result, min_cell=min_cell, shared=shared),
        "head_office": office,
        "allocation": (
            shared_allocation_layer(result, min_cell=min_cell)
            if shared
            else allocation_layer(result, allocation)
        ),
    }


def commune_layer(
    result: RunResult, *, min_cell: int = 1, shared: bool = False
) -> gpd.GeoDataFrame:
    """Agents per commune of the département, on the communes' boundaries.

    Parameters
    ----------
    result
        A run's result.
    min_cell
        Communes with fewer agents are counted in the ``other communes`` row.
    shared
        Leave ``minutes_saved_per_week`` empty (a shared run gives no drive
        time per commune).

    Returns
    -------
    geopandas.GeoDataFrame
        ``insee, commune, agents, placed, share_placed, unreachable,
        minutes_saved_per_week`` (round trip, all placed agents of the
        commune), one row per commune with ``min_cell`` agents or more, then
        one ``other communes`` row (no geometry) for the rest, when any.
    """
    communes = datasets.communes()
    problem, chosen = result.problem, result.assignment.telecentre
    placed = chosen >= 0
    saving = np.zeros(problem.n_agents)
    rows = np.flatnonzero(placed)
    saving[rows] = problem.saving_minutes()[rows, chosen[rows]] * problem.days[rows]
    frame = pd.DataFrame(
        {
            "commune": home_communes(result, communes),
            "placed": placed,
            "unreachable": ~result.travel.origins["routed"].to_numpy(bool),
            "minutes": saving,
        }
    )
    grouped = frame.groupby("commune", sort=False).agg(
        agents=("placed", "size"),
        placed=("placed", "sum"),
        unreachable=("unreachable", "sum"),
        minutes_saved_per_week=("minutes", "sum"),
    )
    small = (grouped["agents"] < min_cell) | (grouped.index == "")
    shown = communes.merge(grouped[~small], left_on="nom", right_index=True, how="inner")
    shown = shown.rename(columns={"code": "insee", "nom": "commune"})
    rest = grouped[small]
    if len(rest):
        other = pd.DataFrame(
            {
                "insee": [""],
                "commune": [OTHER_COMMUNES],
                "agents": [int(rest["agents"].sum())],
                "placed": [int(rest["placed"].sum())],
                "unreachable": [int(rest["unreachable"].sum())],
                "minutes_saved_per_week": [float(rest["minutes_saved_per_week"].sum())],
                "geometry": [None],
            }
        )
        shown = pd.concat([shown, other], ignore_index=True)
    columns = ["insee", "commune", "agents", "placed", "unreachable", "minutes_saved_per_week"]
    out = gpd.GeoDataFrame(
        shown[columns].reset_index(drop=True), geometry=list(shown["geometry"]), crs=CRS
    )
    for column in ("agents", "placed", "unreachable"):
        out[column] = out[column].astype(np.int64)
    out.insert(4, "share_placed", (out["placed"] / out["agents"]).round(3))
    out["minutes_saved_per_week"] = (
        np.nan if shared else out["minutes_saved_per_week"].astype(float).round(1)
    )
    return out


def road_access(result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Each agent's road access: the nearest point of the nearest road to its home.

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)``, WGS84 degrees.
    """
    if not isinstance(result.network, RoadNetwork):  # a network folder: never loaded whole
        from optimizer.national.travel import road_access as folder_access

        at = folder_access(
            result.network,
            result.agents["lon"].to_numpy(float),
            result.agents["lat"].to_numpy(float),
        )
        return at[:, 0], at[:, 1]
    routing = result.network.routing
    snap = snap_points(
        routing,
        result.agents["lon"].to_numpy(float),
        result.agents["lat"].to_numpy(float),
        max_snap_m=result.options.max_snap_m,
    )
    points = shapely.line_interpolate_point(
        routing.geometry[snap.edge], snap.fraction, normalized=True
    )
    to_wgs = Transformer.from_crs(settings.WORKING_CRS, CRS, always_xy=True)
    lon, lat = to_wgs.transform(shapely.get_x(points), shapely.get_y(points))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def allocation_layer(result: RunResult, allocation: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the rows of a planner's own ``allocation.csv``, each at its home's road access.

    Parameters
    ----------
    result
        A run's result (not a shared one).
    allocation
        Its ``allocation.csv`` table, one row per agent in roster order.

    Returns
    -------
    geopandas.GeoDataFrame
        The table with ``point``: ``road access`` (homes given by coordinates
        or address), ``town hall`` (homes given by commune: the point they
        were placed at) or ``none`` (off the road network: no point).
    """
    if list(allocation["agent_id"].astype(str)) != list(result.agents["agent_id"].astype(str)):
        msg = "the allocation layer needs allocation.csv in roster order; this is a bug."
        raise RuntimeError(msg)
    lon, lat = road_access(result)
    by_commune = (
        result.agents["location"].eq("commune").to_numpy(bool)
        if "location" in result.agents
        else np.zeros(len(result.agents), dtype=bool)
    )
    routed = result.travel.origins["routed"].to_numpy(bool)
    lon = np.where(by_commune, result.agents["lon"].to_numpy(float), lon)
    lat = np.where(by_commune, result.agents["lat"].to_numpy(float), lat)
    kind = np.where(by_commune, TOWN_HALL, ROAD_ACCESS)
    kind = np.where(routed, kind, NO_POINT)
    geometry = [
        shapely.Point(x, y) if k != NO_POINT else None
        for x, y, k in zip(lon.tolist(), lat.tolist(), kind.tolist(), strict=True)
    ]
    table = allocation.reset_index(drop=True).assign(point=kind)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=CRS)


def shared_allocation_layer(result: RunResult, *, min_cell: int) -> gpd.GeoDataFrame:
    """Count the placed agents per telecentre and commune, as ``telecentres.csv`` counts them.

    Parameters
    ----------
    result
        A run's result.
    min_cell
        Communes with fewer of a telecentre's agents are grouped as ``other
        communes`` (:func:`optimizer.sharing.group_small_cells`), without a point.

    Returns
    -------
    geopandas.GeoDataFrame
        ``telecentre_id, commune, agents, point`` (``town hall`` or ``none``),
        at the town hall of the commune (of the département) so named.
    """
    labels = (
        result.agents["commune"].replace("", "unknown commune")
        if "commune" in result.agents
        else pd.Series(["unknown commune"] * len(result.agents))
    )
    halls = datasets.communes().drop_duplicates("nom").set_index("nom")
    ids = result.problem.telecentre_ids
    rows: list[dict[str, object]] = []
    for j, site in enumerate(ids):
        members = result.assignment.telecentre == j
        if not members.any():
            continue
        counts = group_small_cells(labels[members].value_counts(), min_cell=min_cell)
        for commune, count in counts.items():
            known = commune != OTHER_COMMUNES and commune in halls.index
            rows.append(
                {
                    "telecentre_id": site,
                    "commune": str(commune),
                    "agents": int(count),
                    "point": TOWN_HALL if known else NO_POINT,
                    "geometry": (
                        shapely.Point(
                            float(halls.loc[commune, "mairie_lon"]),
                            float(halls.loc[commune, "mairie_lat"]),
                        )
                        if known
                        else None
                    ),
                }
            )
    table = pd.DataFrame(rows, columns=["telecentre_id", "commune", "agents", "point", "geometry"])
    table["agents"] = table["agents"].astype(np.int64)
    return gpd.GeoDataFrame(table, geometry="geometry", crs=CRS)


# ----------------------------------------------------------------------------- styles


@dataclass(frozen=True)
class Rule:
    """One class of a layer's style: which features, drawn how.

    Attributes
    ----------
    label
        The legend's text.
    fill, stroke
        Hex colours.
    value
        The value of the style's field for a category, or ``(low, high]``
        for a graduated class; None: every feature.
    marker
        A point's marker (``circle``, ``square``, ``star``); None for polygons.
    size_mm
        A marker's size.
    """

    label: str
    fill: str
    stroke: str
    value: str | tuple[float, float] | None = None
    marker: str | None = None
    size_mm: float = 3.0


@dataclass(frozen=True)
class Style:
    """A layer's style: its rules, the field they read, a size and a label expression."""

    layer: str
    rules: tuple[Rule, ...]
    field: str | None = None
    size_expression: str | None = None
    label_field: str | None = None


def _share_hex(share: float) -> str:
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    return str(to_hex(mpl.colormaps[SHARE_CMAP](float(np.clip(share, 0.0, 1.0)))))


def layer_styles(*, shared: bool, lang: Lang = "en") -> dict[str, Style]:
    """Return the style of each layer, in the colours of ``map.html``.

    Parameters
    ----------
    shared
        A shared run (its allocation layer counts agents per commune).
    lang
        The language of the layers' fields and of the legends
        (:mod:`optimizer.i18n`): the styles name the fields as the layers do.

    Returns
    -------
    dict
        Layer name to its :class:`Style`.
    """

    def t(text: str) -> str:
        return translate(text, lang)

    def f(field: str) -> str:
        return translate_column(field, lang)

    def v(value: str) -> str:
        return str(localise_value(value, lang))

    lows = (0.0, *SHARE_CLASSES[:-1])
    share_rules = tuple(
        Rule(
            label=t(f"{low:.0%} to {high:.0%} placed"),
            fill=_share_hex((low + high) / 2),
            stroke=OUTLINE_COLOUR,
            value=(low if i else -0.001, high),
        )
        for i, (low, high) in enumerate(zip(lows, SHARE_CLASSES, strict=True))
    )
    allocation = (
        Style(
            "allocation",
            (
                Rule(
                    t("agents per telecentre and commune"),
                    _share_hex(0.75),
                    EDGE_COLOUR,
                    None,
                    "circle",
                ),
            ),
            size_expression=f'2 + 1.2 * sqrt("{f("agents")}")',
        )
        if shared
        else Style(
            "allocation",
            (
                Rule(t("assigned"), _share_hex(1.0), EDGE_COLOUR, v("assigned"), "circle", 2.0),
                Rule(
                    t("not assigned"),
                    _share_hex(0.0),
                    UNREACHABLE_COLOUR,
                    v("not_assigned"),
                    "circle",
                    2.0,
                ),
            ),
            field=f("status"),
        )
    )
    return {
        "telecentres": Style(
            "telecentres",
            (
                Rule(
                    t("telecentre (size: agents hosted)"),
                    TELECENTRE_COLOUR,
                    "#ffffff",
                    None,
                    "circle",
                ),
            ),
            size_expression=f'3 + 0.8 * sqrt("{f("assigned")}")',
            label_field=f("telecentre_id"),
        ),
        "communes": Style("communes", share_rules, field=f("share_placed")),
        "head_office": Style(
            "head_office",
            (Rule(t("head office"), HEAD_OFFICE_COLOUR, HEAD_OFFICE_COLOUR, None, "star", 6.0),),
        ),
        "allocation": allocation,
    }


def _rgba(colour: str) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[k : k + 2], 16) for k in (0, 2, 4))
    return f"{r},{g},{b},255"


def _option(name: str, value: str) -> str:
    return f'<Option name="{name}" type="QString" value={quoteattr(value)}/>'


def _qml_symbol(index: int, rule: Rule, size_expression: str | None) -> str:
    if rule.marker is None:
        options = [
            _option("color", _rgba(rule.fill)),
            _option("outline_color", _rgba(rule.stroke)),
            _option("outline_style", "solid"),
            _option("outline_width", "0.26"),
            _option("outline_width_unit", "MM"),
            _option("style", "solid"),
        ]
        kind, layer_class, defined = "fill", "SimpleFill", ""
    else:
        options = [
            _option("color", _rgba(rule.fill)),
            _option("name", rule.marker),
            _option("outline_color", _rgba(rule.stroke)),
            _option("outline_style", "solid"),
            _option("outline_width", "0.4"),
            _option("outline_width_unit", "MM"),
            _option("size", f"{rule.size_mm:g}"),
            _option("size_unit", "MM"),
        ]
        kind, layer_class = "marker", "SimpleMarker"
        defined = (
            '<data_defined_properties><Option type="Map"><Option name="name" type="QString" '
            'value=""/><Option name="properties" type="Map"><Option name="size" type="Map">'
            '<Option name="active" type="bool" value="true"/>'
            f"{_option('expression', size_expression)}"
            '<Option name="type" type="int" value="3"/></Option></Option>'
            '<Option name="type" type="QString" value="collection"/></Option>'
            "</data_defined_properties>"
            if size_expression
            else ""
        )
    return (
        f'<symbol type="{kind}" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="{layer_class}" enabled="1" pass="0" locked="0">'
        f'<Option type="Map">{"".join(options)}</Option>{defined}</layer></symbol>'
    )


def qml(style: Style) -> str:
    """Write the QGIS style (QML) of a layer.

    Parameters
    ----------
    style
        The layer's :class:`Style`.

    Returns
    -------
    str
        A QML document (single symbol, categorised or graduated renderer, and
        labels when the style has a label field).
    """
    symbols = "".join(
        _qml_symbol(i, rule, style.size_expression) for i, rule in enumerate(style.rules)
    )
    first = style.rules[0]
    if style.field is None:
        renderer = (
            '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><symbols>{symbols}</symbols></renderer-v2>'
        )
    elif isinstance(first.value, tuple):
        ranges = "".join(
            f'<range lower="{r.value[0]:g}" upper="{r.value[1]:g}" symbol="{i}" '
            f'label={quoteattr(r.label)} render="true"/>'
            for i, r in enumerate(style.rules)
            if isinstance(r.value, tuple)
        )
        renderer = (
            f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(style.field)} '
            'graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><ranges>{ranges}</ranges><symbols>{symbols}</symbols>'
            '<mode name="manual"/></renderer-v2>'
        )
    else:
        categories = "".join(
            f'<category value={quoteattr(str(r.value))} symbol="{i}" '
            f'label={quoteattr(r.label)} render="true"/>'
            for i, r in enumerate(style.rules)
        )
        renderer = (
            f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(style.field)} '
            'symbollevels="0" enableorderby="0" forceraster="0">'
            f"<categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2>"
        )
    labels = (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(style.label_field)} isExpression="0" '
        'fontSize="8" fontSizeUnit="Point" textColor="0,0,0,255" textOpacity="1">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" '
        'bufferColor="255,255,255,255" bufferOpacity="0.7"/></text-style>'
        '<placement placement="6" dist="1.5" distUnits="MM"/>'
        "</settings></labeling>"
        if style.label_field
        else ""
    )
    enabled = "1" if style.label_field else "0"
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="3.28.0" styleCategories="Symbology|Labeling" labelsEnabled="{enabled}">'
        f"{renderer}{labels}<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode>"
        "<layerOpacity>1</layerOpacity></qgis>\n"
    )


def _sld_filter(field: str, value: str | tuple[float, float]) -> str:
    name = f"<ogc:PropertyName>{escape(field)}</ogc:PropertyName>"
    if isinstance(value, tuple):
        return (
            "<ogc:Filter><ogc:And><ogc:PropertyIsGreaterThan>"
            f"{name}<ogc:Literal>{value[0]:g}</ogc:Literal></ogc:PropertyIsGreaterThan>"
            f"<ogc:PropertyIsLessThanOrEqualTo>{name}<ogc:Literal>{value[1]:g}</ogc:Literal>"
            "</ogc:PropertyIsLessThanOrEqualTo></ogc:And></ogc:Filter>"
        )
    return (
        f"<ogc:Filter><ogc:PropertyIsEqualTo>{name}<ogc:Literal>{escape(value)}</ogc:Literal>"
        "</ogc:PropertyIsEqualTo></ogc:Filter>"
    )


def sld(style: Style) -> str:
    """Write the style as Styled Layer Descriptor 1.1 (fixed sizes: no expressions).

    Parameters
    ----------
    style
        The layer's :class:`Style`.

    Returns
    -------
    str
        An SLD document.
    """
    rules = []
    for rule in style.rules:
        fill = f'<se:Fill><se:SvgParameter name="fill">{rule.fill}</se:SvgParameter></se:Fill>'
        stroke = (
            f'<se:Stroke><se:SvgParameter name="stroke">{rule.stroke}</se:SvgParameter>'
            '<se:SvgParameter name="stroke-width">1</se:SvgParameter></se:Stroke>'
        )
        if rule.marker is None:
            symbolizer = f"<se:PolygonSymbolizer>{fill}{stroke}</se:PolygonSymbolizer>"
        else:
            mark = {"circle": "circle", "square": "square", "star": "star"}[rule.marker]
            size = round(rule.size_mm * 72 / 25.4 * 1.333)  # mm to pixels at 96 dpi
            symbolizer = (
                "<se:PointSymbolizer><se:Graphic><se:Mark>"
                f"<se:WellKnownName>{mark}</se:WellKnownName>{fill}{stroke}</se:Mark>"
                f"<se:Size>{size}</se:Size></se:Graphic></se:PointSymbolizer>"
            )
        where = (
            _sld_filter(style.field, rule.value)
            if style.field is not None and rule.value is not None
            else ""
        )
        rules.append(
            f"<se:Rule><se:Name>{escape(rule.label)}</se:Name>"
            f"<se:Description><se:Title>{escape(rule.label)}</se:Title></se:Description>"
            f"{where}{symbolizer}</se:Rule>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" '
        'xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<NamedLayer><se:Name>{escape(style.layer)}</se:Name><UserStyle>"
        f"<se:Name>{escape(style.layer)}</se:Name><se:FeatureTypeStyle>"
        f"{''.join(rules)}</se:FeatureTypeStyle></UserStyle></NamedLayer>"
        "</StyledLayerDescriptor>\n"
    )


_LAYER_STYLES_TABLE = """
CREATE TABLE layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT CURRENT_TIMESTAMP
)
"""


def write_styles(path: Path, styles: Sequence[Style], *, geometry_column: str = "geom") -> None:
    """Store each layer's style in the GeoPackage's ``layer_styles`` table (QGIS's own).

    Parameters
    ----------
    path
        The GeoPackage.
    styles
        One :class:`Style` per layer, stored as that layer's default style.
    geometry_column
        The layers' geometry column.
    """
    with sqlite3.connect(path) as db:
        db.execute(_LAYER_STYLES_TABLE)
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles')"
        )
        db.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', '')",
            [
                (
                    s.layer,
                    geometry_column,
                    s.layer,
                    qml(s),
                    sld(s),
                    "colours of map.html (assign)",
                )
                for s in styles
            ],
        )
    db.close()


def gpkg_timestamp() -> str:
    """Return the fixed time of the GeoPackage's timestamps, ISO 8601 in UTC.

    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) when set, else
    the epoch: two runs of one plan write the same bytes, as they write the
    same CSV files.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    seconds = int(epoch) if epoch.isdigit() else 0
    when = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _fix_timestamps(path: Path) -> None:
    """Set every timestamp GDAL and the styles wrote to :func:`gpkg_timestamp`, then compact."""
    stamp = gpkg_timestamp()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_contents SET last_change = ?", (stamp,))
        columns = {row[1] for row in db.execute("PRAGMA table_info(layer_styles)")}
        if "update_time" in columns:
            db.execute("UPDATE layer_styles SET update_time = ?", (stamp,))
    db.close()
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("VACUUM")
    db.close()


_GEOMETRY_TYPES = {
    "telecentres": "Point",
    "communes": "MultiPolygon",
    "head_office": "Point",
    "allocation": "Point",
}


def render_gpkg(
    result: RunResult,
    allocation: pd.DataFrame,
    telecentres: pd.DataFrame,
    *,
    min_cell: int = 1,
    shared: bool = False,
    lang: Lang = "en",
) -> bytes:
    """Write ``assignment.gpkg`` (:func:`gpkg_layers`, styled) and return its bytes.

    The file is written in a private temporary folder, then read back, so
    that it is published with the run's other files
    (:class:`optimizer.publish.OutputFolder`).

    Parameters
    ----------
    result, allocation, telecentres, min_cell, shared
        As :func:`gpkg_layers` (the tables in English, as the library computes them).
    lang
        The language of the fields, values and legends (the layers' names stay).

    Returns
    -------
    bytes
        The GeoPackage.
    """
    started = time.perf_counter()
    layers = {
        name: gpd.GeoDataFrame(
            localise_table(layer, lang), geometry=layer.geometry.name, crs=layer.crs
        )
        for name, layer in gpkg_layers(
            result, allocation, telecentres, min_cell=min_cell, shared=shared
        ).items()
    }
    styles = layer_styles(shared=shared, lang=lang)
    with tempfile.TemporaryDirectory(prefix="assign-gpkg-") as folder:
        path = Path(folder) / GPKG_FILE
        for name in LAYERS:
            layers[name].to_file(
                path,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                mode="a" if path.exists() else "w",
                geometry_type=_GEOMETRY_TYPES[name],
                promote_to_multi=_GEOMETRY_TYPES[name].startswith("Multi"),
            )
        write_styles(path, [styles[name] for name in LAYERS])
        _fix_timestamps(path)
        data = path.read_bytes()
    logger.info(
        "assignment.gpkg: %d layers, %d bytes, in %.2f s",
        len(LAYERS),
        len(data),
        time.perf_counter() - started,
    )
    return data


__all__ = [
    "GPKG_FILE",
    "LAYERS",
    "Rule",
    "Style",
    "allocation_layer",
    "commune_layer",
    "gpkg_layers",
    "layer_styles",
    "qml",
    "render_gpkg",
    "road_access",
    "shared_allocation_layer",
    "sld",
    "write_styles",
]
