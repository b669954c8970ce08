"""Widening: the pairs and commutes no extract certified, routed again in wider regions.

:func:`widen_unresolved` is the one widening loop of the grouped plan
(:mod:`.plan`) and of a network folder's travel stage (:mod:`.travel`):
each round routes what is still not certified (:meth:`.evaluation.Evaluation.unresolved`)
in extracts of the region around both ends and a margin that doubles each
round (:func:`wide_tasks`, the regions packed by :func:`pack_boxes`), then
evaluates the tables again. :class:`WidenPolicy` says what differs between
the two callers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from optimizer.national.evaluation import Evaluation
from optimizer.national.extracts import NetworkSource
from optimizer.national.options import NationalOptions, Widen
from optimizer.national.routing import WIDE, Places, Routing
from optimizer.national.tasks import DepartementTask
from optimizer.settings import INPUT_CRS, WORKING_CRS


@dataclass(frozen=True)
class WidenPolicy:
    """What a caller of :func:`widen_unresolved` asks beyond the plain rounds.

    Attributes
    ----------
    second_step
        Each round routes, in a second step, the pairs that a commute
        certified in its first step made eligible.
    past_empty
        A round that made no wider extract goes on to the next, wider one
        (else widening stops there).
    priced
        The evaluations price pairs out: each round's figures say how many
        were priced out before it, and its tasks' CPU seconds.
    """

    second_step: bool = False
    past_empty: bool = False
    priced: bool = False


def widen_unresolved(
    state: Evaluation,
    evaluate: Callable[[], Evaluation],
    places: Places,
    routing: Routing,
    widen: Widen | None,
    opts: NationalOptions,
    policy: WidenPolicy,
) -> tuple[Evaluation, list[dict[str, Any]]]:
    """Route what ``state`` leaves not certified again, up to ``opts.widen_rounds`` rounds.

    ``routing`` runs the new tasks (its results and labels grow with them);
    ``evaluate`` reads every table written so far. The homes in no
    département's border are never routed again (:meth:`.routing.Places.astray`).

    Returns
    -------
    tuple
        The last evaluation, and one row of figures per step that routed
        (``margin_km, extracts, pairs_before, commutes_before, pairs_after,
        commutes_after``, and with ``policy.priced`` ``priced_out`` and
        ``task_cpu_s``).
    """
    widened: list[dict[str, Any]] = []
    if widen is None or opts.widen_rounds == 0:
        return state, widened
    astray = places.astray()
    for round_ in range(1, opts.widen_rounds + 1):
        km = opts.margin_km(round_)
        tried = pd.DataFrame({"home_id": [], "site": []})
        made = False
        for step in (1, 2) if policy.second_step else (1,):
            todo_sites, todo_work = state.unresolved(places.groups)
            todo_sites = todo_sites[~todo_sites["home_id"].isin(astray)]
            todo_work = todo_work[~todo_work["home_id"].isin(astray)]
            if step == 2:
                todo_work = todo_work.iloc[:0]
                seen = todo_sites.merge(tried, how="left", indicator=True)["_merge"] == "both"
                todo_sites = todo_sites[~seen.to_numpy()]
            prefix = f"{WIDE}{km:g}km{'' if step == 1 else '.2'}-"
            routed = _widen_step(
                state, evaluate, (todo_sites, todo_work), places, routing, widen, km, prefix,
                opts, policy,
            )  # fmt: skip
            if routed is None:
                break
            state, figures = routed
            widened.append(figures)
            made = True
            tried = todo_sites
            if len(todo_work) == 0:
                break
        if not (made or policy.past_empty):
            break
        if not widened or widened[-1]["pairs_after"] + widened[-1]["commutes_after"] == 0:
            break
    return state, widened


def _widen_step(
    state: Evaluation,
    evaluate: Callable[[], Evaluation],
    todo: tuple[pd.DataFrame, pd.DataFrame],
    places: Places,
    routing: Routing,
    widen: Widen,
    km: float,
    prefix: str,
    opts: NationalOptions,
    policy: WidenPolicy,
) -> tuple[Evaluation, dict[str, Any]] | None:
    """Route ``todo`` (site pairs, commutes) in wider extracts; None when none was made."""
    todo_sites, todo_work = todo
    if len(todo_sites) == 0 and len(todo_work) == 0:
        return None
    priced_before = int(state.priced_out.sum()) if state.priced_out is not None else 0
    wide = wide_tasks(
        todo_sites, todo_work, places, widen, km, opts, routing.work_dir, prefix=prefix
    )
    if not wide:
        return None
    routing.say(
        f"{len(todo_sites)} pair(s) and {len(todo_work)} commute(s) not certified: "
        f"routed again in {len(wide)} extract(s) of their region and {km:g} km around"
    )
    done = routing.run(wide)
    state = evaluate()
    left_sites, left_work = state.unresolved(places.groups)
    figures: dict[str, Any] = {
        "margin_km": km,
        "extracts": len(wide),
        "pairs_before": len(todo_sites),
    }
    if policy.priced:
        figures["priced_out"] = priced_before
    figures |= {
        "commutes_before": len(todo_work),
        "pairs_after": len(left_sites),
        "commutes_after": len(left_work),
    }
    if policy.priced:
        figures["task_cpu_s"] = round(sum(float(r.get("cpu_s", 0.0)) for r in done), 3)
    return state, figures


def wide_tasks(
    todo_sites: pd.DataFrame,
    todo_work: pd.DataFrame,
    places: Places,
    widen: Widen,
    km: float,
    opts: NationalOptions,
    work_dir: str | Path,
    *,
    prefix: str,
) -> list[DepartementTask]:
    """Tasks that route the unresolved pairs again, each in an extract of their region.

    ``todo_sites`` holds ``home_id, site`` (site index), ``todo_work``
    ``home_id, workplace_id``. Each pair's region is the box around its two
    ends grown by ``km`` on every side: there, both ends lie at least ``km``
    from the cut. Boxes are packed into fewer, larger ones where that adds
    little area (:func:`pack_boxes`); each box gets one task (named ``prefix`` +
    number) routing its homes to its destinations. Its rows are no
    département's own (``own`` False): a row it cannot certify is dropped,
    the first extract's row stays.
    """
    dest = _destinations(todo_sites, todo_work, places)
    if len(dest) == 0:
        return []
    shapes, dest["region"] = _regions(dest, places, km, prefix)
    sources = widen(shapes)
    homes_at = places.homes.set_index("home_id")
    return [
        _wide_task(
            name,
            sources[name],
            dest[dest["region"].to_numpy() == k],
            homes_at,
            places.sites,
            opts,
            work_dir,
        )
        for k, name in enumerate(shapes)
        if name in sources
    ]


def _destinations(
    todo_sites: pd.DataFrame, todo_work: pd.DataFrame, places: Places
) -> pd.DataFrame:
    """``kind, key, home_id, lon, lat``: each pair's destination, site pairs first."""
    sites, works = places.sites, places.works
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "kind": "site",
                    "key": todo_sites["site"].astype(str).to_numpy(),
                    "home_id": todo_sites["home_id"].to_numpy(),
                    "lon": sites["lon"].to_numpy(float)[todo_sites["site"].to_numpy(np.int64)],
                    "lat": sites["lat"].to_numpy(float)[todo_sites["site"].to_numpy(np.int64)],
                }
            ),
            pd.DataFrame(
                {
                    "kind": "workplace",
                    "key": todo_work["workplace_id"].astype(str).to_numpy(),
                    "home_id": todo_work["home_id"].to_numpy(),
                }
            ).merge(
                works.rename(
                    columns={"workplace_id": "key", "workplace_lon": "lon", "workplace_lat": "lat"}
                )[["key", "lon", "lat"]],
                on="key",
                how="left",
            ),
        ],
        ignore_index=True,
    )


def _regions(
    dest: pd.DataFrame, places: Places, km: float, prefix: str
) -> tuple[dict[str, shapely.Geometry], np.ndarray]:
    """Return the packed regions (``name -> polygon``, WGS84) and each pair's region."""
    at = places.homes.set_index("home_id").reindex(dest["home_id"].to_numpy())
    to_metric = Transformer.from_crs(INPUT_CRS, WORKING_CRS, always_xy=True)
    hx, hy = to_metric.transform(at["lon"].to_numpy(float), at["lat"].to_numpy(float))
    dx, dy = to_metric.transform(dest["lon"].to_numpy(float), dest["lat"].to_numpy(float))
    grow = km * 1000.0
    boxes = np.column_stack(
        [
            np.minimum(hx, dx) - grow,
            np.minimum(hy, dy) - grow,
            np.maximum(hx, dx) + grow,
            np.maximum(hy, dy) + grow,
        ]
    )
    # no packed box larger than the largest département's with this margin (or a pair's own)
    x0, y0, x1, y1 = places.areas.to_crs(WORKING_CRS).bounds.to_numpy().T
    cap = float(
        max(
            np.max((x1 - x0 + 2 * grow) * (y1 - y0 + 2 * grow)),
            np.max(np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)),
        )
    )
    # a task costs about as much as the roads of a square of twice the margin: worth a merge
    region = pack_boxes(boxes, cap, slack=(2 * grow) ** 2)
    to_wgs = Transformer.from_crs(WORKING_CRS, INPUT_CRS, always_xy=True)
    shapes: dict[str, shapely.Geometry] = {}
    for k, (x0, y0, x1, y1) in enumerate(region["box"]):
        metric = shapely.segmentize(shapely.box(x0, y0, x1, y1), 1000.0)
        shapes[f"{prefix}{k:03d}"] = shapely.transform(
            metric, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1]))
        )
    return shapes, region["of"]


def _wide_task(
    name: str,
    source: NetworkSource,
    mine: pd.DataFrame,
    homes_at: pd.DataFrame,
    sites: pd.DataFrame,
    opts: NationalOptions,
    work_dir: str | Path,
) -> DepartementTask:
    """Build the task of region ``name``: its homes (``mine``) to their sites and workplaces."""
    on_site = mine[mine["kind"] == "site"]
    on_work = mine[mine["kind"] == "workplace"]
    here = sites.iloc[np.unique(on_site["key"].to_numpy(np.int64))]
    places = on_work.drop_duplicates("key")
    return DepartementTask(
        code=name,
        source=source,
        origins=homes_at.loc[sorted(set(mine["home_id"])), ["lon", "lat"]]
        .rename_axis("id")
        .reset_index(),
        sites=pd.DataFrame(
            {
                "id": here["telecentre_id"].astype(str).to_numpy(),
                "lon": here["lon"].to_numpy(float),
                "lat": here["lat"].to_numpy(float),
                "own": np.zeros(len(here), dtype=bool),
            }
        ),
        workplaces=pd.DataFrame(
            {
                "id": places["key"].to_numpy(object),
                "lon": places["lon"].to_numpy(float),
                "lat": places["lat"].to_numpy(float),
                "own": np.zeros(len(places), dtype=bool),
            }
        ),
        commutes=pd.DataFrame(
            {
                "origin_id": on_work["home_id"].to_numpy(),
                "destination_id": on_work["key"].to_numpy(object),
            }
        ),
        max_minutes=opts.max_minutes,
        out_dir=str(work_dir),
        sites_file=str(Path(work_dir) / "sites.parquet"),
    )


def pack_boxes(boxes: np.ndarray, cap: float, slack: float = 0.0) -> dict[str, np.ndarray]:
    """Pack boxes (``x0, y0, x1, y1`` rows) into fewer: two overlapping boxes become one.

    Two boxes are merged when their bounding box is at most ``slack`` larger
    than the two together and at most ``cap``: an extract's work grows with
    its area, plus a cost per extract (``slack`` stands for it), and no box
    grows past ``cap``. Greedy, largest saving first, until no merge passes.

    Returns ``box``: the packed boxes, and ``of``: each input box's packed box.
    """
    of = np.arange(len(boxes))
    current = np.asarray(boxes, dtype=float)
    for _ in range(64):  # each pass at least halves the merges left; 64 is never reached
        shapes = shapely.box(current[:, 0], current[:, 1], current[:, 2], current[:, 3])
        left, right = shapely.STRtree(shapes).query(shapes, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        lo = np.minimum(current[left, :2], current[right, :2])
        hi = np.maximum(current[left, 2:], current[right, 2:])
        area = np.prod(current[:, 2:] - current[:, :2], axis=1)
        joint = np.prod(hi - lo, axis=1)
        saving = area[left] + area[right] - joint
        ok = np.flatnonzero((saving >= -slack) & (joint <= cap))
        if ok.size == 0:
            break
        used = np.zeros(len(current), dtype=bool)
        target = np.arange(len(current))
        for k in ok[np.argsort(-saving[ok], kind="stable")].tolist():
            a, b = int(left[k]), int(right[k])
            if not (used[a] or used[b]):
                used[a] = used[b] = True
                target[b] = a
                current[a] = np.concatenate([lo[k], hi[k]])
        kept, target = np.unique(target, return_inverse=True)
        current = current[kept]
        of = target[of]
    return {"box": current, "of": of}
