"""The package's exception hierarchy.

Every error the library raises on purpose derives from :class:`OptimizerError`,
so that a caller (the ``assign`` command, a notebook) can catch them all in one
place and show the message, which is written for the user: it names the file,
the row and the value at fault, and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence


class OptimizerError(Exception):
    """Base class of every error raised on purpose by this package."""


class InputError(OptimizerError, ValueError):
    """Bad input: a file, a column, a value or a combination of options.

    Parameters
    ----------
    message
        One line: what is wrong and what to do.
    details
        Lines that follow it, one per item at fault (e.g. every bad row of a
        roster), when there are several.

    Attributes
    ----------
    summary
        The first line.
    details
        The lines that follow it (empty for a one-line error).
    """

    def __init__(self, message: str = "", details: Sequence[str] = ()) -> None:
        self.summary = message
        self.details = tuple(details)
        super().__init__("\n".join([message, *self.details]))


class NetworkError(OptimizerError):
    """The road network cannot be built, read or used."""


class InfeasibleError(OptimizerError):
    """The constraints cannot all hold at once; the message says which clash."""


class SolverError(OptimizerError):
    """The solver failed or stopped without a usable answer."""


class BusyError(OptimizerError):
    """Another run holds the output folder's lock; the message names it."""


class ClusterError(OptimizerError):
    """A distributed run failed (a worker kept dying, the cluster is unreachable)."""
