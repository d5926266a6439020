"""Paths into the store from places that push or are polled: the forum, GitHub, list archives.

Each runs its I/O on the event loop and hands every store call to the app's one
writer thread (``DbCall``), so a slow network never holds a write and no two
writers meet. The pure halves live in ``bot.core`` (``discourse``, ``github``,
``sources``); the HTTP clients in ``bot.adapters``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from bot.store import Store

T = TypeVar("T")


class DbCall(Protocol):
    """``App.db``: run a function of the store on the writer thread."""

    def __call__(self, call: Callable[[Store], T], /) -> Awaitable[T]: ...


def direct_db(store: Store) -> DbCall:
    """A DbCall that runs on the caller's thread (tools and tests with one thread)."""

    async def call(function: Callable[[Store], T]) -> T:
        return function(store)

    return call
