"""Routing the départements: where everything is, their tasks, running them, their tables.

Shared by the grouped plan (:mod:`.plan`) and a network folder's travel
stage (:mod:`.travel`):

- :class:`Places`: the groups, their homes and workplaces, the sites, and
  the départements (and border buffers) each lies in;
- :func:`departement_tasks`: one task per département with sites or
  workplaces (:class:`.tasks.DepartementTask`);
- :func:`run_tasks`: run them in this process or on Dask workers (any
  failure stops the run);
- :class:`Routing`: the tasks run so far and :meth:`Routing.read`, their
  Parquet tables (each partition read once).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from optimizer.errors import ClusterError, InputError, OptimizerError
from optimizer.national.extracts import NetworkSource
from optimizer.national.groups import locate, within_buffers
from optimizer.national.options import NationalOptions
from optimizer.national.tasks import DepartementTask, route_departement
from optimizer.network import Progress

#: Names of the regions routed again begin with this (``wide30km-000``).
WIDE = "wide"


@dataclass(frozen=True)
class Places:
    """Where everything is: the groups' homes and workplaces, the sites, their départements.

    Attributes
    ----------
    groups
        The groups (:func:`.groups.group_agents`).
    sites
        ``telecentre_id, lon, lat`` (and any other column).
    site_ids
        Their ids, as text.
    site_code
        The département of each site.
    areas
        Département polygons, one row per ``code``.
    homes
        ``home_id, lon, lat``: each home once, in order of first appearance.
    works
        ``workplace_id, workplace_lon, workplace_lat``: each workplace once.
    work_code
        The département of each workplace ("" when none).
    work_code_of
        ``workplace_id -> département``.
    inside
        ``code -> rows of homes`` inside the département's border buffer.
    """

    groups: pd.DataFrame
    sites: pd.DataFrame
    site_ids: np.ndarray
    site_code: np.ndarray
    areas: gpd.GeoDataFrame
    homes: pd.DataFrame
    works: pd.DataFrame
    work_code: np.ndarray
    work_code_of: dict[str, str]
    inside: dict[str, np.ndarray]

    @classmethod
    def of(
        cls,
        groups: pd.DataFrame,
        sites: pd.DataFrame,
        site_code: np.ndarray,
        areas: gpd.GeoDataFrame,
        buffer_km: float,
    ) -> Places:
        """Locate the groups' homes and workplaces (sites already located in ``site_code``)."""
        homes = groups.drop_duplicates("home_id")[["home_id", "lon", "lat"]].reset_index(drop=True)
        works = groups.drop_duplicates("workplace_id")[
            ["workplace_id", "workplace_lon", "workplace_lat"]
        ].reset_index(drop=True)
        work_code = locate(
            works["workplace_lon"].to_numpy(), works["workplace_lat"].to_numpy(), areas
        )
        return cls(
            groups=groups,
            sites=sites,
            site_ids=sites["telecentre_id"].astype(str).to_numpy(),
            site_code=site_code,
            areas=areas,
            homes=homes,
            works=works,
            work_code=work_code,
            work_code_of=dict(zip(works["workplace_id"], work_code, strict=True)),
            inside=within_buffers(
                homes["lon"].to_numpy(), homes["lat"].to_numpy(), areas, buffer_km
            ),
        )

    def astray(self) -> np.ndarray:
        """Ids of the homes in no département's border buffer (never routed again).

        Such a home (in the sea, abroad, a wrong coordinate) has no road any
        extract could hold; its region could span half the country.
        """
        anywhere = np.zeros(len(self.homes), dtype=bool)
        for rows in self.inside.values():
            anywhere[rows] = True
        return self.homes["home_id"].to_numpy()[~anywhere]


def named(code: str) -> str:
    """Name a task for the console: a département, or a region routed again."""
    return f"region {code}" if code.startswith(WIDE) else f"département {code}"


def departement_tasks(
    places: Places,
    sources: Mapping[str, NetworkSource],
    opts: NationalOptions,
    work_dir: str | Path,
) -> list[DepartementTask]:
    """One task per département with sites or workplaces.

    A task routes its own sites and workplaces, and also the other
    départements' ones that lie in its buffer (``own`` False): a pair its own
    task cannot certify (a home far out in the buffer) may be certified in
    the home's extract, where the route stays far from the cut.

    Raises
    ------
    InputError
        A département with sites or workplaces but no network.
    """
    site_code, work_code = places.site_code, places.work_code
    wanted = sorted(set(site_code.tolist()) | {c for c in work_code.tolist() if c})
    _check_networks(wanted, places, sources)
    home_pos = {h: k for k, h in enumerate(places.homes["home_id"])}
    every_site = write_sites(places, work_dir)
    sites, works = places.sites, places.works
    near = (
        within_buffers(
            sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), places.areas, opts.buffer_km
        ),
        within_buffers(
            works["workplace_lon"].to_numpy(float),
            works["workplace_lat"].to_numpy(float),
            places.areas,
            opts.buffer_km,
        ),
    )
    return [
        _departement_task(code, places, sources[code], near, home_pos, opts, work_dir, every_site)
        for code in wanted
    ]


def _check_networks(
    wanted: list[str], places: Places, sources: Mapping[str, NetworkSource]
) -> None:
    """Raise when a département with sites or workplaces has no network."""
    lacking = [code for code in wanted if code not in sources]
    if not lacking:
        return
    here = np.flatnonzero(places.site_code == lacking[0])
    if here.size:
        example = f"site {places.sites['telecentre_id'].iloc[int(here[0])]}"
    else:
        k = int(np.flatnonzero(places.work_code == lacking[0])[0])
        point = places.works[["workplace_lon", "workplace_lat"]].to_numpy()[k]
        example = f"a workplace at ({point[0]}, {point[1]})"
    msg = (
        f"département(s) {', '.join(lacking)} have sites or workplaces but no road network "
        f"(e.g. {example} in {lacking[0]}): give their networks (CODE.osm.pbf, or the PBF "
        "that covers them)."
    )
    raise InputError(msg)


def write_sites(places: Places, work_dir: str | Path) -> Path:
    """Write every site once, for the tasks to read (not repeated in each task)."""
    every_site = Path(work_dir) / "sites.parquet"
    every_site.parent.mkdir(parents=True, exist_ok=True)
    sites = places.sites
    pd.DataFrame(
        {
            "id": sites["telecentre_id"].astype(str).to_numpy(),
            "lon": sites["lon"].to_numpy(float),
            "lat": sites["lat"].to_numpy(float),
            "departement": places.site_code,
        }
    ).to_parquet(every_site, index=False)
    return every_site


def _departement_task(
    code: str,
    places: Places,
    source: NetworkSource,
    near: tuple[dict[str, np.ndarray], dict[str, np.ndarray]],
    home_pos: dict[Any, int],
    opts: NationalOptions,
    work_dir: str | Path,
    every_site: Path,
) -> DepartementTask:
    """Build the task of département ``code`` (``near``: sites and workplaces in each buffer)."""
    homes, sites, works = places.homes, places.sites, places.works
    site_code, work_code = places.site_code, places.work_code
    site_near, work_near = near
    inside_ids = set(
        homes["home_id"].to_numpy()[places.inside.get(code, np.empty(0, int))].tolist()
    )
    in_buffer = np.zeros(len(sites), dtype=bool)
    in_buffer[site_near.get(code, np.empty(0, int))] = True
    here_sites = sites[(site_code == code) | in_buffer]
    work_in = np.zeros(len(works), dtype=bool)
    work_in[work_near.get(code, np.empty(0, int))] = True
    here_works = works[(work_code == code) | work_in]
    groups = places.groups
    pairs = groups[groups["workplace_id"].isin(set(here_works["workplace_id"]))]
    pairs = pairs[pairs["home_id"].isin(inside_ids)][["home_id", "workplace_id"]]
    pairs = pairs.drop_duplicates().rename(
        columns={"home_id": "origin_id", "workplace_id": "destination_id"}
    )
    here_works = here_works[here_works["workplace_id"].isin(set(pairs["destination_id"]))]
    needed = inside_ids if len(here_sites) else set(pairs["origin_id"])
    chosen = sorted(needed, key=home_pos.__getitem__)
    origins = homes.set_index("home_id").loc[chosen, ["lon", "lat"]].reset_index()
    return DepartementTask(
        code=code,
        source=source,
        origins=origins.rename(columns={"home_id": "id"}),
        sites=pd.DataFrame(
            {
                "id": here_sites["telecentre_id"].astype(str).to_numpy(),
                "lon": here_sites["lon"].to_numpy(float),
                "lat": here_sites["lat"].to_numpy(float),
                "own": site_code[here_sites.index.to_numpy()] == code,
            }
        ),
        workplaces=here_works.rename(
            columns={"workplace_id": "id", "workplace_lon": "lon", "workplace_lat": "lat"}
        )
        .assign(own=work_code[here_works.index.to_numpy()] == code)
        .reset_index(drop=True),
        commutes=pairs.reset_index(drop=True),
        max_minutes=opts.max_minutes,
        out_dir=str(work_dir),
        sites_file=str(every_site),
    )


def run_tasks(tasks: list[DepartementTask], client: Any, say: Progress) -> list[dict[str, Any]]:
    """Run the tasks here or on the cluster; any failure stops the run (no partial plan).

    Raises
    ------
    ClusterError
        A task lost by the cluster, or whose workers kept dying.
    """
    if client is None:
        results: list[dict[str, Any]] = []
        for k, task in enumerate(tasks, 1):
            results.append(route_departement(task))
            say(f"{named(task.code)} routed ({k}/{len(tasks)})")
        return results
    token = uuid.uuid4().hex[:8]
    # the largest first (homes in the buffer stand for the extract's size): a shorter tail
    tasks = sorted(tasks, key=lambda t: -len(t.origins))
    futures = client.map(
        route_departement,
        tasks,
        key=[f"route-{task.code}-{token}" for task in tasks],
        pure=False,
    )
    code_of = {future.key: task.code for future, task in zip(futures, tasks, strict=True)}
    try:
        results = _gather(futures, code_of, say)
    except OptimizerError:
        client.cancel(futures)
        raise
    return sorted(results, key=lambda r: str(r["code"]))


def _gather(futures: list[Any], code_of: dict[Any, str], say: Progress) -> list[dict[str, Any]]:
    """Collect the tasks' results as they complete; a lost task or dying workers raise."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    results: list[dict[str, Any]] = []
    killed: list[str] = []
    for done, future in enumerate(as_completed(futures), 1):
        try:
            result = future.result()
        except KilledWorker:
            # every task running on a dying worker is blamed with the one that killed it:
            # let the others finish, then name them all
            killed.append(code_of[future.key])
            continue
        except (FutureCancelledError, OSError) as exc:
            code = code_of[future.key]
            msg = f"{named(code)}: the cluster lost its task ({exc}); no plan was made."
            raise ClusterError(msg) from None
        results.append(result)
        say(f"{named(str(result['code']))} routed ({done}/{len(futures)})")
    if killed:
        codes = ", ".join(sorted(killed))
        msg = (
            f"{'départements' if len(killed) > 1 else 'département'} {codes}: the workers "
            f"running {'their tasks' if len(killed) > 1 else 'its task'} died repeatedly "
            "(out of memory? a task that kills its worker also fails the tasks beside it); "
            "no plan was made."
        )
        raise ClusterError(msg)
    return results


def read_partitions(
    folder: Path, codes: list[str], done: dict[Path, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """Concatenate the département partitions written by the tasks (only these codes).

    ``done`` keeps the partitions already read (a widening step reads only its own).

    Raises
    ------
    ClusterError
        A task's table is missing.
    """
    frames = []
    for code in codes:
        file = folder / f"departement={code}" / "part.parquet"
        if done is not None and file in done:
            frames.append(done[file])
            continue
        if not file.exists():
            msg = f"{named(code)}: its table is missing from {folder}; no plan was made."
            raise ClusterError(msg)
        frames.append(pd.read_parquet(file).assign(departement=code))
        if done is not None:
            done[file] = frames[-1]
    return pd.concat(frames, ignore_index=True)


@dataclass
class Routing:
    """The tasks run so far, in the order they were given, and their tables.

    Attributes
    ----------
    work_dir
        The folder of the tasks' tables.
    client
        A ``dask.distributed.Client``, or None (every task in this process).
    say
        Called with one line per task done.
    labels
        The codes of the tasks run (départements, then wider regions).
    results
        Their summaries (:func:`.tasks.route_departement`).
    done
        The partitions read so far (see :func:`read_partitions`).
    """

    work_dir: Path
    client: Any
    say: Progress
    labels: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    done: dict[Path, pd.DataFrame] = field(default_factory=dict)

    def run(self, tasks: list[DepartementTask]) -> list[dict[str, Any]]:
        """Run ``tasks`` (:func:`run_tasks`), keep their results and labels; return the results."""
        results = run_tasks(tasks, self.client, self.say)
        self.results += results
        self.labels += [t.code for t in tasks]
        return results

    def read(self, table: str) -> pd.DataFrame:
        """Every task's partition of ``table`` (``departement``: the task's code)."""
        return read_partitions(self.work_dir / table, self.labels, self.done)
