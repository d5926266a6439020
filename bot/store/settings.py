"""Values Quorum generates once and keeps in the store (``settings``, m006_integrity_settings)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store import Store


_MESSAGE_ID_KEY = "message-id-key"


def message_id_key(store: Store) -> bytes:
    """The key outgoing Message-IDs are signed with, made (32 random bytes) on first use.

    Kept in the store so that a restart signs as before: an action resent after a
    restart keeps its Message-ID, and a copy the list delivers late still proves it.
    """
    with store.db.atomic():
        row = store.db.execute(
            "SELECT value FROM settings WHERE name = ?", [_MESSAGE_ID_KEY]
        ).fetchone()
        if row is None:
            value = secrets.token_hex(32)
            store.db.execute(
                "INSERT INTO settings (name, value) VALUES (?, ?)", [_MESSAGE_ID_KEY, value]
            )
        else:
            value = str(row[0])
    return bytes.fromhex(value)
