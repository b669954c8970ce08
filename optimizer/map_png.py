"""``map.png``: a run drawn with matplotlib.

The département and its communes, the agents per commune (coloured by the
share assigned), those outside the département, the telecentres sized by the
agents they host, the head office and other workplaces; what is drawn is
computed in :mod:`optimizer.map_data`, shared with ``map.html``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

import optimizer.datasets as datasets
from optimizer.i18n import Lang, translate
from optimizer.map_data import (
    SHARE_CMAP,
    UNREACHABLE_COLOUR,
    agents_by_commune,
    agents_outside,
    agents_text,
    map_extent,
    others_note,
    outside_rows,
    site_table,
    unreachable_homes,
)
from optimizer.pipeline import RunResult
from optimizer.tables import made_up

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: A translation of a text into the map's language.
Translate = Callable[[str], str]


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

    by_commune = agents_by_commune(result, min_cell=min_cell)
    outside = agents_outside(result, min_cell=min_cell)
    west, south, east, north = map_extent(result, by_commune, outside)
    fig = Figure(figsize=(9, 9), dpi=110)
    ax = fig.subplots()
    if not by_commune.empty:
        _draw_communes(fig, ax, by_commune, t)
    if not outside.empty:
        _draw_outside(ax, outside, t)
    _draw_sites(ax, site_table(result, min_cell=min_cell), t)
    _draw_workplaces(ax, result, t)
    _legend_entries(ax, by_commune, outside, t)
    ax.set_title(_title(result, by_commune, outside, t))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1 / np.cos(np.radians((south + north) / 2)), adjustable="box")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.08), fontsize=8, ncol=2, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _draw_communes(fig: Figure, ax: Axes, by_commune: gpd.GeoDataFrame, t: Translate) -> None:
    """Draw the communes, the département's outline and the agents per commune."""
    communes = datasets.communes()
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


def _draw_outside(ax: Axes, outside: pd.DataFrame, t: Translate) -> None:
    """Draw the agents outside the département (diamonds, red-edged when unreachable)."""
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
    for commune, lon, lat, agents, assigned, unreachable in outside_rows(outside):
        ax.annotate(
            f"{commune}: {t(agents_text(agents, assigned, unreachable))}",
            (lon, lat),
            xytext=(6, -10),
            textcoords="offset points",
            fontsize=7,
            color=UNREACHABLE_COLOUR if unreachable else "#3d3d3d",
            zorder=5,
            parse_math=False,
        )


def _draw_sites(ax: Axes, sites: pd.DataFrame, t: Translate) -> None:
    """Draw the telecentres, sized by the agents they host, with their occupancy."""
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


def _draw_workplaces(ax: Axes, result: RunResult, t: Translate) -> None:
    """Draw the head office (when some agent commutes there) and the other workplaces (stars)."""
    ho = result.head_office
    if result.head_office_in_use:
        ax.scatter(
            [ho.lon], [ho.lat], s=260, marker="*", color="#c0392b", zorder=5,
            label=t("head office"),
        )  # fmt: skip
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


def _legend_entries(
    ax: Axes, by_commune: gpd.GeoDataFrame, outside: pd.DataFrame, t: Translate
) -> None:
    """Add the legend's entries of the agents' circles and diamonds (empty scatters)."""
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


def _title(
    result: RunResult, by_commune: gpd.GeoDataFrame, outside: pd.DataFrame, t: Translate
) -> str:
    """Return the map's title: agents assigned, unreachable, grouped, made-up figures."""
    title = f"{int(result.assignment.assigned.sum())} of {result.problem.n_agents} agents assigned"
    unreachable = int(unreachable_homes(result).sum())
    if unreachable:
        title += f"; {unreachable} unreachable (off the road network)"
    title = t(title)
    if others_note(by_commune, outside):
        title += f"\n{t(others_note(by_commune, outside))}"
    for warning in made_up(result):
        title += "\n" + t(warning.split(":")[0] + ": not for decisions")
    return title
