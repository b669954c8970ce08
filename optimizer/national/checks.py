"""What a national run needs of its roster and sites, and what it refuses.

A national plan (:mod:`.plan`, :mod:`.files`) does not apply every rule of a
plain run: :func:`refuse_unapplied_rules` stops a roster that sets one, and
:func:`checked_sites` a site list it cannot plan (a column missing, no site,
opening costs, ids not unique, sites outside every département); it gives
each site's desks per weekday (:func:`site_desks`) and département.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.national.groups import WEEKDAYS, locate

#: Per-agent rules of a plain run that the national plan does not apply yet.
UNAPPLIED_RULES = ("must_assign",)


def refuse_unapplied_rules(agents: pd.DataFrame) -> None:
    """Raise when a roster row sets a rule the national plan would silently ignore.

    ``must_assign`` is a rule of a plain run; a national plan that ignored it
    could leave out an agent who must be placed. A column left empty (or
    ``no``) is fine. (``forbidden_telecentres``, ``preferred_telecentre`` and
    ``preferred_days`` it applies.)

    Raises
    ------
    InputError
        Naming the file (when read from one), the row, the column and the value.
    """
    name = agents.attrs.get("name")
    columns: dict[str, str] = agents.attrs.get("columns", {})
    for rule in UNAPPLIED_RULES:
        if rule not in agents:
            continue
        values = agents[rule]
        if values.dtype == bool:
            used = values.to_numpy(bool)
        else:
            text = values.fillna("").astype(str).str.strip().str.lower()
            used = ~text.isin(["", "no", "non", "false", "0"]).to_numpy()
        if used.any():
            k = int(np.flatnonzero(used)[0])
            where = f"{name}: row {k + 2}" if name else f"agents row {k + 1}"
            shown = "yes" if values.dtype == bool else str(values.iloc[k]).strip()
            msg = (
                f"{where}, column '{columns.get(rule, rule)}': '{shown}' is a rule a "
                f"national run does not apply yet ({int(used.sum())} row(s) set it). Empty the "
                "column, or plan fewer agents at a time for those rules."
            )
            raise InputError(msg)


def site_desks(sites: pd.DataFrame) -> np.ndarray:
    """``(n_sites, 5)`` desks per weekday: ``mon..fri`` (or ``desks_mon..``), else ``capacity``."""
    if all(d in sites for d in WEEKDAYS):
        values = sites[list(WEEKDAYS)].to_numpy(float)
    elif all(f"desks_{d}" in sites for d in WEEKDAYS):
        values = sites[[f"desks_{d}" for d in WEEKDAYS]].to_numpy(float)
    elif "capacity" in sites:
        values = np.repeat(sites["capacity"].to_numpy(float)[:, None], 5, axis=1)
    else:
        msg = "sites need desks per weekday (mon..fri) or a capacity column."
        raise InputError(msg)
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values != np.round(values)):
        msg = "sites: desks must be whole numbers >= 0."
        raise InputError(msg)
    return values.astype(np.int64)


def checked_sites(sites: pd.DataFrame, areas: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Check the sites as a national run needs; return their desks per weekday and départements.

    Raises
    ------
    InputError
        A column missing, no site, desks not given, an opening cost, ids not
        unique, or sites outside every département.
    """
    for column in ("telecentre_id", "lon", "lat"):
        if column not in sites:
            msg = f"sites lack column {column!r}."
            raise InputError(msg)
    if len(sites) == 0:
        msg = "sites: no site given. Give at least one candidate site."
        raise InputError(msg)
    desks = site_desks(sites)
    site_ids = sites["telecentre_id"].astype(str).to_numpy()
    _refuse_opening_costs(sites, site_ids)
    if len(set(site_ids)) != len(site_ids):
        msg = "sites: telecentre_id values must be unique."
        raise InputError(msg)
    site_code = locate(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), areas)
    outside = np.flatnonzero(site_code == "")
    if outside.size:
        k = int(outside[0])
        name = sites.attrs.get("name")
        where = f"{name}: " if name else ""
        row = f", row {k + 2}" if name else ""
        msg = (
            f"{where}{outside.size} site(s) lie outside every département, e.g. {site_ids[k]} "
            f"at ({sites['lon'].iloc[k]}, {sites['lat'].iloc[k]}){row}: check their "
            "coordinates, or add that département (its polygon and its road network)."
        )
        raise InputError(msg)
    return desks, site_code


def _refuse_opening_costs(sites: pd.DataFrame, site_ids: np.ndarray) -> None:
    """Raise when a site has an opening cost: a national run opens every site."""
    if "opening_cost" not in sites:
        return
    costly = np.flatnonzero(sites["opening_cost"].fillna(0).to_numpy(float) != 0)
    if costly.size:
        k = int(costly[0])
        name = sites.attrs.get("name")
        where = f"{name}: row {k + 2}" if name else f"sites row {k + 1}"
        msg = (
            f"{where} ({site_ids[k]}), column 'opening_cost': "
            f"{sites['opening_cost'].iloc[k]} chooses which sites open, which a national "
            "run does not do yet (it opens them all). Remove the column, or plan without "
            "--scheduler."
        )
        raise InputError(msg)
