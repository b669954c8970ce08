"""Re-plans with minimal disruption: start from a previous allocation, move few agents.

After a change (a telecentre closes, capacities change, volunteers join or
leave) the plan is solved again with each agent's previous telecentre as its
incumbent: keeping an agent where it was is worth ``move_penalty`` (minutes a
week) in the objective, so an agent moves only when the plan gains more than
that. Its weekdays are read from the ``schedule.csv`` next to the previous
allocation: each one it keeps at the same telecentre is worth
``day_change_penalty`` (minutes a week), so its weekdays change only when the
plan gains more than that a day. :func:`changes_table` then says who moves or
changes weekdays, from where, to where, and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.csvout import restore_cell
from optimizer.errors import InputError
from optimizer.i18n import delocalise_table
from optimizer.inputs import WEEKDAYS, read_table

CHANGES_COLUMNS = [
    "agent_id",
    "change",
    "previous_telecentre_id",
    "telecentre_id",
    "previous_weekdays",
    "weekdays",
    "why",
]
#: The files of the previous run read next to its allocation.csv, when there.
PREVIOUS_SCHEDULE = "schedule.csv"
PREVIOUS_TELECENTRES = "telecentres.csv"


def read_previous_allocation(path: str | Path) -> pd.DataFrame:
    """Read a previous ``allocation.csv`` (as written by ``assign``).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    pandas.DataFrame
        ``agent_id, telecentre_id, weekdays`` of every agent in it (""
        when not assigned; ``weekdays`` ``|``-joined, from the
        ``schedule.csv`` next to it). ``attrs["weekdays_known"]`` says whether
        that schedule was there; ``attrs["desks"]`` maps each telecentre of
        the ``telecentres.csv`` next to it to its 5 desks per weekday (empty
        when that file is not there).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: previous allocation not found. Give the allocation.csv of an earlier run."
        raise InputError(msg)
    # bounded, a workbook or an archive refused by name; ';' and cp1252 as a spreadsheet
    # saves the file again
    table, _ = read_table(path)
    table = delocalise_table(table)  # written in French (--lang fr) or English
    missing = {"agent_id", "status", "telecentre_id"} - set(table.columns)
    if missing:
        msg = f"{path}: missing column(s) {', '.join(sorted(missing))}: is it an allocation.csv?"
        raise InputError(msg)
    assigned = table["status"].str.strip() == "assigned"
    # ids the report neutralised for spreadsheets ('=1+1) are read back as given (=1+1)
    ids = {column: _ids(table[column]) for column in ("agent_id", "telecentre_id")}
    out = pd.DataFrame(
        {
            "agent_id": ids["agent_id"],
            "telecentre_id": np.where(assigned, ids["telecentre_id"], ""),
        }
    )
    days = _previous_weekdays(path.with_name(PREVIOUS_SCHEDULE), out)
    out["weekdays"] = [(days or {}).get(a, "") for a in out["agent_id"]]
    out.attrs["weekdays_known"] = days is not None
    out.attrs["desks"] = _previous_desks(path.with_name(PREVIOUS_TELECENTRES))
    return out


def _ids(column: pd.Series) -> pd.Series:
    """Ids as written, those the report neutralised for spreadsheets ('=1+1) read back (=1+1)."""
    return column.astype(str).str.strip().map(restore_cell)


def _previous_weekdays(path: Path, allocation: pd.DataFrame) -> dict[str, str] | None:
    """Each agent's ``|``-joined weekdays at its telecentre, from a previous ``schedule.csv``.

    Rows at another telecentre than the allocation's (an edited allocation) are
    left out. None when the file is not there.
    """
    if not path.is_file():
        return None
    table, _ = read_table(path)
    table = delocalise_table(table)
    missing = {"agent_id", "weekday", "telecentre_id"} - set(table.columns)
    if missing:
        msg = f"{path}: missing column(s) {', '.join(sorted(missing))}: is it a schedule.csv?"
        raise InputError(msg)
    day = table["weekday"].astype(str).str.strip().str.lower()
    wrong = sorted(set(day) - set(WEEKDAYS))
    if wrong:
        msg = f"{path}: weekday '{wrong[0]}' is not one of {', '.join(WEEKDAYS)}."
        raise InputError(msg)
    where = dict(zip(allocation["agent_id"], allocation["telecentre_id"], strict=True))
    agent, centre = _ids(table["agent_id"]), _ids(table["telecentre_id"])
    found: dict[str, set[str]] = {}
    for a, t, d in zip(agent, centre, day, strict=True):
        if t and where.get(a) == t:
            found.setdefault(a, set()).add(d)
    return {a: "|".join(d for d in WEEKDAYS if d in got) for a, got in found.items()}


def _previous_desks(path: Path) -> dict[str, tuple[int, ...]]:
    """Each telecentre's desks per weekday, from a previous ``telecentres.csv`` (or {})."""
    if not path.is_file():
        return {}
    try:
        table, _ = read_table(path)
        table = delocalise_table(table)
        columns = [f"desks_{d}" for d in WEEKDAYS]
        if "telecentre_id" not in table or not set(columns) <= set(table.columns):
            return {}
        desks = table[columns].apply(pd.to_numeric, errors="coerce")
    except InputError:  # only explains a capacity cut: never a reason to fail
        return {}
    return {
        str(t): tuple(int(v) for v in row)
        for t, row in zip(_ids(table["telecentre_id"]), desks.to_numpy(), strict=True)
        if not np.isnan(row).any()
    }


def previous_days(previous: pd.DataFrame, agent_ids: list[str]) -> np.ndarray:
    """``(n_agents, 5)`` booleans: each current agent's weekdays in the previous plan.

    Parameters
    ----------
    previous
        From :func:`read_previous_allocation` (after :func:`match_previous`).
    agent_ids
        The current agents' ids, in problem order.

    Returns
    -------
    numpy.ndarray
        All False for agents not in it, or when its weekdays are not known.
    """
    index = {a: i for i, a in enumerate(agent_ids)}
    out = np.zeros((len(agent_ids), 5), dtype=bool)
    if "weekdays" not in previous:
        return out
    for agent, days in zip(previous["agent_id"], previous["weekdays"], strict=True):
        if agent in index:
            for day in str(days).split("|"):
                if day:
                    out[index[agent], WEEKDAYS.index(day)] = True
    return out


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
) -> dict[str, int | None]:
    """How many agents stayed (on the same or other weekdays), moved, were added or removed.

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
        ``stayed`` (same telecentre), ``stayed_same_weekdays`` and
        ``stayed_other_weekdays`` (of those, None when the previous weekdays
        are not known), ``moved``, ``added`` (newly given a telecentre),
        ``removed`` (no longer given one), ``joined``, ``left`` and
        ``matched`` (agents in both plans).
    """
    before = dict(zip(previous["agent_id"], previous["telecentre_id"], strict=True))
    now = dict(zip(allocation["agent_id"], allocation["telecentre_id"].fillna(""), strict=True))
    counts = changes["change"].value_counts()
    stayed = sum(1 for a, t in before.items() if t and now.get(a) == t)
    known = bool(previous.attrs.get("weekdays_known", False))
    other = int(counts.get(OTHER_WEEKDAYS, 0))
    return {
        "matched": sum(a in now for a in before),
        "stayed": stayed,
        "stayed_same_weekdays": stayed - other if known else None,
        "stayed_other_weekdays": other if known else None,
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
    schedule: pd.DataFrame | None = None,
    day_change_penalty: float = 0.0,
) -> pd.DataFrame:
    """Who moves or changes weekdays, from where, to where, and why, between two plans.

    Parameters
    ----------
    previous
        From :func:`read_previous_allocation`.
    allocation
        The new allocation table (:func:`optimizer.report.allocation_table`).
    telecentres
        The current telecentres (``telecentre_id`` and ``capacity``, or
        ``desks_mon`` .. ``desks_fri``: desks each weekday).
    move_penalty
        The penalty used, for the explanation.
    schedule
        The new plan's ``schedule.csv`` table (``agent_id, weekday,
        telecentre_id``); without it, or without the previous weekdays,
        weekday changes are not listed.
    day_change_penalty
        The penalty per changed weekday used, for the explanation.

    Returns
    -------
    pandas.DataFrame
        ``agent_id, change, previous_telecentre_id, telecentre_id,
        previous_weekdays, weekdays, why``: one row per agent whose telecentre
        or weekdays changed, or who joined or left (``change`` is ``moved``,
        ``removed``, ``added``, ``other_weekdays`` (same telecentre, other
        weekdays), ``joined`` or ``left``; weekdays ``|``-joined).
    """
    before = dict(zip(previous["agent_id"], previous["telecentre_id"], strict=True))
    now = dict(zip(allocation["agent_id"], allocation["telecentre_id"].fillna(""), strict=True))
    reasons = dict(zip(allocation["agent_id"], allocation["reason"].fillna(""), strict=True))
    known = bool(previous.attrs.get("weekdays_known", False)) and "weekdays" in previous
    days_before = (
        dict(zip(previous["agent_id"], previous["weekdays"], strict=True)) if known else {}
    )
    days_now = _weekdays_of(schedule, now) if schedule is not None else {}
    known = known and schedule is not None
    desks = _desks(telecentres)
    explain = _CutExplainer(previous, desks, days_before if known else None)
    rows = []
    for agent, old in before.items():
        old_days = days_before.get(agent, "")
        if agent not in now:
            rows.append((agent, "left", old, "", old_days, "", "no longer in the agents file"))
            continue
        new, new_days = now[agent], days_now.get(agent, "")
        if new == old and (not new or not known or new_days == old_days):
            continue
        if new == old:
            why = _weekday_why(old, old_days, new_days, explain, day_change_penalty)
            rows.append((agent, OTHER_WEEKDAYS, old, new, old_days, new_days, why))
            continue
        change = "added" if not old else "removed" if not new else "moved"
        why = _move_why(old, new, desks, explain, reasons.get(agent, ""), move_penalty)
        rows.append((agent, change, old, new, old_days, new_days, why))
    for agent, new in now.items():
        if agent not in before:
            why = "new volunteer" if new else f"new volunteer, {reasons.get(agent, '')}"
            rows.append((agent, "joined", "", new, "", days_now.get(agent, ""), why))
    return pd.DataFrame(rows, columns=CHANGES_COLUMNS)


#: ``change`` of an agent at the same telecentre on other weekdays.
OTHER_WEEKDAYS = "other_weekdays"


def _move_why(
    old: str,
    new: str,
    desks: dict[str, np.ndarray],
    explain: _CutExplainer,
    reason: str,
    move_penalty: float,
) -> str:
    """Say why an agent moved, was added or was removed (``reason``: its new plan's reason)."""
    cut = explain.why(old) if old in desks else None
    if old and old not in desks:
        return f"telecentre {old} is no longer in the telecentres file (closed)"
    if old and cut:
        return cut
    if not new:
        return reason or "not kept by the new plan"
    if not old:
        return "a place became worth giving (changed rules, capacities or roster)"
    return f"the plan gains more than the move penalty ({move_penalty:g} min a week)"


def _weekdays_of(schedule: pd.DataFrame, where: dict[str, str]) -> dict[str, str]:
    """Each agent's ``|``-joined weekdays at its telecentre in a schedule table."""
    found: dict[str, set[str]] = {}
    for a, d, t in zip(
        schedule["agent_id"], schedule["weekday"], schedule["telecentre_id"], strict=True
    ):
        if where.get(a) == t:
            found.setdefault(a, set()).add(d)
    return {a: "|".join(d for d in WEEKDAYS if d in got) for a, got in found.items()}


def _desks(telecentres: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each telecentre's desks per weekday (``desks_mon`` .., else ``capacity`` every day)."""
    columns = [f"desks_{d}" for d in WEEKDAYS]
    if set(columns) <= set(telecentres.columns):
        values = telecentres[columns].to_numpy(np.int64)
    else:
        values = np.repeat(telecentres["capacity"].to_numpy(np.int64)[:, None], 5, axis=1)
    return dict(zip(telecentres["telecentre_id"], values, strict=True))


def _per_day(desks: np.ndarray) -> str:
    """``4 a day``, or ``mon 4, tue 4, wed 2, thu 2, fri 0``."""
    values = [int(v) for v in desks]
    if len(set(values)) == 1:
        return f"{values[0]} a day"
    return ", ".join(f"{d} {v}" for d, v in zip(WEEKDAYS, values, strict=True))


class _CutExplainer:
    """Whether, and how, a telecentre's desks were cut below what the previous plan used."""

    def __init__(
        self,
        previous: pd.DataFrame,
        desks: dict[str, np.ndarray],
        days_before: dict[str, str] | None,
    ) -> None:
        self.desks = desks
        self.given: dict[str, tuple[int, ...]] = previous.attrs.get("desks", {})
        self.days_known = days_before is not None
        self.present: dict[str, np.ndarray] = {}  # agents there each weekday, previous plan
        self.load: dict[str, int] = {}
        for agent, centre in zip(previous["agent_id"], previous["telecentre_id"], strict=True):
            if not centre:
                continue
            self.load[centre] = self.load.get(centre, 0) + 1
            there = self.present.setdefault(centre, np.zeros(5, dtype=np.int64))
            for day in (days_before or {}).get(agent, "").split("|"):
                if day:
                    there[WEEKDAYS.index(day)] += 1

    def why(self, centre: str) -> str | None:
        """Why agents left ``centre`` or its weekdays: its desks were cut, or None."""
        new = self.desks[centre]
        given = self.given.get(centre)
        if not self.days_known:  # how many were there each day is not known
            if given is not None and np.any(new < np.asarray(given)):
                return _cut(centre, given, new, new < np.asarray(given))
            if self.load.get(centre, 0) > int(new.max()):
                return (
                    f"desks of {centre} now {_per_day(new)}, for {self.load[centre]} agents "
                    "there before (their weekdays unknown: no schedule.csv next to the "
                    "previous allocation)"
                )
            return None
        there = self.present.get(centre, np.zeros(5, dtype=np.int64))
        short = new < there
        if not short.any():
            return None
        if given is not None:
            return _cut(centre, given, new, short)
        first = int(np.flatnonzero(short)[0])
        return (
            f"desks of {centre} cut to {int(new[first])} on {WEEKDAYS[first]}, fewer than the "
            f"{int(there[first])} agents there that day in the previous plan"
        )


def _cut(centre: str, given: tuple[int, ...], new: np.ndarray, short: np.ndarray) -> str:
    """``desks of X cut from 4 to 2 a day``, or the days cut (``mon 4 to 2, tue 3 to 1``)."""
    if len(set(given)) == 1 and len(set(new.tolist())) == 1:
        return f"desks of {centre} cut from {given[0]} to {int(new[0])} a day"
    cut = [f"{WEEKDAYS[d]} {given[d]} to {int(new[d])}" for d in np.flatnonzero(short)]
    return f"desks of {centre} cut ({', '.join(cut)})"


def _weekday_why(
    centre: str, old_days: str, new_days: str, explain: _CutExplainer, penalty: float
) -> str:
    """Why an agent staying at ``centre`` changes weekdays."""
    n_old, n_new = len(old_days.split("|")) if old_days else 0, len(new_days.split("|"))
    if n_old != n_new:
        return f"telework days a week changed from {n_old} to {n_new}"
    cut = explain.why(centre) if centre in explain.desks else None
    if cut:
        return cut
    return (
        f"the plan gains more than the day-change penalty ({penalty:g} min a week a weekday): "
        "other agents, desks or rules"
    )
