"""Assign telework volunteers to telecentres on a road network (Lozère, SoLozère scheme).

The stages, each usable on its own:

- :mod:`optimizer.inputs`: read and validate agents, telecentres, the head office;
- :mod:`optimizer.network`: the road network from OSM XML or GraphML, timed and compiled;
- :mod:`optimizer.travel`: snapping and the agent x destination table, both ways;
- :mod:`optimizer.model`: the assignment problem and its exact solution;
- :mod:`optimizer.report`: tables and files;
- :mod:`optimizer.pipeline`: all of the above in one call;
- :mod:`optimizer.datasets`: the embedded Lozère default.
"""

from __future__ import annotations

import logging

from optimizer.errors import (
    InfeasibleError,
    InputError,
    NetworkError,
    OptimizerError,
    SolverError,
)
from optimizer.inputs import HeadOffice, read_agents, read_telecentres
from optimizer.model import Assignment, AssignmentProblem
from optimizer.network import RoadNetwork, load_network, prepare_network, save_network
from optimizer.pipeline import RunResult, run
from optimizer.travel import TravelTable, travel_table

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "Assignment",
    "AssignmentProblem",
    "HeadOffice",
    "InfeasibleError",
    "InputError",
    "NetworkError",
    "OptimizerError",
    "RoadNetwork",
    "RunResult",
    "SolverError",
    "TravelTable",
    "__version__",
    "load_network",
    "prepare_network",
    "read_agents",
    "read_telecentres",
    "run",
    "save_network",
    "travel_table",
]
