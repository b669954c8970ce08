"""What ``summary.json`` says of a run: inputs, network, options, solver, totals, timings.

Also the sentences the command prints and the summary keeps: the plan's
notes (who was selected, which telecentres opened, the longest drive), a
re-plan's counts, homes off the network, and a solver outcome that never
contradicts itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from optimizer._text import fewer_selected
from optimizer.benefits import benefit_totals, factors
from optimizer.model import counted
from optimizer.pipeline import RunResult, choosing_rule
from optimizer.replan import no_match_warning, replan_counts
from optimizer.report.agents import (
    allocation_table,
    replan_changes,
    weekly_savings,
)
from optimizer.tables import (
    APPROXIMATE_WARNING,
    ILLUSTRATIVE_WARNING,
    SYNTHETIC_WARNING,
    made_up,
    telecentre_table,
)
from optimizer.ties import TIE_RULE, reason_kind, reason_label

OBJECTIVE_TEXT = {
    "minutes": "round-trip minutes saved per week (preference bonus included)",
    "km": "round-trip km saved per week (preference bonus included)",
    "travel": "minutes driven per week by all agents (preference bonus deducted)",
}

#: How many ids a warning about agents names at most.
IDS_SHOWN = 5


def off_network_warning(result: RunResult, rename: Callable[[str], str] | None = None) -> str:
    """Warn about the agents whose homes are too far from every road to be routed ("" if none).

    Parameters
    ----------
    result
        A run's result.
    rename
        Shows an agent id (shared runs: its pseudonym).

    Returns
    -------
    str
        The warning, with their count and the first :data:`IDS_SHOWN` ids.
    """
    off = np.flatnonzero(~result.travel.origins["routed"].to_numpy(bool))
    if off.size == 0:
        return ""
    ids = [str(result.problem.agent_ids[i]) for i in off.tolist()]
    shown = [rename(a) if rename else a for a in ids[:IDS_SHOWN]]
    more = f" and {len(ids) - IDS_SHOWN} more" if len(ids) > IDS_SHOWN else ""
    return (
        f"{counted(len(ids), 'agent')} off the road network (home more than "
        f"{result.options.max_snap_m / 1000:g} km from its roads: outside its area?) "
        f"cannot be placed: {', '.join(shown)}{more}. Check their coordinates, or give a "
        "--network that covers them."
    )


def plan_notes(
    result: RunResult, allocation: pd.DataFrame | None = None, *, whole_minutes: bool = False
) -> dict[str, Any]:
    """Say what each mode decided, in figures and in the sentences the command prints.

    Choosing telecentres: which to open. ``--minimax``: the longest one-way
    drive reached. ``--select K`` placing fewer than K: why. The figures are
    those of the output tables (``allocation.csv``, ``telecentres.csv``).

    Parameters
    ----------
    result
        A run's result.
    allocation
        The allocation table, if already computed.
    whole_minutes
        Give the longest drive in whole minutes, rounded up (shared runs: it
        is one agent's drive).

    Returns
    -------
    dict
        ``open_telecentres`` and ``chosen_by`` (None unless telecentres were
        chosen), ``longest_drive_minutes`` (None when no agent is assigned),
        ``selection`` (None without ``--select``) and ``lines``: one sentence
        each, in that order.
    """
    allocation = allocation_table(result) if allocation is None else allocation
    problem, opts = result.problem, result.options
    lines = []
    open_ids = chosen_by = None
    if result.open_telecentres is not None:
        flags = np.asarray(result.open_telecentres, bool)
        open_ids = [t for t, o in zip(problem.telecentre_ids, flags, strict=True) if o]
        closed = [t for t, o in zip(problem.telecentre_ids, flags, strict=True) if not o]
        chosen_by = choosing_rule(opts, "opening_cost" in result.telecentres) or "chosen"
        lines.append(
            f"Telecentres to open ({chosen_by}): {', '.join(open_ids) or 'none'}"
            + (f"; not opened: {', '.join(closed)}." if closed else ".")
        )
    assigned = allocation["status"] == "assigned"
    longest = (
        float(allocation.loc[assigned, "minutes_to_telecentre"].max()) if assigned.any() else None
    )
    if longest is not None and whole_minutes:
        longest = float(np.ceil(longest))
    if result.mode == "minimax":
        limit = f"; --max-minutes {opts.max_minutes:g}" if opts.max_minutes is not None else ""
        placing = counted(int(assigned.sum()), "agent")
        proven = result.assignment.status == "optimal"
        lines.append(
            f"Longest one-way drive to a telecentre: {longest:.1f} min (--minimax: "
            + (
                f"the shortest any plan placing {placing} allows"
                if proven
                else f"the shortest found for {placing} in the time limit, not proven shortest"
            )
            + f"{limit})."
            if longest is not None
            else f"Longest one-way drive to a telecentre: none (--minimax placed no agent{limit})."
        )
    selection = _selection(result, allocation)
    if selection is not None and selection["sentence"]:
        lines.append(selection["sentence"])
    return {
        "open_telecentres": open_ids,
        "chosen_by": chosen_by,
        "longest_drive_minutes": None if longest is None else round(longest, 1),
        "selection": selection,
        "lines": lines,
    }


def _selection(result: RunResult, allocation: pd.DataFrame) -> dict[str, Any] | None:
    """``--select K``: how many were selected and placed, and why fewer than K, if so."""
    opts = result.options
    if opts.select is None:
        return None
    assigned = (allocation["status"] == "assigned").to_numpy()
    placed, wanted = int(assigned.sum()), int(opts.select)
    reasons = allocation["reason"]
    out: dict[str, Any] = {"select": wanted, "select_by": opts.select_by, "placed": placed}
    free = telecentre_table(result)
    free_days = int((free["desk_days_offered"] - free["desk_days_used"]).sum())
    if opts.select_by == "commute" and result.selected is not None:
        chosen = np.asarray(result.selected, bool)
        left = chosen & ~assigned
        full = left & reasons.str.startswith("capacity full").to_numpy()
        out.update(
            selected=int(chosen.sum()),
            selected_left_out=int(left.sum()),
            selected_left_out_capacity_full=int(full.sum()),
        )
        if placed >= wanted:
            out["sentence"] = ""
            return out
        why = []
        if chosen.sum() < wanted:
            why.append(
                f"only {counted(int(chosen.sum()), 'agent')} gain from a telecentre open on "
                "their days"
            )
        if full.any():
            days = "" if opts.dedicated_desks else " on their days"
            why.append(
                f"{int(full.sum())} of the selected had no free desk{days} at a telecentre "
                f"that saves them time (the {free_days} desk-days left free are at "
                "telecentres or on days that do not serve them)"
            )
        if (left & ~full).any():
            counts = reasons[left & ~full].map(reason_label).value_counts()
            why.append(
                f"{int((left & ~full).sum())} of the selected were left out for other reasons ("
                + ", ".join(f"{n} {r}" for r, n in counts.items())
                + ")"
            )
        out["sentence"] = (
            f"--select {wanted} --select-by commute: {placed} of the "
            f"{int(chosen.sum())} selected placed, not {wanted}: " + "; ".join(why) + "."
        )
        return out
    if placed >= wanted:
        out["sentence"] = ""
        return out
    left_out = reasons[~assigned].map(reason_label).value_counts()
    out["sentence"] = fewer_selected(wanted, placed, left_out.items())
    return out


def replan_summary(
    result: RunResult, allocation: pd.DataFrame | None = None
) -> dict[str, Any] | None:
    """Say what a re-plan changed: the previous file; how many agents stayed, moved, joined, left.

    Parameters
    ----------
    result
        A run's result.
    allocation
        The allocation table, if already computed.

    Returns
    -------
    dict or None
        ``previous_file, move_penalty, day_change_penalty,
        previous_weekdays_known, matched, stayed, stayed_same_weekdays,
        stayed_other_weekdays, moved, added, removed, joined, left`` and
        ``warning`` (when no agent matched), or None when the run is not a
        re-plan.
    """
    if result.previous is None:
        return None
    allocation = allocation_table(result) if allocation is None else allocation
    changes = replan_changes(result, allocation)
    source = result.sources.get("previous_file", "given")
    return {
        "previous_file": source,
        "move_penalty": result.problem.move_penalty,
        "day_change_penalty": result.options.day_change_penalty,
        "previous_weekdays_known": bool(result.previous.attrs.get("weekdays_known", False)),
        **replan_counts(changes, result.previous, allocation),
        "warning": no_match_warning(result.previous, list(result.problem.agent_ids), source),
    }


def summary(
    result: RunResult,
    allocation: pd.DataFrame | None = None,
    *,
    rename: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Describe the run for JSON: inputs, network, solver, totals, timings.

    Parameters
    ----------
    result
        A run's result.
    allocation
        The allocation table, if already computed.
    rename
        Shows an agent id in a warning (shared runs: its pseudonym).

    Returns
    -------
    dict
        The summary.
    """
    allocation = allocation_table(result) if allocation is None else allocation
    problem, assignment = result.problem, result.assignment
    warnings = made_up(result)
    off_network = off_network_warning(result, rename)
    notes = plan_notes(result, allocation, whole_minutes=rename is not None)
    replan = replan_summary(result, allocation)
    outcome = solver_outcome(
        assignment.status,
        assignment.objective_value,
        assignment.best_bound,
        minimise=problem.objective == "travel",
    )
    roster = list(result.agents.attrs.get("warnings", []))  # columns not read, homonyms
    return {
        "warnings": warnings
        + roster
        + ([replan["warning"]] if replan and replan["warning"] else [])
        + ([off_network] if off_network else []),
        "inputs": _inputs(result, warnings),
        "network": _network(result),
        "options": _options(result),
        "mode": result.mode,
        "ties": _ties_summary(result),
        "replan": replan,
        "open_telecentres": notes["open_telecentres"],
        "telecentres_chosen_by": notes["chosen_by"],
        "selection": (
            {k: v for k, v in notes["selection"].items() if k != "sentence"}
            | {"why_fewer": notes["selection"]["sentence"]}
            if notes["selection"] is not None
            else None
        ),
        "longest_drive_minutes": notes["longest_drive_minutes"],
        "statements": notes["lines"],
        "solver": {
            "engine": assignment.engine,
            "objective": OBJECTIVE_TEXT[problem.objective],
            **outcome,
            "proven_optimal": outcome["status"] == "optimal",
            # the solver's stages the time limit ended: another run may find another plan
            "time_limit_cut": list(assignment.time_cut),
            "solve_seconds": round(assignment.solve_seconds, 4),
        },
        "totals": _totals(result, allocation),
        "factors": factors(),
        "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
        **({"exactness": result.exactness} if result.exactness is not None else {}),
    }


def _inputs(result: RunResult, warnings: list[str]) -> dict[str, Any]:
    """Return the summary's ``inputs``: where they came from, what was read, how many."""
    problem = result.problem
    return {
        **result.sources,
        "agents_columns_not_read": list(result.agents.attrs.get("columns_not_read", [])),
        "synthetic_roster": SYNTHETIC_WARNING in warnings,
        "illustrative_capacities": ILLUSTRATIVE_WARNING in warnings,
        "agents": int(problem.n_agents),
        "telecentres": int(problem.n_telecentres),
        "head_office": {
            "name": result.head_office.name,
            "lon": result.head_office.lon,
            "lat": result.head_office.lat,
        },
    }


def _network(result: RunResult) -> dict[str, Any]:
    """Return the summary's ``network``: its source, size, speeds, cache and access legs."""
    network = result.network
    snaps = result.travel.origins["snap_m"]
    return {
        "source": network.source,
        "approximate": network.approximate,
        "warning": APPROXIMATE_WARNING if network.approximate else "",
        "speed_profile": network.speed_profile,
        "speed_model": network.speed_model.describe(),
        "nodes": network.n_nodes,
        "edges": network.n_edges,
        # the entry only: whether this run read or wrote it is in timings_s
        # (cache_read_s), so that two runs of one plan write the same summary
        "prepared_network_cache": network.cache.partition(" ")[2] or "not used",
        "dropped_nodes_not_strongly_connected": network.dropped_nodes,
        "access_leg_m": {"median": _r(snaps.median()), "max": _r(snaps.max())},
    }


def _options(result: RunResult) -> dict[str, Any]:
    """Return the summary's ``options``: the plan's options and the problem's rules."""
    problem = result.problem
    return {
        **{
            name: value
            for name, value in asdict(result.options).items()
            if name not in ("select", "max_minutes")
        },
        "capacity_policy": result.options.capacity_policy,
        "select": problem.select,
        "max_minutes": problem.max_minutes,
        "min_saving": problem.min_saving,
        "objective": problem.objective,
        "must_assign": int(problem.must.sum()),
        "preferred_pairs": int(np.asarray(problem.preferred[0]).size) if problem.preferred else 0,
        "forbidden_pairs": int(np.asarray(problem.forbidden[0]).size) if problem.forbidden else 0,
        "preference_bonus": problem.preference_bonus,
        "no_worse_off": problem.no_worse_off,
        "move_penalty": problem.move_penalty,
    }


def _totals(result: RunResult, allocation: pd.DataFrame) -> dict[str, Any]:
    """Return the summary's ``totals``: agents placed, why not, desks, savings, benefits."""
    problem = result.problem
    assigned = allocation["status"] == "assigned"
    weekly_min, weekly_km = weekly_savings(result)
    reasons = allocation.loc[~assigned, "reason"].map(reason_kind).value_counts().sort_index()
    centres = telecentre_table(result)
    return {
        "agents": int(problem.n_agents),
        "assigned": int(assigned.sum()),
        "not_assigned": int((~assigned).sum()),
        "not_assigned_by_reason": {str(k): int(v) for k, v in reasons.items()},
        "desks_each_weekday": int(centres["capacity"][centres["desk_days_offered"] > 0].sum()),
        "desk_days_offered": int(centres["desk_days_offered"].sum()),
        "desk_days_used": int(centres["desk_days_used"].sum()),
        "minutes_saved_per_week": round(weekly_min, 1),
        "hours_saved_per_week": round(weekly_min / 60.0, 2),
        "km_saved_per_week": round(weekly_km, 1),
        **benefit_totals(allocation),
    }


def _ties_summary(result: RunResult) -> dict[str, Any] | None:
    """Return the tie rule, its seed, and how many agents lost a tie by each step of it."""
    ties = result.ties
    if ties is None:
        return None
    return {
        "rule": TIE_RULE,
        "seed": ties.order.seed,
        "priority_column": bool("priority" in result.agents),
        "in_objective": ties.in_objective,
        "exchanges_after_solve": ties.exchanges,
        "lost": len(ties.lost),
        "lost_by": ties.counts(),
    }


def solver_outcome(status: str, value: float, bound: float, *, minimise: bool) -> dict[str, Any]:
    """Status, objective, bound and gap that never contradict one another.

    ``optimal`` means the bound equals the objective and the gap is 0; a
    plan that reaches its bound is optimal; otherwise the bound lies beyond
    the objective (above when maximising) and the gap is their relative
    distance. A bound on the wrong side is no bound: it is reported as
    missing (``null``), with the gap.

    Parameters
    ----------
    status
        The solver's status (``optimal`` or ``feasible``).
    value
        The plan's objective value.
    bound
        The best bound the solver proved.
    minimise
        Whether the objective is minimised (``travel``).

    Returns
    -------
    dict
        ``status, objective_value, best_bound, gap`` (rounded as written).
    """
    value_r, bound_r = round(value, 2), round(bound, 2)
    beyond = bound_r < value_r if minimise else bound_r > value_r
    if status == "optimal" or bound_r == value_r:
        return {"status": "optimal", "objective_value": value_r, "best_bound": value_r, "gap": 0.0}
    if not beyond or not math.isfinite(bound):
        return {"status": status, "objective_value": value_r, "best_bound": None, "gap": None}
    gap = abs(bound_r - value_r) / max(1.0, abs(bound_r))
    return {
        "status": status,
        "objective_value": value_r,
        "best_bound": bound_r,
        "gap": round(gap, 6),
    }


def _r(value: float) -> float | None:
    return None if pd.isna(value) else round(float(value), 1)
