"""Readers for the OR-Library instances that validate the solvers.

J.E. Beasley's OR-Library publishes generalised assignment (GAP) and
capacitated facility location (CFLP) instances with their optima; the
project reads them from ``../shared/benchmarks/orlib/`` in tests and
benchmarks (they are not shipped).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optimizer.facilities import CoreSolution, solve_core

#: Search workers of the OR-Library checks: CP-SAT's racing portfolio (OR-Library's cap103
#: proven in 0.1 s, against 21.7 s for one worker).
PORTFOLIO = 8

#: Capacities substituted for the word ``capacity`` in capa/capb/capc, per instance.
CAPACITY_SUBSTITUTES = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}


@dataclass(frozen=True)
class GapInstance:
    """A generalised assignment problem: every job to exactly one agent within capacity.

    Attributes
    ----------
    name
        ``gapK-i`` (file K, problem i).
    costs, resources
        ``(agents, jobs)`` cost and resource use of giving each job to each agent.
    capacities
        ``(agents,)`` resource capacity of each agent.
    """

    name: str
    costs: np.ndarray
    resources: np.ndarray
    capacities: np.ndarray


@dataclass(frozen=True)
class CflpInstance:
    """A capacitated facility location problem.

    Attributes
    ----------
    name
        e.g. ``cap41`` or ``capa1``.
    capacities, fixed_costs
        ``(facilities,)``.
    demands
        ``(customers,)``.
    costs
        ``(customers, facilities)`` cost of serving all of a customer's demand from a facility.
    """

    name: str
    capacities: np.ndarray
    fixed_costs: np.ndarray
    demands: np.ndarray
    costs: np.ndarray


def read_gap(path: str | Path) -> list[GapInstance]:
    """Read every problem of an OR-Library ``gapN.txt`` file."""
    path = Path(path)
    numbers = path.read_text().split()
    pos = 0

    def take(count: int) -> np.ndarray:
        nonlocal pos
        out = np.array(numbers[pos : pos + count], dtype=float)
        pos += count
        return out

    count = int(take(1)[0])
    problems = []
    for k in range(1, count + 1):
        m, n = (int(v) for v in take(2))
        costs = take(m * n).reshape(m, n)
        resources = take(m * n).reshape(m, n)
        capacities = take(m)
        problems.append(
            GapInstance(
                f"{path.stem}-{k}",
                costs.astype(np.int64),
                resources.astype(np.int64),
                capacities.astype(np.int64),
            )
        )
    return problems


def read_cflp(path: str | Path) -> list[CflpInstance]:
    """Read an OR-Library ``capN.txt`` file (capa/b/c give one instance per substitute capacity)."""
    path = Path(path)
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    pos = 2
    raw_caps: list[str] = []
    fixed = np.empty(m)
    for j in range(m):
        raw_caps.append(tokens[pos])
        fixed[j] = float(tokens[pos + 1])
        pos += 2
    demands = np.empty(n)
    costs = np.empty((n, m))
    for i in range(n):
        demands[i] = float(tokens[pos])
        costs[i] = np.array(tokens[pos + 1 : pos + 1 + m], dtype=float)
        pos += 1 + m
    if path.stem in CAPACITY_SUBSTITUTES:
        return [
            CflpInstance(f"{path.stem}{k}", np.full(m, cap, dtype=float), fixed, demands, costs)
            for k, cap in enumerate(CAPACITY_SUBSTITUTES[path.stem], start=1)
        ]
    return [CflpInstance(path.stem, np.array(raw_caps, dtype=float), fixed, demands, costs)]


def solve_gap(
    instance: GapInstance,
    *,
    maximise: bool,
    time_limit_s: float = 60.0,
    workers: int | None = None,
) -> CoreSolution:
    """Solve a GAP instance with the CP-SAT core (every job to exactly one agent).

    Parameters
    ----------
    instance
        The instance.
    maximise
        OR-Library's convention (True) or the minimisation one.
    time_limit_s, workers
        Passed to :func:`optimizer.facilities.solve_core` (default
        :data:`PORTFOLIO` workers, racing: a check of exactness, where the
        fastest proof matters and any optimal solution will do).

    Returns
    -------
    CoreSolution
        Rows are jobs, columns agents (pairs job-major).
    """
    m, n = instance.costs.shape
    jobs, agents = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    return solve_core(
        jobs,
        agents,
        instance.costs.T.ravel(),
        instance.resources.T.ravel(),
        instance.capacities,
        n_rows=n,
        required=np.ones(n, bool),
        maximise=maximise,
        time_limit_s=time_limit_s,
        workers=workers if workers is not None else PORTFOLIO,
        reproducible=False,
    )


#: CFLP costs have three decimals: scaled by this to whole numbers.
CFLP_SCALE = 1000


def solve_cflp(
    instance: CflpInstance, *, time_limit_s: float = 60.0, workers: int | None = None
) -> CoreSolution:
    """Solve a CFLP instance single-source (each customer served by one facility), minimising.

    Parameters
    ----------
    instance
        The instance.
    time_limit_s, workers
        Passed to :func:`optimizer.facilities.solve_core` (default
        :data:`PORTFOLIO` workers, racing: a check of exactness, where the
        fastest proof matters and any optimal solution will do).

    Returns
    -------
    CoreSolution
        Rows are customers, columns facilities (pairs customer-major); the
        objective is in cost units times :data:`CFLP_SCALE`.
    """
    n, m = instance.costs.shape
    customers, facilities = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    return solve_core(
        customers,
        facilities,
        np.rint(instance.costs.ravel() * CFLP_SCALE).astype(np.int64),
        np.repeat(instance.demands.astype(np.int64), m),
        instance.capacities.astype(np.int64),
        n_rows=n,
        required=np.ones(n, bool),
        fixed_costs=np.rint(instance.fixed_costs * CFLP_SCALE).astype(np.int64),
        maximise=False,
        time_limit_s=time_limit_s,
        workers=workers if workers is not None else PORTFOLIO,
        reproducible=False,
    )
