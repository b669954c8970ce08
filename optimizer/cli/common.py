"""What the subcommands share: option types and options, the speed setup, small checks.

:class:`Finite` is the type of every number option (a plain finite number in
its range); ``--speed-profile`` and ``--speed-model`` are declared once here
for ``assign``, ``assign network`` and ``assign calibrate``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.inputs import NUMBER, read_speed_factors, read_speed_table
from optimizer.speed_model import DEFAULT_SPEED_MODEL, SPEED_MODELS, SpeedModel, speed_model

F = TypeVar("F", bound=Callable[..., Any])

MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY
MAX_COUNT = 10_000_000


class Finite(click.FloatRange):
    """A number option: a plain finite number within its range (no nan, inf, 1_0)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Refuse what is not a plain finite number, then check the range."""
        if isinstance(value, str):
            if not NUMBER.fullmatch(value.strip()):
                self.fail(f"'{value}' is not a number. Give {self._span()}.", param, ctx)
            if not math.isfinite(float(value)):
                self.fail(f"'{value}' is too large. Give {self._span()}.", param, ctx)
        number = super().convert(value, param, ctx)
        return number

    def _span(self) -> str:
        low = "more than" if self.min_open else "from"
        return f"a number {low} {self.min:g} to {self.max:g}"

    def _describe_range(self) -> str:
        return f"{'>' if self.min_open else ''}{self.min:g}..{self.max:g}"


SPEED_PROFILE_OPTION = click.option(
    "--speed-profile",
    default=settings.DEFAULT_SPEED_PROFILE,
    show_default=True,
    metavar="NAME|CSV",
    help="Speeds of roads without a maxspeed tag: 'lozere' (90 km/h on departmental roads "
    "since 2020), 'lozere80' (the 80 km/h regime), 'france' (legal limits), or a CSV file "
    "of your own with columns highway,kmh.",
)


SPEED_MODEL_OPTION = click.option(
    "--speed-model",
    "speed_model_name",
    type=click.Choice(SPEED_MODELS),
    default=DEFAULT_SPEED_MODEL,
    show_default=True,
    help="How roads are timed: 'realistic' (a car's speed: below the limit, slower in bends, "
    "delays at junctions, signals and stops, town speeds in built-up areas) or 'free-flow' "
    "(every road at its speed limit, no delay).",
)

FORCE_OPTION = click.option(
    "--force",
    is_flag=True,
    help="Replace --out even if it is an existing file this tool did not write.",
)

QUIET_OPTION = click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")


def with_options(options: Sequence[Callable[[F], F]]) -> Callable[[F], F]:
    """Attach ``options`` (click options) to a command, in the order ``--help`` lists them."""

    def attach(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return attach


def speed_profile(value: str) -> str | dict[str, float]:
    """Return the profile name, or the table read from a CSV file."""
    if value in settings.SPEED_PROFILES:
        return value
    if value.lower().endswith((".csv", ".txt")):
        return read_speed_table(value)
    known = ", ".join(sorted(settings.SPEED_PROFILES))
    msg = f"--speed-profile: '{value}' is neither a profile ({known}) nor a .csv file."
    raise InputError(msg)


def speed_setup(profile: str, model_name: str) -> tuple[str | dict[str, float], SpeedModel]:
    """Return the profile and the speed model: a profile CSV's ``factor`` column calibrates it."""
    speeds = speed_profile(profile)
    model = speed_model(model_name)
    if model.name == "free-flow":
        return speeds, model
    if isinstance(speeds, dict):
        factors, params = read_speed_factors(profile)
        if factors or params:
            return speeds, model.with_factors(factors, source=f"profile {profile}", **params)
    return speeds, model


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one existing file."""
    try:
        return a.is_file() and b.is_file() and a.samefile(b)
    except OSError:
        return False


def given(ctx: click.Context, param: str) -> bool:
    """Whether the option ``param`` was given (command line or environment), not defaulted."""
    source = ctx.get_parameter_source(param)
    return source in (
        click.core.ParameterSource.COMMANDLINE,
        click.core.ParameterSource.ENVIRONMENT,
    )


def utf8(text: str) -> bool:
    """Whether ``text`` (an argument) is valid UTF-8 (undecodable bytes arrive as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
