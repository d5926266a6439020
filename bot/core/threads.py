"""Which thread a post belongs to, what kind of thread it is, and which vote a result closes.

Threading trusts References/In-Reply-To first, then GitHub roots, and only
then the normalised subject: list servers rewrite subjects and some clients
drop References, so neither alone is enough.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from bot.model import Post, ThreadKind

_REPLY_PREFIX = re.compile(r"^\s*(re|aw|fwd?|wg|sv|antw|vs|odp|r)\s*(\[\d+\])?\s*:\s*", re.I)
_TAG = re.compile(r"^\s*\[([^\]]{1,60})\]\s*")
# A forum topic has no bracket tags of its own: "Vote: move to a six-week cadence".
_VOTE_LEAD = re.compile(r"^\s*vote\s*:\s*", re.I)
_TAG_KINDS: dict[str, ThreadKind] = {
    "rfc": ThreadKind.RFC,
    "process rfc": ThreadKind.RFC,
    "pre-rfc": ThreadKind.PRE_RFC,
    "pre rfc": ThreadKind.PRE_RFC,
    "discuss": ThreadKind.DISCUSS,
    "discussion": ThreadKind.DISCUSS,
    "vote": ThreadKind.VOTE,
    # The ASF's lazy consensus: a vote that passes unless someone objects.
    "lazy vote": ThreadKind.VOTE,
    "lazy consensus": ThreadKind.VOTE,
    "result": ThreadKind.RESULT,
    "results": ThreadKind.RESULT,
    "cancel": ThreadKind.CANCEL,
    "canceled": ThreadKind.CANCEL,
    "cancelled": ThreadKind.CANCEL,
}
# A result closes a vote, a cancel withdraws one: the closing tag decides the kind.
_KIND_PRIORITY = (
    ThreadKind.RESULT,
    ThreadKind.CANCEL,
    ThreadKind.VOTE,
    ThreadKind.RFC,
    ThreadKind.PRE_RFC,
    ThreadKind.DISCUSS,
)
CLOSING_KINDS = frozenset({ThreadKind.RESULT, ThreadKind.CANCEL})
# The series communities number their proposals in: SPIP-12, FLIP-321, KIP-500, AIP-1,
# CEP-7, PEP 8, KEP-1a (a regex alternation, for the readers of subjects and of prose).
PROPOSAL_SERIES = r"s?pip|flip|kip|aip|cep|pep|kep|tep|hip|zep|jep|iep|vep"
_RESPIN = re.compile(
    r"\(?\s*(take|attempt|try|round)\s*#?\s*(\d+)\s*\)?|\b(rc|cr)\s*-?\s*(\d+)\b|"
    r"\(?\s*(\d+)(st|nd|rd|th)\s+(attempt|try|round)\s*\)?|"
    r"\b(?:release\s+)?candidate\s*#?\s*(\d+)\b|"
    r"\(?\s*\b(first|second|third|fourth|fifth)\s+(attempt|try|round|take)\s*\)?",
    re.I,
)
_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5"}
_NOISE = frozenset({"apache", "version", "release", "the", "of", "for", "a", "an", "v"})
# A GitHub mirror's subject ends in the issue's or pull request's own number.
_GITHUB_ISSUE_SUFFIX = re.compile(
    r"\s*\((?:issue|pr|pull request|discussion)?\s*#\d+\)\s*$", re.IGNORECASE
)
_GLUED_RC = re.compile(r"(?P<version>.*\d)[.-]?(?:rc|cr)(?P<rc>\d+)")
SUBJECT_WINDOW = timedelta(days=45)
RESULT_WINDOW = timedelta(days=60)


@dataclass(frozen=True, slots=True)
class SubjectParts:
    """A subject taken apart: its kind tags, whether it is a reply, and the topic left over."""

    kinds: frozenset[ThreadKind]
    is_reply: bool
    topic: str

    @property
    def kind(self) -> ThreadKind:
        for kind in _KIND_PRIORITY:
            if kind in self.kinds:
                return kind
        return ThreadKind.OTHER


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """What threading needs to know about a thread that already exists."""

    key: str
    kind: ThreadKind
    subject: str
    first_at: datetime
    last_at: datetime


# Subjects repeat down a thread, and threading, RFC titles and the store all ask.
@lru_cache(maxsize=4096)
def parse_subject(subject: str) -> SubjectParts:
    """Strip reply prefixes and bracket tags in any order; keep the kinds they name."""
    rest = _fold(subject)
    kinds: set[ThreadKind] = set()
    is_reply = False
    while True:
        prefix = _REPLY_PREFIX.match(rest)
        if prefix:
            is_reply = True
            rest = rest[prefix.end() :]
            continue
        tag = _TAG.match(rest)
        if tag:
            kind = _tag_kind(_fold(tag.group(1)).lower())
            if kind is not None:
                kinds.add(kind)
            rest = rest[tag.end() :]
            continue
        lead = _VOTE_LEAD.match(rest)
        if lead:
            kinds.add(ThreadKind.VOTE)
            rest = rest[lead.end() :]
            continue
        break
    return SubjectParts(kinds=frozenset(kinds), is_reply=is_reply, topic=rest)


def _tag_kind(tag: str) -> ThreadKind | None:
    """The kind a bracket tag names: "[RFC]", or a patch series asking for comments,
    "[RFC PATCH 0/3]", "[PATCH v2 RFC]", "[PATCH/RFC]" (Git's and the kernel's lists)."""
    kind = _TAG_KINDS.get(tag)
    if kind is None and "rfc" in _TAG_WORD.findall(tag):
        return ThreadKind.RFC
    return kind


_TAG_WORD = re.compile(r"[a-z]+")


def classify(subject: str) -> ThreadKind:
    return parse_subject(subject).kind


def subject_key(subject: str) -> str:
    """The key replies without References are matched on: kind and topic, case-folded."""
    parts = parse_subject(subject)
    return f"{parts.kind.value}:{parts.topic.casefold()}"


def decide_thread(
    post: Post, parent: ThreadRef | None, same_subject: ThreadRef | None
) -> tuple[str, str | None]:
    """The thread key for ``post`` and, for a result or cancel, the thread it closes.

    ``parent`` is the thread of the nearest referenced message we already hold;
    ``same_subject`` the latest thread with the same subject key.
    """
    if parent is not None:
        if parse_subject(post.subject).kind in CLOSING_KINDS and parent.kind not in CLOSING_KINDS:
            # A [RESULT] sent as a reply still opens its own thread, linked to the vote.
            return post.key, parent.key
        return parent.key, None
    if post.thread_key:
        return post.thread_key, None
    if (
        same_subject is not None
        and may_join_by_subject(post, parent)
        and post.created_at - same_subject.last_at <= SUBJECT_WINDOW
    ):
        return same_subject.key, None
    return post.key, None


def may_join_by_subject(post: Post, parent: ThreadRef | None) -> bool:
    """Whether :func:`decide_thread` can put ``post`` in the thread of its subject: a
    reply whose parent we do not hold, that names no thread of its own. The store looks
    that thread up only then (most replies have their parent)."""
    if parent is not None or post.thread_key:
        return False
    return (
        parse_subject(post.subject).is_reply
        or post.in_reply_to is not None
        or bool(post.references)
    )


def find_closed_vote(
    result_subject: str, result_at: datetime, votes: list[ThreadRef]
) -> str | None:
    """The vote a [RESULT]/[CANCEL] thread closes, when no References say so.

    Subjects drift ("Release Maven Indexer 6.0.0" vs "Release Apache Maven Indexer
    version 6.0.0"), so we compare the words that matter; version numbers and
    re-spin markers ("take 2", "rc1") must agree, so re-spins stay separate votes.
    """
    wanted = _subject_signature(result_subject)
    candidates = [
        vote
        for vote in votes
        if vote.kind == ThreadKind.VOTE
        and vote.first_at <= result_at
        and result_at - vote.first_at <= RESULT_WINDOW
        and _signatures_match(wanted, _subject_signature(vote.subject))
    ]
    if not candidates:
        return None
    # Without a re-spin marker a result means the latest attempt.
    return max(candidates, key=lambda vote: vote.first_at).key


@lru_cache(maxsize=8192)
def _subject_signature(subject: str) -> tuple[frozenset[str], frozenset[str], str]:
    """:func:`_topic_signature` of a subject's topic. Cached: every RESULT stored is
    compared with each open vote of its time, whose subjects are the same each time."""
    return _topic_signature(parse_subject(subject).topic)


def _topic_signature(topic: str) -> tuple[frozenset[str], frozenset[str], str]:
    """(words, versions, re-spin marker) of a topic.

    A GitHub mirror's "(Issue #17196)" is the issue's number, not the topic's, and
    "v0.17.0.rc0" is version 0.17.0, attempt 0: the RESULT often names the release
    ("v0.17.0") where the call named the candidate.
    """
    topic = _GITHUB_ISSUE_SUFFIX.sub("", topic)
    respin_match = _RESPIN.search(topic)
    respin = ""
    if respin_match:
        digits = [
            _ORDINALS.get(g.casefold(), g)
            for g in respin_match.groups()
            if g and (g.isdigit() or g.casefold() in _ORDINALS)
        ]
        respin = digits[0] if digits else ""
        topic = topic[: respin_match.start()] + " " + topic[respin_match.end() :]
    tokens = [t.strip(".-+") for t in re.findall(r"[\w][\w.+-]*", strip_accents(topic).casefold())]
    versions: set[str] = set()
    words: set[str] = set()
    for token in filter(None, tokens):
        if not any(c.isdigit() for c in token):
            if token not in _NOISE:
                words.add(token)
            continue
        glued = _GLUED_RC.fullmatch(token)
        if glued:  # "1.0rc1": the marker glued to the version
            token, respin = glued["version"], respin or glued["rc"]
        versions.add(token[1:] if re.match(r"v\d", token) else token)
    return frozenset(words), frozenset(versions), respin


def _signatures_match(
    wanted: tuple[frozenset[str], frozenset[str], str],
    have: tuple[frozenset[str], frozenset[str], str],
) -> bool:
    words_a, versions_a, respin_a = wanted
    words_b, versions_b, respin_b = have
    if versions_a != versions_b:
        return False
    # A vote without a marker is the first attempt; a result without one means the latest.
    if respin_a and (respin_b or "1") != respin_a:
        return False
    if not words_a or not words_b:
        return words_a == words_b
    overlap = len(words_a & words_b) / len(words_a | words_b)
    return overlap >= 0.6 or words_a <= words_b or words_b <= words_a


def strip_accents(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()
