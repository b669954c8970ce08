"""Re-plans with minimal disruption: start from a previous allocation, move few agents.

After a change (a telecentre closes, capacities change, volunteers join or
leave) the plan is solved again with each agent's previous telecentre as its
incumbent: keeping an agent where it was is worth ``move_penalty`` (minutes a
week) in the objective, so an agent moves only when the plan gains more than
that. :func:`changes_table` then says who moves, from where, to where, and why.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.inputs import read_input_bytes

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
    raw = read_input_bytes(path)  # bounded; a workbook or an archive is refused by name
    try:
        table = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        shown = " ".join(str(exc).split())[:160]
        msg = f"{path}: not a readable allocation.csv ({shown})."
        raise InputError(msg) from None
    missing = {"agent_id", "status", "telecentre_id"} - set(table.columns)
    if missing:
        msg = f"{path}: missing column(s) {', '.join(sorted(missing))}: is it an allocation.csv?"
        raise InputError(msg)
    assigned = table["status"].str.strip() == "assigned"
    # ids the report neutralised for spreadsheets ('=1+1) are read back as given (=1+1)
    ids = {
        column: table[column].str.strip().str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)
        for column in ("agent_id", "telecentre_id")
    }
    return pd.DataFrame(
        {
            "agent_id": ids["agent_id"],
            "telecentre_id": np.where(assigned, ids["telecentre_id"], ""),
        }
    )


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
