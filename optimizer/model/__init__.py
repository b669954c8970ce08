r"""The assignment problem: which volunteer goes to which telecentre.

The problem knows nothing of maps. It is built from plain arrays with
:meth:`AssignmentProblem.from_cost_matrix`, or from a travel table with
:meth:`AssignmentProblem.from_travel_times`, and solved exactly by one of two
OR-Tools engines that must agree: min-cost flow (default, fast) and CP-SAT.

Notation: agents :math:`i`, telecentres :math:`j`, :math:`x_{ij} \in \{0,1\}`
agent :math:`i` teleworks at :math:`j`; :math:`d_i` the agent's telework days a
week; :math:`s_{ij}` the round-trip saving of one day at :math:`j` instead of
the head office (seconds; metres for the ``km`` objective); :math:`b` the
preference bonus and :math:`P` the preferred pairs. The problem is

.. math::

    \max \sum_{ij} (d_i s_{ij} + b [ij \in P]) x_{ij}
    \quad\text{s.t.}\quad
    \sum_j x_{ij} \le 1 \;(= 1 \text{ if } i \text{ must be assigned}),\;
    \sum_i x_{ij} \le c_j,\;
    \sum_{ij} x_{ij} \le K,\;
    x_{ij} = 0 \text{ unless } j \text{ is eligible for } i,

where :math:`j` is eligible for :math:`i` when both are reachable, the saving
is positive and at least the minimum saving, the one-way drive to :math:`j`
is within the longest acceptable drive, and the pair is not forbidden.

Min-cost flow: source -> agent (capacity 1) -> telecentre (cost
:math:`-(d_i s_{ij} + b[ij \in P])`) -> hub (capacity :math:`c_j`) -> sink
(capacity :math:`K`), plus agent -> "stays at the head office" -> sink at no
cost (no such arc for an agent who must be assigned). Costs are whole seconds
(or metres), so the optimum is exact. On large problems the flow first sees
candidate pairs only (those near each agent's best at desk prices estimated
on samples); the solution is then certified against all pairs in the
residual network compressed to the telecentres, improving exchanges of agents
(negative cycles) applied until none is left (an optimality certificate),
with pricing and a new solve as the fallback (:mod:`optimizer.model.flow`).

The solvers are a package, one responsibility a file:

- :mod:`optimizer.model.problem`: :class:`AssignmentProblem` (data, rules,
  eligibility and gains);
- :mod:`optimizer.model.result`: :class:`Assignment`;
- :mod:`optimizer.model.feasibility`: why must-assign agents cannot all be
  placed (max-flow and its minimum cut);
- :mod:`optimizer.model.flow`: the min-cost flow engine and its pricing, with
  :mod:`~optimizer.model.flow_network` (its network and the OR-Tools solve) and
  :mod:`~optimizer.model.flow_cycles` (cancelling negative cycles);
- :mod:`optimizer.model.certificate`: the optimality certificate;
- :mod:`optimizer.model.cpsat`: the CP-SAT engine and shared CP-SAT settings;
- :mod:`optimizer.model.engines`: :func:`solve`, the feasibility check then the
  engine asked for (what :meth:`AssignmentProblem.solve` calls);
- :mod:`optimizer.model.weekly`: weekly plans with multi-day agents on sparse
  pairs and groups (the configuration model: column generation with HiGHS,
  a Lagrangian bound, reduced-cost fixing), in steps of their own:
  :mod:`~optimizer.model.weekly_data` (inputs, plans, prices),
  :mod:`~optimizer.model.weekly_lp` (the LP, the integer programs, the proof),
  :mod:`~optimizer.model.weekly_greedy` (rounding and greedy plans),
  :mod:`~optimizer.model.weekly_large` (many groups: a sample and a core),
  :mod:`~optimizer.model.weekly_split` (the split-days bound);
- :mod:`optimizer.model.explain`: reasons for agents left out, and the
  ranking of volunteers.

Everything is importable from :mod:`optimizer.model`, as before the split.
"""

from __future__ import annotations

from optimizer.model.certificate import _candidate_mask, _compressed_residual, is_optimal
from optimizer.model.cpsat import SMALL_MODEL, configure, cp_workers, run_cp_sat, solve_cp_sat
from optimizer.model.engines import solve
from optimizer.model.explain import (
    REASON_BELOW_MIN,
    REASON_CLOSED_DAYS,
    REASON_FORBIDDEN,
    REASON_FULL,
    REASON_MUST_FIRST,
    REASON_NO_SAVING,
    REASON_NO_TELECENTRE_ROUTE,
    REASON_NOT_SELECTED,
    REASON_SHORTER_COMMUTE,
    REASON_TOO_FAR,
    REASON_UNREACHABLE,
    REASON_WORSE_OFF,
    candidate_ranking,
    explain,
)
from optimizer.model.feasibility import bipartite_max_flow, check_feasible, counted
from optimizer.model.flow import _candidates, _price_out, solve_min_cost_flow
from optimizer.model.flow_network import _flow_on, _pair_gains, solve_flow
from optimizer.model.problem import (
    CACHE_PAIRS,
    ENGINES,
    HEAD_OFFICE,
    OBJECTIVES,
    AssignmentProblem,
    Engine,
    Objective,
    _pairs,
)
from optimizer.model.result import Assignment, _gain_of, _report_value, _result
from optimizer.model.weekly import solve_weekly_pairs
from optimizer.model.weekly_data import WeeklyPairsPlan

__all__ = [
    "CACHE_PAIRS",
    "ENGINES",
    "HEAD_OFFICE",
    "OBJECTIVES",
    "REASON_BELOW_MIN",
    "REASON_CLOSED_DAYS",
    "REASON_FORBIDDEN",
    "REASON_FULL",
    "REASON_MUST_FIRST",
    "REASON_NOT_SELECTED",
    "REASON_NO_SAVING",
    "REASON_NO_TELECENTRE_ROUTE",
    "REASON_SHORTER_COMMUTE",
    "REASON_TOO_FAR",
    "REASON_UNREACHABLE",
    "REASON_WORSE_OFF",
    "SMALL_MODEL",
    "Assignment",
    "AssignmentProblem",
    "Engine",
    "Objective",
    "WeeklyPairsPlan",
    "_candidate_mask",
    "_candidates",
    "_compressed_residual",
    "_flow_on",
    "_gain_of",
    "_pair_gains",
    "_pairs",
    "_price_out",
    "_report_value",
    "_result",
    "bipartite_max_flow",
    "candidate_ranking",
    "check_feasible",
    "configure",
    "counted",
    "cp_workers",
    "explain",
    "is_optimal",
    "run_cp_sat",
    "solve",
    "solve_cp_sat",
    "solve_flow",
    "solve_min_cost_flow",
    "solve_weekly_pairs",
]
