"""The small values every store module shares, kept apart so none of them imports the Store.

Stored times, what an ingest counted, the shape of a delivery the SMTP endpoint
hands over, and the subject key a thread is found by. ``bot.store`` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

from bot.core import threads as threading_rules
from bot.model import Post, Source


def to_text(moment: datetime) -> str:
    """Datetimes are stored as UTC ISO 8601 text, so they sort and compare as strings."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_text(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class IngestCounts:
    """What one ingest did: the numbers `quorum import` reports."""

    read: int = 0
    new: int = 0
    known: int = 0
    with_defects: int = 0
    # Forum posts already stored whose newer revision replaced the stored one.
    edited: int = 0

    def __add__(self, other: IngestCounts) -> IngestCounts:
        return IngestCounts(
            self.read + other.read,
            self.new + other.new,
            self.known + other.known,
            self.with_defects + other.with_defects,
            self.edited + other.edited,
        )


class InboundDelivery(Protocol):
    """A message as the SMTP endpoint received it (``bot.adapters.smtp.Delivery``)."""

    @property
    def raw(self) -> bytes: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def peer(self) -> str: ...
    @property
    def mail_from(self) -> str: ...
    @property
    def rcpt_to(self) -> list[str]: ...


# Subjects repeat down a thread, and parsing one takes a few regexes: both are cached.
subject_key = lru_cache(maxsize=4096)(threading_rules.subject_key)
thread_kind = lru_cache(maxsize=4096)(threading_rules.classify)


def thread_subject_key(post: Post) -> str:
    """The subject key a thread is found by; forum topics get their own namespace.

    A mail reply without References must never be threaded into a forum topic
    that happens to share its subject: the two are joined as one RFC instead.
    """
    key = subject_key(post.subject)
    return key if post.source == Source.MAIL else f"{post.source.value}:{key}"
