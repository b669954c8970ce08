"""One pipeline on a network folder: a synthetic country planned by ``run()``, beside the grouped plan.

Run by hand::

    python benchmarks/national_pipeline.py                        # 4 départements, 4,000 agents
    python benchmarks/national_pipeline.py --departements 6 --agents 20000 --workers 2

The synthetic country of ``benchmarks/national.py`` (département-like road grids,
``--side`` nodes along a side, 430 m apart), agents of 1 to ``--most-days``
telework days with 20 workplaces a département and a share of the sites. The
same instance is planned twice on the same cluster:

- by the one pipeline (:func:`optimizer.pipeline.run` with a network folder:
  the travel stage as département tasks, the plain solvers, the bound of the
  pairs not certified), which gives the dense travel table of agents x
  (sites + workplaces);
- by the grouped national plan (:func:`optimizer.national.plan_national`), the
  path the command takes above the dense table's limit.

Prints each one's wall time, phases, saving and exactness, and the dense
table's size.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from national import instance, locate_codes

from optimizer.inputs import HeadOffice, read_agents, read_telecentres, read_workplaces
from optimizer.national import NationalOptions, connect, plan_national
from optimizer.national.plan import Widen
from optimizer.national.travel import NetworkFolder
from optimizer.pipeline import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departements", type=int, default=4)
    parser.add_argument("--side", type=int, default=80, help="nodes along a département's side")
    parser.add_argument("--agents", type=int, default=4_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--buffer-km", type=float, default=10.0)
    parser.add_argument("--max-minutes", type=float, default=45.0)
    parser.add_argument("--most-days", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    scale = args.departements / 96
    country, agents, sites = instance(
        scale, departements=args.departements, side=args.side, most_days=args.most_days
    )
    rng = np.random.default_rng(3)
    agents = agents.iloc[np.sort(rng.choice(len(agents), args.agents, replace=False))]
    agents = agents.reset_index(drop=True)
    folder = Path(tempfile.mkdtemp(prefix="national-pipeline-"))
    codes = sorted(set(locate_codes(country, sites)))

    def sources_and_widen(cache: Path) -> tuple[dict[str, Any], Widen]:
        """Sources with their own cache: each plan prepares its extracts itself."""

        def widen(regions: Mapping[str, Any]) -> Mapping[str, Any]:
            return {n: country.region_source(n, s, cache_dir=cache) for n, s in regions.items()}

        return {
            c: country.source(c, buffer_km=args.buffer_km, cache_dir=cache) for c in codes
        }, widen

    sources, widen = sources_and_widen(folder / "cache")

    # the plain tables: workplaces named by id, telecentres with desks per weekday
    points = agents[["workplace_lon", "workplace_lat"]].drop_duplicates().reset_index(drop=True)
    points["workplace_id"] = [f"W{k:03d}" for k in range(len(points))]
    roster = agents.merge(points, on=["workplace_lon", "workplace_lat"], how="left")
    roster = roster.drop(columns=["workplace_lon", "workplace_lat"])
    roster.to_csv(folder / "agents.csv", index=False)
    points.rename(columns={"workplace_lon": "lon", "workplace_lat": "lat"}).assign(
        name=points["workplace_id"]
    ).to_csv(folder / "workplaces.csv", index=False)
    plain_sites = sites.rename(
        columns={d: f"desks_{d}" for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    plain_sites.assign(
        name=sites["telecentre_id"], capacity=sites[["mon", "tue", "wed", "thu", "fri"]].max(axis=1)
    ).to_csv(folder / "telecentres.csv", index=False)
    tables = {
        "agents": read_agents(folder / "agents.csv"),
        "telecentres": read_telecentres(folder / "telecentres.csv"),
        "workplaces": read_workplaces(folder / "workplaces.csv"),
    }
    ho_lon, ho_lat = points.loc[0, "workplace_lon"], points.loc[0, "workplace_lat"]
    network = NetworkFolder(
        path=folder, areas=country.areas(), sources=sources, widen=widen, buffer_km=args.buffer_km
    )
    n_dest = len(sites) + 1 + len(points)
    print(
        f"instance: {len(codes)} départements x {args.side**2:,} nodes, {len(agents):,} agents "
        f"(1-{args.most_days} days), {len(sites)} sites, {len(points)} workplaces: dense table "
        f"{len(agents):,} x {n_dest} = {len(agents) * n_dest:,} pairs",
        flush=True,
    )
    out: dict[str, object] = {"workers": args.workers, "load_before": os.getloadavg()[0]}
    with connect(f"local:{args.workers}") as client:
        started = time.perf_counter()
        result = run(
            tables["agents"],
            tables["telecentres"],
            HeadOffice(ho_lon, ho_lat, name="head office"),
            network,
            workplaces=tables["workplaces"],
            max_minutes=args.max_minutes,
            scheduler=client,
            progress=lambda m: print(f"  {time.perf_counter() - started:7.1f}s {m}", flush=True),
        )
        out["pipeline_wall_s"] = round(time.perf_counter() - started, 1)
        out["pipeline_timings_s"] = {k: round(v, 2) for k, v in result.timings.items()}
        out["pipeline_saving_minutes_week"] = round(result.assignment.objective_value, 2)
        out["pipeline_status"] = result.assignment.status
        out["pipeline_exactness"] = {
            k: v for k, v in (result.exactness or {}).items() if k != "travel"
        }
        out["pipeline_travel"] = (result.exactness or {}).get("travel")
        sources, widen = sources_and_widen(folder / "cache-grouped")
        started = time.perf_counter()
        plan = plan_national(
            agents,
            sites,
            country.areas(),
            sources,
            work_dir=tempfile.mkdtemp(prefix="national-work-"),
            options=NationalOptions(max_minutes=args.max_minutes, buffer_km=args.buffer_km),
            client=client,
            widen=widen,
        )
        out["grouped_wall_s"] = round(time.perf_counter() - started, 1)
        out["grouped_saving_minutes_week"] = round(plan.saving_minutes_week, 2)
        out["grouped_exact"] = plan.exact
        out["grouped_proven"] = plan.proven
        out["grouped_gap"] = plan.summary.get("gap")
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1, default=str), flush=True)


if __name__ == "__main__":
    main()
