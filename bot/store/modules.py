"""The modules' responsiveness as derived state: one stored evaluation per module.

What `quorum modules`, `/modules`, "Needs attention" and the reminders show of a
module is computed from the conversations of the last ``responsiveness.window_days``
that reach it (:func:`bot.core.reminders.modules_reached`), stored here
(``module_views``, migration m012), and computed again only when

- a post changes a thread that reaches it (``module_threads`` says which modules each
  thread reaches; the views' change log says which threads changed),
- the outbox records or delivers a rung of one of its obligations (``module_marks``,
  appended by triggers on the outbox),
- the clock reaches its ``due_at`` (a stage, a rung, a backlog, an expiry, a quiet
  period, a conversation leaving the window: a range of its index), or
- what it was computed with changed (its ``fingerprint``: code and configuration).

Computing is :mod:`bot.features.module_views`'; this module only reads and writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store import Store


@dataclass(frozen=True, slots=True)
class ModuleRow:
    module: str
    fingerprint: str
    computed_at: str
    due_at: str | None
    payload: dict[str, Any]
    # The part the front page reads (bot.core.attention.for_attention).
    front: dict[str, Any]


def stamps(store: Store) -> list[tuple[str, str, int]]:
    """(module, fingerprint, revision) of every stored module: what a reader compares
    with what it decoded last, without reading the payloads (a save adds 1 to revision)."""
    return [
        (row[0], row[1], row[2])
        for row in store.db.execute(
            "SELECT module, fingerprint, revision FROM module_views ORDER BY module"
        )
    ]


def payloads(
    store: Store, modules: Sequence[str], *, front: bool = False
) -> dict[str, dict[str, Any]]:
    """The stored evaluations of these modules, by name (``front``: the part the front
    page reads)."""
    column = "front" if front else "payload"
    return {
        row[0]: json.loads(row[1])
        for row in store.db.execute(
            f"SELECT module, {column} FROM module_views"  # noqa: S608 (one of two names)
            " WHERE module IN (SELECT value FROM json_each(?))",
            [json.dumps(list(modules))],
        )
    }


def due(store: Store, moment: str) -> list[str]:
    """Modules whose evaluation the clock has changed by ``moment`` (a range of the index)."""
    return [
        row[0]
        for row in store.db.execute(
            "SELECT module FROM module_views WHERE due_at <= ? ORDER BY due_at", [moment]
        )
    ]


def save(store: Store, rows: Sequence[ModuleRow], dropped: Iterable[str] = ()) -> None:
    store.db.conn.executemany(
        "INSERT INTO module_views (module, fingerprint, computed_at, due_at, payload, front)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(module) DO UPDATE SET"
        " fingerprint = excluded.fingerprint, computed_at = excluded.computed_at,"
        " due_at = excluded.due_at, payload = excluded.payload, front = excluded.front,"
        " revision = module_views.revision + 1",
        [
            (
                r.module,
                r.fingerprint,
                r.computed_at,
                r.due_at,
                json.dumps(r.payload),
                json.dumps(r.front),
            )
            for r in rows
        ],
    )
    store.db.conn.executemany(
        "DELETE FROM module_views WHERE module = ?", [(name,) for name in dropped]
    )


def threads_reaching(store: Store, module: str, since: str) -> list[str]:
    """Threads active since ``since`` that reach ``module`` (a range of the index)."""
    return [
        row[0]
        for row in store.db.execute(
            "SELECT thread_key FROM module_threads WHERE module = ? AND last_at >= ?",
            [module, since],
        )
    ]


def modules_of(store: Store, thread_keys: Sequence[str]) -> set[str]:
    """The modules these threads reached when they were last read."""
    return {
        row[0]
        for row in store.db.execute(
            "SELECT module FROM module_threads"
            " WHERE thread_key IN (SELECT value FROM json_each(?))",
            [json.dumps(list(thread_keys))],
        )
    }


def set_reach(store: Store, reach: Mapping[str, tuple[str, frozenset[str]]]) -> None:
    """thread -> (its last_at, the modules it reaches now), replacing what it reached."""
    store.db.conn.executemany(
        "DELETE FROM module_threads WHERE thread_key = ?", [(key,) for key in reach]
    )
    store.db.conn.executemany(
        "INSERT INTO module_threads (thread_key, module, last_at) VALUES (?, ?, ?)",
        [
            (key, module, last_at)
            for key, (last_at, modules) in reach.items()
            for module in sorted(modules)
        ],
    )


def in_window(store: Store, thread_keys: Sequence[str], since: str) -> dict[str, str]:
    """Those of these threads active since ``since``, with their last_at."""
    return {
        row[0]: row[1]
        for row in store.db.execute(
            "SELECT t.key, t.last_at FROM json_each(?) j JOIN threads t ON t.key = j.value"
            " WHERE t.last_at >= ?",
            [json.dumps(list(thread_keys)), since],
        )
    }


def marks(store: Store, after: int) -> tuple[int, list[str]]:
    """Obligations whose ladder changed since mark ``after``, and the mark read up to."""
    rows = store.db.execute(
        "SELECT seq, item FROM module_marks WHERE seq > ? ORDER BY seq", [after]
    ).fetchall()
    if not rows:
        return after, []
    return int(rows[-1][0]), [row[1] for row in rows]


def forget_marks(store: Store, upto: int) -> None:
    store.db.execute("DELETE FROM module_marks WHERE seq <= ?", [upto])
