"""The store's one writer thread, whose queue lets a delivery's commit go first.

Every write runs on this thread, one job at a time (SQLite has one writer), and a
sender's ``250`` waits for its delivery's commit. Behind the job under way, the jobs
that wait are taken in order, except that those submitted with :meth:`~WriterThread.
submit_first` go ahead of the others: a delivery then waits for one job at most,
never for a queue of derived writes (stored views, deleted change logs, slices of
processed mail) that happened to be submitted a moment before it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class WriterThread(Executor):
    """A single-thread executor with two queues: jobs submitted first, then the rest."""

    def __init__(self, name: str) -> None:
        self._first: deque[_Job] = deque()
        self._rest: deque[_Job] = deque()
        self._changed = threading.Condition()
        self._closed = False
        # A daemon, as ThreadPoolExecutor's are in effect: an app that is never stopped
        # must not keep the interpreter from exiting (SQLite rolls back what was open).
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn`` after every job waiting now."""
        return self._put(self._rest, fn, args, kwargs)

    def submit_first(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn`` after the job under way and the other first ones, before the rest."""
        return self._put(self._first, fn, args, kwargs)

    def waiting(self) -> tuple[int, int]:
        """How many jobs wait behind the one under way: (first ones, the rest)."""
        with self._changed:
            return len(self._first), len(self._rest)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No more jobs; the waiting ones still run (unless ``cancel_futures``)."""
        with self._changed:
            self._closed = True
            if cancel_futures:
                for future, *_ in (*self._first, *self._rest):
                    future.cancel()
            self._changed.notify()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    def _put(
        self,
        queue: deque[_Job],
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Future[T]:
        future: Future[T] = Future()
        with self._changed:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            queue.append((future, fn, args, kwargs))
            self._changed.notify()
        return future

    def _next(self) -> _Job | None:
        """The next job, waiting for one; None once shut down and drained."""
        with self._changed:
            while not self._first and not self._rest and not self._closed:
                self._changed.wait()
            if self._first:
                return self._first.popleft()
            if self._rest:
                return self._rest.popleft()
            return None

    def _run(self) -> None:
        while (job := self._next()) is not None:
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:  # handed to whoever waits, as executors do
                future.set_exception(error)
            else:
                future.set_result(result)
            del job, future, fn, args, kwargs  # nothing of a done job stays referenced
