"""Assign telework volunteers to telecentres on a road network (Lozère, SoLozère scheme).

The stages, each usable on its own:

- :mod:`optimizer.inputs`: read and validate agents, telecentres, workplaces, the head office;
- :mod:`optimizer.places`: communes of France by name, INSEE code or postcode (town halls);
- :mod:`optimizer.geocode`: addresses geocoded with the BAN (France's address base);
- :mod:`optimizer.network`: the road network from OSM XML or GraphML, timed and compiled;
- :mod:`optimizer.travel`: snapping and the agent x destination table, both ways;
- :mod:`optimizer.model`: the assignment problem and its exact solution (min-cost flow, CP-SAT);
- :mod:`optimizer.schedule`: weekly desk plans (telecentre and weekdays);
- :mod:`optimizer.fairness`: minimax plans (desks per agent or shared) and the frontier;
- :mod:`optimizer.facilities`: choosing telecentres; the CP-SAT core checked on OR-Library;
- :mod:`optimizer.replan`: re-plans that move few agents, and what changed;
- :mod:`optimizer.report`, :mod:`optimizer.maps`: tables, files and maps;
- :mod:`optimizer.sharing`: what a shared (``--pseudonymise``) run may publish;
- :mod:`optimizer.options`: a plan's options and their defaults (:class:`PlanOptions`);
- :mod:`optimizer.pipeline`: inputs to solution in one call;
- :mod:`optimizer.national`: every département in one exact plan, on Dask (extra ``national``);
- :mod:`optimizer.datasets`: the embedded Lozère default;
- :mod:`optimizer.orlib`: readers of the OR-Library benchmark instances.
"""

from __future__ import annotations

import logging

from optimizer._version import __version__
from optimizer.errors import (
    InfeasibleError,
    InputError,
    NetworkError,
    OptimizerError,
    SolverError,
)
from optimizer.facilities import choose_telecentres
from optimizer.fairness import frontier, solve_minimax
from optimizer.inputs import HeadOffice, read_agents, read_telecentres
from optimizer.model import Assignment, AssignmentProblem
from optimizer.network import (
    RoadNetwork,
    download_network,
    load_network,
    prepare_network,
    save_network,
)
from optimizer.options import PlanOptions
from optimizer.pipeline import RunResult, run
from optimizer.schedule import WeeklyPlan, solve_weekly
from optimizer.travel import TravelTable, travel_table

logging.getLogger(__name__).addHandler(logging.NullHandler())


__all__ = [
    "Assignment",
    "AssignmentProblem",
    "HeadOffice",
    "InfeasibleError",
    "InputError",
    "NetworkError",
    "OptimizerError",
    "PlanOptions",
    "RoadNetwork",
    "RunResult",
    "SolverError",
    "TravelTable",
    "WeeklyPlan",
    "__version__",
    "choose_telecentres",
    "download_network",
    "frontier",
    "load_network",
    "prepare_network",
    "read_agents",
    "read_telecentres",
    "run",
    "save_network",
    "solve_minimax",
    "solve_weekly",
    "travel_table",
]
