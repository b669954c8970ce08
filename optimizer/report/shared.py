"""What a run fit to share publishes instead: pseudonyms, reasons that name no drive.

See :mod:`optimizer.sharing` for the displaced points and grouped communes.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

from optimizer.ties import TIE_LOST


def _step(value: float, step: float) -> float:
    return float(np.round(value / step) * step)


def _pseudonymised_winners(frame: pd.DataFrame, salt: str) -> pd.DataFrame:
    """``tie_won_by``, and the reason and explanation that name it, with the winner's pseudonym."""
    won = frame["tie_won_by"].tolist()
    shown = [pseudonym(w, salt) if w else "" for w in won]
    for column in ("reason", "explanation"):
        if column in frame:
            frame[column] = [
                text.replace(f"{TIE_LOST}{w}", f"{TIE_LOST}{p}", 1) if w else text
                for text, w, p in zip(frame[column], won, shown, strict=True)
            ]
    frame["tie_won_by"] = shown
    return frame


_LONGEST_DRIVE = re.compile(r"to keep the longest drive at \d+(\.\d+)? min")


def shared_reason(reason: str) -> str:
    """Return a reason fit to share: the longest drive --minimax kept is not named.

    Parameters
    ----------
    reason
        A reason of ``allocation.csv``.

    Returns
    -------
    str
        The reason, "to keep the longest drive at 38.5 min" said "as short as it is".
    """
    return _LONGEST_DRIVE.sub("to keep the longest drive as short as it is", reason)


def pseudonym(agent_id: str, salt: str) -> str:
    """Return a stable pseudonym of ``agent_id``: ``P`` + 12 hex digits of SHA-256(salt, id).

    The same salt gives the same pseudonym run after run, so results can be
    compared; without the salt, the id cannot be recovered from it.

    Parameters
    ----------
    agent_id
        The id.
    salt
        The planner's secret.

    Returns
    -------
    str
        The pseudonym.
    """
    digest = hashlib.sha256(f"{salt}\x00{agent_id}".encode()).hexdigest()
    return f"P{digest[:12]}"
