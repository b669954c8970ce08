"""National scale: every département in one exact plan, routed on Dask.

A layer above the stages (network, travel, model): it cuts the work by
département, runs the same stages as tasks (in this process or on
``dask.distributed`` workers), gathers their tables (Parquet) and solves the
whole country as one min-cost flow. The stages know nothing of it.

- :mod:`.options`: the rules of a national run and their defaults;
- :mod:`.groups`: interchangeable agents grouped; points located in départements;
- :mod:`.extracts`: buffered département networks, their cut and certificate, the cache;
- :mod:`.sources`, :mod:`.pbf`: a folder's boundaries and OSM files; one pass over a
  large PBF into département extracts;
- :mod:`.tasks`: the per-département task and its Parquet tables;
- :mod:`.routing`: where everything is; the tasks built, run (here or on Dask) and read;
- :mod:`.evaluation`: what the tables say is certified (pairs, commutes);
- :mod:`.bounds`: lower bounds of the pairs not certified that may be eligible;
- :mod:`.widen`: the one widening loop (wider regions for what is not certified);
- :mod:`.solve`: the exact group flow over (site, weekday);
- :mod:`.dedicated`: dedicated desks (a desk per agent all week): one exact flow, any days;
- :mod:`.selection`: ``--select-by commute``: the K longest commutes that gain;
- :mod:`.solving`: which solver plans the pairs; the bound of the pairs not certified;
- :mod:`.allocation`: each agent's row of a plan, placed or with its reason;
- :mod:`.cluster`: ``local[:N]`` or ``tcp://`` schedulers;
- :mod:`.folder`, :mod:`.travel`: a network folder, and its travel stage for
  :func:`optimizer.pipeline.run` (the plain travel table, certified pairs only,
  and the lower bounds of the others);
- :mod:`.plan`: :func:`plan_national`, the grouped chain for tables too large to hold;
- :mod:`.checks`: what a national run refuses of its rosters and sites;
- :mod:`.files`, :mod:`.results`: a national run from and to files; its CSV tables;
- :mod:`.synthetic`: a synthetic France for tests and benchmarks.
"""

from __future__ import annotations

from optimizer.national.cluster import connect, parse_scheduler
from optimizer.national.extracts import (
    CachedExtract,
    Extract,
    NetworkSource,
    load_extract,
    prepare_extract,
    save_extract,
)
from optimizer.national.groups import group_agents, locate
from optimizer.national.plan import NationalOptions, NationalPlan, plan_national
from optimizer.national.solve import solve_groups
from optimizer.national.synthetic import SyntheticFrance

__all__ = [
    "CachedExtract",
    "Extract",
    "NationalOptions",
    "NationalPlan",
    "NetworkSource",
    "SyntheticFrance",
    "connect",
    "group_agents",
    "load_extract",
    "locate",
    "parse_scheduler",
    "plan_national",
    "prepare_extract",
    "save_extract",
    "solve_groups",
]
