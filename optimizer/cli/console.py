"""The command's console: exit codes, one-line errors, the run's language, progress, the log.

Exit codes: 0 success; 2 bad input (a file, a value, an option: one line on
stderr says what and what to do); 1 the problem cannot be solved as asked;
3 another run is writing to the same ``--out`` folder. Every message is said
through :func:`optimizer.i18n.translate`, in the language of ``--lang`` (else
the locale's).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from optimizer.errors import BusyError, InputError, NetworkError, OptimizerError
from optimizer.i18n import LANGS, Lang, fill, resolve_lang, translate

EXIT_INPUT = 2
EXIT_UNSOLVABLE = 1
EXIT_BUSY = 3


class Steps:
    """Step-by-step progress on stderr, with the time each step took; silent when quiet."""

    def __init__(self, *, quiet: bool, lang: Lang = "en") -> None:
        self.quiet = quiet
        self.lang = lang
        self.started = time.perf_counter()
        self._step_started: float | None = None
        self._message = ""

    def __call__(self, message: str) -> None:
        """Start the step ``message``: close the one under way, and say the new one."""
        self.finish()
        self._message = message
        self._step_started = time.perf_counter()
        if not self.quiet:
            click.echo(f"  {translate(message, self.lang)} ...", err=True)

    def finish(self) -> None:
        """Close the step under way: say how long it took when that was a second or more."""
        if self._step_started is not None and not self.quiet:
            took = time.perf_counter() - self._step_started
            if took >= 1.0:
                step = translate(self._message, self.lang)
                click.echo(f"    {translate(f'({step}: {took:.1f} s)', self.lang)}", err=True)
        self._step_started = None

    @property
    def elapsed(self) -> float:
        """Seconds since the command started."""
        return time.perf_counter() - self.started


def fail(message: str, code: int, details: Sequence[str] = ()) -> NoReturn:
    """Say ``message`` on one line of stderr (then one line per detail) and exit with ``code``."""
    lang = console_lang()
    said = translate(flat(message), lang)
    click.echo(fill("assign: error: {message}", lang, message=said), err=True)  # one line
    for detail in details:  # then one line per item at fault (every bad row of a roster)
        click.echo(f"  {translate(flat(detail), lang)}", err=True)
    sys.exit(code)


def fail_input(exc: InputError | NetworkError) -> NoReturn:
    """Say an input error, its first line then its items, and exit with code 2."""
    if isinstance(exc, InputError) and exc.details:
        fail(exc.summary, EXIT_INPUT, exc.details)
    fail(str(exc), EXIT_INPUT)


@contextmanager
def exit_codes(*, busy: bool = False) -> Iterator[None]:
    """Turn the library's errors into one line and an exit code.

    An input or network error exits with 2, another run holding ``--out`` with 3
    (``busy``: commands that take that lock; else 1), any other error of the
    package with 1.
    """
    try:
        yield
    except (InputError, NetworkError) as exc:
        fail_input(exc)
    except BusyError as exc:
        fail(str(exc), EXIT_BUSY if busy else EXIT_UNSOLVABLE)
    except OptimizerError as exc:
        fail(str(exc), EXIT_UNSOLVABLE)


def console_lang(args: Sequence[str] | None = None) -> Lang:
    """Return the language the console speaks: the command's ``--lang``, else the locale's.

    Read from the command being run, or, before it is parsed (a usage error),
    from its arguments ``args``.
    """
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        given = ctx.params.get("lang")
        if isinstance(given, str) and given.lower() in LANGS:
            return resolve_lang(given)
        ctx = ctx.parent
    words = list(args or ())
    for k, word in enumerate(words):
        value = word.split("=", 1)[1] if word.startswith("--lang=") else None
        if word == "--lang" and k + 1 < len(words):
            value = words[k + 1]
        if value is not None and value.strip().lower() in LANGS:
            return resolve_lang(value)
    return resolve_lang(None)


def flat(text: str) -> str:
    """Return ``text`` on one line of printable characters."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


class OneLineErrors(click.Group):
    """A group whose usage errors are one line (``assign: error: ...``) and exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command; a usage error or an interruption is one line and an exit code."""
        kwargs["standalone_mode"] = False
        given = kwargs.get("args", args[0] if args else None)
        words = [str(w) for w in (sys.argv[1:] if given is None else given)]
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:  # pragma: no cover - not configured
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(0)
        except click.ClickException as exc:
            hint = " (see assign --help)" if isinstance(exc, click.UsageError) else ""
            lang = console_lang(words)
            said = translate(flat(f"{exc.format_message()}{hint}"), lang)
            click.echo(fill("assign: error: {message}", lang, message=said), err=True)
            sys.exit(EXIT_INPUT)
        except click.Abort:
            click.echo(translate("assign: interrupted", console_lang(words)), err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


def show_log(*, quiet: bool, verbose: bool, lang: Lang = "en") -> None:
    """Show the library's log: warnings (errors only with --quiet; all with --verbose).

    Warnings the command prints itself at the end of the run (those a reader
    also keeps in a table's ``attrs["warnings"]``) are not shown twice. The
    records are said in ``lang`` (the library logs in English).
    """
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(
        level=min(level, logging.WARNING), format="%(levelname)s %(name)s: %(message)s"
    )
    if verbose:
        logging.getLogger().setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        # the console's own stream only (type, not isinstance: a test's capture is left
        # alone), which --quiet turns down to errors
        if type(handler) is logging.StreamHandler:
            handler.setLevel(level)
            if not any(isinstance(f, _PrintedLater) for f in handler.filters):
                handler.addFilter(_PrintedLater())
            handler.setFormatter(_Said(lang))


class _Said(logging.Formatter):
    """A log record as the console shows it, in the run's language (``ATTENTION ...``)."""

    def __init__(self, lang: Lang) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.lang = lang

    def format(self, record: logging.LogRecord) -> str:
        if self.lang == "en":
            return super().format(record)
        said = logging.makeLogRecord(record.__dict__)
        said.msg, said.args = translate(record.getMessage(), self.lang), None
        said.levelname = translate(record.levelname, self.lang)
        return super().format(said).replace(f"{said.name}: ", f"{said.name} : ", 1)


class _PrintedLater(logging.Filter):
    """Drop log records that the command prints itself (``extra={"in_attrs": True}``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "in_attrs", False)
