"""What /metrics reads from the store at each scrape: counters the triggers keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.store.values import from_text

if TYPE_CHECKING:
    from bot.store import Store


@dataclass(frozen=True, slots=True)
class Backlog:
    """Deliveries accepted (250) and not processed yet, and when the oldest arrived."""

    messages: int
    oldest: datetime | None


def inbox_backlog(store: Store) -> Backlog:
    # The oldest delivery is the first id: read by the key, not by scanning the queue.
    row = store.db.execute(
        "SELECT received_at FROM inbox WHERE id = (SELECT min(id) FROM inbox)"
    ).fetchone()
    return Backlog(store.inbox_size(), from_text(row[0]) if row else None)


def actions_by_status_and_channel(store: Store) -> dict[tuple[str, str], int]:
    """Outbox rows per (status, channel); the channel as the dispatcher routes it."""
    rows = store.db.execute("SELECT status, route, n FROM action_counts WHERE n > 0")
    return {(str(status), str(route)): int(count) for status, route, count in rows}
