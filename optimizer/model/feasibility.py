"""Feasibility: can every agent who must be assigned be assigned (max-flow and its cut)."""

from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow

from optimizer._text import counted as counted  # re-exported (inputs says counts too)
from optimizer.errors import InfeasibleError, SolverError
from optimizer.model.explain import explain
from optimizer.model.problem import AssignmentProblem


def check_feasible(problem: AssignmentProblem, *, places: str = "desk") -> None:
    """Raise :class:`InfeasibleError`, in words and numbers, if the rules cannot all hold.

    Only agents who must be assigned can make the problem infeasible: too many
    of them for the limit on agents, one with no eligible telecentre, or a
    group whose eligible telecentres hold fewer desks than the group has
    members (found with a max-flow and its minimum cut).

    Parameters
    ----------
    problem
        The problem.
    places
        What a unit of capacity is, for the message (``"desk"``, ``"desk-day"``).
    """
    must = np.flatnonzero(problem.must)
    if must.size == 0:
        return
    ids = problem.agent_ids
    if must.size > problem.limit:
        msg = (
            f"{counted(must.size, 'agent')} must be assigned but --select allows only "
            f"{problem.limit}. "
            "Raise --select or assign fewer agents by force."
        )
        raise InfeasibleError(msg)
    eligible = problem.block(0, problem.n_agents)[0][must]
    stranded = must[~eligible.any(axis=1)]
    if stranded.size:
        reasons = explain(problem, np.full(problem.n_agents, -1, dtype=np.int64))
        first = stranded[0]
        msg = (
            f"agent '{ids[first]}' must be assigned but no telecentre is open to it "
            f"({reasons[first]}); {counted(stranded.size, 'such agent')} in all."
        )
        raise InfeasibleError(msg)
    k, m = must.size, problem.n_telecentres
    flow = bipartite_max_flow(eligible, problem.capacities)
    if flow.optimal_flow() >= k:
        return
    side = set(flow.get_source_side_min_cut())
    group = [int(must[i]) for i in range(k) if i in side]
    centres = [j for j in range(m) if k + j in side]
    desks = int(problem.capacities[centres].sum())
    rules = []
    if problem.max_minutes is not None:
        rules.append(f"within {problem.max_minutes:g} minutes")
    if problem.min_saving > 0:
        rules.append(f"saving at least {problem.min_saving:g} minutes a day")
    rule_text = f" ({', '.join(rules)})" if rules else ""
    names = ", ".join(
        f"{problem.telecentre_ids[j]} ({int(problem.capacities[j])})" for j in centres
    )
    agents = ", ".join(ids[i] for i in group[:10]) + (" ..." if len(group) > 10 else "")
    msg = (
        f"{counted(len(group), 'agent')} must be assigned but the telecentres open to "
        f"them{rule_text} hold {counted(desks, places)}: {names or 'none'}. Agents: {agents}. "
        "Add desks, relax the rules, or assign fewer agents by force."
    )
    raise InfeasibleError(msg)


def bipartite_max_flow(
    eligible: np.ndarray, capacities: np.ndarray, *, limit: int | None = None
) -> max_flow.SimpleMaxFlow:
    """Most agents placeable: source -> agent -> eligible telecentre -> (hub ->) sink.

    Node numbering: agents ``0..k-1``, telecentres ``k..k+m-1``, then the
    source, the sink and the hub; with ``limit`` the hub caps the total.

    Parameters
    ----------
    eligible
        ``(k, m)`` booleans.
    capacities
        ``(m,)`` places per telecentre.
    limit
        At most this many agents in all.

    Returns
    -------
    SimpleMaxFlow
        Solved (read ``optimal_flow`` and ``get_source_side_min_cut``).
    """
    k, m = eligible.shape
    source, sink, hub = k + m, k + m + 1, k + m + 2
    rows, cols = np.nonzero(eligible)
    exit_node = sink if limit is None else hub
    tails = [np.full(k, source), rows, k + np.arange(m)]
    heads = [np.arange(k), k + cols, np.full(m, exit_node)]
    caps = [np.ones(k), np.ones(rows.size), capacities]
    if limit is not None:
        tails.append(np.array([hub]))
        heads.append(np.array([sink]))
        caps.append(np.array([limit]))
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
    )
    if flow.solve(source, sink) != flow.OPTIMAL:
        msg = "max-flow failed; please report this."
        raise SolverError(msg)
    return flow
