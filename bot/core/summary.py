"""A thread summary: what is proposed, which concerns are open, who took part.

The result is plain data; ``templates/email/summary.txt.j2`` renders it for
the command line and for mail.

Pure: no I/O, no clock. ``now`` is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.concerns import Concern, ConcernState, Ledger
from bot.core.links import Archive, link_for, reference, shown_message_id
from bot.core.prose import units_of
from bot.model import Post

PROPOSAL_SENTENCE_CHARS = 280
QUOTE_CHARS = 300
# A proposal sentence shorter than this usually leads into the one after it.
SHORT_SENTENCE_WORDS = 12

_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|greetings|good\s+(?:morning|afternoon|evening)|all|folks|team|everyone"
    r"|devs?)\b[^.!?]{0,40}[,!:.]?$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^(?:regards|best|thanks|thank\s+you|cheers|kind\s+regards|best\s+regards|br|thx)\b[,.!]?$",
    re.IGNORECASE,
)
_ONLY_LINK = re.compile(r"^\S*https?://\S+$")
_PROPOSAL_CUE = re.compile(
    r"\b(?:i|we)\s+(?:would\s+like\s+to\s+|'d\s+like\s+to\s+)?(?:propose|suggest)\b|\bproposal\b"
    r"|\b(?:it\s+is|it's)\s+time\s+to\b|\bwe\s+should\b|\blet's\b"
    r"|\bi\s+(?:want|plan|intend)\s+to\b|\bi\s+think\s+we\s+(?:should|need|have)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ConcernLine:
    """One concern as a summary shows it."""

    id: str
    title: str
    text: str
    raised_by: str
    raised_at: datetime
    post: str
    link: str
    source: str
    state: str
    answered: bool
    answered_by: tuple[str, ...]
    answer_posts: tuple[str, ...]
    resolved_by: str | None
    resolved_post: str | None
    open_days: int | None
    repeats: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "raised_by": self.raised_by,
            "raised_at": self.raised_at.isoformat(),
            "post": self.post,
            "link": self.link,
            "source": self.source,
            "state": self.state,
            "answered": self.answered,
            "answered_by": list(self.answered_by),
            "answer_posts": list(self.answer_posts),
            "resolved_by": self.resolved_by,
            "resolved_post": self.resolved_post,
            "open_days": self.open_days,
            "repeats": self.repeats,
        }


@dataclass(frozen=True, slots=True)
class Participant:
    name: str
    address: str
    posts: int
    first_at: datetime
    concerns_raised: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "posts": self.posts,
            "first_at": self.first_at.isoformat(),
            "concerns_raised": self.concerns_raised,
        }


@dataclass(frozen=True, slots=True)
class Summary:
    thread: str
    subject: str
    proposer: str
    proposed_at: datetime | None
    proposal: str
    posts: int
    last_at: datetime | None
    open_concerns: tuple[ConcernLine, ...]
    resolved_concerns: tuple[ConcernLine, ...]
    withdrawn_concerns: tuple[ConcernLine, ...]
    participants: tuple[Participant, ...]
    generated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread": self.thread,
            "subject": self.subject,
            "proposer": self.proposer,
            "proposed_at": self.proposed_at.isoformat() if self.proposed_at else None,
            "proposal": self.proposal,
            "posts": self.posts,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "open_concerns": [c.to_dict() for c in self.open_concerns],
            "resolved_concerns": [c.to_dict() for c in self.resolved_concerns],
            "withdrawn_concerns": [c.to_dict() for c in self.withdrawn_concerns],
            "participants": [p.to_dict() for p in self.participants],
            "generated_at": self.generated_at.isoformat(),
        }


def summarize(
    thread_subject: str,
    posts: Sequence[Post],
    ledger: Ledger,
    now: datetime,
    archive: Archive | None = None,
) -> Summary:
    """The thread as of ``now``: its proposal, its concerns by state, its participants.

    Each concern links the post that raised it (``archive``: the list archive's links).
    """
    ordered = sorted((p for p in posts if p.created_at <= now), key=lambda p: (p.created_at, p.key))
    links = {p.key: _link(p, archive or Archive()) for p in ordered}
    first = ordered[0] if ordered else None
    concerns = [c for c in ledger.concerns if c.raised_at <= now]

    def lines(*states: ConcernState) -> tuple[ConcernLine, ...]:
        return tuple(_line(c, links, now) for c in concerns if c.state in states)

    return Summary(
        thread=ledger.thread,
        subject=thread_subject,
        proposer=first.author.display if first else "",
        proposed_at=first.created_at if first else None,
        proposal=proposal_of(first) if first else "",
        posts=len(ordered),
        last_at=ordered[-1].created_at if ordered else None,
        open_concerns=lines(ConcernState.OPEN, ConcernState.ANSWERED),
        resolved_concerns=lines(ConcernState.RESOLVED),
        withdrawn_concerns=lines(ConcernState.WITHDRAWN),
        participants=_participants(ordered, concerns),
        generated_at=now,
    )


def proposal_of(post: Post) -> str:
    """One or two sentences that say what the first post proposes, greetings skipped.

    Prefers sentences that propose ("I propose", "it is time to", "we
    should"); otherwise the opening sentences, which in mail usually state it.
    """
    sentences = _body_sentences(post)
    if not sentences:
        return ""
    cued = [i for i, s in enumerate(sentences) if _PROPOSAL_CUE.search(s)]
    start = cued[0] if cued else 0
    chosen = [sentences[start]]
    following = sentences[start + 1] if start + 1 < len(sentences) else None
    if following is not None:
        leads_in = chosen[0].endswith(":") or len(chosen[0].split()) < SHORT_SENTENCE_WORDS
        if not cued or leads_in or start + 1 in cued:
            chosen.append(following)
    return " ".join(_clip(s, PROPOSAL_SENTENCE_CHARS) for s in chosen)


def _body_sentences(post: Post) -> list[str]:
    found: list[str] = []
    for sentence in units_of(post.text):
        text = sentence.text
        if _SIGN_OFF.match(text):
            break  # what follows a sign-off is a name and a signature
        if _GREETING.match(text) or _ONLY_LINK.match(text):
            continue
        found.append(text)
    return found


def _line(concern: Concern, links: dict[str, str], now: datetime) -> ConcernLine:
    answerers = tuple(dict.fromkeys(ref.author for ref in concern.answered_by))
    return ConcernLine(
        id=concern.id,
        title=concern.title,
        text=concern.text,
        raised_by=concern.raised_by.display,
        raised_at=concern.raised_at,
        post=concern.post,
        link=links.get(concern.post)
        or shown_message_id(concern.message_id)
        or reference(concern, Archive(), author=concern.raised_by.display, at=concern.raised_at),
        source=concern.source.value,
        state=concern.state.value,
        answered=concern.answered,
        answered_by=answerers,
        answer_posts=tuple(ref.post for ref in concern.answered_by),
        resolved_by=concern.resolved_by.author if concern.resolved_by else None,
        resolved_post=concern.resolved_by.post if concern.resolved_by else None,
        open_days=None if concern.settled else max(0, (now - concern.raised_at).days),
        repeats=len(concern.repeated_in),
    )


def _participants(posts: Sequence[Post], concerns: Sequence[Concern]) -> tuple[Participant, ...]:
    """Everyone who posted, in order of their first post."""
    seen: dict[str, Participant] = {}
    for post in posts:
        key = post.author.voice
        known = seen.get(key)
        if known is None:
            raised = sum(1 for c in concerns if c.raised_by == post.author)
            seen[key] = Participant(
                post.author.display, post.author.address, 1, post.created_at, raised
            )
        else:
            seen[key] = Participant(
                known.name, known.address, known.posts + 1, known.first_at, known.concerns_raised
            )
    return tuple(seen.values())


def _link(post: Post, archive: Archive) -> str:
    """The post's URL, else its Message-ID, else who wrote it when (never a hash key)."""
    found = link_for(post, archive, subject=post.subject, at=post.created_at)
    return (
        found
        or shown_message_id(post.message_id)
        or reference(post, archive, author=post.author.display, at=post.created_at)
    )


def _clip(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
