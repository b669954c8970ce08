"""The ``assign`` command: parse options, call the library, show progress, set exit codes.

Exit codes: 0 success; 2 bad input (a file, a value, an option: one line on
stderr says what and what to do); 1 the problem cannot be solved as asked;
3 another run is writing to the same ``--out`` folder.

One module a subcommand: :mod:`~optimizer.cli.assign` (the plan, and the
group of the others; its options in :mod:`~optimizer.cli.assign_options`,
its inputs in :mod:`~optimizer.cli.assign_inputs`, its result lines in
:mod:`~optimizer.cli.results`, a national folder's grouped plan in
:mod:`~optimizer.cli.national`), :mod:`~optimizer.cli.network`,
:mod:`~optimizer.cli.geocode`, :mod:`~optimizer.cli.calibrate`; what they
share in :mod:`~optimizer.cli.console` (exit codes, errors, language,
progress, the log) and :mod:`~optimizer.cli.common` (option types, shared
options, the speed setup).
"""

from __future__ import annotations

from optimizer.cli.assign import main
from optimizer.cli.calibrate import calibrate_command
from optimizer.cli.console import EXIT_BUSY, EXIT_INPUT, EXIT_UNSOLVABLE
from optimizer.cli.geocode import geocode_command
from optimizer.cli.network import network_command
from optimizer.cli.results import exactness_line, replan_line

main.add_command(network_command)
main.add_command(geocode_command)
main.add_command(calibrate_command)

__all__ = [
    "EXIT_BUSY",
    "EXIT_INPUT",
    "EXIT_UNSOLVABLE",
    "calibrate_command",
    "exactness_line",
    "geocode_command",
    "main",
    "network_command",
    "replan_line",
]
