"""Does ``assign --time-limit`` hold on large weekly plans with shared desks?

Run by hand: ``python benchmarks/weekly_limit.py`` (three runs of ``assign``, under two
minutes when the limit holds). Each run is 20,000 agents (``--agents``) spread over
Lozère's communes by population, 1 to 5 telework days each, and the 7 SoLozère
telecentres with the same desks every weekday (``--desks``: 300 and 1,000 make desks
scarce, 3,000 plentiful), solved by ``assign --time-limit 20`` (``--time-limit``) on the
embedded network, in a fresh process. Each line gives the wall time of the whole run,
the solve's seconds (summary.json), its status, objective, bound and gap, and the load
average of the machine (timings depend on it). ``--code`` runs another checkout's
``optimizer`` (to compare with an earlier version: the working directory's copy wins).
The target (issue 24): the solve ends within the limit plus 5 s, with its gap.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def roster(n: int, seed: int) -> pd.DataFrame:
    """``n`` agents around the town halls of Lozère's communes, drawn by population."""
    communes = pd.read_csv(DATA / "lozere_communes_2026.csv")
    people = communes["population_cog2026"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    home = rng.choice(len(communes), size=n, p=people / people.sum())
    # within about a kilometre of the town hall: inside the commune, inside Lozère
    lon = communes["mairie_lon"].to_numpy()[home] + rng.normal(0, 0.006, n)
    lat = communes["mairie_lat"].to_numpy()[home] + rng.normal(0, 0.004, n)
    return pd.DataFrame(
        {
            "agent_id": [f"A{k:06d}" for k in range(n)],
            "lon": lon.round(6),
            "lat": lat.round(6),
            "commune": communes["nom"].to_numpy()[home],
            "telework_days": rng.integers(1, 6, n),
        }
    )


def telecentres(desks: int) -> pd.DataFrame:
    """The 7 SoLozère telecentres with ``desks`` desks each weekday."""
    table = pd.read_csv(DATA / "telecentres_solozere.csv")
    return table.assign(capacity=desks).drop(columns=["capacity_source"])


def run(n: int, desks: int, limit: float, seed: int, code: Path, work: Path) -> dict[str, object]:
    """One ``assign`` run; its wall time and what summary.json says of the solve."""
    agents, centres, out = work / f"roster-{n}.csv", work / f"tc-{desks}.csv", work / f"out-{desks}"
    roster(n, seed).to_csv(agents, index=False)
    telecentres(desks).to_csv(centres, index=False)
    command = [sys.executable, "-m", "optimizer", "--agents", str(agents)]
    command += ["--telecentres", str(centres), "--time-limit", f"{limit:g}"]
    command += ["--out", str(out), "--no-maps", "-q"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=code, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"desks": desks, "wall_s": round(wall, 1), "error": done.stderr.strip()[-300:]}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    solver = summary["solver"]
    return {
        "desks": desks,
        "wall_s": round(wall, 1),
        "solve_s": summary["timings_s"]["solve_s"],
        "status": solver["status"],
        "objective": solver["objective_value"],
        "bound": solver["best_bound"],
        "gap": solver["gap"],
        "engine": solver["engine"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=20_000)
    parser.add_argument("--desks", default="300,1000,3000", help="desks a weekday, per telecentre")
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose optimizer runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for desks in (int(v) for v in args.desks.split(",")):
            row = run(args.agents, desks, args.time_limit, args.seed, args.code, Path(folder))
            load = " ".join(f"{v:.2f}" for v in os.getloadavg())
            print(json.dumps({"agents": args.agents, **row, "load": load}), flush=True)


if __name__ == "__main__":
    main()
