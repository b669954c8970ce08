"""Run the ``assign`` command: ``python -m optimizer``."""

from optimizer.cli import main

main(prog_name="assign")
