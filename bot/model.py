"""The shapes every part of Quorum agrees on.

All of them are frozen dataclasses: the core computes new values instead of
mutating old ones, which keeps it pure and makes its results easy to compare
in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Source(StrEnum):
    """Where a post came from."""

    MAIL = "mail"
    DISCOURSE = "discourse"


class ThreadKind(StrEnum):
    """What a thread is for, read from its subject tags."""

    RFC = "rfc"
    PRE_RFC = "pre-rfc"
    DISCUSS = "discuss"
    VOTE = "vote"
    RESULT = "result"
    CANCEL = "cancel"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Defect:
    """Something wrong with an input that Quorum repaired instead of dropping it.

    ``kind`` is a stable machine name (``missing-message-id``, ``invalid-date``,
    ``undeclared-charset`` ...); ``detail`` is for people.
    """

    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    """An author as the source names them; identities are merged later, by config."""

    name: str
    address: str = ""

    @property
    def display(self) -> str:
        return self.name or self.address

    @property
    def voice(self) -> str:
        """Who speaks, for counting within one thread: the address, else the name."""
        return (self.address or self.name).casefold()


@dataclass(frozen=True, slots=True)
class Post:
    """One message from any source, normalised.

    ``key`` is the natural key the store upserts on: the normalised Message-ID
    for mail (or a content hash where there is none or it clashes), and
    ``discourse:<forum>:<post id>`` for forum posts.
    """

    source: Source
    key: str
    message_id: str | None
    thread_key: str
    author: Person
    created_at: datetime
    subject: str
    text: str
    quoted: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    url: str | None = None
    list_id: str | None = None
    auto_submitted: bool = False
    body_hash: str = ""
    defects: tuple[Defect, ...] = ()
    headers: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # How the post reached us ("smtp", "archive"; "" when not recorded): who an author
    # is depends on what the transport vouches for (bot.core.people).
    via: str = ""
    # Where each quoted block sat in the text: how many non-blank lines of ``text`` came
    # before it (bot.core.text.SplitText); empty when not known (stored by an older
    # version). An inline reply answers each quote in the lines right under it.
    quote_at: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Thread:
    """A conversation: posts sharing a thread key, with what its subject says it is.

    One row of `quorum threads`. ``closes`` is the vote a [RESULT]/[CANCEL] thread
    closes, ``closed_by`` the threads that close this one, ``rfc`` the RFC this
    thread is part of when its discussion spans several threads.
    """

    key: str
    kind: ThreadKind
    subject: str
    messages: int
    participants: tuple[str, ...]
    first_at: datetime
    last_at: datetime
    closes: str | None = None
    closed_by: tuple[str, ...] = ()
    rfc: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind.value,
            "subject": self.subject,
            "messages": self.messages,
            "participants": list(self.participants),
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "closes": self.closes,
            "closed_by": list(self.closed_by),
            "rfc": self.rfc,
        }


@dataclass(frozen=True, slots=True)
class Action:
    """Something the bot decided to say. The outbox delivers it at most once.

    ``key`` is the idempotency key (what, where, who, stage, period): the outbox
    records it before sending, so a retry, a crash or a second scheduler run
    never sends the same thing twice. ``channel`` empty means "where ``target``
    came from" (a reply to a mail goes to the list, to a forum post to the forum).
    ``reason`` says why (rule, threshold, evidence) for the audit log. ``about``
    names what the action is about beyond its target (the obligations a reminder or a
    catch-up summary covers), recorded with it so later decisions can read it back.
    """

    kind: str
    target: str
    text: str
    key: str
    channel: str = ""
    reason: str = ""
    about: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "text": self.text,
            "key": self.key,
            "channel": self.channel,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Action:
        """The action :meth:`to_dict` wrote, with ``about`` when the writer kept it."""
        return cls(
            kind=data["kind"],
            target=data["target"],
            text=data["text"],
            key=data["key"],
            channel=data.get("channel", ""),
            reason=data.get("reason", ""),
            about=tuple(data.get("about", ())),
        )
