"""The GeoPackage's layer styles: QGIS (QML) and SLD, in the colours of ``map.html``.

:func:`layer_styles` gives each layer of ``assignment.gpkg`` (:mod:`optimizer.gpkg`)
its :class:`Style`; :func:`qml` and :func:`sld` write a style as QGIS and
other tools read it, and :func:`write_styles` stores them in the GeoPackage's
``layer_styles`` table, which QGIS opens as each layer's default style.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from optimizer.i18n import Lang, localise_value, translate, translate_column
from optimizer.map_data import SHARE_CMAP, UNREACHABLE_COLOUR

#: Colours of map.html (optimizer.maps): telecentres, head office, outlines, edges.
TELECENTRE_COLOUR = "#1f5fa8"


HEAD_OFFICE_COLOUR = "#c0392b"


OUTLINE_COLOUR = "#6b6255"


EDGE_COLOUR = "#3d3d3d"


#: Classes of the communes' share of agents placed (upper bounds), coloured on SHARE_CMAP.
SHARE_CLASSES = (0.2, 0.4, 0.6, 0.8, 1.0)


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

    share_rules = _share_rules(t)
    allocation = _allocation_style(shared, t, f, v)
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


def _share_rules(t: Callable[[str], str]) -> tuple[Rule, ...]:
    """Return the communes' classes of share placed, coloured as ``map.html``."""
    lows = (0.0, *SHARE_CLASSES[:-1])
    return tuple(
        Rule(
            label=t(f"{low:.0%} to {high:.0%} placed"),
            fill=_share_hex((low + high) / 2),
            stroke=OUTLINE_COLOUR,
            value=(low if i else -0.001, high),
        )
        for i, (low, high) in enumerate(zip(lows, SHARE_CLASSES, strict=True))
    )


def _allocation_style(
    shared: bool,
    t: Callable[[str], str],
    f: Callable[[str], str],
    v: Callable[[str], str],
) -> Style:
    """Return the allocation layer's style: agents per commune (shared), else each agent."""
    if shared:
        return Style(
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
    return Style(
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
