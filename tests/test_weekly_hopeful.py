"""Hopeful pairs: the wider bound of a weekly plan holds on every plan that may use them.

Each instance is solved twice: on the certified pairs with the hopeful ones
given at their best gains, and (the truth) on the certified pairs plus the
hopeful ones at gains drawn at or below their best, solved to a proven
optimum. The wider bound must hold on the truth; where every hopeful pair is
said not to matter, the plan on the certified pairs must be as good as the
truth; a pair said not to matter on its own must not raise the bound alone.
"""

from __future__ import annotations

import numpy as np
import pytest

import optimizer.model.weekly as weekly
from optimizer.errors import InputError
from optimizer.model.weekly import solve_weekly_pairs


def _instance(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_groups, n_sites = int(rng.integers(3, 9)), int(rng.integers(2, 5))
    pairs = [(g, t) for g in range(n_groups) for t in range(n_sites) if rng.random() < 0.7]
    rng.shuffle(pairs)
    group = np.array([p[0] for p in pairs], dtype=np.int64)
    site = np.array([p[1] for p in pairs], dtype=np.int64)
    gain = rng.integers(1, 50, size=group.size).astype(np.int64) * 10
    hopeful = rng.random(group.size) < 0.25
    # many pairs not known are far away: a small gain at best
    gain = np.where(hopeful & (rng.random(group.size) < 0.6), gain // 8 + 1, gain)
    allowed = rng.random((n_groups, 5)) < 0.8
    allowed[:, 0] = True
    days = np.minimum(rng.integers(1, 4, size=n_groups), allowed.sum(axis=1))
    return {
        "group": group,
        "site": site,
        "gain": gain,
        "hopeful": hopeful,
        # the true gain of a hopeful pair: at most its best, sometimes none at all (0: no pair)
        "true": np.where(rng.random(group.size) < 0.3, 0, rng.integers(0, 11, group.size))
        * gain
        // 10,
        "counts": rng.integers(1, 4, size=n_groups).astype(np.int64),
        "days": days.astype(np.int64),
        "allowed": allowed,
        "desks": rng.integers(0, 4, size=(n_sites, 5)).astype(np.int64),
    }


def _solve(inst: dict[str, np.ndarray], keep: np.ndarray, gain: np.ndarray, **kw: object):  # type: ignore[no-untyped-def]
    return solve_weekly_pairs(
        inst["group"][keep],
        inst["site"][keep],
        gain[keep],
        counts=inst["counts"],
        days=inst["days"],
        allowed=inst["allowed"],
        preferred=np.zeros_like(inst["allowed"]),
        bonus=0,
        desks=inst["desks"],
        time_limit_s=30.0,
        **kw,
    )


def _proven(inst: dict[str, np.ndarray], keep: np.ndarray, gain: np.ndarray):  # type: ignore[no-untyped-def]
    """The optimum by the whole model, whichever path the test forces for the plan."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(weekly, "LARGE_GROUPS", 15_000)
        mp.setattr(weekly, "SPLIT_DAYS_FIRST", 20_000)
        plan = _solve(inst, keep, gain)
    assert plan.proven
    return plan


@pytest.fixture(params=["whole", "large", "split first"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each path of the solver: the whole model, many groups, the split-days flow first."""
    if request.param == "large":
        monkeypatch.setattr(weekly, "LARGE_GROUPS", 2)
    if request.param == "split first":
        monkeypatch.setattr(weekly, "SPLIT_DAYS_FIRST", 1)
    return str(request.param)


@pytest.mark.parametrize("seed", range(16))
def test_the_wider_bound_holds_on_every_plan_the_hopeful_pairs_allow(seed: int, path: str) -> None:
    inst = _instance(seed)
    hope = inst["hopeful"]
    given = (inst["group"][hope], inst["site"][hope], inst["gain"][hope])
    plan = _solve(inst, ~hope, inst["gain"], hopeful=given)
    assert plan.wider_bound is not None and plan.hopeful_out is not None
    assert plan.hopeful_out.shape == (int(hope.sum()),)
    assert plan.wider_bound >= plan.bound >= plan.objective
    truth = _proven(inst, ~hope | (inst["true"] > 0), np.where(hope, inst["true"], inst["gain"]))
    assert truth.objective <= plan.wider_bound
    if plan.wider_bound == plan.bound:
        assert plan.hopeful_out.all()
    if plan.hopeful_out.all():
        assert truth.objective <= plan.bound
        if plan.proven:  # optimal on the certified pairs, and nothing hopeful can beat it
            assert truth.objective == plan.objective
    # a pair said not to matter does not raise the bound on its own, even at its best gain
    for k in np.flatnonzero(plan.hopeful_out)[:3].tolist():
        alone = ~hope.copy()
        alone[np.flatnonzero(hope)[k]] = True
        best = _proven(inst, alone, inst["gain"])
        assert best.objective <= plan.bound


def _one_pair(days: list[int], desks: np.ndarray, hopeful: tuple, **kw: object):  # type: ignore[no-untyped-def,type-arg]
    """Group 0 may go to site 0 for 100; the other groups have no certified pair."""
    allowed = np.ones((len(days), 5), dtype=bool)
    return solve_weekly_pairs(
        np.array([0]),
        np.array([0]),
        np.array([100]),
        counts=np.ones(len(days), dtype=np.int64),
        days=np.array(days),
        allowed=allowed,
        preferred=np.zeros_like(allowed),
        bonus=0,
        desks=desks,
        hopeful=tuple(np.array(h) for h in hopeful),
        **kw,
    )


def test_pairs_without_enough_open_days_never_matter() -> None:
    desks = np.array([[2, 2, 2, 2, 2], [1, 0, 0, 0, 0]], dtype=np.int64)
    plan = _one_pair([2, 2], desks, ([1, 0], [1, 1], [10_000, 10_000]))
    # site 1 opens one weekday: no two-day agent can go there, whatever its gain
    assert plan.hopeful_out is not None and plan.hopeful_out.tolist() == [True, True]
    assert plan.wider_bound == plan.bound == plan.objective == 100


def test_a_hopeful_pair_that_beats_the_plan_raises_the_bound() -> None:
    plan = _one_pair([1], np.ones((2, 5), dtype=np.int64), ([0], [1], [250]))
    assert plan.objective == plan.bound == 100
    assert plan.hopeful_out is not None and plan.hopeful_out.tolist() == [False]
    assert plan.wider_bound == 250


def test_hopeful_pairs_are_refused_with_kept_weekdays() -> None:
    with pytest.raises(InputError, match="keep must be 0"):
        _one_pair(
            [1], np.ones((1, 5), dtype=np.int64), ([0], [0], [10]), kept=np.array([1]), keep=5
        )
