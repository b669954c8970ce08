"""Publishing a run: the output folder always holds one whole run.

A run's files are written into a fresh hidden sibling of the output folder,
``.<out>.run-<pid>-<token>/``, and then swapped in with one atomic directory
operation (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, with
the old folder put back by the next run should the process die between them).
A reader who lists ``<out>`` sees either the previous run or the new one,
never a mix, whatever kills the process; ``<out>`` stays a plain folder of
plain files.

Files the tool does not write (its own names are given by the caller) are
the user's: they are carried over into every new run folder (hard links for
files, moves for folders) and never deleted. A file of the tool's own name
that this run does not write (``schedule.csv`` of a weekly plan, then a plain
run) disappears with the previous run.

Runs on one folder are serialised by a lock file, ``.<out>.lock`` beside the
folder, present while a run holds it (``fcntl.flock``, released by the kernel
when the process ends, however it ends; a killed run leaves the empty file,
which the next run reuses): a second run fails at once with
:class:`~optimizer.errors.BusyError`.
The run holding the lock removes what dead runs left: their unfinished run
folders, the previous folder of a run killed just after the swap, and hidden
``.NAME.xxxxxxxx.tmp`` files of the earlier file-by-file writer (exactly 8
of ``a-z0-9_`` between the dots, as its ``tempfile.mkstemp`` made them: a
user's ``.summary.json.backup.tmp`` stays).

For tests only: when the environment variable ``OPTIMIZER_TEST_KILL_AT`` is a
number N, the process kills itself with SIGKILL at the N-th step of
publishing (after each file, each carried entry, the swap and the cleanup).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import re
import secrets
import shutil
import signal
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from types import TracebackType

from optimizer.errors import BusyError, InputError, OptimizerError

logger = logging.getLogger(__name__)

KILL_AT_ENV = "OPTIMIZER_TEST_KILL_AT"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_steps = 0

if sys.platform != "win32":
    import fcntl


def _crash_point() -> None:
    """Kill the process at the N-th call when the test hook asks for it."""
    global _steps  # a process-wide counter, for the crash tests only
    wanted = os.environ.get(KILL_AT_ENV)
    if not wanted:
        return
    _steps += 1
    if _steps == int(wanted):
        os.kill(os.getpid(), signal.SIGKILL)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False when the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def alive(pid: int) -> bool:
    """Whether process ``pid`` may still run (ours, or one we may not signal): its files stay."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # a number no process has: keep its files too
        return True
    return True


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_out_folder(path: str | Path, *, option: str = "--out") -> Path:
    """Check that ``path`` can hold results; return it absolute (symlinks resolved).

    Parameters
    ----------
    path
        The output folder; it need not exist.
    option
        Name of the option, for messages.

    Returns
    -------
    pathlib.Path
        The absolute folder.
    """
    text = str(path)
    if not text.strip():
        msg = f"{option}: the folder name is empty. Give a folder for the results, e.g. assignment."
        raise InputError(msg)
    folder = Path(os.path.abspath(text))  # noqa: PTH100 - keep '..' as the user wrote it
    if folder.is_symlink():
        folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        msg = f"{option}: '{text}' is a file, not a folder. Give a folder for the results."
        raise InputError(msg)
    for ancestor in folder.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                msg = (
                    f"{option}: '{text}': '{ancestor}' is a file, not a folder. "
                    "Give a folder for the results."
                )
                raise InputError(msg)
            break
    cwd = Path.cwd().resolve()
    if folder == Path(folder.anchor) or folder == cwd or folder in cwd.parents:
        msg = (
            f"{option}: '{text}' is the current folder or holds it; results replace their "
            "folder as a whole. Give a folder of their own, e.g. assignment."
        )
        raise InputError(msg)
    return folder


class OutputFolder:
    """The output folder of one run: locked, cleaned, and replaced as a whole.

    Use as a context manager: entering takes the lock (or raises
    :class:`~optimizer.errors.BusyError`) and removes what dead runs left;
    :meth:`publish` swaps the new run in; leaving releases the lock.

    Parameters
    ----------
    path
        The output folder (created on publish if it does not exist).
    own_names
        File names the tool writes: the only names ever removed from the
        folder. Everything else in it is carried over into each new run.
    """

    def __init__(self, path: str | Path, *, own_names: Collection[str]) -> None:
        self.given = str(path)
        self.path = check_out_folder(path)
        self.own_names = frozenset(own_names)
        self._lock_fd: int | None = None
        self._depth = 0
        names = "|".join(re.escape(n) for n in sorted(self.own_names))
        # exactly what the earlier writer's tempfile.mkstemp made: 8 of [a-z0-9_]
        self._leftover = re.compile(rf"^\.({names})\.[a-z0-9_]{{8}}\.tmp$")

    @property
    def lock_path(self) -> Path:
        """The lock file beside the folder: ``.<name>.lock``."""
        return self.path.parent / f".{self.path.name}.lock"

    def _prefix(self, kind: str) -> str:
        return f".{self.path.name}.{kind}-"

    def acquire(self) -> None:
        """Take the lock (or raise :class:`~optimizer.errors.BusyError`) and clean up.

        Calls nest: the lock is released by the matching last :meth:`release`.
        """
        if self._depth == 0:
            self.lock()
            try:
                self.clean_stale()
            except BaseException:
                self.unlock()
                raise
        self._depth += 1

    def release(self) -> None:
        """Undo one :meth:`acquire`; the last one releases the lock."""
        if self._depth > 0:
            self._depth -= 1
            if self._depth == 0:
                self.unlock()

    def __enter__(self) -> OutputFolder:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()

    def lock(self) -> None:
        """Take the folder's lock, or raise :class:`~optimizer.errors.BusyError`."""
        if self._lock_fd is not None:
            return
        parent = self.path.parent
        for _ in range(10):  # the holder may remove the file between our open and our lock
            try:
                parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                msg = (
                    f"--out: cannot write in '{parent}' ({exc.strerror}). "
                    "Choose a folder you can write to."
                )
                raise InputError(msg) from None
            if sys.platform != "win32":
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
                    os.close(fd)
                    msg = (
                        f"another assign run is writing to {self.given} (pid {holder}); "
                        "wait for it or choose another --out."
                    )
                    raise BusyError(msg) from None
            if _same_inode(fd, self.lock_path):
                break
            os.close(fd)  # locked a file its holder had just removed: take the new one
        else:  # pragma: no cover - ten removals in a row
            msg = f"--out: cannot lock '{self.lock_path}'. Try again."
            raise BusyError(msg)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._lock_fd = fd
        if self.path.exists() and not os.access(self.path, os.W_OK | os.X_OK):
            self.unlock()
            msg = (
                f"--out: cannot write in '{self.given}' (permission denied). "
                "Choose a folder you can write to."
            )
            raise InputError(msg)

    def unlock(self) -> None:
        """Release the lock and remove the lock file (a killed run leaves it: harmless)."""
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                self.lock_path.unlink()  # while still holding the lock: see lock()
            os.close(self._lock_fd)
            self._lock_fd = None

    def _stale(self) -> list[Path]:
        found = []
        for kind in ("run", "old"):
            prefix = self._prefix(kind)
            for entry in self.path.parent.glob(f"{glob_escape(prefix)}*"):
                match = re.match(r"(\d+)-", entry.name[len(prefix) :])
                if (
                    entry.is_dir()
                    and not entry.is_symlink()
                    and match
                    and not alive(int(match.group(1)))
                ):
                    found.append(entry)
        return found

    def clean_stale(self) -> None:
        """Remove what dead runs left beside and inside the folder (needs the lock)."""
        stale = self._stale()
        if not self.path.exists():
            # a run killed between the two renames of the fallback: put the old run back
            for folder in stale:
                if folder.name.startswith(self._prefix("old")):
                    folder.rename(self.path)
                    logger.warning("restored %s from an interrupted run", self.path)
                    stale.remove(folder)
                    break
        for folder in stale:
            self._dispose(folder)
        if self.path.is_dir():
            for entry in self.path.iterdir():
                if self._leftover.match(entry.name) and entry.is_file():
                    entry.unlink(missing_ok=True)
                    logger.info("removed %s, left by an interrupted run", entry)

    def _dispose(self, folder: Path) -> None:
        """Delete a run folder that is not the current one, keeping the user's files."""
        for entry in list(folder.iterdir()):
            if (
                entry.name in self.own_names or self._leftover.match(entry.name)
            ) and not entry.is_dir():
                entry.unlink(missing_ok=True)
            elif self.path.is_dir():
                _merge_back(entry, self.path / entry.name)
        try:
            folder.rmdir()
        except OSError:
            logger.warning(
                "left %s: it holds files that are not the tool's and clash with %s",
                folder,
                self.path,
            )

    def publish(self, files: Mapping[str, str | bytes]) -> list[Path]:
        """Write ``files`` as the folder's new content, in one atomic swap.

        Parameters
        ----------
        files
            File name (one of the tool's own) to text (written as UTF-8) or bytes.

        Returns
        -------
        list of pathlib.Path
            The paths of the files, in the folder.
        """
        strangers = sorted(set(files) - self.own_names)
        if strangers:
            msg = f"not the tool's own file names: {', '.join(strangers)}"
            raise ValueError(msg)
        with self:
            run = self.path.parent / f"{self._prefix('run')}{os.getpid()}-{secrets.token_hex(4)}"
            swapped = False
            try:
                run.mkdir()
                if self.path.is_dir():
                    run.chmod(self.path.stat().st_mode & 0o7777)
                for name, data in files.items():
                    with (run / name).open("xb") as handle:
                        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
                        handle.flush()
                        os.fsync(handle.fileno())
                    _crash_point()
                if self.path.is_dir():
                    self._carry_over(run)
                _fsync_dir(run)
                swapped = self._swap(run)
                _crash_point()
            except OSError as exc:
                if not swapped and run.exists():
                    self._dispose(run)
                msg = (
                    f"--out: cannot write the results to '{self.given}' ({exc.strerror}); "
                    "the previous results are unchanged. Free some space or choose another --out."
                )
                raise OptimizerError(msg) from None
            _fsync_dir(self.path.parent)
            if run.exists():
                self._dispose(run)  # now the previous run
            _crash_point()
        logger.info("published %d files in %s", len(files), self.path)
        return [self.path / name for name in files]

    def _carry_over(self, run: Path) -> None:
        for entry in list(self.path.iterdir()):
            if entry.name in self.own_names or self._leftover.match(entry.name):
                continue
            _link_copy(entry, run / entry.name)
            _crash_point()

    def _swap(self, run: Path) -> bool:
        """Put ``run`` at the folder's path; the previous run ends up at ``run``'s."""
        if not self.path.exists():
            run.rename(self.path)
            return True
        if _exchange(run, self.path):
            return True
        old = self.path.parent / f"{self._prefix('old')}{os.getpid()}-{secrets.token_hex(4)}"
        self.path.rename(old)
        _crash_point()
        try:
            run.rename(self.path)
        except OSError:
            old.rename(self.path)
            raise
        old.rename(run)
        return True


def _link_copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` as hard links (folders recreated, symlinks kept)."""
    if source.is_symlink():
        target.symlink_to(source.readlink())
    elif source.is_dir():
        target.mkdir()
        target.chmod(source.stat().st_mode & 0o7777)
        for child in source.iterdir():
            _link_copy(child, target / child.name)
    else:
        try:
            target.hardlink_to(source)
        except OSError:
            shutil.copy2(source, target)


def _merge_back(entry: Path, target: Path) -> None:
    """Remove ``entry`` where ``target`` holds the same; move it to ``target`` where it is missing.

    Nothing of the user's is deleted: a file is only removed when ``target``
    is a hard link of it (or the same symlink).
    """
    if not os.path.lexists(target):
        entry.rename(target)
        logger.warning("moved %s back into %s", entry.name, target.parent)
    elif entry.is_dir() and not entry.is_symlink():
        if target.is_dir() and not target.is_symlink():
            for child in list(entry.iterdir()):
                _merge_back(child, target / child.name)
            with contextlib.suppress(OSError):
                entry.rmdir()
    elif entry.is_symlink():
        if target.is_symlink() and entry.readlink() == target.readlink():
            entry.unlink()
    elif _same(entry, target):
        entry.unlink()


def _same_inode(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), path.stat())
    except OSError:
        return False


def _same(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def glob_escape(text: str) -> str:
    """Escape glob's special characters in ``text``.

    Parameters
    ----------
    text
        A literal part of a path.

    Returns
    -------
    str
        The text, safe to use in :meth:`pathlib.Path.glob`.
    """
    return re.sub(r"([*?\[])", r"[\1]", text)


__all__ = ["KILL_AT_ENV", "OutputFolder", "check_out_folder", "glob_escape"]
