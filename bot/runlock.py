"""One `quorum run` (or one restore) per store: a lock file beside the database.

Two servers on one database would run two schedulers and two dispatchers, and a
crash recovery in one would settle the other's sends; a restore under a running
server would pull the store from under it. The lock is an advisory ``flock`` on
``<database>.lock``: the kernel releases it when the process ends, however it
ends (``kill -9`` included), so a stale file never blocks a restart. The PID and
what holds it ("quorum run", "a restore") are written into it only for the
message that names the holder.
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


class StoreBusy(UserError):
    """Another `quorum run` (or a restore) holds this store."""


class AlreadyRunning(StoreBusy):
    """Another `quorum run` serves this database."""


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


RUN = "quorum run"


class RunLock:
    """Held from :meth:`acquire` to :meth:`release` by the one user of a database."""

    def __init__(self, db_path: Path, doing: str = RUN) -> None:
        self.db_path = db_path
        self.doing = doing
        self.path = lock_path(db_path)
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`StoreBusy` naming the PID that holds it."""
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, holder = _holder(handle)
            handle.close()
            raise _busy(self.db_path, self.doing, pid, holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {self.doing}\n")
        handle.flush()
        self._file = handle

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

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


def _busy(db_path: Path, doing: str, pid: int | None, holder: str) -> StoreBusy:
    if doing == RUN and holder == RUN:
        who = f"PID {pid}" if pid else "another process"
        return AlreadyRunning(
            f"quorum run is already serving {db_path} ({who});"
            " stop it first, or give this one another --db"
        )
    who = f"{holder} (pid {pid})" if pid else holder
    return StoreBusy(f"{db_path} is in use by {who}; stop it first ({doing} needs it alone)")


def _holder(handle: IO[str]) -> tuple[int | None, str]:
    """(PID, what it is doing) as the holder wrote them: "1234 quorum run"."""
    handle.seek(0)
    pid, _, doing = handle.read(200).strip().partition(" ")
    return (int(pid) if pid.isdigit() else None), (doing or RUN)


def _pid_in(handle: IO[str]) -> int | None:
    return _holder(handle)[0]
