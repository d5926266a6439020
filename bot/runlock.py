"""One `quorum run` per store: a lock file beside the database, holding the server's PID.

Two servers on one database would run two schedulers and two dispatchers, and a
crash recovery in one would settle the other's sends. The lock is an advisory
``flock`` on ``<database>.lock``: the kernel releases it when the process ends,
however it ends (``kill -9`` included), so a stale file never blocks a restart.
The PID written into it is only for the message that names the first server.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import IO

from bot.errors import UserError

logger = logging.getLogger(__name__)


class AlreadyRunning(UserError):
    """Another `quorum run` serves this database."""


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class RunLock:
    """Held from :meth:`acquire` to :meth:`release` by the one server of a database."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = lock_path(db_path)
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`AlreadyRunning` naming the PID that holds it."""
        handle = self.path.open("a+", encoding="ascii")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid_in(handle)
            handle.close()
            who = f"PID {pid}" if pid else "another process"
            raise AlreadyRunning(
                f"quorum run is already serving {self.db_path} ({who});"
                " stop it first, or give this one another --db"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._file.seek(0)
            self._file.truncate()
        self._file.close()  # closing releases the flock
        self._file = None


def running_server(db_path: Path) -> int | None:
    """The PID of the `quorum run` serving ``db_path``, or None when none does."""
    path = lock_path(db_path)
    if not path.exists():
        return None
    with path.open("r", encoding="ascii") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid_in(handle) or -1
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _pid_in(handle: IO[str]) -> int | None:
    handle.seek(0)
    text = handle.read(32).strip()
    return int(text) if text.isdigit() else None
