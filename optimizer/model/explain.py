"""Why each agent left out is left out, and the ranking of volunteers by commute."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.model.problem import AssignmentProblem

REASON_UNREACHABLE = "unreachable: no road route to the head office"
REASON_NO_TELECENTRE_ROUTE = "unreachable: no road route to any telecentre"
REASON_NO_SAVING = "no saving: no telecentre is nearer than the head office"
REASON_BELOW_MIN = "saving too small: below the minimum saving per day"
REASON_TOO_FAR = "too far: every telecentre that saves time is beyond the longest acceptable drive"
REASON_WORSE_OFF = (
    "worse off: the telecentres that save time are further than the head office (one way)"
)
REASON_FORBIDDEN = "forbidden: the telecentres that would save time are excluded for this agent"
REASON_FULL = "capacity full: the telecentres that would save time are full"
REASON_NOT_SELECTED = "not selected: the limit on the number of agents was reached"
REASON_CLOSED_DAYS = (
    "closed on its days: the telecentres that would save time are not open on enough of the "
    "days it can telework"
)
REASON_SHORTER_COMMUTE = (
    "not selected: the limit on the number of agents went to longer commutes (--select-by commute)"
)
REASON_MUST_FIRST = (
    "not selected: the limit on the number of agents went first to agents who must be assigned "
    "(--select-by commute)"
)
#: Why an agent is left out when every telecentre that would save it time is closed
#: (telecentres chosen); ``{rule}`` names the rule that chose, ``{nearest}`` the nearest one.
REASON_NOT_OPENED = (
    "not opened: the telecentres that would save it time are not opened ({rule}); "
    "the nearest is {nearest}"
)
#: Why an agent is left out when the opened telecentres that would save it time are full on
#: its days and the others are closed.
REASON_FULL_OR_CLOSED = (
    "capacity full: the opened telecentres that would save time are full on its days; "
    "the others are not opened ({rule})"
)
#: Why an agent chosen by ``--select-by commute`` is left out: no free desk on its days.
REASON_SELECTED_FULL = (
    "capacity full: selected among the {select} longest commutes (--select-by commute), but "
    "the telecentres that would save it time are full on its days"
)
#: Why ``--minimax`` leaves out an agent whose every telecentre saving time is further
#: than the longest drive it keeps (``{longest}`` minutes).
REASON_MINIMAX_FAR = (
    "left out by --minimax: to keep the longest drive at {longest} min; every telecentre that "
    "would save it time is further"
)
#: Why ``--minimax`` leaves out an agent whose telecentres within the longest drive are full.
REASON_MINIMAX_FULL = (
    "left out by --minimax: to keep the longest drive at {longest} min; the telecentres that "
    "would save it time within that drive are full on its days, the others are further"
)
#: Why ``--minimax`` leaves out an agent that could fit within the longest drive.
REASON_MINIMAX_COUNT = (
    "left out by --minimax: the fairest plan places as many agents as the plan that saves "
    "the most ({count}), no more"
)
#: Why an agent that fits somewhere is left out of a plan not proven optimal.
REASON_TIME_LIMIT = (
    "not placed: the solver's time limit ended before a plan placing it was found "
    "(the plan is not proven optimal)"
)


#: The reason of each code :func:`explain` gives ("" for an assigned agent).
_BY_CODE = (
    "",
    REASON_UNREACHABLE,
    REASON_NO_TELECENTRE_ROUTE,
    REASON_NO_SAVING,
    REASON_BELOW_MIN,
    REASON_FORBIDDEN,
    REASON_TOO_FAR,
    REASON_NOT_SELECTED,
    REASON_FULL,
    REASON_WORSE_OFF,
    REASON_SHORTER_COMMUTE,
)


def explain(problem: AssignmentProblem, telecentre: np.ndarray) -> tuple[str, ...]:
    """Say why each agent left out is left out ("" for assigned agents).

    The first reason that applies, in this order: unreachable; no telecentre
    saves time; the saving is below the minimum; those left are forbidden;
    those left are further than the head office (the no-one-worse-off rule);
    every telecentre that saves enough is beyond the longest acceptable drive;
    the agent could go to a telecentre with a free place but the limit on
    agents was reached (only when it was); the telecentres that would save
    time are full (on its days, with desks per weekday).

    Parameters
    ----------
    problem
        The problem.
    telecentre
        Each agent's telecentre index, -1 when not assigned.

    Returns
    -------
    tuple of str
        One reason per agent.
    """
    free = problem.capacities - np.bincount(
        telecentre[telecentre >= 0], minlength=problem.n_telecentres
    )
    # the limit is a reason only when it was reached (with desks per weekday, a
    # telecentre may host fewer agents than its desks when their days clash)
    limit_reached = int((telecentre >= 0).sum()) >= problem.limit
    labels = np.array(_BY_CODE, dtype=object)
    codes = np.empty(problem.n_agents, dtype=np.int64)
    for lo, hi, ok, _ in problem.blocks():
        rows = slice(lo, hi)
        saving = np.rint(problem.saving_minutes(rows) * 60.0)
        with np.errstate(invalid="ignore"):
            reachable = np.isfinite(saving).any(axis=1)
            positive = saving > 0
            enough = positive & (saving >= np.rint(problem.min_saving * 60.0))
            within = enough
            if problem.max_minutes is not None:
                within = enough & (problem.minutes_to[rows] <= problem.max_minutes)
            fair = within
            if problem.no_worse_off:
                fair = within & (
                    problem.minutes_to[rows] <= problem.head_office_minutes_to[rows, None]
                )
        ho_ok = np.isfinite(problem.head_office_minutes_to[rows]) & np.isfinite(
            problem.head_office_minutes_back[rows]
        )
        codes[rows] = np.select(
            [
                telecentre[rows] >= 0,
                ~ho_ok,
                ~reachable,
                ~positive.any(axis=1),
                ~enough.any(axis=1),
                ~ok.any(axis=1) & fair.any(axis=1),
                ~ok.any(axis=1) & within.any(axis=1),
                ~ok.any(axis=1),
                (ok & (free > 0)[None, :]).any(axis=1) & limit_reached,
            ],
            [0, 1, 2, 3, 4, 5, 9, 6, 7],
            default=8,
        )
    if problem.excluded is not None:
        codes[np.asarray(problem.excluded, dtype=bool) & (telecentre < 0)] = 10
    reasons = labels[codes].tolist()
    return tuple(reasons)


# ----------------------------------------------------------------------------- ranking


def candidate_ranking(problem: AssignmentProblem) -> pd.DataFrame:
    """Volunteers ranked by their commute to the head office, longest first.

    For each agent: one-way minutes and km to the head office, the best
    reachable telecentre (largest saving, capacities ignored, the longest
    acceptable drive respected) with its one-way minutes and the round-trip
    saving per day. This is the table the scheme's planners used to pick
    candidates by distance.

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    pandas.DataFrame
        ``rank, agent_id, minutes_to_head_office, km_to_head_office,
        best_telecentre_id, minutes_to_best_telecentre, minutes_saved_per_day,
        km_saved_per_day, telework_days``.
    """
    saving = problem.saving_minutes()
    if problem.max_minutes is not None:
        saving = np.where(problem.minutes_to <= problem.max_minutes, saving, np.nan)
    has = ~np.isnan(saving).all(axis=1)
    best = np.where(has, np.argmax(np.nan_to_num(saving, nan=-np.inf), axis=1), -1)
    rows = np.arange(problem.n_agents)
    col = np.maximum(best, 0)
    pick_saving = np.where(has, saving[rows, col], np.nan)
    km_saving = problem.saving_km()
    table = pd.DataFrame(
        {
            "agent_id": list(problem.agent_ids),
            "minutes_to_head_office": problem.head_office_minutes_to.round(1),
            "km_to_head_office": (
                problem.head_office_km_to.round(2)
                if problem.head_office_km_to is not None
                else np.nan
            ),
            "best_telecentre_id": [
                problem.telecentre_ids[j] if j >= 0 else "" for j in best.tolist()
            ],
            "minutes_to_best_telecentre": np.where(
                has, problem.minutes_to[rows, col], np.nan
            ).round(1),
            "minutes_saved_per_day": pick_saving.round(1),
            "km_saved_per_day": np.where(has, km_saving[rows, col], np.nan).round(2),
            "telework_days": problem.days,
        }
    )
    order = np.lexsort((rows, -np.nan_to_num(problem.head_office_minutes_to, nan=-np.inf)))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
