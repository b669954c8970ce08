"""What a run returns (:class:`RunResult`, :class:`TieReport`) and the options it is given."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.inputs import HeadOffice
from optimizer.model import Assignment, AssignmentProblem
from optimizer.network import RoadNetwork
from optimizer.options import PlanOptions
from optimizer.schedule import WeeklyPlan
from optimizer.ties import DECIDED_BY, TieOrder
from optimizer.travel import TravelTable

if TYPE_CHECKING:
    from optimizer.national.travel import NetworkFolder


@dataclass(frozen=True)
class RunResult:
    """Everything a run computed, for reports.

    Attributes
    ----------
    agents, telecentres
        The validated inputs (see :mod:`optimizer.inputs`).
    head_office
        The head office.
    network
        The road network used (or the national network folder).
    travel
        Times and distances from every agent to every telecentre and the head office.
    problem
        The assignment problem solved.
    assignment
        Its solution.
    timings
        Seconds per stage.
    sources
        Where the inputs came from, for the summary.
    plan
        The weekly plan: who teleworks where on which weekday (every run has one).
    open_telecentres
        Which telecentres are open, when they were chosen.
    previous
        The previous allocation of a re-plan.
    mode
        ``"assignment"``, ``"minimax"`` or ``"choose"``.
    options
        The plan's options.
    workplaces
        The workplaces other than the head office (``workplace_id, name, lon,
        lat``), or None.
    ties
        How ties between equal agents were settled (:mod:`optimizer.ties`).
    selected
        ``(n_agents,)`` booleans: the agents ``--select-by commute`` chose, or None.
    exactness
        On a national network folder: whether the plan is the merged network's
        optimum, or how far from it at most (:func:`optimizer.pipeline.exactness`);
        None on one network file (every pair's time is the network's).
    """

    agents: pd.DataFrame
    telecentres: pd.DataFrame
    head_office: HeadOffice
    network: RoadNetwork | NetworkFolder
    travel: TravelTable
    problem: AssignmentProblem
    assignment: Assignment
    timings: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    plan: WeeklyPlan | None = None
    open_telecentres: np.ndarray | None = None
    previous: pd.DataFrame | None = None
    mode: str = "assignment"
    options: PlanOptions = field(default_factory=PlanOptions)
    workplaces: pd.DataFrame | None = None
    ties: TieReport | None = None
    selected: np.ndarray | None = None
    exactness: dict[str, Any] | None = None

    @property
    def head_office_in_use(self) -> bool:
        """Whether some agent commutes to the head office (not all to their own workplace)."""
        return drives_to_head_office(self.agents)


def drives_to_head_office(agents: pd.DataFrame) -> bool:
    """Whether some agent of a roster commutes to the head office (a row without workplace).

    When none does, the head office is nobody's commute: it need not lie on
    the network's roads, and the maps leave it out.
    """
    if "workplace_id" not in agents:
        return True
    return bool((agents["workplace_id"].fillna("").astype(str) == "").any())


@dataclass(frozen=True)
class TieReport:
    """How a run settled ties between agents the objective cannot tell apart.

    Attributes
    ----------
    order
        The tie order (:func:`optimizer.ties.tie_order`).
    in_objective
        Whether the solvers carried the order in their objective
        (:func:`optimizer.ties.tie_objective`); the exchanges apply in any case.
    exchanges
        Places handed to an equal that comes first by the rule after the solve.
    lost
        Agent index left out -> (index of the equal placed instead, the step
        of the rule that decided: ``priority``, ``commute`` or ``draw``).
    """

    order: TieOrder
    in_objective: bool
    exchanges: int
    lost: dict[int, tuple[int, str]]

    def counts(self) -> dict[str, int]:
        """Ties lost, by the step of the rule that decided them."""
        out = dict.fromkeys(DECIDED_BY, 0)
        for _, rule in self.lost.values():
            out[rule] += 1
        return out


def plan_options(options: PlanOptions | None = None, **changes: Any) -> PlanOptions:
    """Return ``options`` (default :class:`PlanOptions`) with some options changed.

    Parameters
    ----------
    options
        The starting options (default: the defaults).
    **changes
        Option names and values (e.g. ``select=8``).

    Returns
    -------
    PlanOptions
        The options.
    """
    unknown = sorted(set(changes) - set(PlanOptions.names()))
    if unknown:
        msg = (
            f"unknown plan option(s) {', '.join(unknown)}; "
            f"the options are {', '.join(PlanOptions.names())}."
        )
        raise TypeError(msg)
    return replace(options or PlanOptions(), **changes)
