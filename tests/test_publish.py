"""The output folder holds one whole run: after kills, concurrent runs, and runs with other options."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from optimizer import datasets, maps
from optimizer.cli import EXIT_BUSY, main
from optimizer.publish import KILL_AT_ENV, OutputFolder
from optimizer.report import ALLOCATION_FILE, FRONTIER_FILE, OWN_FILES, SUMMARY_FILE

REPO = Path(__file__).resolve().parents[1]
OLD_RUN = ["--no-maps", "--select", "3"]
NEW_RUN = ["--frontier"]


@pytest.fixture(scope="module")
def roster(tmp_path_factory) -> list[str]:
    """``--agents`` for the runs in a subprocess: 30 agents of the default roster.

    A run costs its imports and maps whatever the roster: about 5.5 s of CPU with 30
    agents (or 10), 10.5 s with the default 150 (their frontier). It writes the same files,
    and the kill test makes some 20 runs.
    """
    path = tmp_path_factory.mktemp("roster") / "agents.csv"
    datasets.agents().head(30).to_csv(path, index=False)
    return ["--agents", str(path)]


#: A process that imports the command once, then forks one child a run (``python -m
#: optimizer`` without the 3 s of imports each time): each child is a whole run of
#: ``assign`` in its own process, which ``OPTIMIZER_TEST_KILL_AT`` kills with SIGKILL.
_FORKING_RUNNER = r"""
import json, os, sys, traceback

from optimizer.cli import main
import optimizer.gpkg, optimizer.maps  # imported by a run that writes maps

protocol = os.fdopen(os.dup(1), "w")
for line in sys.stdin:
    asked = json.loads(line)
    err = asked["stderr"]
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.environ.pop(asked["kill_env"], None)
            os.environ.update(asked["env"])
            fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 2)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            sys.argv = ["assign", *asked["args"]]
            try:
                main(args=asked["args"], prog_name="assign")
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    protocol.write(json.dumps(os.waitstatus_to_exitcode(status)) + "\n")
    protocol.flush()
"""


class _Runs:
    """Runs of ``assign`` in processes of their own, forked from :data:`_FORKING_RUNNER`."""

    def __init__(self, folder: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop(KILL_AT_ENV, None)
        self.folder = folder
        self.count = 0
        self.runner = subprocess.Popen(
            [sys.executable, "-c", _FORKING_RUNNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def __call__(
        self, out: Path, *args: str, kill_at: int | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``python -m optimizer --out OUT -q ARGS``, killed at publishing step ``kill_at``."""
        assert self.runner.stdin is not None and self.runner.stdout is not None
        self.count += 1
        err = self.folder / f"stderr-{self.count}.txt"
        words = ["--out", str(out), "-q", *args]
        env = {} if kill_at is None else {KILL_AT_ENV: str(kill_at)}
        asked = {"args": words, "env": env, "kill_env": KILL_AT_ENV, "stderr": str(err)}
        self.runner.stdin.write(json.dumps(asked) + "\n")
        self.runner.stdin.flush()
        ready, _, _ = select.select([self.runner.stdout], [], [], 300)
        assert ready, "a run took over 300 s"
        code = json.loads(self.runner.stdout.readline())
        return subprocess.CompletedProcess(words, code, "", err.read_text(encoding="utf-8"))

    def close(self) -> None:
        """End the forking process."""
        if self.runner.stdin is not None:
            self.runner.stdin.close()
        self.runner.wait(timeout=60)
        if self.runner.stdout is not None:
            self.runner.stdout.close()


@pytest.fixture
def assign_runs(tmp_path_factory) -> Iterator[_Runs]:
    """Runs of ``assign`` in processes of their own (their stderr in a folder of their own)."""
    runs = _Runs(tmp_path_factory.mktemp("runs"))
    yield runs
    runs.close()


def _own(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.name in OWN_FILES}


def _listed(files: dict[str, bytes]) -> set[str]:
    return set(json.loads(files[SUMMARY_FILE])["files"])


def test_own_names_match_the_map_module() -> None:
    assert {maps.MAP_PNG, maps.MAP_HTML} <= set(OWN_FILES)


def test_a_run_replaces_the_tool_files_and_keeps_the_users(tmp_path, roster) -> None:
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["--out", str(out), "-q", "--frontier", *roster]).exit_code == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "mine").mkdir()
    (out / "mine" / "draft.csv").write_text("a,b\n", encoding="utf-8")
    # an old writer's leftover, as its tempfile.mkstemp named them (8 of a-z0-9_)
    (out / ".allocation.csv.k2j4x7_q.tmp").write_bytes(b"x" * 1000)
    assert CliRunner().invoke(main, ["--out", str(out), "-q", "--no-maps", *roster]).exit_code == 0
    names = sorted(p.name for p in out.iterdir())
    assert FRONTIER_FILE not in names and "map.html" not in names
    assert ".allocation.csv.k2j4x7_q.tmp" not in names
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "mine" / "draft.csv").read_text(encoding="utf-8") == "a,b\n"
    files = _own(out)
    assert _listed(files) == set(files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_second_run_on_a_locked_folder_says_who_holds_it(tmp_path) -> None:
    out = tmp_path / "out"
    with OutputFolder(out, own_names=OWN_FILES):
        result = CliRunner().invoke(main, ["--out", str(out), "-q", "--no-maps"])
    assert result.exit_code == EXIT_BUSY
    assert result.output.strip().splitlines() == [
        f"assign: error: another assign run is writing to {out} (pid {os.getpid()}); "
        "wait for it or choose another --out."
    ]
    assert not out.exists()
    assert CliRunner().invoke(main, ["--out", str(out), "-q", "--no-maps"]).exit_code == 0


def test_without_an_atomic_exchange_two_renames_and_a_restore(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("optimizer.publish._exchange", lambda a, b: False)
    out = tmp_path / "out"
    folder = OutputFolder(out, own_names=OWN_FILES)
    folder.publish({"allocation.csv": "old\n", "summary.json": "{}\n"})
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    folder.publish({"allocation.csv": "new\n"})
    assert sorted(p.name for p in out.iterdir()) == ["allocation.csv", "notes.txt"]
    assert (out / "allocation.csv").read_text() == "new\n"
    # a run killed between the two renames: no folder, the old run beside it
    out.rename(tmp_path / ".out.old-999999999-dead")
    (tmp_path / ".out.run-999999999-dead").mkdir()
    (tmp_path / ".out.run-999999999-dead" / "allocation.csv").write_text("newer\n")
    with OutputFolder(out, own_names=OWN_FILES):
        assert (out / "allocation.csv").read_text() == "new\n"  # the old run, whole
        assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_kill_9_at_every_step_of_publishing_leaves_one_whole_run(
    tmp_path, roster, assign_runs
) -> None:
    _assign = assign_runs
    out = tmp_path / "out"
    assert _assign(out, *OLD_RUN, *roster).returncode == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "mine").mkdir()
    (out / "mine" / "draft.csv").write_text("a,b\n", encoding="utf-8")
    old = _own(out)
    reference = tmp_path / "reference"
    assert _assign(reference, *NEW_RUN, *roster).returncode == 0
    new = _own(reference)
    assert set(old) != set(new) and old[ALLOCATION_FILE] != new[ALLOCATION_FILE]

    outcomes = []
    for step in range(1, 40):
        done = _assign(out, *NEW_RUN, *roster, kill_at=step)
        now = _own(out)
        if set(now) == set(old) and now == old:
            outcomes.append("old")
        else:
            assert set(now) == set(new), (step, sorted(now))
            assert now[ALLOCATION_FILE] == new[ALLOCATION_FILE], step
            assert _listed(now) == set(now), step
            outcomes.append("new")
        assert (out / "notes.txt").read_text(encoding="utf-8") == "mine", step
        assert (out / "mine" / "draft.csv").read_text(encoding="utf-8") == "a,b\n", step
        if done.returncode == 0:
            break
        assert done.returncode == -9, (step, done.stderr)
        for name in now:  # put the old run back for the next kill point
            (out / name).unlink()
        for name, data in old.items():
            (out / name).write_bytes(data)
    else:
        pytest.fail("the run never finished")
    assert len(outcomes) >= 10  # files, user entries, the swap and the cleanup
    assert "old" in outcomes and "new" in outcomes
    # once a run ends, nothing is left of the killed ones
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "reference"]
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_two_concurrent_runs_with_different_options_leave_one_whole_run(tmp_path, roster) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(KILL_AT_ENV, None)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "optimizer", "--out", str(out), "-q", *args, *roster],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for args in (OLD_RUN, NEW_RUN)
    ]
    results = [(run.wait(timeout=300), run.stderr.read() if run.stderr else "") for run in runs]
    for run in runs:
        for stream in (run.stdout, run.stderr):
            if stream:
                stream.close()
    codes = [code for code, _ in results]
    assert set(codes) <= {0, EXIT_BUSY} and 0 in codes, results
    for code, err in results:
        if code == EXIT_BUSY:
            assert err.startswith("assign: error: another assign run is writing to")
            assert len(err.strip().splitlines()) == 1
    files = _own(out)
    assert _listed(files) == set(files)
    summary = json.loads(files[SUMMARY_FILE])
    with_maps = "map.html" in files
    assert (FRONTIER_FILE in files) == with_maps  # one run's options, never a mix
    assert (summary["options"]["select"] == 3) == (not with_maps)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
