"""Writing one output file safely: the policy of ``--out`` for single files.

The subcommands ``assign geocode``, ``assign calibrate`` and ``assign
network`` each write one file. :func:`check_out_file` is called before any
work and refuses, in one message naming the option:

- a path that is a directory, a device, a FIFO or a socket (``/dev/null``
  stays a device: nothing is ever written through it);
- a path under a file, or in a folder that cannot be written to (checked by
  creating and removing a probe file, so it holds for root too);
- one of the command's inputs (the same file, also through a symbolic or a
  hard link);
- an existing file the tool did not write (its content does not look like
  the tool's output), unless ``force`` is given.

:func:`write_out_file` then writes the content to a temporary name beside
the target and renames it into place (atomic: a reader, or a killed run,
never sees half a file). :func:`write_atomic` does the same for the
tool's own files (the geocoding cache).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from optimizer.errors import InputError, OptimizerError
from optimizer.publish import alive

logger = logging.getLogger(__name__)

#: Bytes read from an existing file to recognise the tool's own output.
_HEAD_BYTES = 8192


def _kind(mode: int) -> str | None:
    """Name the kind of a file that is not a regular file (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _probe(folder: Path) -> None:
    """Create and remove a file in ``folder``; raise OSError when that is not possible."""
    probe = folder / f".assign-probe-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    probe.unlink()


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_HEAD_BYTES)
    except OSError:
        return b""


def check_out_file(
    path: str | Path,
    *,
    option: str = "--out",
    inputs: Iterable[tuple[str, str | Path | None]] = (),
    ours: Callable[[bytes], bool] | None = None,
    force: bool = False,
    suffix: str | None = None,
) -> Path:
    """Check, before any work, that ``path`` may receive the command's output file.

    Parameters
    ----------
    path
        The output file; it need not exist (nor its folder).
    option
        The option's name, for messages.
    inputs
        ``(option, path)`` of each input of the command (``None`` paths are skipped).
    ours
        Tells, from the first bytes of an existing file, whether the tool wrote
        it (such a file is replaced; another one only with ``force``).
    force
        Replace an existing regular file even if the tool did not write it.
    suffix
        The name must end in it (``".csv"``; any case), or None.

    Returns
    -------
    pathlib.Path
        The file to write: absolute, symbolic links resolved.
    """
    text = str(path)
    if suffix is not None and Path(text).suffix.lower() != suffix:
        msg = f"{option} must end in {suffix}, got '{text}'."
        raise InputError(msg)
    if not text.strip():
        msg = f"{option}: the file name is empty. Give a file to write."
        raise InputError(msg)
    target, info = _target(text, option)
    if info is not None:
        _check_existing(target, info, text, option, inputs=inputs, ours=ours, force=force)
    folder = target.parent
    _check_folder(folder, text, option)
    remove_stale_temporaries(folder, target.name)
    return target


def _target(text: str, option: str) -> tuple[Path, os.stat_result | None]:
    """Return the file to write (absolute, a symbolic link resolved) and its status if it exists."""
    given = Path(os.path.abspath(text))  # noqa: PTH100 - keep '..' as the user wrote it
    try:
        target = given.resolve() if given.is_symlink() else given
    except (OSError, RuntimeError, ValueError) as exc:  # a loop of links, a NUL byte
        msg = f"{option}: cannot use '{text}' ({exc}). Choose another file."
        raise InputError(msg) from None
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        info = None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        msg = f"{option}: cannot use '{text}' ({reason}). Choose another file."
        raise InputError(msg) from None
    return target, info


def _check_existing(
    target: Path,
    info: os.stat_result,
    text: str,
    option: str,
    *,
    inputs: Iterable[tuple[str, str | Path | None]],
    ours: Callable[[bytes], bool] | None,
    force: bool,
) -> None:
    """Refuse an existing output that is not a file, is an input, or is not ours (unforced)."""
    kind = _kind(info.st_mode)
    if kind is not None:
        msg = f"{option}: '{text}' is {kind}, not a file. Give the name of a file to write."
        raise InputError(msg)
    for name, source in inputs:
        if source is None:
            continue
        try:
            same = os.path.samestat(info, Path(source).stat())
        except OSError:
            same = False
        if same:
            msg = (
                f"{option}: '{text}' is the file given to {name} ('{source}'); it would be "
                "overwritten. Write the output to another file."
            )
            raise InputError(msg)
    if not force and not (ours is not None and ours(_head(target))):
        msg = (
            f"{option}: '{text}' exists and was not written by this tool; it is left as it "
            "is. Choose another file, or pass --force to replace it."
        )
        raise InputError(msg)


def _check_folder(folder: Path, text: str, option: str) -> None:
    """Refuse a folder that is a file, or the nearest existing one when it is not writable."""
    for ancestor in (folder, *folder.parents):
        if os.path.lexists(ancestor):
            if not ancestor.is_dir():
                msg = (
                    f"{option}: '{text}': '{ancestor}' is a file, not a folder. "
                    "Give a file in a folder."
                )
                raise InputError(msg)
            try:
                _probe(ancestor)
            except OSError as exc:
                msg = (
                    f"{option}: cannot write in '{ancestor}' ({exc.strerror}). "
                    "Choose a folder you can write to."
                )
                raise InputError(msg) from None
            break


_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp(\.[A-Za-z]+)?$")


def remove_stale_temporaries(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporary files a killed run left in ``folder`` (of ``name``, or any).

    Only the tool's own temporaries (``.NAME.<pid>-<8 hex>.tmp``, written by
    :func:`write_atomic`) whose process is gone are removed, and only
    regular files.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if not match or (name is not None and match.group("name") != name):
            continue
        if alive(int(match.group("pid"))):
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISREG(entry.lstat().st_mode):
                entry.unlink()
                removed.append(entry)
                logger.info("removed %s, left by an interrupted run", entry)
    return removed


def check_cache_dir(path: str | Path | None, *, default: Path, option: str = "--cache-dir") -> Path:
    """Check, before any work, that the cache folder can be used; return it.

    The folder need not exist (it is created when something is cached); it
    must not be a file, nor lie under one, and must be writable.

    Parameters
    ----------
    path
        The folder given (None: ``default``).
    default
        The folder used when none is given.
    option
        The option's name, for messages.
    """
    folder = Path(path) if path is not None else default
    named = f"{option} '{path}'" if path is not None else f"the cache folder '{default}'"
    if not str(folder).strip():
        msg = f"{option}: the folder name is empty. Give a folder for the cache."
        raise InputError(msg)
    folder = Path(os.path.abspath(folder))  # noqa: PTH100 - keep '..' as the user wrote it
    for ancestor in (folder, *folder.parents):
        if os.path.lexists(ancestor):
            if not ancestor.is_dir():
                what = "is a file" if ancestor == folder else f"is under '{ancestor}', a file"
                msg = f"{named} {what}, not a folder. Give a folder for the cache ({option})."
                raise InputError(msg)
            try:
                _probe(ancestor)
            except OSError as exc:
                msg = (
                    f"{named}: cannot write in '{ancestor}' ({exc.strerror}). Give a folder "
                    f"you can write to ({option})."
                )
                raise InputError(msg) from None
            break
    return folder


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and a rename.

    Raises
    ------
    OSError
        When the folder cannot be written; ``path`` is then unchanged.
    """
    tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    mode = _kept_mode(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _kept_mode(path: Path) -> int | None:
    """Return the permissions of the file about to be replaced (a private file stays so)."""
    try:
        info = path.stat()
    except OSError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


def _write_with(path: Path, writer: Callable[[Path], object]) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp{path.suffix}"
    mode = _kept_mode(path)
    try:
        writer(tmp)
        if mode is not None:
            tmp.chmod(mode)
        with contextlib.suppress(OSError):
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_out_file(
    target: Path, data: bytes | Callable[[Path], object], *, option: str = "--out"
) -> Path:
    """Write the output checked by :func:`check_out_file`, atomically.

    ``data`` is the content, or a function that writes the file at the
    temporary path it is given (a GraphML writer).

    The file is checked once more just before the rename (it must still not
    be a folder, a device or a FIFO).

    Raises
    ------
    OptimizerError
        When the file cannot be written (disk full, folder removed): nothing
        was changed.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            kind = _kind(target.stat().st_mode)
            if kind is not None:
                msg = f"{option}: '{target}' is {kind}, not a file; nothing was written."
                raise InputError(msg)
        if isinstance(data, bytes):
            write_atomic(target, data)
        else:
            _write_with(target, data)
    except OSError as exc:
        msg = (
            f"{option}: cannot write '{target}' ({exc.strerror}); nothing was changed. "
            "Free some space or choose another file."
        )
        raise OptimizerError(msg) from None
    return target


__all__ = [
    "check_cache_dir",
    "check_out_file",
    "remove_stale_temporaries",
    "write_atomic",
    "write_out_file",
]
