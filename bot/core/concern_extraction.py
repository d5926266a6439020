"""Concerns a language model proposes, kept only where the post says them word for word.

The optional extractor (README: "Concerns by a language model (optional)") sends
one post's own prose to an OpenAI-compatible endpoint, with the prose of the
post it replies to as context and who proposed the thing under discussion, and
asks for JSON: ``{"concerns": [{"quote", "title"}]}``. This module is its pure
half: what is sent (:func:`extraction_requests`), how an answer is read
(:func:`read_answer`) and what of it is believed (:func:`verify`).

A model paraphrases, merges and invents. So a proposal is kept only when its
quote occurs verbatim (whitespace collapsed, case and typographic quotes aside)
in the post's own prose as :mod:`bot.core.prose` cuts it: not in what the post
quotes of others, not in code, not in a signature. Everything else is dropped
and counted. A kept proposal names the post's sentences its quote lies in, and
the ledger makes it a finding of that post (``bot.core.concerns.merge_proposed``).

Requests are keyed by a digest of exactly what is sent, so a post is asked
about once per model and prompt version (the cache, ``bot.store.concern_extractions``).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from bot.core.concerns import (
    LedgerSettings,
    Proposed,
    ThreadReader,
    _may_raise,
    _parent_id,
)
from bot.core.prose import Unit, probe
from bot.model import Post

# Bump whenever SYSTEM_PROMPT or the request's layout changes: every post is asked again.
PROMPT_VERSION: Final = "1"

SYSTEM_PROMPT: Final = (
    "You read one post of a discussion on an open-source project's mailing list, forum or "
    "pull request, and list the concerns its author raises about what is being proposed: "
    "objections, risks, doubts, problems they see, pointed questions that challenge the "
    "proposal, conditions for their support.\n"
    "These are not concerns: agreement, thanks, +1 votes, questions that only ask for "
    "information, answers to someone else's concern, the proposer explaining their own "
    "proposal, text quoted from other posts, code and logs.\n"
    'Answer with JSON only, in this form: {"concerns": [{"quote": "...", "title": "..."}]}\n'
    '- "quote": the sentence or sentences of THE POST TO READ that raise the concern, '
    "copied exactly, character for character. Never paraphrase, shorten, correct or "
    "translate; never quote the post it replies to.\n"
    '- "title": a short label for the concern, at most 8 words.\n'
    "- One entry per distinct concern, in the order the post raises them. "
    'If the post raises none, answer {"concerns": []}.'
)

# How an answer is cached: read, or not the JSON asked for (cut off, prose, empty). An
# unreadable answer is kept too, so the same question is not asked again and again; a
# new prompt version asks again.
ANSWERED: Final = "ok"
UNREADABLE: Final = "unreadable"
# A model's list is read this far; a post with more concerns than this is rare.
MAX_PROPOSALS: Final = 12
# A quote shorter than this occurs verbatim almost anywhere ("I think", "the API").
MIN_QUOTE_WORDS: Final = 3
# At most this many sentences of a long quote become the concern's text.
MAX_SENTENCES: Final = 4
TITLE_WORDS: Final = 10
# What a model puts around a quote that the post does not say.
_WRAPPING: Final = "\"'“”‘’`«» "
_ELLIPSIS: Final = re.compile(r"^(?:\.\.\.|…)\s*|\s*(?:\.\.\.|…)$")
_FENCE: Final = re.compile(r"^```[\w-]*\s*(.*?)\s*```$", re.DOTALL)


# --------------------------------------------------------------------------
# What is sent
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtractionRequest:
    """One post as the extractor sends it; ``digest`` keys the cache."""

    post: str
    thread: str
    digest: str
    user: str
    # The post's sentences, for verifying the answer where it arrives.
    units: tuple[Unit, ...] = field(default=(), compare=False, repr=False)


def extraction_requests(posts: Sequence[Post], settings: LedgerSettings) -> list[ExtractionRequest]:
    """A request for every post of one discussion that may raise a concern.

    As in the ledger, the post that opens a proposal, automated mail, the bot's
    own posts and the proposer's answers raise nothing, so they are not sent;
    nor is a post with no prose of its own (a bare quote, a patch).
    """
    ordered = sorted(posts, key=lambda p: (p.created_at, p.key))
    if not ordered:
        return []
    reader = ThreadReader(ordered, settings)
    proposer = reader.proposers[0].display if reader.proposers else ""
    requests: list[ExtractionRequest] = []
    for post in ordered:
        if not _may_raise(post, settings) or reader.context(post).by_proposer:
            continue
        units = reader.units(post)
        if not units:
            continue
        parent = reader.by_id.get(_parent_id(post) or "")
        context = prose_of(reader.units(parent)) if parent is not None else ""
        user = request_text(ordered[0].subject, proposer, post.author.display, context, units)
        requests.append(ExtractionRequest(post.key, post.thread_key, digest_of(user), user, units))
    return requests


def request_text(
    subject: str, proposer: str, author: str, context: str, units: Sequence[Unit]
) -> str:
    """The user message: the thread, who proposed, who wrote, the parent, then the post."""
    return (
        f"Thread: {subject}\n"
        f"Proposed by: {proposer or 'unknown (the opening post is not available)'}\n"
        f"This post is by: {author}\n\n"
        "The post it replies to (context only, never quote it):\n"
        f'"""\n{context or "(not available)"}\n"""\n\n'
        f'THE POST TO READ:\n"""\n{prose_of(units)}\n"""\n'
    )


def prose_of(units: Sequence[Unit]) -> str:
    """A post's own prose as the reader cut it: a paragraph or list item a line, with
    its label, and a blank line between paragraphs; no quotes, code or signature."""
    lines: list[str] = []
    previous: Unit | None = None
    for unit in units:
        if previous is not None and unit.point == previous.point:
            lines[-1] += f" {unit.text}"
        else:
            if previous is not None and unit.paragraph != previous.paragraph:
                lines.append("")
            lines.append(f"{unit.label} {unit.text}" if unit.label else unit.text)
        previous = unit
    return "\n".join(lines)


def digest_of(user: str) -> str:
    return hashlib.sha256(user.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------
# What comes back
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proposal:
    """One item of a model's answer, as it gave it (nothing checked yet)."""

    quote: str
    title: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"quote": self.quote, "title": self.title}


def read_answer(content: str) -> tuple[Proposal, ...] | None:
    """The proposals in a model's answer, or None when it is not the JSON asked for.

    Lenient about the wrapping models add (a Markdown fence, a sentence before
    the object, a bare list); an item that is not ``{"quote", "title"}`` becomes
    a proposal with no quote, which verification drops and counts.
    """
    value = _json_in(content.strip())
    items = value.get("concerns") if isinstance(value, dict) else value
    if not isinstance(items, list):
        return None
    return tuple(_proposal(item) for item in items[:MAX_PROPOSALS])


def proposals_from(items: Iterable[object]) -> tuple[Proposal, ...]:
    """Proposals from their stored form (a list of ``{"quote", "title"}``)."""
    return tuple(_proposal(item) for item in items)


def _json_in(text: str) -> object:
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except ValueError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start : end + 1])
        except ValueError:
            return None
    return None


def _proposal(item: object) -> Proposal:
    if isinstance(item, str):
        return Proposal(item)
    if not isinstance(item, dict):
        return Proposal("")
    quote, title = item.get("quote"), item.get("title")
    return Proposal(
        quote if isinstance(quote, str) else "", title if isinstance(title, str) else ""
    )


# --------------------------------------------------------------------------
# What is believed
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verification:
    """The proposals whose quote the post says, and how many were dropped."""

    kept: tuple[Proposed, ...]
    dropped: int


def verify(units: Sequence[Unit], proposals: Iterable[Proposal]) -> Verification:
    """Keep a proposal only if its quote occurs verbatim in the post's own prose.

    The comparison collapses whitespace and ignores case and typographic quote
    marks (as the cue reader's :func:`~bot.core.prose.probe` does); the quotes
    a model wraps around a quote and a leading or trailing ellipsis are not
    part of it. Two proposals on the same sentence are one.
    """
    haystack, spans = _haystack(units)
    kept: list[Proposed] = []
    taken: set[int] = set()
    dropped = 0
    for proposal in proposals:
        indexes = _quoted_units(proposal.quote, haystack, spans)
        if not indexes:
            dropped += 1
            continue
        if taken.intersection(indexes):
            continue
        taken.update(indexes)
        sentences = tuple(units[i].text for i in indexes[:MAX_SENTENCES])
        kept.append(Proposed(clean_title(proposal.title), sentences))
    return Verification(tuple(kept), dropped)


def clean_title(title: str) -> str:
    """A model's label, on one line and at most TITLE_WORDS words."""
    words = title.split()[:TITLE_WORDS]
    return " ".join(words).strip(" .,;:-")


def _haystack(units: Sequence[Unit]) -> tuple[str, list[tuple[int, int]]]:
    """The post's sentences probed and joined by one space, and where each lies in it."""
    spans: list[tuple[int, int]] = []
    pieces: list[str] = []
    at = 0
    for unit in units:
        piece = probe(unit.text)
        spans.append((at, at + len(piece)))
        pieces.append(piece)
        at += len(piece) + 1
    return " ".join(pieces), spans


def _quoted_units(quote: str, haystack: str, spans: list[tuple[int, int]]) -> list[int]:
    """Indexes of the sentences the quote lies in; empty if it is not there verbatim."""
    needle = _ELLIPSIS.sub("", quote.strip(_WRAPPING)).strip(_WRAPPING)
    needle = probe(needle)
    if len(needle.split()) < MIN_QUOTE_WORDS:
        return []
    start = haystack.find(needle)
    if start < 0:
        return []
    end = start + len(needle)
    return [i for i, (begin, finish) in enumerate(spans) if begin < end and start < finish]
