"""Re-plans with minimal disruption: start from a previous allocation, move few agents.

After a change (a telecentre closes, capacities change, volunteers join or
leave) the plan is solved again with each agent's previous telecentre as its
incumbent: keeping an agent where it was is worth ``move_penalty`` (minutes a
week) in the objective, so an agent moves only when the plan gains more than
that. :func:`changes_table` then says who moves, from where, to where, and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.csvout import restore_cell
from optimizer.errors import InputError
from optimizer.inputs import read_table

CHANGES_COLUMNS = ["agent_id", "change", "previous_telecentre_id", "telecentre_id", "why"]


def read_previous_allocation(path: str | Path) -> pd.DataFrame:
    """Read a previous ``allocation.csv`` (as written by ``assign``).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    pandas.DataFrame
        ``agent_id, telecentre_id`` of every agent in it ("" when not assigned).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: previous allocation not found. Give the allocation.csv of an earlier run."
        raise InputError(msg)
    # bounded, a workbook or an archive refused by name; ';' and cp1252 as a spreadsheet
    # saves the file again
    table, _ = read_table(path)
    missing = {"agent_id", "status", "telecentre_id"} - set(table.columns)
    if missing:
        msg = f"{path}: missing column(s) {', '.join(sorted(missing))}: is it an allocation.csv?"
        raise InputError(msg)
    assigned = table["status"].str.strip() == "assigned"
    # ids the report neutralised for spreadsheets ('=1+1) are read back as given (=1+1)
    ids = {
        column: table[column].str.strip().map(restore_cell)
        for column in ("agent_id", "telecentre_id")
    }
    return pd.DataFrame(
        {
            "agent_id": ids["agent_id"],
            "telecentre_id": np.where(assigned, ids["telecentre_id"], ""),
        }
    )


_PSEUDONYM = re.compile(r"^P[0-9a-f]{12}$")


def match_previous(
    previous: pd.DataFrame,
    agent_ids: list[str],
    *,
    pseudonymise: Callable[[str], str] | None = None,
) -> pd.DataFrame:
    """Match a previous allocation's agents to the current ones, pseudonyms included.

    When the previous run pseudonymised its ids (``assign --pseudonymise``),
    ``pseudonymise`` (the same salt) turns each current id into its
    pseudonym, and the previous rows are given back the current ids, so
    incumbents and move penalties apply. An id a spreadsheet stripped of its
    leading zeros (``123`` for ``00123``) is given them back when that names
    exactly one current agent (``attrs["zeros_restored"]`` counts them).

    Parameters
    ----------
    previous
        From :func:`read_previous_allocation`.
    agent_ids
        The current agents' ids.
    pseudonymise
        Maps a current id to its pseudonym (e.g. ``lambda a: pseudonym(a, salt)``).

    Returns
    -------
    pandas.DataFrame
        The previous allocation with current ids where pseudonyms matched;
        ``attrs["matched"]`` is how many of its agents are current agents.
    """
    current = set(agent_ids)
    out = previous.copy()
    if pseudonymise is not None:
        back = {pseudonymise(a): a for a in agent_ids}
        if out["agent_id"].isin(back).sum() > out["agent_id"].isin(current).sum():
            out["agent_id"] = [back.get(a, a) for a in out["agent_id"]]
    # a spreadsheet re-saving allocation.csv writes '00123' as 123: give the zeros back where
    # that names exactly one current agent
    bare: dict[str, list[str]] = {}
    for a in agent_ids:
        if a.isdigit() and a.startswith("0"):
            bare.setdefault(a.lstrip("0") or "0", []).append(a)
    lost = [a not in current and a.isdigit() and len(bare.get(a, [])) == 1 for a in out["agent_id"]]
    if any(lost):
        out["agent_id"] = [
            bare[a][0] if gone else a for a, gone in zip(out["agent_id"], lost, strict=True)
        ]
    out.attrs["zeros_restored"] = int(sum(lost))
    out.attrs["matched"] = int(out["agent_id"].isin(current).sum())
    out.attrs["pseudonyms"] = bool(out["agent_id"].map(lambda a: bool(_PSEUDONYM.match(a))).any())
    return out


def no_match_warning(previous: pd.DataFrame, agent_ids: list[str], source: str) -> str:
    """Warn when no agent of a previous allocation is a current agent, or ids lost their zeros.

    Parameters
    ----------
    previous
        The previous allocation (after :func:`match_previous`).
    agent_ids
        The current agents' ids.
    source
        Where the previous allocation came from, for the message.

    Returns
    -------
    str
        The warning, or "".
    """
    restored = int(previous.attrs.get("zeros_restored", 0))
    if restored and previous["agent_id"].isin(set(agent_ids)).any():
        return (
            f"{restored} agent id(s) of the previous allocation {source} had lost their "
            "leading zeros (a spreadsheet re-saved it): matched to the roster's ids with them. "
            "Keep ids as text when editing the file."
        )
    if previous.empty or previous["agent_id"].isin(set(agent_ids)).any():
        return ""
    hint = (
        "its ids look like pseudonyms: give the same --pseudonymise SALT as the earlier run"
        if previous["agent_id"].map(lambda a: bool(_PSEUDONYM.match(a))).any()
        else "check that it is the allocation.csv of the same roster"
    )
    return (
        f"no agent id of the previous allocation {source} matches the current agents, so "
        f"nobody keeps a place by the move penalty; {hint}."
    )


def replan_counts(
    changes: pd.DataFrame, previous: pd.DataFrame, allocation: pd.DataFrame
) -> dict[str, int]:
    """How many agents stayed, moved, were added or removed, joined and left.

    Parameters
    ----------
    changes
        From :func:`changes_table`.
    previous
        The previous allocation.
    allocation
        The new allocation table.

    Returns
    -------
    dict
        ``stayed`` (same telecentre), ``moved``, ``added`` (newly given a
        telecentre), ``removed`` (no longer given one), ``joined``, ``left``
        and ``matched`` (agents in both plans).
    """
    before = dict(zip(previous["agent_id"], previous["telecentre_id"], strict=True))
    now = dict(zip(allocation["agent_id"], allocation["telecentre_id"].fillna(""), strict=True))
    counts = changes["change"].value_counts()
    return {
        "matched": sum(a in now for a in before),
        "stayed": sum(1 for a, t in before.items() if t and now.get(a) == t),
        **{k: int(counts.get(k, 0)) for k in ("moved", "added", "removed", "joined", "left")},
    }


def incumbent_pairs(
    previous: pd.DataFrame, agent_ids: list[str], telecentre_ids: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (agent index, telecentre index) of the previous plan that still exist.

    Parameters
    ----------
    previous
        From :func:`read_previous_allocation`.
    agent_ids, telecentre_ids
        The current ids, in problem order.

    Returns
    -------
    tuple of numpy.ndarray
        Agent and telecentre indices.
    """
    agent_index = {a: i for i, a in enumerate(agent_ids)}
    centre_index = {t: j for j, t in enumerate(telecentre_ids)}
    rows, cols = [], []
    for agent, centre in zip(previous["agent_id"], previous["telecentre_id"], strict=True):
        if agent in agent_index and centre in centre_index:
            rows.append(agent_index[agent])
            cols.append(centre_index[centre])
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def changes_table(
    previous: pd.DataFrame,
    allocation: pd.DataFrame,
    telecentres: pd.DataFrame,
    *,
    move_penalty: float,
) -> pd.DataFrame:
    """Who moves, from where, to where, and why, between two plans.

    Parameters
    ----------
    previous
        From :func:`read_previous_allocation`.
    allocation
        The new allocation table (:func:`optimizer.report.allocation_table`).
    telecentres
        The current telecentres (``telecentre_id, capacity``).
    move_penalty
        The penalty used, for the explanation.

    Returns
    -------
    pandas.DataFrame
        ``agent_id, change, previous_telecentre_id, telecentre_id, why``: one
        row per agent whose telecentre changed, joined or left (``change`` is
        ``moved``, ``removed``, ``added``, ``joined`` or ``left``).
    """
    before = dict(zip(previous["agent_id"], previous["telecentre_id"], strict=True))
    now = dict(zip(allocation["agent_id"], allocation["telecentre_id"].fillna(""), strict=True))
    reasons = dict(zip(allocation["agent_id"], allocation["reason"].fillna(""), strict=True))
    capacity = dict(zip(telecentres["telecentre_id"], telecentres["capacity"], strict=True))
    load_before = previous[previous["telecentre_id"] != ""]["telecentre_id"].value_counts()
    rows = []
    for agent, old in before.items():
        if agent not in now:
            rows.append((agent, "left", old, "", "no longer in the agents file"))
            continue
        new = now[agent]
        if new == old:
            continue
        change = "added" if not old else "removed" if not new else "moved"
        if old and old not in capacity:
            why = f"telecentre {old} is no longer in the telecentres file (closed)"
        elif old and capacity[old] < load_before.get(old, 0):
            why = (
                f"capacity of {old} cut from at least {load_before.get(old, 0)} to {capacity[old]}"
            )
        elif not new:
            why = reasons.get(agent, "") or "not kept by the new plan"
        elif not old:
            why = "a place became worth giving (changed rules, capacities or roster)"
        else:
            why = f"the plan gains more than the move penalty ({move_penalty:g} min a week)"
        rows.append((agent, change, old, new, why))
    for agent, new in now.items():
        if agent not in before:
            why = "new volunteer" if new else f"new volunteer, {reasons.get(agent, '')}"
            rows.append((agent, "joined", "", new, why))
    return pd.DataFrame(rows, columns=CHANGES_COLUMNS)
