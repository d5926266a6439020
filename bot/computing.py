"""The scheduled work's heavy reading, in a process of its own; and how `quorum run`
starts its helper processes (this one, and the parser's: :func:`helper_process`).

Recomputing views and deciding what the features owe is pure Python that runs for
seconds on a large or busy store. On a thread of `quorum run` it would share the
interpreter lock with the event loop that answers SMTP: a thread that computes
takes the lock back every few milliseconds, and every step of every SMTP session
waits for it (under 400 messages a second, p99 to `250` rose from milliseconds to
seconds while the views were recomputed). In a process of its own it uses the
machine's other core and the event loop never waits for it.

The process opens the store read-only (WAL lets it read while the writer writes)
and keeps the configuration it was started with, so the settings step runs once
there too. A call is ``call(store, config)``, picklable (a module-level function,
or a ``functools.partial`` of one), and runs in one read transaction.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bot.config import Config
from bot.store import Store

T = TypeVar("T")
Reading = Callable[[Store, Config], T]

NICENESS = 10
# How often the process checks that `quorum run` is still there (seconds).
PARENT_CHECK_SECONDS = 1.0

# The process's store and configuration, set once by its initializer.
_store: Store | None = None
_config: Config | None = None


def _open(db_path: str, config: Config) -> None:
    global _store, _config
    _store = Store.open_reader(db_path)
    _config = config


def _started(
    server: int,
    niceness: int,
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
) -> None:
    threading.Thread(
        target=_exit_with, args=(server,), name="exit-with-server", daemon=True
    ).start()
    # Below the server in the CPU's queue: on a small machine they share cores, and a
    # delivery's answer matters more than a view being ready (or a mail read) sooner.
    os.nice(niceness)
    if initializer is not None:
        initializer(*initargs)


def _exit_with(server: int) -> None:
    """End this process when `quorum run` is gone, however it ended.

    A clean stop shuts the pool down, but after a ``kill -9`` nothing would: the
    process would compute on, an orphan holding the store open and the server's
    output pipes.
    """
    while os.getppid() == server:  # an orphan is adopted by init (or a subreaper)
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def run(call: Reading[T]) -> T:
    """In the process: ``call(store, config)`` in one read transaction."""
    store, config = _opened()
    with store.read_transaction():
        return call(store, config)


def run_in_steps(call: Reading[T]) -> T:
    """In the process: ``call(store, config)``, which reads in steps of its own
    (:meth:`~bot.store.Store.read_step`) and computes between them, so no read
    transaction stays open while it computes."""
    store, config = _opened()
    return call(store, config)


def _opened() -> tuple[Store, Config]:
    if _store is None or _config is None:
        raise RuntimeError("the computing process was not initialised")
    return _store, _config


def computing_process(db_path: Path, config: Config) -> ProcessPoolExecutor:
    """One process for :func:`run`, ready when this returns."""
    return helper_process(NICENESS, _open, (str(db_path), config))


def helper_process(
    niceness: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """One worker process of `quorum run` at ``niceness``, ready when this returns;
    ``initializer(*initargs)`` runs in it first (both picklable).

    Spawned (a fresh interpreter): the caller runs threads, so forking it is not safe,
    and a child of a fork server would outlive a ``kill -9`` of `quorum run`, holding
    its output pipes, while a spawned child is the server's own and notices.
    """
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_started,
        initargs=(os.getpid(), niceness, initializer, initargs),
    )
    # Started here, on the caller's thread, so the first job does not wait for the
    # interpreter to import Quorum while holding up whoever submitted it.
    pool.submit(int).result()
    return pool
